// tern/detail/trampolines.hpp: the C functions the core calls, for module.hpp.
//
// One noexcept function per kind of definition. Each C definition carries a
// `user` pointer (module.h): the Registrar sets it to the callable it keeps
// in the module object's Tables, so the trampoline needs no per-slot copy
// and no static state. It finds the module object through ctx->data and
// the host table through ctx->host, calls the callable, and turns an
// exception into a status with the text set through host->set_error. Not
// for direct use: include <tern/module.hpp>.
#pragma once

#include <tern/module.hpp>

#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

namespace tern::detail {

struct Access {
  static Module* module(tern_ctx* ctx) noexcept {
    return ctx ? static_cast<Module*>(ctx->data) : nullptr;
  }
  static Tables& tables(Module& m) noexcept { return m.tables_; }
  static void attach(Module& m, tern_ctx* ctx) noexcept { m.ctx_ = ctx; }
};

inline void set_error(tern_ctx* ctx, tern_call* call, const char* text) noexcept {
  const tern_host* h = ctx ? ctx->host : nullptr;
  if (h && h->set_error) h->set_error(ctx, call, tern_str{text, std::strlen(text)});
}

// f(Module&) -> Status, with every exception turned into a status.
template <class F>
tern_status guarded(tern_ctx* ctx, tern_call* call, F&& f) noexcept {
  try {
    Module* m = Access::module(ctx);
    if (!m) {
      set_error(ctx, call, "the module is not initialised");
      return TERN_ERROR;
    }
    return static_cast<tern_status>(f(*m));
  } catch (const Defer& e) {
    set_error(ctx, call, e.what());
    return TERN_DEFER;
  } catch (const ForcedFail& e) {
    if (*e.what()) set_error(ctx, call, e.what());
    return TERN_FAIL;
  } catch (const std::exception& e) {
    set_error(ctx, call, e.what());
    return TERN_ERROR;
  } catch (...) {
    set_error(ctx, call, "unknown exception");
    return TERN_ERROR;
  }
}

// `user` is the callable of the registration (Tables keeps it until fini).
template <class Fn>
Fn& callable(void* user) noexcept {
  return *static_cast<Fn*>(user);
}

// Calls the registration's Fn with a Call, `args` and an Out on `out`: the
// shape of every callback that answers with text (value, message, verdict).
template <class Fn, class... Args>
tern_status call_with_out(tern_ctx* ctx, void* user, tern_call* call, tern_buf* out, Args&&... args) noexcept {
  return guarded(ctx, call, [&](Module&) {
    Call c(ctx, call);
    Out o(ctx->host, out);
    return callable<Fn>(user)(c, std::forward<Args>(args)..., o);
  });
}

inline tern_status op_thunk(tern_ctx* ctx, void* user, tern_call* call, tern_str arg,
                            tern_buf* out) noexcept {
  return call_with_out<OpFn>(ctx, user, call, out, view(arg));
}

inline tern_status item_thunk(tern_ctx* ctx, void* user, tern_call* call, const tern_str* args,
                              size_t nargs, tern_buf* out) noexcept {
  return guarded(ctx, call, [&](Module&) {
    std::vector<std::string_view> v;
    v.reserve(nargs);
    for (size_t i = 0; i < nargs; ++i) v.push_back(view(args[i]));
    Call c(ctx, call);
    Out o(ctx->host, out);
    return callable<ItemFn>(user)(c, std::span<const std::string_view>(v), o);
  });
}

inline tern_status cond_thunk(tern_ctx* ctx, void* user, tern_call* call, tern_str value,
                              tern_buf* msg) noexcept {
  return call_with_out<CondFn>(ctx, user, call, msg, view(value));
}

inline tern_status var_thunk(tern_ctx* ctx, void* user, tern_call* call, tern_buf* out) noexcept {
  return call_with_out<VarFn>(ctx, user, call, out);
}

inline tern_status event_thunk(tern_ctx* ctx, void* user, tern_call* call, tern_str event,
                               tern_str data, tern_buf* verdict) noexcept {
  return call_with_out<EventFn>(ctx, user, call, verdict, view(event), view(data));
}

inline tern_status hook_thunk(tern_ctx* ctx, void* user, tern_call* call, void* arg,
                              tern_buf* verdict) noexcept {
  return call_with_out<HookFn>(ctx, user, call, verdict, arg);
}

inline tern_status lookup_open_thunk(tern_ctx* ctx, void* user, tern_str filename,
                                     void** handle) noexcept {
  return guarded(ctx, nullptr, [&](Module&) {
    *handle = callable<LookupSpec>(user).open(view(filename));
    return Status::kOk;
  });
}

inline tern_status lookup_find_thunk(tern_ctx* ctx, void* user, tern_call* call, void* handle,
                                     tern_str filename, tern_str key, tern_str options,
                                     tern_buf* out, int* no_cache) noexcept {
  return guarded(ctx, call, [&](Module&) {
    Call c(ctx, call);
    LookupRequest req{handle, view(filename), view(key), view(options), false};
    std::optional<std::string> found = callable<LookupSpec>(user).find(c, req);
    if (no_cache && req.no_cache) *no_cache = 1;
    if (!found) return Status::kFail;
    Out(ctx->host, out).append(*found);
    return Status::kOk;
  });
}

inline void lookup_close_thunk(tern_ctx* ctx, void* user, void* handle) noexcept {
  (void)guarded(ctx, nullptr, [&](Module&) {
    callable<LookupSpec>(user).close(handle);
    return Status::kOk;
  });
}

inline tern_status lookup_quote_thunk(tern_ctx* ctx, void* user, tern_str in, tern_str options,
                                      tern_buf* out) noexcept {
  return guarded(ctx, nullptr, [&](Module&) {
    Out(ctx->host, out).append(callable<LookupSpec>(user).quote(view(in), view(options)));
    return Status::kOk;
  });
}

}  // namespace tern::detail
