// core/module_host/loader_test.cpp: every refusal's exact text, loading order and unloading.
#include "core/module_host/loader.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/module_host/test_support.hpp"

namespace tern::module_host {
namespace {

using testing::module_dir;
using testing::module_file;

TEST(Loader, Refusals) {
  const std::string d = module_dir();
  const std::string core = std::to_string(TERN_ABI_MAJOR) + "." + std::to_string(TERN_ABI_MINOR);
  struct Case {
    std::string modules, want;
  } cases[] = {
      {"nosuch", d + "/nosuch.so: cannot load module: No such file or directory"},
      {"/nonexistent/dir/x.so", "/nonexistent/dir/x.so: cannot load module: No such file or directory"},
      {"noentry", d + "/noentry.so: not a tern module (no tern_module_v1 entry point)"},
      {"badmagic", d + "/badmagic.so: not a tern module (bad magic number)"},
      {"major2", d + "/major2.so: built for ABI 2.0, tern provides " + core + ": rebuild it"},
      {"minor99", d + "/minor99.so: built for ABI 1.99, tern provides " + core + ": upgrade tern or rebuild it"},
      {"wrongname",
       d + "/wrongname.so: module name \"other\" differs from the file name \"wrongname\": rename one of them"},
      {"initfail", d + "/initfail.so: init failed: cannot reach the scanner at 127.0.0.1:1"},
      {"testop : dupop",
       d + "/dupop.so: expansion operator \"testop\" is registered twice: by \"testop\" and by \"dupop\""},
      {"testop : testop", d + "/testop.so: module \"testop\" is listed twice in \"modules\""},
      {"builtin",
       d + "/builtin.so: module \"builtin\" registers expansion item \"if\", which is built into tern: rename it"},
      {"relative/x.so", "relative/x.so: a module is a name or an absolute path"},
  };
  for (const auto& c : cases) {
    auto options = testing::core_options();
    auto g = testing::load(c.modules, options);
    ASSERT_FALSE(g.ok()) << c.modules;
    EXPECT_EQ(g.error().message, c.want);
  }
}

// The permission checks, on a copy of a good module.
TEST(Loader, RefusesFilesOthersCouldHaveChanged) {
  testing::TempDir dir;
  const std::string copy = dir.path() + "/testop.so";
  std::filesystem::copy_file(module_file("testop"), copy);
  auto options = testing::core_options();

  ASSERT_EQ(chmod(copy.c_str(), 0775), 0);
  auto g = testing::load(copy, options);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().message, copy + ": writable by group or others: refusing to load it");

  ASSERT_EQ(chmod(copy.c_str(), 0757), 0);
  g = testing::load(copy, options);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().message, copy + ": writable by group or others: refusing to load it");

  ASSERT_EQ(chmod(copy.c_str(), 0755), 0);
  if (geteuid() != 0) GTEST_SKIP() << "changing the owner needs root";
  ASSERT_EQ(chown(copy.c_str(), 65534, 65534), 0);
  g = testing::load(copy, options);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().message, copy + ": not owned by root or the tern user: refusing to load it");
}

TEST(Loader, LoadsInOrderAndFinalisesInReverse) {
  testing::TempDir dir;
  const std::string log = dir.path() + "/fini.log";
  setenv("TERN_TEST_FINI_LOG", log.c_str(), 1);
  {
    auto options = testing::core_options();
    auto g = testing::load("testop : " + module_file("testsecond"), options);
    ASSERT_TRUE(g.ok()) << g.error().message;
    const auto& m = (*g)->modules();
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m[0]->name, "testop");
    EXPECT_EQ(m[0]->version, "1.2.3");
    EXPECT_EQ(m[0]->abi_major, 1);
    EXPECT_EQ(m[0]->path, module_file("testop"));
    EXPECT_EQ(m[1]->name, "testsecond");
  }
  std::ifstream in(log);
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), "fini testsecond\nfini testop\n");
  unsetenv("TERN_TEST_FINI_LOG");
}

// A failed load unloads what it had loaded before the failure.
TEST(Loader, FailureFinalisesEarlierModules) {
  testing::TempDir dir;
  const std::string log = dir.path() + "/fini.log";
  setenv("TERN_TEST_FINI_LOG", log.c_str(), 1);
  auto options = testing::core_options();
  auto g = testing::load("testop : testsecond : initfail", options);
  ASSERT_FALSE(g.ok());
  std::ifstream in(log);
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), "fini testsecond\nfini testop\n");
  unsetenv("TERN_TEST_FINI_LOG");
}

TEST(Loader, NoModulesIsAnEmptyGeneration) {
  auto options = testing::core_options();
  auto g = testing::load("", options);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE((*g)->modules().empty());
}

}  // namespace
}  // namespace tern::module_host
