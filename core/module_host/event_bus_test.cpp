// core/module_host/event_bus_test.cpp: listener order, matching and the winning verdict.
#include "core/module_host/event_bus.hpp"

#include <gtest/gtest.h>

namespace tern::module_host {
namespace {

EventListener listener(std::string module, size_t order, int priority, std::string events, std::string verdict,
                       std::vector<std::string>* calls) {
  EventListener l;
  l.module = module;
  l.order = order;
  l.priority = priority;
  l.events = std::move(events);
  l.on_event = [=](std::string_view event, std::string_view, const CallEnv&) -> Result<std::string> {
    calls->push_back(module + ":" + std::to_string(priority) + ":" + std::string(event));
    if (verdict == "!error") return Error::failed("listener broke");
    return verdict;
  };
  return l;
}

TEST(EventBus, NoListenersMeansNothingToDo) {
  EventBus bus;
  bus.freeze();
  EXPECT_FALSE(bus.has_listeners("msg:delivery"));
  EXPECT_EQ(bus.raise("msg:delivery", "", CallEnv{}), "");
}

TEST(EventBus, ModulesOrderThenPriorityFirstVerdictWins) {
  std::vector<std::string> calls;
  EventBus bus;
  // Added out of order on purpose.
  bus.add(listener("b", 1, -100, "msg:*", "from b", &calls));
  bus.add(listener("a", 0, 100, "msg:delivery", "", &calls));
  bus.add(listener("a", 0, -5, "tcp:connect, msg:delivery", "!error", &calls));
  bus.add(listener("c", 2, 0, "", "from c", &calls));
  bus.freeze();
  EXPECT_TRUE(bus.has_listeners("msg:delivery"));
  EXPECT_TRUE(bus.has_listeners("smtp:connect"));  // c listens to everything
  testing::internal::CaptureStderr();
  EXPECT_EQ(bus.raise("msg:delivery", "x", CallEnv{}), "from b");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "tern: a: event msg:delivery: listener broke\n");
  EXPECT_EQ(calls, (std::vector<std::string>{"a:-5:msg:delivery", "a:100:msg:delivery", "b:-100:msg:delivery",
                                             "c:0:msg:delivery"}));
}

TEST(EventBus, MatchesNamesAndPrefixes) {
  struct Case {
    std::string events, event;
    bool want;
  };
  const Case cases[] = {
      {"msg:*", "msg:delivery", true},   {"msg:*", "tcp:connect", false},
      {"tcp:connect", "tcp:connect", true}, {"tcp:connect", "tcp:close", false},
      {"tcp:close,msg:complete", "msg:complete", true}, {"*", "anything", true},
  };
  for (const auto& c : cases) {
    std::vector<std::string> calls;
    EventBus bus;
    bus.add(listener("m", 0, 0, c.events, "", &calls));
    bus.freeze();
    EXPECT_EQ(bus.has_listeners(c.event), c.want) << c.events << " / " << c.event;
  }
}

}  // namespace
}  // namespace tern::module_host
