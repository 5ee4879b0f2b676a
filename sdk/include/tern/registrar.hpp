// tern/registrar.hpp: typed registration for tern::Module::init, and TERN_MODULE.
//
// Each call keeps the callable in the module object, fills the C definition
// of its kind (module.h) with the kind's trampoline and `user` pointing at
// the callable, and hands it to the host's add_*. Callables may take the
// full form (with an Out for the result) or a short form returning the
// value; both are listed per call. Names and other strings are copied and
// kept until fini. When the core refuses a registration (a name taken, a
// malformed definition) the Registrar remembers the first refusal, ignores
// the later calls, and init returns that status with the core's own text.
// Part of <tern/module.hpp>; include that.
#pragma once

#include <tern/module.hpp>

#include <memory>
#include <string>
#include <type_traits>

namespace tern {

namespace detail {
template <class>
inline constexpr bool kUnsupported = false;
}  // namespace detail

class Registrar {
 public:
  explicit Registrar(Module& m) noexcept
      : host_(m.host()), ctx_(m.ctx()), t_(detail::Access::tables(m)) {}
  Registrar(const Registrar&) = delete;
  Registrar& operator=(const Registrar&) = delete;

  // Discovery mode: the core only records the names; register, do no work.
  bool discovery() const noexcept { return host_->discovery != 0; }
  // OK, or the first refusal of the core.
  Status status() const noexcept { return status_; }

  // A main, router or transport option (scopes: tern::scope bits). The
  // value is read per call with Call::option / option_to / option_int. `drivers`:
  // colon list of the drivers it applies to; nullptr: all.
  Registrar& option(std::string_view name, OptionType type, uint32_t scopes = scope::kMain,
                    const char* default_value = nullptr, const char* drivers = nullptr) {
    tern_option_def d{};
    d.size = sizeof d;
    d.name = keep(name);
    d.type = static_cast<tern_option_type>(type);
    d.scopes = scopes;
    d.drivers = drivers ? keep(drivers) : nullptr;
    d.default_value = default_value ? keep(default_value) : nullptr;
    return add(host_->add_option, d);
  }

  // An ACL condition `name = value` allowed in the ACLs `where` (tern::acl
  // bits). fn: Status(Call&, string_view value, Out& message), or
  // bool(Call&, string_view value).
  template <class F>
  Registrar& condition(std::string_view name, uint32_t where, F fn, Blocking b = {}) {
    return acl(name, where, 0, std::move(fn), b);
  }
  // An ACL modifier (always true; its effect is the point).
  template <class F>
  Registrar& modifier(std::string_view name, uint32_t where, F fn, Blocking b = {}) {
    return acl(name, where, TERN_ACL_MODIFIER, std::move(fn), b);
  }
  // A `control = name` value; `value` is empty.
  template <class F>
  Registrar& control(std::string_view name, uint32_t where, F fn, Blocking b = {}) {
    return acl(name, where, TERN_ACL_CONTROL, std::move(fn), b);
  }

  // ${name:argument}. fn: Status(Call&, string_view arg, Out& out), or
  // std::string(Call&, string_view arg).
  template <class F>
  Registrar& op(std::string_view name, F fn, Blocking b = {}) {
    if constexpr (std::is_invocable_r_v<Status, F&, Call&, std::string_view, Out&>) {
      t_.ops.emplace_back(std::move(fn));
    } else if constexpr (std::is_invocable_v<F&, Call&, std::string_view>) {
      t_.ops.emplace_back([fn = std::move(fn)](Call& c, std::string_view a, Out& o) mutable {
        o.append(fn(c, a));
        return ok();
      });
    } else {
      static_assert(detail::kUnsupported<F>, "op: unsupported callable signature");
    }
    auto d = def_for<tern_operator_def>(b);
    d.name = keep(name);
    d.apply = detail::op_thunk;
    d.user = &t_.ops.back();
    return add(host_->add_operator, d);
  }

  // ${name{a1}{a2}...} with min..max arguments (1..9). fn: Status(Call&,
  // std::span<const string_view>, Out&), or std::string(Call&, span).
  template <class F>
  Registrar& item(std::string_view name, uint32_t min_args, uint32_t max_args, F fn,
                  Blocking b = {}) {
    using Args = std::span<const std::string_view>;
    if constexpr (std::is_invocable_r_v<Status, F&, Call&, Args, Out&>) {
      t_.items.emplace_back(std::move(fn));
    } else if constexpr (std::is_invocable_v<F&, Call&, Args>) {
      t_.items.emplace_back([fn = std::move(fn)](Call& c, Args a, Out& o) mutable {
        o.append(fn(c, a));
        return ok();
      });
    } else {
      static_assert(detail::kUnsupported<F>, "item: unsupported callable signature");
    }
    auto d = def_for<tern_item_def>(b);
    d.name = keep(name);
    d.min_args = min_args;
    d.max_args = max_args;
    d.apply = detail::item_thunk;
    d.user = &t_.items.back();
    return add(host_->add_item, d);
  }

