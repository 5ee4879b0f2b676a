// tern/detail/trampolines.hpp: the C functions the core calls, for module.hpp.
//
// A C definition (tern_operator_def, ...) has a function pointer and no user
// pointer, so each registration slot has its own noexcept function: a
// template instantiated for slot 0..kMaxSlots-1 of its kind. It finds the
// module object through the tern_ctx (host->module_data), calls the slot's
// callable, and turns exceptions into a status with the text set through
// host->set_error. Not for direct use: include <tern/module.hpp>.
#pragma once

#include <tern/module.hpp>

#include <array>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

namespace tern::detail {

// Registrations of one kind a module may make (operators, items, ...).
inline constexpr size_t kMaxSlots = 32;

struct Access {
  static Module* module(tern_ctx* ctx) noexcept {
    const tern_host* h = host();
    return h ? static_cast<Module*>(h->module_data(ctx)) : nullptr;
  }
  static Tables& tables(Module& m) noexcept { return m.tables_; }
  static void attach(Module& m, const tern_host* h, tern_ctx* ctx) noexcept {
    m.host_ = h;
    m.ctx_ = ctx;
  }
};

inline void set_error(tern_ctx* ctx, tern_call* call, const char* text) noexcept {
  const tern_host* h = host();
  if (h && h->set_error) h->set_error(ctx, call, tern_str{text, std::strlen(text)});
}

// f(Module&, Tables&) -> Status, with every exception turned into a status.
template <class F>
tern_status guarded(tern_ctx* ctx, tern_call* call, F&& f) noexcept {
  try {
    Module* m = Access::module(ctx);
    if (!m) {
      set_error(ctx, call, "the module is not initialised");
      return TERN_ERROR;
    }
    return static_cast<tern_status>(f(*m, Access::tables(*m)));
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

template <size_t I>
tern_status op_thunk(tern_ctx* ctx, tern_call* call, tern_str arg, tern_buf* out) noexcept {
  return guarded(ctx, call, [&](Module& m, Tables& t) {
    Call c(m.host(), ctx, call);
    Out o(m.host(), out);
    return t.ops.at(I)(c, view(arg), o);
  });
}

template <size_t I>
tern_status item_thunk(tern_ctx* ctx, tern_call* call, const tern_str* args, size_t nargs,
                       tern_buf* out) noexcept {
  return guarded(ctx, call, [&](Module& m, Tables& t) {
    std::vector<std::string_view> v;
    v.reserve(nargs);
    for (size_t i = 0; i < nargs; ++i) v.push_back(view(args[i]));
    Call c(m.host(), ctx, call);
    Out o(m.host(), out);
    return t.items.at(I)(c, std::span<const std::string_view>(v), o);
  });
}

template <size_t I>
tern_status cond_thunk(tern_ctx* ctx, tern_call* call, tern_str value, tern_buf* msg) noexcept {
  return guarded(ctx, call, [&](Module& m, Tables& t) {
    Call c(m.host(), ctx, call);
    Out o(m.host(), msg);
    return t.conds.at(I)(c, view(value), o);
  });
}

template <size_t I>
tern_status var_thunk(tern_ctx* ctx, tern_call* call, tern_buf* out) noexcept {
  return guarded(ctx, call, [&](Module& m, Tables& t) {
    Call c(m.host(), ctx, call);
    Out o(m.host(), out);
    return t.vars.at(I)(c, o);
  });
}

template <size_t I>
tern_status event_thunk(tern_ctx* ctx, tern_call* call, tern_str event, tern_str data,
                        tern_buf* verdict) noexcept {
  return guarded(ctx, call, [&](Module& m, Tables& t) {
    Call c(m.host(), ctx, call);
    Out o(m.host(), verdict);
    return t.events.at(I)(c, view(event), view(data), o);
  });
}

template <size_t I>
tern_status hook_thunk(tern_ctx* ctx, tern_call* call, void* arg, tern_buf* verdict) noexcept {
  return guarded(ctx, call, [&](Module& m, Tables& t) {
    Call c(m.host(), ctx, call);
    Out o(m.host(), verdict);
    return t.hooks.at(I)(c, arg, o);
  });
}

template <size_t I>
tern_status lookup_open_thunk(tern_ctx* ctx, tern_str filename, void** handle) noexcept {
  return guarded(ctx, nullptr, [&](Module&, Tables& t) {
    *handle = t.lookups.at(I).open(view(filename));
    return Status::kOk;
  });
}

template <size_t I>
tern_status lookup_find_thunk(tern_ctx* ctx, tern_call* call, void* handle, tern_str filename,
                              tern_str key, tern_str options, tern_buf* out,
                              int* no_cache) noexcept {
  return guarded(ctx, call, [&](Module& m, Tables& t) {
    Call c(m.host(), ctx, call);
    LookupRequest req{handle, view(filename), view(key), view(options), false};
    std::optional<std::string> found = t.lookups.at(I).find(c, req);
    if (no_cache && req.no_cache) *no_cache = 1;
    if (!found) return Status::kFail;
    Out(m.host(), out).append(*found);
    return Status::kOk;
  });
}

template <size_t I>
void lookup_close_thunk(tern_ctx* ctx, void* handle) noexcept {
  (void)guarded(ctx, nullptr, [&](Module&, Tables& t) {
    t.lookups.at(I).close(handle);
    return Status::kOk;
  });
}

template <size_t I>
tern_status lookup_quote_thunk(tern_ctx* ctx, tern_str in, tern_str options,
                               tern_buf* out) noexcept {
  return guarded(ctx, nullptr, [&](Module& m, Tables& t) {
    Out(m.host(), out).append(t.lookups.at(I).quote(view(in), view(options)));
    return Status::kOk;
  });
}

// One table of kMaxSlots function pointers per kind: immutable, built at
// compile time.
#define TERN_DETAIL_THUNKS(name, fn)                                     \
  template <size_t... I>                                                 \
  constexpr auto name##_table(std::index_sequence<I...>) noexcept {      \
    return std::array{&fn<I>...};                                        \
  }                                                                      \
  inline constexpr auto name = name##_table(std::make_index_sequence<kMaxSlots>{});

TERN_DETAIL_THUNKS(kOpThunks, op_thunk)
TERN_DETAIL_THUNKS(kItemThunks, item_thunk)
TERN_DETAIL_THUNKS(kCondThunks, cond_thunk)
TERN_DETAIL_THUNKS(kVarThunks, var_thunk)
TERN_DETAIL_THUNKS(kEventThunks, event_thunk)
TERN_DETAIL_THUNKS(kHookThunks, hook_thunk)
TERN_DETAIL_THUNKS(kLookupOpenThunks, lookup_open_thunk)
TERN_DETAIL_THUNKS(kLookupFindThunks, lookup_find_thunk)
TERN_DETAIL_THUNKS(kLookupCloseThunks, lookup_close_thunk)
TERN_DETAIL_THUNKS(kLookupQuoteThunks, lookup_quote_thunk)
#undef TERN_DETAIL_THUNKS

}  // namespace tern::detail
