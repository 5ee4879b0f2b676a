// sdk/examples/hello/hello_test.cpp: the C++ module driven through the SDK's
// fake host, one test per registration, plus the C++ layer's error path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <tern/module.hpp>
#include <tern/testing.hpp>

extern "C" const tern_module* tern_module_v1(void);

namespace {

using tern::testing::FakeHost;

class Hello : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(host_.init().status, TERN_OK); }
  FakeHost host_{tern_module_v1()};
};

TEST_F(Hello, Descriptor) {
  EXPECT_STREQ(tern_module_v1()->name, "hello");
  EXPECT_STREQ(tern_module_v1()->version, "1.0.0");
  EXPECT_EQ(tern_module_v1()->abi_minor, TERN_ABI_MINOR);
  EXPECT_NE(host_.module_data(), nullptr);  // the Hello object
}

TEST_F(Hello, Operator) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {{"abc", "cba"}, {"", ""}, {"ab cd", "dc ba"}};
  for (auto& c : cases) EXPECT_EQ(host_.op("hello_rev", c.in).out, c.want) << c.in;
}

TEST_F(Hello, AnExceptionIsAnErrorWithItsText) {
  auto r = host_.op("hello_fail", "x");
  EXPECT_EQ(r.status, TERN_ERROR);
  EXPECT_EQ(r.error, "hello_fail: asked to fail on \"x\"");
  EXPECT_EQ(r.out, "");
}

TEST_F(Hello, Item) {
  EXPECT_EQ(host_.item("hello_join", {"a", "b"}).out, "a-b");
  EXPECT_EQ(host_.item("hello_join", {"a", "", "c"}).out, "a--c");
}

TEST_F(Hello, Variables) {
  EXPECT_EQ(host_.variable("hello_greeting").out, "hello, world");
  host_.set_option("hello_greeting_text", "hi");
  EXPECT_EQ(host_.variable("hello_greeting").out, "hi");
  EXPECT_EQ(host_.variable("hello_events").out, "0");
}

TEST_F(Hello, ReadsWhatTheHostExpands) {
  host_.set_variable("primary_hostname", "mx.example");
  EXPECT_EQ(host_.variable("hello_host").out, "MX.EXAMPLE");
  host_.unset_variable("primary_hostname");
  auto r = host_.variable("hello_host");
  EXPECT_EQ(r.status, TERN_ERROR);
  EXPECT_EQ(r.error, "unknown variable name \"primary_hostname\"");  // the host's text
}

// Two loads of one module (two generations) share nothing: each has its
// own object behind its own tern_ctx.
TEST(HelloLoad, TwoLoadsKeepTheirOwnState) {
  FakeHost a(tern_module_v1()), b(tern_module_v1());
  ASSERT_TRUE(a.init().ok());
  ASSERT_TRUE(b.init().ok());
  EXPECT_NE(a.module_data(), b.module_data());
  a.event("msg:delivery", "");
  a.event("msg:delivery", "");
  b.event("msg:delivery", "");
  EXPECT_EQ(a.variable("hello_events").out, "2");
  EXPECT_EQ(b.variable("hello_events").out, "1");
  a.fini();
  EXPECT_EQ(a.module_data(), nullptr);
  EXPECT_EQ(b.variable("hello_events").out, "1");
}

// No limit on registrations of one kind: each definition's `user` is its
// callable.
class Many final : public tern::Module {
 public:
  tern::Status init(tern::Registrar& r) override {
    for (int i = 0; i < 100; ++i)
      r.op("many" + std::to_string(i),
           [i](tern::Call&, std::string_view s) { return std::string(s) + "#" + std::to_string(i); });
    return tern::ok();
  }
};

TEST(HelloLoad, AHundredOperators) {
  static const tern_module m = {TERN_MODULE_MAGIC, sizeof m, TERN_ABI_MAJOR, TERN_ABI_MINOR,
                                "many", "0", &tern::detail::module_init<Many>,
                                &tern::detail::module_fini};
  FakeHost host(&m);
  ASSERT_TRUE(host.init().ok());
  ASSERT_EQ(host.operators().size(), 100u);
  EXPECT_EQ(host.op("many0", "x").out, "x#0");
  EXPECT_EQ(host.op("many57", "x").out, "x#57");
  EXPECT_EQ(host.op("many99", "x").out, "x#99");
}

TEST_F(Hello, LookupAndQuote) {
  EXPECT_EQ(host_.lookup("hello", "bob").out, "Bob Dobbs");
  EXPECT_EQ(host_.lookup("hello", "carol").status, TERN_FAIL);
  EXPECT_EQ(host_.quote("hello", "a\"b").out, "a\\\"b");
  ASSERT_EQ(host_.lookups().size(), 1u);
  EXPECT_EQ(host_.lookups()[0].def.flags, TERN_LOOKUP_QUERY);
  EXPECT_EQ(host_.lookups()[0].def.open, nullptr);
}

TEST_F(Hello, Condition) {
  EXPECT_EQ(host_.condition("hello_check", "hello").status, TERN_OK);
  EXPECT_EQ(host_.condition("hello_check", "bye").status, TERN_DECLINE);
}

TEST_F(Hello, ListenerCountsMessageEvents) {
  host_.event("msg:delivery", "");
  host_.event("tls:cert", "");
  host_.event("msg:complete", "");
  EXPECT_EQ(host_.variable("hello_events").out, "2");
  EXPECT_TRUE(host_.logged("hello: event msg:complete (2 so far)"));
}