  // $name. fn: Status(Call&, Out&) (kDecline: unset), or
  // std::optional<std::string>(Call&) (nullopt: unset), or std::string(Call&).
  template <class F>
  Registrar& variable(std::string_view name, F fn) {
    if constexpr (std::is_invocable_r_v<Status, F&, Call&, Out&>) {
      t_.vars.emplace_back(std::move(fn));
    } else if constexpr (std::is_invocable_v<F&, Call&>) {
      t_.vars.emplace_back([fn = std::move(fn)](Call& c, Out& o) mutable {
        auto v = fn(c);
        if constexpr (std::is_same_v<decltype(v), std::optional<std::string>>) {
          if (!v) return decline();
          o.append(*v);
        } else {
          o.append(v);
        }
        return ok();
      });
    } else {
      static_assert(detail::kUnsupported<F>, "variable: unsupported callable signature");
    }
    tern_variable_def d{};
    d.size = sizeof d;
    d.name = keep(name);
    d.get = detail::var_thunk;
    d.user = &t_.vars.back();
    return add(host_->add_variable, d);
  }

  // A lookup type (see LookupSpec); spec.find is required.
  Registrar& lookup(std::string_view name, LookupSpec spec) {
    if (!spec.find) throw Error("lookup \"" + std::string(name) + "\": no find function");
    tern_lookup_def d{};
    d.size = sizeof d;
    d.name = keep(name);
    d.flags = (spec.query ? TERN_LOOKUP_QUERY : TERN_LOOKUP_SINGLE_KEY) | spec.blocking.flags();
    d.timeout_ms = spec.blocking.timeout_ms;
    d.find = detail::lookup_find_thunk;
    if (spec.open) d.open = detail::lookup_open_thunk;
    if (spec.close) d.close = detail::lookup_close_thunk;
    if (spec.quote) d.quote = detail::lookup_quote_thunk;
    d.user = &t_.lookups.emplace_back(std::move(spec));
    return add(host_->add_lookup, d);
  }

  // A listener on `events` (colon list, "msg:*" prefixes; "" for all).
  // fn: Status(Call&, string_view event, string_view data, Out& verdict),
  // or void(Call&, string_view event, string_view data).
  template <class F>
  Registrar& listener(std::string_view events, F fn, int32_t priority = 0) {
    if constexpr (std::is_invocable_r_v<Status, F&, Call&, std::string_view, std::string_view,
                                        Out&>) {
      t_.events.emplace_back(std::move(fn));
    } else if constexpr (std::is_invocable_v<F&, Call&, std::string_view, std::string_view>) {
      t_.events.emplace_back(
          [fn = std::move(fn)](Call& c, std::string_view e, std::string_view d, Out&) mutable {
            fn(c, e, d);
            return ok();
          });
    } else {
      static_assert(detail::kUnsupported<F>, "listener: unsupported callable signature");
    }
    tern_event_listener_def d{};
    d.size = sizeof d;
    d.events = events.empty() ? nullptr : keep(events);
    d.priority = priority;
    d.on_event = detail::event_thunk;
    d.user = &t_.events.back();
    return add(host_->add_event_listener, d);
  }

  // A hook point, untyped: fn: Status(Call&, void* arg, Out& verdict); arg
  // is what module.h documents for the point (SSL*, SSL_CTX*, ...).
  template <class F>
  Registrar& hook(Hook point, F fn, int32_t priority = 0, Blocking b = {}) {
    static_assert(std::is_invocable_r_v<Status, F&, Call&, void*, Out&>,
                  "hook: fn must be Status(Call&, void*, Out&)");
    t_.hooks.emplace_back(std::move(fn));
    auto d = def_for<tern_hook_def>(b);
    d.point = static_cast<tern_hook_point>(point);
    d.priority = priority;
    d.run = detail::hook_thunk;
    d.user = &t_.hooks.back();
    return add(host_->add_hook, d);
  }
  // Pre-banner: fn: Status(Connection&, Out& verdict).
  template <class F>
  Registrar& pre_banner(F fn, int32_t priority = 0, Blocking b = {}) {
    return hook(
        Hook::kPreBanner,
        [fn = std::move(fn)](Call& c, void* arg, Out& v) mutable {
          Connection conn(c, static_cast<tern_conn*>(arg));
          return fn(conn, v);
        },
        priority, b);
  }
  // After DATA: fn: Status(Call&, const Message&, Out& verdict).
  template <class F>
  Registrar& after_data(F fn, int32_t priority = 0, Blocking b = {}) {
    return hook(
        Hook::kAfterData,
        [fn = std::move(fn)](Call& c, void* arg, Out& v) mutable {
          const Message msg(static_cast<const tern_message*>(arg));
          return fn(c, msg, v);
        },
        priority, b);
  }
  // Router precondition: fn: Status(Call&, string_view router, Out&);
  // kDecline skips the router for this address.
  template <class F>
  Registrar& router_precondition(F fn, int32_t priority = 0, Blocking b = {}) {
    return hook(
        Hook::kRouterPrecondition,
        [fn = std::move(fn)](Call& c, void* arg, Out& v) mutable {
          const tern_str* router = static_cast<const tern_str*>(arg);
          return fn(c, router ? view(*router) : std::string_view(), v);
        },
        priority, b);
  }

