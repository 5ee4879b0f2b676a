// modules/events/events.cpp: Exim's event_action, as a module.
//
// The core raises every event (tls:fail:connect, smtp:fail:syntax,
// msg:delivery, ...) on its event bus whether or not this module is
// loaded; this module listens to all of them and expands `event_action`,
// Exim's option:
//   - the main option for events the core raises outside a transport
//     (reception, msg:complete, msg:fail:internal), the transport's own
//     option for events raised while a transport works (msg:delivery,
//     tcp:connect, smtp:connect, ...): the host hands over the option of the
//     call's transport when there is one, else the main one;
//   - $event_name and $event_data are set during that expansion (and only
//     then, as in Exim: they are empty elsewhere);
//   - a non-empty result is the listener's verdict, which the core acts on
//     as Exim does (tcp:connect: do not connect; tls:cert: refuse the
//     certificate; smtp:connect: close; others: ignored);
//   - an expansion that fails is logged in the main and the panic log in
//     Exim 4.96's words, "failed to expand event_action <event> in
//     <transport|main>: <error>" followed, as there, by an empty line; the
//     event goes on as if the result were empty. A forced failure is an
//     empty result.
// $event_defer_errno is the core's (set while it raises a defer event).
#include <tern/module.hpp>

#include <string>
#include <string_view>

namespace {

// The event being handled by this thread's expansion of event_action. An
// event raised while expanding (a dns:fail from a lookup in it) nests.
struct CurrentEvent {
  std::string_view name, data;
};
thread_local const CurrentEvent* t_current = nullptr;

class Events final : public tern::Module {
 public:
  tern::Status init(tern::Registrar& r) override {
    r.option("event_action", tern::OptionType::kString, tern::scope::kMain | tern::scope::kTransport);
    r.variable("event_name", [](tern::Call&) { return std::string(t_current ? t_current->name : ""); });
    r.variable("event_data", [](tern::Call&) { return std::string(t_current ? t_current->data : ""); });
    r.listener("", [](tern::Call& c, std::string_view event, std::string_view data, tern::Out& verdict) {
      return on_event(c, event, data, verdict);
    });
    return tern::ok();
  }

 private:
  static tern::Status on_event(tern::Call& c, std::string_view event, std::string_view data, tern::Out& verdict) {
    std::string action;
    if (c.option("event_action", action) != tern::ok() || action.empty()) return tern::ok();
    const CurrentEvent current{event, data};
    const CurrentEvent* outer = std::exchange(t_current, &current);
    std::string result;
    const tern::Status st = c.expand(action, result);
    t_current = outer;
    if (st == tern::Status::kFail) return tern::ok();  // forced failure: nothing to say
    if (st != tern::ok()) {
      std::string where;
      if (c.variable("transport_name", where) != tern::ok() || where.empty()) where = "main";
      c.log(static_cast<tern::LogLevel>(TERN_LOG_MAIN | TERN_LOG_PANIC),
            "failed to expand event_action " + std::string(event) + " in " + where + ": " + c.error() + "\n");
      return tern::ok();
    }
    verdict << result;
    return tern::ok();
  }
};

}  // namespace

TERN_MODULE(Events, "events", "1.0.0")
