// core/module_host/registration_test.cpp: each kind a module registers, used through its C++ API.
#include <gtest/gtest.h>

#include "core/expand/expand.hpp"
#include "core/module_host/extensions_adapter.hpp"
#include "core/module_host/lookup_adapter.hpp"
#include "core/module_host/test_support.hpp"

namespace tern::module_host {
namespace {

class Registration : public ::testing::Test {
 protected:
  void SetUp() override {
    options_ = testing::core_options();
    auto g = testing::load("testop : testsecond", options_);
    ASSERT_TRUE(g.ok()) << g.error().message;
    generation_ = std::move(*g);
    vars_.set("primary_hostname", "mx.example");
    ctx_.variables = &vars_;
    base_.options = &options_;
    base_.events = &generation_->events();
  }

  config::OptionRegistry options_;
  GenerationRef generation_;
  expand::MapVariables vars_;
  expand::Context ctx_;
  CallEnv base_;
};

TEST_F(Registration, Options) {
  const auto* greeting = options_.find(config::Scope::kMain, "", "testop_greeting");
  ASSERT_NE(greeting, nullptr);
  EXPECT_EQ(greeting->owner, "testop");
  EXPECT_EQ(greeting->type, config::OptionType::kString);
  EXPECT_EQ(greeting->default_value.text, "hello");
  const auto* tls = options_.find(config::Scope::kTransport, "smtp", "testop_tls");
  ASSERT_NE(tls, nullptr);
  EXPECT_EQ(tls->owner, "testop");
  EXPECT_EQ(options_.find(config::Scope::kTransport, "pipe", "testop_tls"), nullptr);  // smtp only
  EXPECT_NE(options_.find(config::Scope::kMain, "", "testsecond_greeting"), nullptr);
}

TEST_F(Registration, OperatorsItemsVariables) {
  ModuleExtensions ext(generation_, UnloadedNames(), base_);
  const auto* op = ext.find_operator("testop");
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->module, "testop");
  struct Case {
    std::string arg;
    std::string want;      // value, or the error text
    Error::Kind kind;
    bool ok;
  } cases[] = {
      {"x", "testop(x)", Error::Kind::kFailed, true},
      {"expand", "testop(expand)MX.EXAMPLE", Error::Kind::kFailed, true},
      {"fail", "expansion operator \"testop\" (module \"testop\") failed", Error::Kind::kForcedFail, false},
      {"error", "testop was asked to fail", Error::Kind::kFailed, false},
  };
  for (const auto& c : cases) {
    auto r = op->apply(c.arg, ctx_);
    ASSERT_EQ(r.ok(), c.ok) << c.arg;
    if (c.ok) {
      EXPECT_EQ(*r, c.want);
    } else {
      EXPECT_EQ(r.error().message, c.want);
      EXPECT_EQ(r.error().kind, c.kind);
    }
  }
  const auto* item = ext.find_item("testop_item");
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->min_args, 1);
  EXPECT_EQ(item->max_args, 3);
  auto ir = item->apply({"a", "b"}, ctx_);
  ASSERT_TRUE(ir.ok());
  EXPECT_EQ(*ir, "a+b");
  const auto* var = ext.find_variable("testsecond_var");
  ASSERT_NE(var, nullptr);
  auto vr = var->get(ctx_);
  ASSERT_TRUE(vr.ok());
  EXPECT_EQ(vr->value_or("unset"), "hello from testsecond");
  EXPECT_EQ(ext.find_operator("nosuch"), nullptr);
}

TEST_F(Registration, LookupsAndQuote) {
  auto types = make_lookup_types(generation_, base_);
  ASSERT_EQ(types.size(), 2u);
  lookup::Registry reg = lookup::Registry::with_core_types();
  for (auto& t : types) ASSERT_TRUE(reg.add(std::move(t)).ok());
  lookup::LookupType* t = reg.find("testoplookup");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->style(), lookup::Style::kQuery);
  auto h = t->open("");
  ASSERT_TRUE(h.ok());
  auto f = t->find(**h, "", "k1", "");
  EXPECT_EQ(f.status, lookup::Found::Status::kFound);
  EXPECT_EQ(f.data, "found:k1");
  EXPECT_FALSE(f.cacheable);
  EXPECT_EQ(t->find(**h, "", "missing", "").status, lookup::Found::Status::kNotFound);
  EXPECT_EQ(t->quote("it's", "").value_or("none"), "'it's'");

  // Through the expansion engine: ${lookup} and ${quote_<name>:}.
  lookup::Searcher searcher(reg);
  ctx_.registry = &reg;
  ctx_.searcher = &searcher;
  auto r = expand::expand("${lookup testoplookup{abc}} ${quote_testoplookup:q}", ctx_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "found:abc 'q'");
}

