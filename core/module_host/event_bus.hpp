// core/module_host/event_bus.hpp: the events the core raises and who listens.
//
// The core raises events by Exim's names (tcp:connect, msg:delivery, ...);
// listeners subscribe to names or prefixes ("msg:*"). Listeners run in
// `modules =` order, then by priority (-100 first, 100 last); every one
// runs, and the first non-empty verdict is the result (Exim's non-empty
// event_action result: refuse, close, ...). A listener that fails is logged
// and skipped, as Exim ignores a failing event_action. With no listener for
// an event, has_listeners() is false after a few compares: callers check it
// before they build the event's data, so an unobserved event costs nothing.
// Built while a generation loads, then frozen (raise() is const and
// thread-safe).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/module_host/call_env.hpp"

namespace tern::module_host {

struct EventListener {
  std::string module;
  size_t order = 0;  // the module's position in `modules =`
  int priority = 0;
  // Names or prefixes ending in '*', separated by white space or commas;
  // empty: every event.
  std::string events;
  // The verdict (empty: none), or an error that is logged.
  std::function<Result<std::string>(std::string_view event, std::string_view data, const CallEnv& env)>
      on_event;
};

class EventBus {
 public:
  void add(EventListener listener);
  // Sort by (order, priority); done once when the generation is complete.
  void freeze();

  bool has_listeners(std::string_view event) const;
  // The first non-empty verdict, or "".
  std::string raise(std::string_view event, std::string_view data, const CallEnv& env) const;
  size_t size() const { return listeners_.size(); }

 private:
  struct Entry {
    EventListener listener;
    bool all = false;
    std::vector<std::string> names, prefixes;
    bool matches(std::string_view event) const;
  };
  std::vector<Entry> listeners_;
};

}  // namespace tern::module_host
