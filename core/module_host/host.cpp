// core/module_host/host.cpp: every entry of tern_host.
//
// Registration entries copy a module's definition (only the fields its
// size covers, the rest zero), validate it, claim its name and file it in
// the generation's Registrations. Entries that reach a call's surroundings
// (expand, variables, options, events, DNS, spool, session) go through
// with_env(), which refuses a call abandoned after its deadline.
#include "core/module_host/host.hpp"

#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "core/expand/expand.hpp"
#include "core/lookup/match.hpp"
#include "core/module_host/boundary.hpp"
#include "core/module_host/conn.hpp"
#include "core/module_host/event_bus.hpp"
#include "core/module_host/invoke.hpp"
#include "core/module_host/log_sink.hpp"
#include "core/module_host/registrations.hpp"
#include "core/module_host/session_data.hpp"
#include "core/text/list.hpp"

namespace tern::module_host {
namespace {

#define TERN_FIELD_END(T, f) (offsetof(T, f) + sizeof(static_cast<T*>(nullptr)->f))

std::string_view view(tern_str s) { return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view(); }
std::string text_of(const char* s) { return s ? std::string(s) : std::string(); }

// The first refusal of a module's registrations; the loader reports it.
tern_status refuse(ModuleCtx* ctx, std::string why) {
  if (ctx->registration_error.empty()) ctx->registration_error = std::move(why);
  return TERN_ERROR;
}

// Copy `in` into `out`: the fields its size covers, zero beyond. Fails
// when the size does not reach `required_end` (the mandatory fields).
template <class Def>
bool copy_def(const Def* in, Def& out, size_t required_end) {
  std::memset(static_cast<void*>(&out), 0, sizeof out);
  if (in == nullptr || in->size < required_end) return false;
  std::memcpy(static_cast<void*>(&out), in, std::min<size_t>(in->size, sizeof(Def)));
  return true;
}

// Common checks of an add_* call; the definition's kind for messages.
bool may_register(ModuleCtx* ctx, std::string_view what) {
  if (ctx == nullptr) return false;
  if (!ctx->in_init || ctx->registrations == nullptr) {
    refuse(ctx, std::string(what) + " registered outside init");
    return false;
  }
  return true;
}

tern_status malformed(ModuleCtx* ctx, std::string_view what, std::string_view name, std::string_view why) {
  std::string n = name.empty() ? "" : " \"" + std::string(name) + "\"";
  return refuse(ctx, "malformed " + std::string(what) + " definition" + n + ": " + std::string(why));
}

bool valid_name(const char* name) {
  if (name == nullptr || *name == '\0') return false;
  for (const char* p = name; *p; ++p) {
    char c = *p;
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

// The steps every add_* entry starts with: the caller's context, allowed to
// register; `in` copied into `d` (its size reaching `required_end`); a
// definition with a name, that name valid. The context, or null when the
// call was refused (the entry then returns TERN_ERROR).
template <class Def>
ModuleCtx* begin_add(tern_ctx* raw, const Def* in, Def& d, std::string_view what, size_t required_end) {
  ModuleCtx* ctx = raw ? ctx_of(raw) : nullptr;
  if (!may_register(ctx, what)) return nullptr;
  if (!copy_def(in, d, required_end)) {
    malformed(ctx, what, "", "size too small");
    return nullptr;
  }
  if constexpr (requires { d.name; }) {
    if (!valid_name(d.name)) {
      malformed(ctx, what, text_of(d.name), "bad name");
      return nullptr;
    }
  }
  return ctx;
}

tern_status claim(ModuleCtx* ctx, Kind kind, const char* name) {
  Status st = ctx->registrations->claim(kind, name, ctx->module);
  return st ? TERN_OK : refuse(ctx, st.error().message);
}

// ---- basic entries

void host_log(tern_ctx* ctx, tern_log_level level, const char* fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt ? fmt : "", ap);
  va_end(ap);
  if (n < 0) return;
  log_line(ctx ? ctx_of(ctx)->module : "module", level, buf);
}

void host_set_error(tern_ctx* ctx, tern_call* call, tern_str text) {
  if (call) call->error = view(text);
  else if (ctx) ctx_of(ctx)->error = view(text);
}

void host_buf_append(tern_buf* buf, tern_str s) {
  if (buf && s.ptr) buf->data.append(s.ptr, s.len);
}

// ---- registration

tern_status add_option(tern_ctx* raw, const tern_option_def* in) {
  constexpr std::string_view what = "option";
  tern_option_def d;
  ModuleCtx* ctx = begin_add(raw, in, d, what, TERN_FIELD_END(tern_option_def, scopes));
  if (ctx == nullptr) return TERN_ERROR;
  if (d.type < TERN_OPT_BOOL || d.type > TERN_OPT_GID) return malformed(ctx, what, d.name, "unknown type");
  if (d.scopes == 0 || (d.scopes & ~7u)) return malformed(ctx, what, d.name, "bad scopes");
  ModuleOption o;
  o.module = ctx->module;
  o.name = d.name;
  o.type = d.type;
  o.scopes = d.scopes;
  if (d.drivers) o.drivers = text::list_items(d.drivers);
  if (d.default_value) o.default_value = d.default_value;
  Status st = ctx->registrations->add_option(std::move(o));
  return st ? TERN_OK : refuse(ctx, st.error().message);
}

tern_status add_acl_condition(tern_ctx* raw, const tern_acl_condition_def* in) {
  constexpr std::string_view what = "ACL condition";
  tern_acl_condition_def d;
  ModuleCtx* ctx = begin_add(raw, in, d, what, TERN_FIELD_END(tern_acl_condition_def, check));
  if (ctx == nullptr) return TERN_ERROR;
  if (d.check == nullptr) return malformed(ctx, what, d.name, "no check function");
  if (tern_status st = claim(ctx, Kind::kAclCondition, d.name); st != TERN_OK) return st;
  ctx->registrations->acl.add({d.name, ctx->module, d.where ? d.where : static_cast<uint32_t>(TERN_ACL_ALL), d.flags, d.timeout_ms, ctx,
                               d.check, d.user});
  return TERN_OK;
}

tern_status add_operator(tern_ctx* raw, const tern_operator_def* in) {
  constexpr std::string_view what = "expansion operator";
  tern_operator_def d;
  ModuleCtx* ctx = begin_add(raw, in, d, what, TERN_FIELD_END(tern_operator_def, apply));
  if (ctx == nullptr) return TERN_ERROR;
  if (d.apply == nullptr) return malformed(ctx, what, d.name, "no apply function");
  if (tern_status st = claim(ctx, Kind::kOperator, d.name); st != TERN_OK) return st;
  ctx->registrations->operators.push_back({d.name, ctx->module, d.flags, d.timeout_ms, ctx, d.apply, d.user});
  return TERN_OK;
}

tern_status add_item(tern_ctx* raw, const tern_item_def* in) {
  constexpr std::string_view what = "expansion item";
  tern_item_def d;
  ModuleCtx* ctx = begin_add(raw, in, d, what, TERN_FIELD_END(tern_item_def, apply));
  if (ctx == nullptr) return TERN_ERROR;
  if (d.apply == nullptr) return malformed(ctx, what, d.name, "no apply function");
  if (d.min_args < 1 || d.max_args > 9 || d.min_args > d.max_args)
    return malformed(ctx, what, d.name, "arguments must be 1 to 9, min_args <= max_args");
  if (tern_status st = claim(ctx, Kind::kItem, d.name); st != TERN_OK) return st;
  ctx->registrations->items.push_back({d.name, ctx->module, d.min_args, d.max_args, d.flags, d.timeout_ms, ctx,
                                       d.apply, d.user});
  return TERN_OK;
}

tern_status add_lookup(tern_ctx* raw, const tern_lookup_def* in) {
  constexpr std::string_view what = "lookup type";
  tern_lookup_def d;
  ModuleCtx* ctx = begin_add(raw, in, d, what, TERN_FIELD_END(tern_lookup_def, find));
  if (ctx == nullptr) return TERN_ERROR;
  for (const char* p = d.name; *p; ++p)
    if (!isalnum(static_cast<unsigned char>(*p)))  // ${quote_<name>_<options>:...}
      return malformed(ctx, what, d.name, "a lookup type's name is letters and digits");
  if (d.find == nullptr) return malformed(ctx, what, d.name, "no find function");
  uint32_t style = d.flags & (TERN_LOOKUP_QUERY | TERN_LOOKUP_SINGLE_KEY);
  if (style != TERN_LOOKUP_QUERY && style != TERN_LOOKUP_SINGLE_KEY)
    return malformed(ctx, what, d.name, "exactly one of TERN_LOOKUP_QUERY and TERN_LOOKUP_SINGLE_KEY");
  if (tern_status st = claim(ctx, Kind::kLookup, d.name); st != TERN_OK) return st;
  ModuleLookup l{d.name, ctx->module, d.flags, d.timeout_ms, ctx, d};
  l.def.name = nullptr;  // the module's string; l.name is the core's copy
  ctx->registrations->lookups.push_back(std::move(l));
  return TERN_OK;
}

tern_status add_variable(tern_ctx* raw, const tern_variable_def* in) {
  constexpr std::string_view what = "variable";
  tern_variable_def d;
  ModuleCtx* ctx = begin_add(raw, in, d, what, TERN_FIELD_END(tern_variable_def, get));
  if (ctx == nullptr) return TERN_ERROR;
  if (d.get == nullptr) return malformed(ctx, what, d.name, "no get function");
  if (tern_status st = claim(ctx, Kind::kVariable, d.name); st != TERN_OK) return st;
  ctx->registrations->variables.push_back({d.name, ctx->module, ctx, d.get, d.user});
  return TERN_OK;
}

tern_status add_event_listener(tern_ctx* raw, const tern_event_listener_def* in) {
  constexpr std::string_view what = "event listener";
  tern_event_listener_def d;
  ModuleCtx* ctx = begin_add(raw, in, d, what, TERN_FIELD_END(tern_event_listener_def, on_event));
  if (ctx == nullptr) return TERN_ERROR;
  if (d.on_event == nullptr) return malformed(ctx, what, "", "no on_event function");
  EventListener l;
  l.module = ctx->module;
  l.order = ctx->order;
  l.priority = d.priority;
  l.events = text_of(d.events);
  l.on_event = [fn = d.on_event, ctx, user = d.user](std::string_view event, std::string_view data,
                                                     const CallEnv& env) -> Result<std::string> {
    Outcome o = invoke(env, {}, [&](tern_call* call, tern_buf* verdict) {
      return fn(ctx, user, call, tern_str{event.data(), event.size()}, tern_str{data.data(), data.size()},
                verdict);
    });
    if (o.status == TERN_OK || o.status == TERN_DECLINE) return std::move(o.out);
    return Error::failed(o.error.empty() ? "listener failed" : o.error);
  };
  ctx->registrations->events.add(std::move(l));
  return TERN_OK;
}

tern_status add_hook(tern_ctx* raw, const tern_hook_def* in) {
  constexpr std::string_view what = "hook";
  tern_hook_def d;
  ModuleCtx* ctx = begin_add(raw, in, d, what, TERN_FIELD_END(tern_hook_def, run));
  if (ctx == nullptr) return TERN_ERROR;
  if (!HookRegistry::valid_point(d.point)) return malformed(ctx, what, "", "unknown hook point");
  if (d.run == nullptr) return malformed(ctx, what, "", "no run function");
  ctx->registrations->hooks.add(d.point, {ctx->module, ctx->order, d.priority, d.flags, d.timeout_ms, ctx, d.run, d.user});
  return TERN_OK;
}

// ---- the call's surroundings

template <class F>
tern_status with_env(tern_call* call, F f) {
  if (call == nullptr) return TERN_ERROR;
  std::lock_guard lk(call->mu);
  if (call->abandoned) {
    call->error = "the call's deadline has passed";
    return TERN_DEFER;
  }
  return f(call->env);
}

tern_status fail_with(tern_call* call, tern_status st, std::string why) {
  call->error = std::move(why);
  return st;
}

// The text answers: *out is empty unless the entry succeeds.
void clear(tern_str* out) {
  if (out) *out = tern_str{"", 0};
}

tern_status host_expand(tern_call* call, tern_str in, tern_str* out) {
  clear(out);
  return with_env(call, [&](CallEnv& env) {
    if (out == nullptr) return fail_with(call, TERN_ERROR, "expand: no output");
    if (env.expand == nullptr) return fail_with(call, TERN_ERROR, "no expansion context in this call");
    auto r = expand::expand(view(in), *env.expand);
    if (r) {
      *out = call->keep(std::move(*r));
      return TERN_OK;
    }
    const Error& e = r.error();
    return fail_with(call, e.is_forced() ? TERN_FAIL : e.is_defer() ? TERN_DEFER : TERN_ERROR, e.message);
  });
}

void host_call_error(tern_call* call, tern_str* out) {
  if (out == nullptr) return;
  if (call == nullptr) {
    *out = tern_str{"", 0};
    return;
  }
  std::lock_guard lk(call->mu);
  *out = call->keep(call->error);
}

tern_status host_get_variable(tern_call* call, const char* name, tern_str* out) {
  clear(out);
  return with_env(call, [&](CallEnv& env) {
    if (!valid_name(name) || out == nullptr) return fail_with(call, TERN_ERROR, "bad variable name");
    if (env.expand == nullptr) return TERN_DECLINE;
    auto r = expand::expand("${" + std::string(name) + "}", *env.expand);
    if (r) {
      *out = call->keep(std::move(*r));
      return TERN_OK;
    }
    // Unknown to the core and to the loaded modules: "unknown variable in
    // "${x}"", or a module's that is not loaded.
    const std::string& why = r.error().message;
    if (why.rfind("unknown variable", 0) == 0 || why.find("which is not loaded") != std::string::npos)
      return TERN_DECLINE;
    return fail_with(call, r.error().is_defer() ? TERN_DEFER : TERN_ERROR, r.error().message);
  });
}

// The definition and value of option `name` for the call: the router's or
// transport's when it has one of that name, else the main one.
std::pair<const config::OptionDef*, const config::OptionValue*> find_option(const CallEnv& env, const char* name) {
  if (env.options == nullptr || name == nullptr) return {nullptr, nullptr};
  if (env.driver != nullptr) {
    if (const auto* d = env.options->find(env.driver_scope, env.driver->driver, name))
      return {d, env.driver->options.get(name)};
  }
  if (env.main != nullptr) {
    if (const auto* d = env.options->find(config::Scope::kMain, "", name)) return {d, env.main->get(name)};
  }
  return {nullptr, nullptr};
}

tern_status host_get_option(tern_call* call, const char* name, tern_str* out) {
  clear(out);
  return with_env(call, [&](CallEnv& env) {
    auto [def, value] = find_option(env, name);
    if (def == nullptr || out == nullptr) return fail_with(call, TERN_ERROR, "unknown option \"" + text_of(name) + "\"");
    if (value == nullptr || !value->is_set) return TERN_DECLINE;
    std::string text;
    if (def->type == config::OptionType::kBool) {
      text = value->flag ? "true" : "false";
    } else if (def->type == config::OptionType::kString) {
      text = value->text;
    } else {
      std::string line = config::format_option(*def, *value);  // "name = value"
      size_t eq = line.find(" = ");
      if (eq != std::string::npos) text = line.substr(eq + 3);
    }
    *out = call->keep(std::move(text));
    return TERN_OK;
  });
}

tern_status host_get_option_int(tern_call* call, const char* name, int64_t* out) {
  return with_env(call, [&](CallEnv& env) {
    auto [def, value] = find_option(env, name);
    if (def == nullptr || out == nullptr) return fail_with(call, TERN_ERROR, "unknown option \"" + text_of(name) + "\"");
    if (value == nullptr || !value->is_set) return TERN_DECLINE;
    *out = def->type == config::OptionType::kBool ? (value->flag ? 1 : 0) : value->number;
    return TERN_OK;
  });
}

tern_status host_raise_event(tern_call* call, tern_str event, tern_str data, tern_str* verdict) {
  clear(verdict);
  return with_env(call, [&](CallEnv& env) {
    if (env.events == nullptr || !env.events->has_listeners(view(event))) return TERN_OK;
    std::string v = env.events->raise(view(event), view(data), env);
    if (verdict) *verdict = call->keep(std::move(v));
    return TERN_OK;
  });
}

tern_status host_dns_query(tern_call* call, tern_str name, uint16_t rrtype, tern_dns_answer* answer) {
  return with_env(call, [&](CallEnv& env) {
    if (answer == nullptr || answer->size < TERN_FIELD_END(tern_dns_answer, rdata))
      return fail_with(call, TERN_ERROR, "dns_query: answer too small");
    if (env.dns == nullptr) return fail_with(call, TERN_DEFER, "DNS resolver not available in this build");
    auto r = env.dns->query(view(name), rrtype);
    if (!r) return fail_with(call, TERN_DEFER, r.error().message);
    auto& kept = call->dns_kept.emplace_back(std::move(r->rdata), std::vector<tern_str>());
    for (const auto& rd : kept.first) kept.second.push_back({rd.data(), rd.size()});
    answer->rcode = r->rcode;
    answer->secure = r->secure ? 1 : 0;
    answer->count = kept.second.size();
    answer->rdata = kept.second.data();
    return TERN_OK;
  });
}

tern_status host_set_recipient_data(tern_call* call, size_t recipient, tern_str key, tern_str value) {
  return with_env(call, [&](CallEnv& env) {
    if (env.recipients == nullptr)
      return fail_with(call, TERN_DEFER, "per-recipient data not available in this build");
    Status st = env.recipients->set(recipient, view(key), view(value));
    return st ? TERN_OK : fail_with(call, TERN_ERROR, st.error().message);
  });
}

tern_status host_recipient_data(tern_call* call, tern_str key, tern_str* out) {
  clear(out);
  return with_env(call, [&](CallEnv& env) {
    if (env.recipients == nullptr)
      return fail_with(call, TERN_DEFER, "per-recipient data not available in this build");
    auto r = env.recipients->get(view(key));
    if (!r) return fail_with(call, TERN_ERROR, r.error().message);
    if (!*r) return TERN_DECLINE;
    if (out) *out = call->keep(std::move(**r));
    return TERN_OK;
  });
}

void host_set_session_data(tern_call* call, tern_ctx* ctx, void* data, void (*free_fn)(void*)) {
  with_env(call, [&](CallEnv& env) {
    if (env.session == nullptr) {
      if (free_fn && data) free_fn(data);  // nowhere to keep it: do not leak it
      return TERN_DEFER;
    }
    env.session->set(ctx, data, free_fn);
    return TERN_OK;
  });
}

void* host_session_data(tern_call* call, tern_ctx* ctx) {
  void* data = nullptr;
  with_env(call, [&](CallEnv& env) {
    if (env.session) data = env.session->get(ctx);
    return TERN_OK;
  });
  return data;
}

// The call's client against a host list, as the session matches its own
// hosts_* options.
tern_status host_match_host_list(tern_call* call, tern_str list) {
  return with_env(call, [&](CallEnv& env) {
    if (env.expand == nullptr) return TERN_FAIL;
    auto address = expand::expand("$sender_host_address", *env.expand);
    if (!address || address->empty()) return TERN_FAIL;  // no remote client
    auto name = expand::expand("$sender_host_name", *env.expand);
    bool expand_failed = false;
    lookup::MatchEnv menv = expand::match_env(*env.expand, &expand_failed);
    auto r = lookup::match_list(*address, view(list), lookup::ListKind::kHost, menv, false,
                                name ? std::string_view(*name) : std::string_view());
    if (!r) return fail_with(call, r.error().is_defer() ? TERN_DEFER : TERN_ERROR, r.error().message);
    if (r->outcome == lookup::MatchResult::Outcome::kDefer)
      return fail_with(call, TERN_DEFER, "host list lookup deferred");
    return r->matched() ? TERN_OK : TERN_FAIL;
  });
}

tern_host make_host(bool discovery) {
  tern_host h{};
  h.size = sizeof(tern_host);
  h.abi_major = TERN_ABI_MAJOR;
  h.abi_minor = TERN_ABI_MINOR;
  h.discovery = discovery ? 1 : 0;
  h.log = host_log;
  h.set_error = host_set_error;
  h.buf_append = host_buf_append;
  h.add_option = add_option;
  h.add_acl_condition = add_acl_condition;
  h.add_operator = add_operator;
  h.add_item = add_item;
  h.add_lookup = add_lookup;
  h.add_variable = add_variable;
  h.add_event_listener = add_event_listener;
  h.add_hook = add_hook;
  h.expand = host_expand;
  h.get_variable = host_get_variable;
  h.get_option = host_get_option;
  h.get_option_int = host_get_option_int;
  h.raise_event = host_raise_event;
  h.dns_query = host_dns_query;
  h.set_recipient_data = host_set_recipient_data;
  h.recipient_data = host_recipient_data;
  h.set_session_data = host_set_session_data;
  h.session_data = host_session_data;
  h.conn_read = conn_read;
  h.conn_set_addresses = conn_set_addresses;
  h.match_host_list = host_match_host_list;
  h.conn_set_timeout = conn_set_timeout;
  h.call_error = host_call_error;
  return h;
}

}  // namespace

const tern_host* host_table(bool discovery) {
  static const tern_host normal = make_host(false);
  static const tern_host disc = make_host(true);
  return discovery ? &disc : &normal;
}

}  // namespace tern::module_host
