// sdk/examples/hello_c/hello_c_test.cpp: the C module driven through the
// SDK's fake host, one test per registration.
#include <gtest/gtest.h>
#include <tern/testing.hpp>

extern "C" const tern_module* tern_module_v1(void);

namespace {

using tern::testing::FakeHost;

class HelloC : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(host_.init().status, TERN_OK); }
  FakeHost host_{tern_module_v1()};
};

TEST(HelloCDescriptor, NamesItselfAndItsAbi) {
  const tern_module* m = tern_module_v1();
  EXPECT_EQ(m->magic, TERN_MODULE_MAGIC);
  EXPECT_EQ(m->size, sizeof(tern_module));
  EXPECT_EQ(m->abi_major, TERN_ABI_MAJOR);
  EXPECT_EQ(m->abi_minor, TERN_ABI_MINOR);
  EXPECT_STREQ(m->name, "hello_c");
}

TEST_F(HelloC, RegistersEveryKind) {
  ASSERT_EQ(host_.options().size(), 1u);
  EXPECT_EQ(host_.options()[0].name, "hello_c_greeting_text");
  EXPECT_EQ(host_.options()[0].default_value, "hello, world");
  EXPECT_EQ(host_.operators().size(), 1u);
  EXPECT_EQ(host_.items().size(), 1u);
  EXPECT_EQ(host_.variables().size(), 1u);
  EXPECT_EQ(host_.lookups().size(), 1u);
  EXPECT_EQ(host_.conditions().size(), 1u);
  EXPECT_EQ(host_.listeners().size(), 1u);
}

TEST_F(HelloC, Operator) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {{"abc", "cba"}, {"", ""}, {"a", "a"}, {"hello world", "dlrow olleh"}};
  for (auto& c : cases) {
    auto r = host_.op("hello_c_rev", c.in);
    EXPECT_EQ(r.status, TERN_OK) << c.in;
    EXPECT_EQ(r.out, c.want) << c.in;
  }
}

TEST_F(HelloC, Item) {
  EXPECT_EQ(host_.item("hello_c_join", {"a", "b"}).out, "a-b");
  EXPECT_EQ(host_.item("hello_c_join", {"x"}).out, "x");
  EXPECT_EQ(host_.item("hello_c_join", {"1", "2", "3"}).out, "1-2-3");
}

TEST_F(HelloC, VariableIsTheOption) {
  EXPECT_EQ(host_.variable("hello_c_greeting").out, "hello, world");
  host_.set_option("hello_c_greeting_text", "hi there");
  EXPECT_EQ(host_.variable("hello_c_greeting").out, "hi there");
}

TEST_F(HelloC, LookupAndQuote) {
  auto r = host_.lookup("helloc", "alice");
  EXPECT_EQ(r.status, TERN_OK);
  EXPECT_EQ(r.out, "Alice Liddell");
  EXPECT_EQ(host_.lookup("helloc", "nobody").status, TERN_FAIL);
  EXPECT_EQ(host_.quote("helloc", "a\"b\\c").out, "a\\\"b\\\\c");
  EXPECT_EQ(host_.lookup("helloc", "a\"b").out, "quoted");
}

TEST_F(HelloC, Condition) {
  EXPECT_EQ(host_.condition("hello_c_check", "hello there").status, TERN_OK);
  auto r = host_.condition("hello_c_check", "goodbye");
  EXPECT_EQ(r.status, TERN_DECLINE);
  EXPECT_EQ(r.out, "hello_c_check: the value does not start with \"hello\"");
}

TEST_F(HelloC, ListenerSeesMessageEventsOnly) {
  EXPECT_TRUE(host_.event("msg:delivery", "x").ok());
  EXPECT_TRUE(host_.event("tcp:connect", "y").ok());
  EXPECT_TRUE(host_.event("msg:complete", "").ok());
  EXPECT_TRUE(host_.logged("hello_c: event msg:delivery (1 so far)"));
  EXPECT_TRUE(host_.logged("hello_c: event msg:complete (2 so far)"));
  EXPECT_FALSE(host_.logged("tcp:connect"));
}

// The state hangs off each load's tern_ctx: two loads (two generations)
// count their own events.
TEST(HelloCLoad, TwoLoadsKeepTheirOwnState) {
  FakeHost a(tern_module_v1()), b(tern_module_v1());
  ASSERT_TRUE(a.init().ok());
  ASSERT_TRUE(b.init().ok());
  EXPECT_NE(a.module_data(), b.module_data());
  a.event("msg:delivery", "");
  a.event("msg:delivery", "");
  b.event("msg:delivery", "");
  EXPECT_TRUE(a.logged("hello_c: event msg:delivery (2 so far)"));
  EXPECT_TRUE(b.logged("hello_c: event msg:delivery (1 so far)"));
  EXPECT_FALSE(b.logged("(2 so far)"));
  a.fini();
  EXPECT_EQ(a.module_data(), nullptr);
}

TEST(HelloCLoad, RefusedByAnOlderCore) {
  if (TERN_ABI_MINOR == 0) GTEST_SKIP() << "no older minor to present";
  FakeHost old(tern_module_v1(), {.minor = 0});
  auto r = old.init();
  EXPECT_EQ(r.status, TERN_ERROR);
  EXPECT_EQ(r.error, "built for ABI 1." + std::to_string(TERN_ABI_MINOR) + ", host provides 1.0");
}

TEST(HelloCLoad, ANameTakenByAnotherModuleFailsInit) {
  FakeHost host(tern_module_v1());
  host.reserve("expansion operator", "hello_c_rev", "other");
  auto r = host.init();
  EXPECT_EQ(r.status, TERN_ERROR);
  EXPECT_EQ(r.error,
            "expansion operator \"hello_c_rev\" is registered twice: by \"other\" and by \"hello_c\"");
  EXPECT_EQ(host.module_data(), nullptr);  // the module freed its state
}

}  // namespace
