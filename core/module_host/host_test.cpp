// core/module_host/host_test.cpp: the host table's entries, called as a module calls them.
#include "core/module_host/host.hpp"

#include <gtest/gtest.h>

#include "core/config/config.hpp"
#include "core/module_host/boundary.hpp"
#include "core/module_host/event_bus.hpp"
#include "core/module_host/registrations.hpp"
#include "core/module_host/session_data.hpp"

namespace tern::module_host {
namespace {

const tern_host* h() { return host_table(false); }
tern_str s(const char* p) { return {p, strlen(p)}; }

TEST(Host, TableIsComplete) {
  const tern_host* host = h();
  EXPECT_EQ(host->size, sizeof(tern_host));
  EXPECT_EQ(host->abi_major, TERN_ABI_MAJOR);
  EXPECT_EQ(host->abi_minor, TERN_ABI_MINOR);
  EXPECT_EQ(host->discovery, 0);
  EXPECT_EQ(host_table(true)->discovery, 1);
  // Every entry is there: the table is pointers after the header fields.
  const size_t first = offsetof(tern_host, log);
  for (size_t off = first; off + sizeof(void*) <= sizeof(tern_host); off += sizeof(void*)) {
    void* p;
    memcpy(&p, reinterpret_cast<const char*>(host) + off, sizeof p);
    EXPECT_NE(p, nullptr) << "entry at offset " << off;
  }
  EXPECT_TRUE(TERN_HOST_HAS(host, conn_set_addresses));
}

TEST(Host, RegistrationRules) {
  Registrations regs(nullptr);
  tern_ctx ctx;
  ctx.module = "m";
  ctx.registrations = &regs;
  static tern_status (*apply)(tern_ctx*, tern_call*, tern_str, tern_buf*) =
      [](tern_ctx*, tern_call*, tern_str, tern_buf*) { return TERN_OK; };
  tern_operator_def op{sizeof op, "myop", 0, 0, apply};

  EXPECT_EQ(h()->add_operator(&ctx, &op), TERN_ERROR);  // not in init
  EXPECT_EQ(ctx.registration_error, "expansion operator registered outside init");

  struct Case {
    tern_operator_def def;
    tern_status want;
    std::string error;
  } cases[] = {
      {{sizeof op, "myop", 0, 0, apply}, TERN_OK, ""},
      {{sizeof op, "myop", 0, 0, apply}, TERN_ERROR,
       "expansion operator \"myop\" is registered twice: by \"m\" and by \"m\""},
      {{sizeof op, "uc", 0, 0, apply}, TERN_ERROR,
       "expansion operator \"uc\" is registered twice: by \"core\" and by \"m\""},
      {{offsetof(tern_operator_def, apply), "short", 0, 0, apply}, TERN_ERROR,
       "malformed expansion operator definition: size too small"},
      {{sizeof op, "bad name", 0, 0, apply}, TERN_ERROR,
       "malformed expansion operator definition \"bad name\": bad name"},
      {{sizeof op, "noapply", 0, 0, nullptr}, TERN_ERROR,
       "malformed expansion operator definition \"noapply\": no apply function"},
  };
  for (const auto& c : cases) {
    ctx.registration_error.clear();
    ctx.in_init = true;
    EXPECT_EQ(h()->add_operator(&ctx, &c.def), c.want) << c.def.name;
    EXPECT_EQ(ctx.registration_error, c.error);
  }
  ASSERT_EQ(regs.operators.size(), 1u);
  EXPECT_EQ(regs.operators[0].name, "myop");
}

TEST(Host, ModuleDataAndErrors) {
  tern_ctx ctx;
  int x = 0;
  h()->set_module_data(&ctx, &x);
  EXPECT_EQ(h()->module_data(&ctx), &x);
  h()->set_error(&ctx, nullptr, s("init text"));
  EXPECT_EQ(ctx.error, "init text");
  tern_call call{CallEnv{}};
  h()->set_error(&ctx, &call, s("call text"));
  EXPECT_EQ(call.error, "call text");
  tern_buf buf;
  h()->buf_append(&buf, s("ab"));
  h()->buf_append(&buf, s("c"));
  EXPECT_EQ(buf.data, "abc");
  ctx.module = "mod";
  ::testing::internal::CaptureStderr();
  h()->log(&ctx, TERN_LOG_MAIN, "n=%d %s", 3, "x");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "tern: mod: n=3 x\n");
}

TEST(Host, SeamsNotYetBuilt) {
  tern_call call{CallEnv{}};
  tern_dns_answer answer{sizeof answer, 0, 0, 0, nullptr};
  EXPECT_EQ(h()->dns_query(&call, s("example.com"), 52, &answer), TERN_DEFER);
  EXPECT_EQ(call.error, "DNS resolver not available in this build");
  EXPECT_EQ(h()->set_recipient_data(&call, 0, s("k"), s("v")), TERN_DEFER);
  EXPECT_EQ(call.error, "per-recipient data not available in this build");
  tern_buf out;
  EXPECT_EQ(h()->recipient_data(&call, s("k"), &out), TERN_DEFER);
}

TEST(Host, OptionsOfTheCall) {
  config::OptionRegistry reg;
  ASSERT_TRUE(config::register_exim_options(reg).ok());
  config::OptionSet main;
  for (const auto* d : reg.list(config::Scope::kMain)) main.values[d->name] = d->default_value;
  main.values["primary_hostname"].is_set = true;
  main.values["primary_hostname"].text = "mx.example";
  config::DriverInstance smtp;
  smtp.driver = "smtp";
  smtp.options.values["connect_timeout"].is_set = true;
  smtp.options.values["connect_timeout"].number = 90;
  CallEnv env;
  env.options = &reg;
  env.main = &main;
  env.driver = &smtp;
  env.driver_scope = config::Scope::kTransport;
  tern_call call(env);
  tern_buf out;
  EXPECT_EQ(h()->get_option(&call, "primary_hostname", &out), TERN_OK);
  EXPECT_EQ(out.data, "mx.example");
  out.data.clear();
  EXPECT_EQ(h()->get_option(&call, "connect_timeout", &out), TERN_OK);
  EXPECT_EQ(out.data, "1m30s");
  int64_t n = 0;
  EXPECT_EQ(h()->get_option_int(&call, "connect_timeout", &n), TERN_OK);
  EXPECT_EQ(n, 90);
  EXPECT_EQ(h()->get_option(&call, "nosuch", &out), TERN_ERROR);
  EXPECT_EQ(call.error, "unknown option \"nosuch\"");
  EXPECT_EQ(h()->get_option(&call, "tls_certificate", &out), TERN_DECLINE);  // unset
}

TEST(Host, SessionDataIsFreedAtTheEnd) {
  static int freed = 0;
  tern_ctx a, b;
  {
    SessionData session;
    CallEnv env;
    env.session = &session;
    tern_call call(env);
    int x = 1, y = 2;
    h()->set_session_data(&call, &a, &x, [](void*) { ++freed; });
    h()->set_session_data(&call, &b, &y, nullptr);
    EXPECT_EQ(h()->session_data(&call, &a), &x);
    EXPECT_EQ(h()->session_data(&call, &b), &y);
    EXPECT_EQ(freed, 0);
  }
  EXPECT_EQ(freed, 1);
}

TEST(Host, AbandonedCallsDoNotReachTheCaller) {
  EventBus bus;
  CallEnv env;
  env.events = &bus;
  tern_call call(env);
  call.abandoned = true;
  tern_buf out;
  EXPECT_EQ(h()->raise_event(&call, s("msg:delivery"), s(""), &out), TERN_DEFER);
  EXPECT_EQ(call.error, "the call's deadline has passed");
}

}  // namespace
}  // namespace tern::module_host