// A module's find gets the caller's expansion Context: host->expand
// ("$primary_hostname") from inside it sees the expansion's variables.
TEST_F(Registration, LookupsExpandInTheCallersContext) {
  lookup::Registry reg = lookup::Registry::with_core_types();
  for (auto& t : make_lookup_types(generation_, base_)) ASSERT_TRUE(reg.add(std::move(t)).ok());
  lookup::Searcher searcher(reg);
  ctx_.registry = &reg;
  ctx_.searcher = &searcher;
  auto r = expand::expand("${lookup testoplookup{expand}}", ctx_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "expanded:mx.example");
  vars_.set("primary_hostname", "other.example");  // not cached: asked again
  r = expand::expand("${lookup testoplookup{expand}{<$value>}}", ctx_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "<expanded:other.example>");

  // Without a caller (a match list outside an expansion) there is nothing
  // to expand in: the lookup defers with the host's reason.
  lookup::LookupType* t = reg.find("testoplookup");
  auto h = t->open("");
  ASSERT_TRUE(h.ok());
  auto f = t->find(**h, "", "expand", "");
  EXPECT_EQ(f.status, lookup::Found::Status::kDefer);
  EXPECT_EQ(f.error, "no expansion context in this call");
}

TEST_F(Registration, AclConditionsAndControls) {
  const AclRegistry& acl = generation_->acl();
  const AclCondition* c = acl.find_condition("testop_cond");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->allowed_in(TERN_ACL_RCPT));
  EXPECT_FALSE(c->allowed_in(TERN_ACL_CONNECT));
  AclResult yes = acl.check(*c, "yes", base_);
  EXPECT_EQ(yes.status, TERN_OK);
  EXPECT_EQ(yes.message, "checked");
  EXPECT_EQ(acl.check(*c, "no", base_).status, TERN_DECLINE);
  EXPECT_EQ(acl.find_condition("testop_ctl"), nullptr);
  const AclCondition* ctl = acl.find_control("testop_ctl");
  ASSERT_NE(ctl, nullptr);
  EXPECT_TRUE(ctl->is_control());
}

TEST_F(Registration, EventsAndHooks) {
  const EventBus& bus = generation_->events();
  EXPECT_TRUE(bus.has_listeners("msg:delivery"));
  EXPECT_TRUE(bus.has_listeners("tcp:connect"));
  EXPECT_FALSE(bus.has_listeners("smtp:connect"));
  EXPECT_EQ(bus.raise("msg:delivery", "testsecond", base_), "refused by testsecond");
  EXPECT_EQ(bus.raise("msg:delivery", "nobody", base_), "");

  const HookRegistry& hooks = generation_->hooks();
  EXPECT_TRUE(hooks.has(TERN_HOOK_ROUTER_PRECONDITION));
  EXPECT_FALSE(hooks.has(TERN_HOOK_PRE_BANNER));
  EXPECT_EQ(hooks.shortest_deadline(TERN_HOOK_PRE_BANNER), std::nullopt);
  tern_str router{"r1", 2};
  HookResult r = hooks.run(TERN_HOOK_ROUTER_PRECONDITION, base_, &router);
  EXPECT_EQ(r.status, TERN_OK);
  EXPECT_EQ(r.verdict, "testop");  // the first non-empty, in modules= order
  tern_str skip{"skip", 4};
  EXPECT_EQ(hooks.run(TERN_HOOK_ROUTER_PRECONDITION, base_, &skip).status, TERN_DECLINE);
}

TEST(HookRegistry, ShortestDeadlineOfTheMayBlockHooks) {
  HookRegistry hooks;
  Hook direct;
  hooks.add(TERN_HOOK_PRE_BANNER, direct);
  EXPECT_EQ(hooks.shortest_deadline(TERN_HOOK_PRE_BANNER), std::nullopt);  // runs inline: no deadline
  Hook slow;
  slow.flags = TERN_MAY_BLOCK;  // timeout 0: the core's default
  hooks.add(TERN_HOOK_PRE_BANNER, slow);
  EXPECT_EQ(hooks.shortest_deadline(TERN_HOOK_PRE_BANNER), std::chrono::milliseconds(kDefaultTimeoutMs));
  Hook quick;
  quick.flags = TERN_MAY_BLOCK;
  quick.timeout_ms = 500;
  hooks.add(TERN_HOOK_PRE_BANNER, quick);
  EXPECT_EQ(hooks.shortest_deadline(TERN_HOOK_PRE_BANNER), std::chrono::milliseconds(500));
  EXPECT_EQ(hooks.shortest_deadline(TERN_HOOK_AFTER_DATA), std::nullopt);
}

}  // namespace
}  // namespace tern::module_host