TEST_F(Hello, AfterDataSetsRecipientData) {
  tern_str rcpts[] = {{"a@x", 3}, {"b@x", 3}};
  tern_message m{};
  m.size = sizeof m;
  m.recipients = rcpts;
  m.recipient_count = 2;
  m.data_fd = -1;
  EXPECT_TRUE(host_.after_data(m).ok());
  EXPECT_EQ(host_.recipient_value(0, "hello_rcpt"), "1/2");
  EXPECT_EQ(host_.recipient_value(1, "hello_rcpt"), "2/2");
}

// A message as the core hands it to the after-DATA hook: the body in a file,
// the descriptor at the body's first byte.
class HelloMessage {
 public:
  HelloMessage(std::string headers, std::string body) : headers_(std::move(headers)) {
    file_ = std::tmpfile();
    std::fputs(("ID-D\n" + body).c_str(), file_);
    std::fflush(file_);
    lseek(fileno(file_), 5, SEEK_SET);
    m_.size = sizeof m_;
    m_.recipients = rcpts_;
    m_.recipient_count = 2;
    m_.headers = {headers_.data(), headers_.size()};
    m_.data_fd = fileno(file_);
  }
  ~HelloMessage() { std::fclose(file_); }
  const tern_message& get() const { return m_; }

 private:
  std::string headers_;
  tern_str rcpts_[2] = {{"a@x", 3}, {"B@x", 3}};
  tern_message m_{};
  FILE* file_;
};

TEST_F(Hello, AfterDataTagsFromTheHeaderAndReadsTheBody) {
  HelloMessage m("Subject: hi\nX-Hello-Tag: b@x=red\n  a@y=blue\n", "twelve bytes");
  EXPECT_TRUE(host_.after_data(m.get()).ok());
  EXPECT_EQ(host_.recipient_value(0, "hello_tag"), std::nullopt);
  EXPECT_EQ(host_.recipient_value(1, "hello_tag"), "red");  // addresses compared caselessly
  EXPECT_EQ(host_.recipient_value(0, "hello_body_bytes"), "12");
  EXPECT_EQ(host_.recipient_value(1, "hello_rcpt"), "2/2");
}

TEST_F(Hello, AfterDataRefusesAndDefersByTheSubject) {
  HelloMessage reject("Subject: please hello-reject me\n", "");
  auto r = host_.after_data(reject.get());
  EXPECT_EQ(r.status, TERN_FAIL);
  EXPECT_EQ(r.out, "hello: this subject is not welcome");
  EXPECT_EQ(r.error, "subject \"please hello-reject me\" refused");
  HelloMessage defer("Subject: hello-defer\n", "");
  r = host_.after_data(defer.get());
  EXPECT_EQ(r.status, TERN_DEFER);
  EXPECT_EQ(r.out, "hello: not now, try again later");
}

TEST_F(Hello, RouterPreconditionMatchesTheTag) {
  HelloMessage m("X-Hello-Tag: a@x=red\n", "");
  ASSERT_TRUE(host_.after_data(m.get()).ok());
  EXPECT_EQ(host_.router_precondition("any").status, TERN_OK);  // no hello_tag on the router
  host_.set_option("hello_tag", "red");
  host_.set_current_recipient(0);
  EXPECT_EQ(host_.router_precondition("red").status, TERN_OK);
  EXPECT_EQ(host_.item("hello_rcpt_data", {"hello_tag"}).out, "red");
  host_.set_current_recipient(1);
  EXPECT_EQ(host_.router_precondition("red").status, TERN_DECLINE);
  EXPECT_EQ(host_.item("hello_rcpt_data", {"hello_tag"}).out, "");
}

TEST(HelloLoad, DiscoveryRegistersTheSameNames) {
  FakeHost host(tern_module_v1(), {.discovery = true});
  ASSERT_TRUE(host.init().ok());
  EXPECT_EQ(host.operators().size(), 2u);
  EXPECT_EQ(host.variables().size(), 3u);
}

TEST(HelloLoad, ARefusedRegistrationFailsInitWithTheCoresText) {
  FakeHost host(tern_module_v1());
  host.reserve("lookup type", "hello", "other");
  auto r = host.init();
  EXPECT_EQ(r.status, TERN_ERROR);
  EXPECT_EQ(r.error, "lookup type \"hello\" is registered twice: by \"other\" and by \"hello\"");
  EXPECT_EQ(host.module_data(), nullptr);  // the object was deleted
}

// The fake host refuses what the core refuses, with the core's text.
TEST(FakeHostChecks, RefusesABadLookupName) {
  static const tern_lookup_def bad = {sizeof bad, "bad_name", TERN_LOOKUP_QUERY, 0, nullptr,
                                      [](tern_ctx*, void*, tern_call*, void*, tern_str, tern_str,
                                         tern_str, tern_buf*, int*) { return TERN_FAIL; },
                                      nullptr, nullptr, nullptr};
  static const tern_module m = {
      TERN_MODULE_MAGIC, sizeof m, TERN_ABI_MAJOR, TERN_ABI_MINOR, "bad", "0",
      [](const tern_host* h, tern_ctx* ctx) { return h->add_lookup(ctx, &bad); }, nullptr};
  FakeHost host(&m);
  auto r = host.init();
  EXPECT_EQ(r.status, TERN_ERROR);
  EXPECT_EQ(r.error,
            "malformed lookup type definition \"bad_name\": a lookup type's name is letters and digits");
}

}  // namespace
