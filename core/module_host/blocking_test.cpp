// core/module_host/blocking_test.cpp: TERN_MAY_BLOCK calls keep their deadline.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "core/expand/expand.hpp"
#include "core/module_host/boundary.hpp"
#include "core/module_host/extensions_adapter.hpp"
#include "core/module_host/invoke.hpp"
#include "core/module_host/lookup_adapter.hpp"
#include "core/module_host/test_support.hpp"

namespace tern::module_host {
namespace {

using Clock = std::chrono::steady_clock;

long ms_since(Clock::time_point t) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

TEST(Invoke, DirectCallAndPoolCall) {
  BlockingPool pool;
  for (bool may_block : {false, true}) {
    Outcome o = invoke({}, {may_block, 1000, &pool, nullptr}, [](tern_call* call, tern_buf* out) {
      out->data = "done";
      call->error = "none";
      return TERN_OK;
    });
    EXPECT_EQ(o.status, TERN_OK);
    EXPECT_EQ(o.out, "done");
    EXPECT_EQ(o.error, "none");
  }
}

TEST(Invoke, OverrunIsADeferAndTheCallIsCutOff) {
  BlockingPool pool;
  auto late_status = std::make_shared<std::atomic<int>>(-1);
  auto t0 = Clock::now();
  Outcome o = invoke({}, {true, 50, &pool, nullptr}, [late_status](tern_call* call, tern_buf*) {
    std::this_thread::sleep_for(std::chrono::milliseconds(3000));
    // Too late: the host refuses to touch the caller's state.
    std::lock_guard lk(call->mu);
    *late_status = call->abandoned ? 1 : 0;
    return TERN_OK;
  });
  EXPECT_LT(ms_since(t0), 2000);  // cut off at the deadline, not after the call's 3 s
  EXPECT_EQ(o.status, TERN_DEFER);
  EXPECT_EQ(o.error, "timeout after 50 ms");
  for (int i = 0; i < 500 && *late_status == -1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(*late_status, 1);
}

TEST(MayBlock, SlowModuleLookupAndOperatorDefer) {
  auto options = testing::core_options();
  auto g = testing::load("slow", options);
  ASSERT_TRUE(g.ok()) << g.error().message;
  GenerationRef gen = std::move(*g);
  auto types = make_lookup_types(gen, {});
  ASSERT_EQ(types.size(), 1u);
  auto h = types[0]->open("");
  ASSERT_TRUE(h.ok());

  auto fast = types[0]->find(**h, "", "10", "");
  EXPECT_EQ(fast.status, lookup::Found::Status::kFound);
  EXPECT_EQ(fast.data, "slept");

  auto t0 = Clock::now();
  auto slow = types[0]->find(**h, "", "3000", "");
  EXPECT_LT(ms_since(t0), 2000);  // cut off at the deadline, not after the lookup's 3 s
  EXPECT_EQ(slow.status, lookup::Found::Status::kDefer);
  EXPECT_EQ(slow.error, "timeout after 100 ms");

  ModuleExtensions ext(gen, UnloadedNames(), CallEnv{});
  expand::Context ctx;
  t0 = Clock::now();
  auto r = ext.find_operator("slowop")->apply("3000", ctx);
  EXPECT_LT(ms_since(t0), 2000);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().is_defer());
  EXPECT_EQ(r.error().message, "timeout after 100 ms");
  // Destroying the generation waits for the late calls before dlclose.
}

}  // namespace
}  // namespace tern::module_host
