// core/module_host/event_bus.cpp: matching, ordering and verdicts of events.
#include "core/module_host/event_bus.hpp"

#include <algorithm>

#include "core/module_host/log_sink.hpp"

namespace tern::module_host {

bool EventBus::Entry::matches(std::string_view event) const {
  if (all) return true;
  for (const auto& n : names)
    if (n == event) return true;
  for (const auto& p : prefixes)
    if (event.substr(0, p.size()) == p) return true;
  return false;
}

void EventBus::add(EventListener listener) {
  Entry e;
  std::string_view list = listener.events;
  e.all = list.empty();
  while (!list.empty()) {
    // Event names contain colons ("msg:delivery"), so the list is
    // separated by white space or commas (module.h).
    size_t cut = list.find_first_of(" ,\t");
    std::string_view item = list.substr(0, cut);
    list = cut == std::string_view::npos ? std::string_view() : list.substr(cut + 1);
    if (item.empty()) continue;
    if (item == "*") e.all = true;
    else if (item.back() == '*') e.prefixes.emplace_back(item.substr(0, item.size() - 1));
    else e.names.emplace_back(item);
  }
  e.listener = std::move(listener);
  listeners_.push_back(std::move(e));
}

void EventBus::freeze() {
  std::stable_sort(listeners_.begin(), listeners_.end(), [](const Entry& a, const Entry& b) {
    if (a.listener.order != b.listener.order) return a.listener.order < b.listener.order;
    return a.listener.priority < b.listener.priority;
  });
}

bool EventBus::has_listeners(std::string_view event) const {
  for (const auto& e : listeners_)
    if (e.matches(event)) return true;
  return false;
}

std::string EventBus::raise(std::string_view event, std::string_view data, const CallEnv& env) const {
  std::string verdict;
  for (const auto& e : listeners_) {
    if (!e.matches(event)) continue;
    auto r = e.listener.on_event(event, data, env);
    if (!r) {
      log_line(e.listener.module, TERN_LOG_MAIN,
               "event " + std::string(event) + ": " + r.error().message);
      continue;
    }
    if (verdict.empty() && !r->empty()) verdict = std::move(*r);
  }
  return verdict;
}

}  // namespace tern::module_host
