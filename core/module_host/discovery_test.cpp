// core/module_host/discovery_test.cpp: naming the module of a name that is not loaded.
#include "core/module_host/discovery.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include "core/module_host/test_support.hpp"

namespace tern::module_host {
namespace {

TEST(Discovery, InstalledModulesAreAskedBrokenOnesSkipped) {
  auto found = discover(testing::module_dir(), {"testsecond"}, {geteuid()});
  std::vector<std::string> names;
  for (const auto& d : found) names.push_back(d.module);
  // The broken variants and the one being loaded are not there.
  EXPECT_EQ(names, (std::vector<std::string>{"dupop", "slow", "testop"}));

  auto options = testing::core_options();
  UnloadedNames unloaded;
  record_unloaded(found, {"testsecond"}, options, unloaded);
  using K = expand::ExtensionKind;
  struct Case {
    K kind;
    std::string name;
    std::string want;  // "" : nobody
  } cases[] = {
      {K::kOperator, "testop", "testop"},  // dupop claims it too; the namesake wins
      {K::kItem, "testop_item", "testop"},
      {K::kVariable, "testop_var", "testop"},
      {K::kLookup, "testoplookup", "testop"},
      {K::kOperator, "quote_testoplookup", "testop"},
      {K::kCondition, "testop_cond", "testop"},
      {K::kLookup, "slow", "slow"},
      {K::kLookup, "redis", "redis"},  // first-party, not installed here
      {K::kVariable, "proxy_session", "proxy"},
      {K::kVariable, "testsecond_var", ""},  // loaded: not "unloaded"
  };
  for (const auto& c : cases) EXPECT_EQ(unloaded.owner(c.kind, c.name).value_or(""), c.want) << c.name;

  const auto* o = options.find_unloaded(config::Scope::kMain, "", "testop_greeting");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->module, "testop");
  const auto* t = options.find_unloaded(config::Scope::kTransport, "smtp", "testop_tls");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->module, "testop");
  const auto* dane = options.find_unloaded(config::Scope::kTransport, "smtp", "hosts_try_dane");
  ASSERT_NE(dane, nullptr);
  EXPECT_EQ(dane->module, "dane");
}

// Discovery runs init in discovery mode and finalises at once.
TEST(Discovery, FinalisesWhatItInitialised) {
  testing::TempDir dir;
  const std::string log = dir.path() + "/fini.log";
  setenv("TERN_TEST_FINI_LOG", log.c_str(), 1);
  auto found = discover(testing::module_dir(), {"dupop", "slow", "testsecond"}, {geteuid()});
  unsetenv("TERN_TEST_FINI_LOG");
  ASSERT_EQ(found.size(), 1u);
  FILE* f = fopen(log.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char line[64] = {0};
  ASSERT_NE(fgets(line, sizeof line, f), nullptr);
  fclose(f);
  EXPECT_STREQ(line, "fini testop\n");
}

}  // namespace
}  // namespace tern::module_host