 private:
  template <class F>
  Registrar& acl(std::string_view name, uint32_t where, uint32_t kind, F fn, Blocking b) {
    if constexpr (std::is_invocable_r_v<Status, F&, Call&, std::string_view, Out&>) {
      t_.conds.emplace_back(std::move(fn));
    } else if constexpr (std::is_invocable_r_v<bool, F&, Call&, std::string_view>) {
      t_.conds.emplace_back([fn = std::move(fn)](Call& c, std::string_view v, Out&) mutable {
        return fn(c, v) ? ok() : decline();
      });
    } else {
      static_assert(detail::kUnsupported<F>, "condition: unsupported callable signature");
    }
    auto d = def_for<tern_acl_condition_def>(b);
    d.name = keep(name);
    d.where = where;
    d.flags |= kind;
    d.check = detail::cond_thunk;
    d.user = &t_.conds.back();
    return add(host_->add_acl_condition, d);
  }

  const char* keep(std::string_view s) { return t_.strings.emplace_back(s).c_str(); }
  // An ABI definition struct with its size and the call's blocking
  // behaviour (flags, deadline) filled in.
  template <class Def>
  static Def def_for(const Blocking& b) {
    Def d{};
    d.size = sizeof d;
    d.flags = b.flags();
    d.timeout_ms = b.timeout_ms;
    return d;
  }
  template <class Def>
  Registrar& add(tern_status (*fn)(tern_ctx*, const Def*), const Def& d) {
    if (status_ == Status::kOk) {
      tern_status s = fn(ctx_, &d);
      if (s != TERN_OK) status_ = detail::status(s);
    }
    return *this;
  }

  const tern_host* host_;
  tern_ctx* ctx_;
  detail::Tables& t_;
  Status status_ = Status::kOk;
};

namespace detail {

// The descriptor's init: create the module object, hang it off ctx->data,
// run its init. On failure the object is deleted and ctx->data cleared, so
// a fini that follows (or not) is harmless.
template <class M>
tern_status module_init(const tern_host* host, tern_ctx* ctx) noexcept {
  static_assert(std::is_base_of_v<Module, M>, "TERN_MODULE: the class must derive tern::Module");
  if (!host || !ctx || !ctx->host) return TERN_ERROR;
  std::unique_ptr<M> m;
  try {
    m = std::make_unique<M>();
  } catch (const std::exception& e) {
    set_error(ctx, nullptr, e.what());
    return TERN_ERROR;
  } catch (...) {
    set_error(ctx, nullptr, "unknown exception");
    return TERN_ERROR;
  }
  Access::attach(*m, ctx);
  ctx->data = static_cast<Module*>(m.get());
  tern_status s = guarded(ctx, nullptr, [](Module& mod) {
    Registrar r(mod);
    Status st = mod.init(r);
    return st == Status::kOk ? r.status() : st;
  });
  if (s != TERN_OK) {
    ctx->data = nullptr;
    return s;
  }
  (void)m.release();  // owned by ctx->data until module_fini
  return TERN_OK;
}

inline void module_fini(tern_ctx* ctx) noexcept {
  Module* m = Access::module(ctx);
  if (!m) return;
  try {
    m->fini();
  } catch (...) {
  }
  ctx->data = nullptr;
  delete m;
}

}  // namespace detail
}  // namespace tern

// Defines the module's one exported symbol, tern_module_v1, for Class
// (a tern::Module with a default constructor). name must equal the file's
// base name ("hello" for hello.so); version is the module's own.
#define TERN_MODULE(Class, name, version)                                               \
  extern "C" TERN_EXPORT const tern_module* tern_module_v1(void) {                       \
    static constexpr tern_module kTernDescriptor = {                                     \
        TERN_MODULE_MAGIC,      sizeof(tern_module),                                     \
        TERN_ABI_MAJOR,         TERN_ABI_MINOR,                                          \
        name,                   version,                                                 \
        &::tern::detail::module_init<Class>, &::tern::detail::module_fini};              \
    return &kTernDescriptor;                                                             \
  }
