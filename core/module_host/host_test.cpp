// core/module_host/host_test.cpp: the host table's entries, called as a module calls them.
#include "core/module_host/host.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "core/config/config.hpp"
#include "core/expand/expand.hpp"
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
  ModuleCtx ctx;
  ctx.module = "m";
  ctx.registrations = &regs;
  static tern_status (*apply)(tern_ctx*, void*, tern_call*, tern_str, tern_buf*) =
      [](tern_ctx*, void*, tern_call*, tern_str, tern_buf*) { return TERN_OK; };
  int tag = 0;
  tern_operator_def op{sizeof op, "myop", 0, 0, apply, &tag};

  EXPECT_EQ(h()->add_operator(&ctx, &op), TERN_ERROR);  // not in init
  EXPECT_EQ(ctx.registration_error, "expansion operator registered outside init");

  struct Case {
    tern_operator_def def;
    tern_status want;
    std::string error;
  } cases[] = {
      {{sizeof op, "myop", 0, 0, apply, &tag}, TERN_OK, ""},
      {{sizeof op, "myop", 0, 0, apply, nullptr}, TERN_ERROR,
       "expansion operator \"myop\" is registered twice: by \"m\" and by \"m\""},
      {{sizeof op, "uc", 0, 0, apply, nullptr}, TERN_ERROR,
       "module \"m\" registers expansion operator \"uc\", which is built into tern: rename it"},
      {{offsetof(tern_operator_def, apply), "short", 0, 0, apply, nullptr}, TERN_ERROR,
       "malformed expansion operator definition: size too small"},
      {{sizeof op, "bad name", 0, 0, apply, nullptr}, TERN_ERROR,
       "malformed expansion operator definition \"bad name\": bad name"},
      {{sizeof op, "noapply", 0, 0, nullptr, nullptr}, TERN_ERROR,
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
  EXPECT_EQ(regs.operators[0].user, &tag);  // copied with the definition
  // A definition without `user` (the size stops before it) reads as NULL.
  ctx.in_init = true;
  tern_operator_def short_op{static_cast<uint32_t>(offsetof(tern_operator_def, user)), "shortop", 0, 0, apply,
                             &tag};
  EXPECT_EQ(h()->add_operator(&ctx, &short_op), TERN_OK);
  EXPECT_EQ(regs.operators.back().user, nullptr);
}

// Every kind refuses a name built into the core, naming the module and the name.
TEST(Host, BuiltInNamesAreRefused) {
  Registrations regs(nullptr);
  ModuleCtx ctx;
  ctx.module = "m";
  ctx.registrations = &regs;
  ctx.in_init = true;
  auto op = [](tern_ctx*, void*, tern_call*, tern_str, tern_buf*) { return TERN_OK; };
  auto item = [](tern_ctx*, void*, tern_call*, const tern_str*, size_t, tern_buf*) { return TERN_OK; };
  auto var = [](tern_ctx*, void*, tern_call*, tern_buf*) { return TERN_OK; };
  auto find = [](tern_ctx*, void*, tern_call*, void*, tern_str, tern_str, tern_str, tern_buf*, int*) {
    return TERN_OK;
  };
  auto check = [](tern_ctx*, void*, tern_call*, tern_str, tern_buf*) { return TERN_OK; };
  const tern_operator_def ops[] = {{sizeof(tern_operator_def), "lc", 0, 0, op, nullptr},
                                   {sizeof(tern_operator_def), "quote_foo", 0, 0, op, nullptr}};
  const tern_item_def it{sizeof it, "if", 1, 3, 0, 0, item, nullptr};
  const tern_variable_def vars[] = {{sizeof(tern_variable_def), "domain", var, nullptr},
                                    {sizeof(tern_variable_def), "acl_m_x", var, nullptr}};
  const tern_lookup_def lk{sizeof lk, "lsearch", TERN_LOOKUP_SINGLE_KEY, 0, nullptr, find, nullptr, nullptr,
                           nullptr};
  const tern_acl_condition_def conds[] = {{sizeof(tern_acl_condition_def), "verify", 0, 0, 0, check, nullptr},
                                          {sizeof(tern_acl_condition_def), "freeze", 0, TERN_ACL_CONTROL, 0, check,
                                           nullptr}};
  struct Case {
    std::function<tern_status()> add;
    std::string want;
  } cases[] = {
      {[&] { return h()->add_operator(&ctx, &ops[0]); }, "expansion operator \"lc\""},
      {[&] { return h()->add_operator(&ctx, &ops[1]); }, "expansion operator \"quote_foo\""},
      {[&] { return h()->add_item(&ctx, &it); }, "expansion item \"if\""},
      {[&] { return h()->add_variable(&ctx, &vars[0]); }, "variable \"domain\""},
      {[&] { return h()->add_variable(&ctx, &vars[1]); }, "variable \"acl_m_x\""},
      {[&] { return h()->add_lookup(&ctx, &lk); }, "lookup type \"lsearch\""},
      {[&] { return h()->add_acl_condition(&ctx, &conds[0]); }, "ACL condition \"verify\""},
      {[&] { return h()->add_acl_condition(&ctx, &conds[1]); }, "ACL condition \"freeze\""},
  };
  for (const auto& c : cases) {
    ctx.registration_error.clear();
    EXPECT_EQ(c.add(), TERN_ERROR) << c.want;
    EXPECT_EQ(ctx.registration_error, "module \"m\" registers " + c.want + ", which is built into tern: rename it");
  }
  // What first-party modules bring is not the core's: the events module may
  // register $event_name.
  const tern_variable_def event_name{sizeof event_name, "event_name", var, nullptr};
  EXPECT_EQ(h()->add_variable(&ctx, &event_name), TERN_OK);
}

TEST(Host, ContextHeadAndErrors) {
  ModuleCtx ctx;
  tern_ctx* head = &ctx;
  EXPECT_EQ(head->size, sizeof(tern_ctx));
  EXPECT_EQ(head->data, nullptr);
  EXPECT_EQ(ctx_of(head), &ctx);
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
  tern_str out{"x", 1};
  EXPECT_EQ(h()->recipient_data(&call, s("k"), &out), TERN_DEFER);
  EXPECT_EQ(out.len, 0u);
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
  tern_str out;
  EXPECT_EQ(h()->get_option(&call, "primary_hostname", &out), TERN_OK);
  tern_str first = out;
  EXPECT_EQ(std::string(out.ptr, out.len), "mx.example");
  EXPECT_EQ(h()->get_option(&call, "connect_timeout", &out), TERN_OK);
  EXPECT_EQ(std::string(out.ptr, out.len), "1m30s");
  // Host-owned answers stay valid until the call ends, not just until the next entry.
  EXPECT_EQ(std::string(first.ptr, first.len), "mx.example");
  int64_t n = 0;
  EXPECT_EQ(h()->get_option_int(&call, "connect_timeout", &n), TERN_OK);
  EXPECT_EQ(n, 90);
  EXPECT_EQ(h()->get_option(&call, "nosuch", &out), TERN_ERROR);
  EXPECT_EQ(call.error, "unknown option \"nosuch\"");
  EXPECT_EQ(h()->get_option(&call, "tls_certificate", &out), TERN_DECLINE);  // unset
  EXPECT_EQ(out.len, 0u);
}

TEST(Host, ExpandAndVariablesAreReadable) {
  expand::MapVariables vars;
  vars.set("primary_hostname", "mx.example");
  expand::Context ectx;
  ectx.variables = &vars;
  CallEnv env;
  env.expand = &ectx;
  tern_call call(env);
  tern_str out;
  ASSERT_EQ(h()->expand(&call, s("<${uc:$primary_hostname}>"), &out), TERN_OK);
  EXPECT_EQ(std::string(out.ptr, out.len), "<MX.EXAMPLE>");
  ASSERT_EQ(h()->get_variable(&call, "primary_hostname", &out), TERN_OK);
  EXPECT_EQ(std::string(out.ptr, out.len), "mx.example");
  EXPECT_EQ(h()->get_variable(&call, "no_such_variable", &out), TERN_DECLINE);
  EXPECT_EQ(h()->get_variable(&call, "event_name", &out), TERN_DECLINE);  // the events module's
  EXPECT_EQ(h()->expand(&call, s("${if eq{a}{b}{x}fail}"), &out), TERN_FAIL);
  EXPECT_EQ(out.len, 0u);
  tern_call bare{CallEnv{}};
  EXPECT_EQ(h()->expand(&bare, s("x"), &out), TERN_ERROR);
  EXPECT_EQ(bare.error, "no expansion context in this call");
}

TEST(Host, HostListsAreMatchedForTheCallsClient) {
  expand::MapVariables vars;
  expand::Context ectx;
  ectx.variables = &vars;
  CallEnv env;
  env.expand = &ectx;
  tern_call call(env);
  EXPECT_EQ(h()->match_host_list(&call, s("127.0.0.3")), TERN_FAIL);  // no client: no match
  vars.set("sender_host_address", "127.0.0.3");
  EXPECT_EQ(h()->match_host_list(&call, s("127.0.0.3")), TERN_OK);
  EXPECT_EQ(h()->match_host_list(&call, s("10.0.0.0/8 : 127.0.0.0/24")), TERN_OK);
  EXPECT_EQ(h()->match_host_list(&call, s("!127.0.0.3 : *")), TERN_FAIL);
  EXPECT_EQ(h()->match_host_list(&call, s("")), TERN_FAIL);
  EXPECT_EQ(h()->match_host_list(&call, s("192.0.2.1")), TERN_FAIL);
  tern_call bare{CallEnv{}};
  EXPECT_EQ(h()->match_host_list(&bare, s("*")), TERN_FAIL);
}

TEST(Host, SessionDataIsFreedAtTheEnd) {
  static int freed = 0;
  ModuleCtx a, b;
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
  tern_str out;
  EXPECT_EQ(h()->raise_event(&call, s("msg:delivery"), s(""), &out), TERN_DEFER);
  EXPECT_EQ(call.error, "the call's deadline has passed");
}

}  // namespace
}  // namespace tern::module_host
