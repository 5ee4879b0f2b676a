// tern/testing.hpp: a fake host, so a module is unit-tested without a daemon.
//
// FakeHost implements every tern_host entry in memory. It runs the module's
// init and fini, records what the module registers, and lets the test call
// a registered operator, item, variable, ACL condition, lookup, quote
// function, event listener or hook by name, as the core would. What the
// module asks of the host (variables, options, expansion, DNS, recipient
// and session data, the raw connection) comes from values the test sets;
// what it says (logs, error texts, raised events) is captured.
//
//   tern::testing::FakeHost host(tern_module_v1());
//   ASSERT_EQ(host.init().status, TERN_OK);
//   EXPECT_EQ(host.op("hello_rev", "abc").out, "cba");
//
// Works with C and C++ modules alike (it only speaks module.h). The host
// table is a constant of this header (one per ABI minor and discovery
// flag), like the core's; the module's tern_ctx is the FakeHost's, with
// ctx->host set to that table, and each call passes the definition's
// `user` back, as the core does. Text answers (expand, get_variable,
// get_option, recipient_data, raise_event) are host-owned tern_str kept
// until the call into the module returns. Not thread-safe: one test drives
// one FakeHost. MAY_BLOCK flags are recorded, not enforced.
#pragma once

#include <tern/module.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tern::testing {

// The outcome of one call into the module.
struct Result {
  tern_status status = TERN_OK;
  std::string out;    // what the module appended to the output (or verdict, message)
  std::string error;  // the text it set with host->set_error during the call
  bool no_cache = false;  // lookups: the module asked not to cache
  bool ok() const { return status == TERN_OK; }
};

struct LogLine {
  tern_log_level level;
  std::string text;
};

struct RaisedEvent {
  std::string event, data;
};

// A raw connection for the pre-banner hook: the module reads `input`; what
// it did not read is what the SMTP session would see next.
struct FakeConn {
  std::string input;
  size_t pos = 0;
  bool timeout_at_end = false;  // conn_read past the input: TERN_DEFER, not EOF
  std::optional<std::string> client_ip, local_ip;
  uint16_t client_port = 0, local_port = 0;
  std::optional<uint32_t> timeout_ms;  // what conn_set_timeout asked for (1.2)
  std::string unread() const { return input.substr(pos); }
};

struct DnsRecord {
  int rcode = 0;
  bool secure = false;
  std::vector<std::string> rdata;
};

class FakeHost {
 public:
  struct Options {
    uint16_t minor = TERN_ABI_MINOR;  // 0: a 1.0 core (no 1.1 entries), 1: no 1.2 entries
    bool discovery = false;           // init in discovery mode
  };

  explicit FakeHost(const tern_module* module) : FakeHost(module, Options{}) {}
  FakeHost(const tern_module* module, Options opts) : module_(module), opts_(opts) {
    ctx_.head = tern_ctx{sizeof(tern_ctx), table(), nullptr};
    ctx_.owner = this;
  }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;
  ~FakeHost() {
    end_session();
    fini();
  }

  // ---- the module's lifetime ----------------------------------------------

  const tern_module* module() const { return module_; }
  const tern_host* table() const { return table_for(opts_.minor, opts_.discovery); }

  // Checks the descriptor as the loader does (magic, size, major, minor not
  // above this host's), then runs init. The module is loaded when it is OK.
  Result init() {
    Result r;
    if (!module_ || module_->magic != TERN_MODULE_MAGIC || module_->size < sizeof(tern_module) ||
        !module_->init) {
      r.status = TERN_ERROR;
      r.error = "not a tern module";
      return r;
    }
    if (module_->abi_major != TERN_ABI_MAJOR || module_->abi_minor > opts_.minor) {
      r.status = TERN_ERROR;
      r.error = "built for ABI " + std::to_string(module_->abi_major) + "." +
                std::to_string(module_->abi_minor) + ", host provides " +
                std::to_string(TERN_ABI_MAJOR) + "." + std::to_string(opts_.minor);
      return r;
    }
    in_init_ = true;
    init_error_.clear();
    r.status = module_->init(table(), ctx());
    in_init_ = false;
    r.error = init_error_;
    loaded_ = r.status == TERN_OK;
    return r;
  }
  void fini() {
    if (loaded_ && module_->fini) module_->fini(ctx());
    loaded_ = false;
  }
  bool loaded() const { return loaded_; }
  // ctx->data: what the module keeps there (NULL before init, after fini).
  void* module_data() const { return ctx_.head.data; }
  tern_ctx* ctx() { return &ctx_.head; }

  // ---- what the module registered ----------------------------------------

  struct Option {
    std::string name;
    tern_option_type type;
    uint32_t scopes;
    std::optional<std::string> drivers, default_value;
  };
  template <class Def>
  struct Named {
    std::string name;
    Def def;
  };

  const std::vector<Option>& options() const { return options_; }
  const std::vector<Named<tern_acl_condition_def>>& conditions() const { return conditions_; }
  const std::vector<Named<tern_operator_def>>& operators() const { return operators_; }
  const std::vector<Named<tern_item_def>>& items() const { return items_; }
  const std::vector<Named<tern_lookup_def>>& lookups() const { return lookups_; }
  const std::vector<Named<tern_variable_def>>& variables() const { return variables_; }
  const std::vector<Named<tern_event_listener_def>>& listeners() const { return listeners_; }
  const std::vector<tern_hook_def>& hooks() const { return hooks_; }

  // A name another module owns: registering it again fails, naming both,
  // as the core does. kind: "option", "ACL condition", "expansion
  // operator", "expansion item", "lookup type" or "variable".
  void reserve(std::string kind, std::string name, std::string owner) {
    reserved_[{std::move(kind), std::move(name)}] = std::move(owner);
  }

  // ---- the world the module sees -------------------------------------------

  void set_variable(const std::string& name, std::string value) { vars_[name] = std::move(value); }
  void unset_variable(const std::string& name) { vars_.erase(name); }
  // An option's text; a number, a time in seconds or a boolean 0/1 also
  // answers get_option_int.
  void set_option(const std::string& name, std::string text) { opt_text_[name] = std::move(text); }
  void set_option_int(const std::string& name, int64_t v) { opt_int_[name] = v; }
  // How host->expand behaves; the default replaces $name and ${name} with
  // the variables set above (unknown: an error) and keeps the rest.
  void set_expander(std::function<Result(std::string_view)> fn) { expander_ = std::move(fn); }
  void set_dns(const std::string& name, uint16_t rrtype, DnsRecord rec) {
    dns_[{name, rrtype}] = std::move(rec);
  }
  // The recipient that recipient_data reads (routing one address).
  void set_current_recipient(size_t i) { current_recipient_ = i; }
  std::optional<std::string> recipient_value(size_t recipient, const std::string& key) const {
    auto it = recipient_data_.find({recipient, key});
    if (it == recipient_data_.end()) return std::nullopt;
    return it->second;
  }
  // The verdict raise_event hands back to the module.
  void set_raise_verdict(std::string v) { raise_verdict_ = std::move(v); }
  // What match_host_list answers for a list's text (default TERN_FAIL).
  void set_host_list_answer(const std::string& list, tern_status answer) { host_lists_[list] = answer; }
  // Session data the module set; end_session runs the free functions.
  void* session_value() const { return session_data_; }
  void end_session() {
    if (session_free_ && session_data_) session_free_(session_data_);
    session_data_ = nullptr;
    session_free_ = nullptr;
  }

  // ---- what the module said ---------------------------------------------

  const std::vector<LogLine>& logs() const { return logs_; }
  bool logged(std::string_view needle) const {
    return std::any_of(logs_.begin(), logs_.end(),
                       [&](const LogLine& l) { return l.text.find(needle) != std::string::npos; });
  }
  const std::vector<RaisedEvent>& raised() const { return raised_; }

  // ---- calling the module as the core would ------------------------------

  Result op(std::string_view name, std::string_view arg) {
    auto* d = find(operators_, name);
    if (!d) return missing("operator", name);
    return run([&](Call& c, Buf& b) { return d->apply(ctx(), d->user, c.raw(), s(arg), b.raw()); });
  }
  Result item(std::string_view name, const std::vector<std::string>& args) {
    auto* d = find(items_, name);
    if (!d) return missing("item", name);
    if (args.size() < d->min_args || args.size() > d->max_args) return missing("arguments of", name);
    std::vector<tern_str> a;
    for (auto& x : args) a.push_back(s(x));
    return run([&](Call& c, Buf& b) {
      return d->apply(ctx(), d->user, c.raw(), a.data(), a.size(), b.raw());
    });
  }
  Result variable(std::string_view name) {
    auto* d = find(variables_, name);
    if (!d) return missing("variable", name);
    return run([&](Call& c, Buf& b) { return d->get(ctx(), d->user, c.raw(), b.raw()); });
  }
  // out: the message the condition set.
  Result condition(std::string_view name, std::string_view value) {
    auto* d = find(conditions_, name);
    if (!d) return missing("condition", name);
    return run([&](Call& c, Buf& b) { return d->check(ctx(), d->user, c.raw(), s(value), b.raw()); });
  }
  // open (when the type has one) with filename, find, close.
  Result lookup(std::string_view name, std::string_view key, std::string_view filename = "",
                std::string_view options = "") {
    auto* d = find(lookups_, name);
    if (!d) return missing("lookup type", name);
    void* handle = nullptr;
    if (d->open) {
      Result r = run([&](Call&, Buf&) { return d->open(ctx(), d->user, s(filename), &handle); });
      if (!r.ok()) return r;
    }
    int no_cache = 0;
    Result r = run([&](Call& c, Buf& b) {
      return d->find(ctx(), d->user, c.raw(), handle, s(filename), s(key), s(options), b.raw(),
                     &no_cache);
    });
    r.no_cache = no_cache != 0;
    if (d->close) d->close(ctx(), d->user, handle);
    return r;
  }
  Result quote(std::string_view name, std::string_view in, std::string_view options = "") {
    auto* d = find(lookups_, name);
    if (!d || !d->quote) return missing("quote function of", name);
    return run([&](Call&, Buf& b) { return d->quote(ctx(), d->user, s(in), s(options), b.raw()); });
  }
  // Every listener whose pattern matches, by priority then registration
  // order; out: the first non-empty verdict; status: the first non-OK.
  Result event(std::string_view event, std::string_view data) {
    std::vector<const tern_event_listener_def*> ls;
    for (auto& l : listeners_)
      if (matches(l.def.events ? l.name : std::string(), event)) ls.push_back(&l.def);
    std::stable_sort(ls.begin(), ls.end(),
                     [](auto* a, auto* b) { return a->priority < b->priority; });
    Result total;
    for (auto* l : ls) {
      Result r = run([&](Call& c, Buf& b) {
        return l->on_event(ctx(), l->user, c.raw(), s(event), s(data), b.raw());
      });
      if (total.out.empty()) total.out = r.out;
      if (total.status == TERN_OK && r.status != TERN_OK) {
        total.status = r.status;
        total.error = r.error;
      }
    }
    return total;
  }
  // The hooks of a point, by priority, as the core runs them: TERN_OK and
  // TERN_DECLINE go on, anything else stops and is the result; when none
  // stopped, TERN_DECLINE if one declined (a router precondition skips the
  // router), else TERN_OK.
  Result hook(tern_hook_point point, void* arg) {
    std::vector<const tern_hook_def*> hs;
    for (auto& h : hooks_)
      if (h.point == point) hs.push_back(&h);
    std::stable_sort(hs.begin(), hs.end(),
                     [](auto* a, auto* b) { return a->priority < b->priority; });
    Result total;
    bool declined = false;
    for (auto* h : hs) {
      Result r = run([&](Call& c, Buf& b) { return h->run(ctx(), h->user, c.raw(), arg, b.raw()); });
      total.out += r.out;
      if (r.status == TERN_DECLINE) declined = true;
      if (r.status != TERN_OK && r.status != TERN_DECLINE) {
        total.status = r.status;
        total.error = r.error;
        return total;
      }
    }
    if (declined) total.status = TERN_DECLINE;
    return total;
  }
  Result pre_banner(FakeConn& conn) {
    return hook(TERN_HOOK_PRE_BANNER, reinterpret_cast<tern_conn*>(&conn));
  }
  Result after_data(const tern_message& msg) {
    return hook(TERN_HOOK_AFTER_DATA, const_cast<tern_message*>(&msg));
  }
  Result router_precondition(std::string_view router) {
    tern_str r = s(router);
    return hook(TERN_HOOK_ROUTER_PRECONDITION, &r);
  }

 private:
  // The module's tern_ctx: the public head first, then the FakeHost.
  struct Ctx {
    tern_ctx head;
    FakeHost* owner = nullptr;
  };
  struct Buf {
    std::string text;
    tern_buf* raw() { return reinterpret_cast<tern_buf*>(this); }
  };
  struct Call {
    FakeHost* host;
    std::string error;
    std::deque<std::string> answers;  // text handed out as tern_str, until the call ends
    tern_call* raw() { return reinterpret_cast<tern_call*>(this); }
    tern_str keep(std::string text) {
      const std::string& k = answers.emplace_back(std::move(text));
      return tern_str{k.data(), k.size()};
    }
  };

  static tern_str s(std::string_view v) { return tern_str{v.data(), v.size()}; }
  static std::string_view v(tern_str x) { return x.ptr ? std::string_view(x.ptr, x.len) : ""; }
  static FakeHost& of(tern_ctx* c) { return *reinterpret_cast<Ctx*>(c)->owner; }
  static Call& of(tern_call* c) { return *reinterpret_cast<Call*>(c); }
  static Buf& of(tern_buf* b) { return *reinterpret_cast<Buf*>(b); }

  template <class F>
  Result run(F&& f) {
    Call c{this, {}, {}};
    Buf b;
    Result r;
    r.status = f(c, b);
    r.out = std::move(b.text);
    r.error = std::move(c.error);
    return r;
  }
  static Result missing(const char* what, std::string_view name) {
    Result r;
    r.status = TERN_ERROR;
    r.error = std::string("FakeHost: no ") + what + " \"" + std::string(name) + "\"";
    return r;
  }
  template <class Def>
  static const Def* find(const std::vector<Named<Def>>& v, std::string_view name) {
    for (auto& n : v)
      if (n.name == name) return &n.def;
    return nullptr;
  }
  // As the core's event bus: event names contain colons ("msg:delivery"),
  // so the list is separated by white space or commas; an item ending in
  // '*' is a prefix ("msg:*"); an empty list or "*" matches every event.
  static bool matches(const std::string& patterns, std::string_view event) {
    if (patterns.empty()) return true;
    size_t i = 0;
    while (i < patterns.size()) {
      size_t end = patterns.find_first_of(" \t,", i);
      if (end == std::string::npos) end = patterns.size();
      std::string_view p(patterns.data() + i, end - i);
      if (!p.empty() && p.back() == '*') {
        if (event.substr(0, p.size() - 1) == p.substr(0, p.size() - 1)) return true;
      } else if (!p.empty() && p == event) {
        return true;
      }
      i = end + 1;
    }
    return false;
  }

  // The checks and texts of the core's add_* (core/module_host/host.cpp).
  bool refuse(std::string text) {
    init_error_ = std::move(text);
    return false;
  }
  tern_status malformed(const char* what, const char* name, const std::string& why) {
    std::string n = name && *name ? std::string(" \"") + name + "\"" : "";
    refuse(std::string("malformed ") + what + " definition" + n + ": " + why);
    return TERN_ERROR;
  }
  static bool valid_name(const char* name) {
    if (!name || !*name) return false;
    for (const char* p = name; *p; ++p)
      if (!(std::isalnum(static_cast<unsigned char>(*p)) || *p == '_' || *p == '-')) return false;
    return true;
  }
  // Copies what the definition's size covers (the rest zero); false when
  // the size does not reach the mandatory fields.
  template <class Def>
  static bool copy_def(const Def* in, Def& out, size_t required_end) {
    out = Def{};
    if (!in || in->size < required_end) return false;
    std::memcpy(static_cast<void*>(&out), in, std::min<size_t>(in->size, sizeof(Def)));
    return true;
  }
  // The common part: in init, the size, the name, the function, the claim.
  template <class Def, class Fn>
  tern_status admit(const char* what, const Def* in, Def& d, size_t required_end, bool named,
                    Fn Def::*fn, const char* fn_name) {
    if (!in_init_) return refuse(std::string(what) + " registered outside init"), TERN_ERROR;
    if (!copy_def(in, d, required_end)) return malformed(what, nullptr, "size too small");
    const char* name = nullptr;
    if constexpr (requires { d.name; }) name = d.name;
    if (named && !valid_name(name)) return malformed(what, name ? name : "", "bad name");
    if (!(d.*fn)) return malformed(what, named ? name : nullptr, std::string("no ") + fn_name + " function");
    return TERN_OK;
  }
  tern_status claim(const char* what, const char* name) {
    std::string mine = module_ && module_->name ? module_->name : "?";
    auto [it, fresh] = reserved_.try_emplace({what, name}, mine);
    if (!fresh) {
      refuse(std::string(what) + " \"" + name + "\" is registered twice: by \"" + it->second +
             "\" and by \"" + mine + "\"");
      return TERN_ERROR;
    }
    return TERN_OK;
  }
#define TERN_FAKE_END(Def, f) (offsetof(Def, f) + sizeof(((Def*)nullptr)->f))

  // ---- the host entries ---------------------------------------------------

  static void h_log(tern_ctx* c, tern_log_level level, const char* fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    of(c).logs_.push_back({level, buf});
  }
  static void h_set_error(tern_ctx* c, tern_call* call, tern_str text) {
    if (call)
      of(call).error.assign(v(text));
    else
      of(c).init_error_.assign(v(text));
  }
  static void h_buf_append(tern_buf* b, tern_str x) { of(b).text.append(v(x)); }

  static tern_status h_add_option(tern_ctx* c, const tern_option_def* in) {
    FakeHost& h = of(c);
    const char* what = "option";
    tern_option_def d;
    if (!h.in_init_) return h.refuse("option registered outside init"), TERN_ERROR;
    if (!copy_def(in, d, TERN_FAKE_END(tern_option_def, scopes)))
      return h.malformed(what, nullptr, "size too small");
    if (!valid_name(d.name)) return h.malformed(what, d.name ? d.name : "", "bad name");
    if (d.type < TERN_OPT_BOOL || d.type > TERN_OPT_GID)
      return h.malformed(what, d.name, "unknown type");
    if (d.scopes == 0 || (d.scopes & ~7u)) return h.malformed(what, d.name, "bad scopes");
    if (h.claim(what, d.name) != TERN_OK) return TERN_ERROR;
    Option o{d.name, d.type, d.scopes, {}, {}};
    if (d.drivers) o.drivers = d.drivers;
    if (d.default_value) o.default_value = d.default_value;
    h.options_.push_back(std::move(o));
    return TERN_OK;
  }
  static tern_status h_add_acl_condition(tern_ctx* c, const tern_acl_condition_def* in) {
    FakeHost& h = of(c);
    tern_acl_condition_def d;
    const char* what = "ACL condition";
    if (tern_status s = h.admit(what, in, d, TERN_FAKE_END(tern_acl_condition_def, check), true,
                                &tern_acl_condition_def::check, "check");
        s != TERN_OK || h.claim(what, d.name) != TERN_OK)
      return TERN_ERROR;
    h.conditions_.push_back({d.name, d});
    return TERN_OK;
  }
  static tern_status h_add_operator(tern_ctx* c, const tern_operator_def* in) {
    FakeHost& h = of(c);
    tern_operator_def d;
    const char* what = "expansion operator";
    if (tern_status s = h.admit(what, in, d, TERN_FAKE_END(tern_operator_def, apply), true,
                                &tern_operator_def::apply, "apply");
        s != TERN_OK || h.claim(what, d.name) != TERN_OK)
      return TERN_ERROR;
    h.operators_.push_back({d.name, d});
    return TERN_OK;
  }
  static tern_status h_add_item(tern_ctx* c, const tern_item_def* in) {
    FakeHost& h = of(c);
    tern_item_def d;
    const char* what = "expansion item";
    if (h.admit(what, in, d, TERN_FAKE_END(tern_item_def, apply), true, &tern_item_def::apply,
                "apply") != TERN_OK)
      return TERN_ERROR;
    if (d.min_args < 1 || d.max_args > 9 || d.min_args > d.max_args)
      return h.malformed(what, d.name, "arguments must be 1 to 9, min_args <= max_args");
    if (h.claim(what, d.name) != TERN_OK) return TERN_ERROR;
    h.items_.push_back({d.name, d});
    return TERN_OK;
  }
  static tern_status h_add_lookup(tern_ctx* c, const tern_lookup_def* in) {
    FakeHost& h = of(c);
    tern_lookup_def d;
    const char* what = "lookup type";
    if (!h.in_init_) return h.refuse("lookup type registered outside init"), TERN_ERROR;
    if (!copy_def(in, d, TERN_FAKE_END(tern_lookup_def, find)))
      return h.malformed(what, nullptr, "size too small");
    if (!valid_name(d.name)) return h.malformed(what, d.name ? d.name : "", "bad name");
    for (const char* p = d.name; *p; ++p)
      if (!std::isalnum(static_cast<unsigned char>(*p)))  // ${quote_<name>_<options>:...}
        return h.malformed(what, d.name, "a lookup type's name is letters and digits");
    if (!d.find) return h.malformed(what, d.name, "no find function");
    uint32_t style = d.flags & (TERN_LOOKUP_QUERY | TERN_LOOKUP_SINGLE_KEY);
    if (style != TERN_LOOKUP_QUERY && style != TERN_LOOKUP_SINGLE_KEY)
      return h.malformed(what, d.name,
                         "exactly one of TERN_LOOKUP_QUERY and TERN_LOOKUP_SINGLE_KEY");
    if (h.claim(what, d.name) != TERN_OK) return TERN_ERROR;
    h.lookups_.push_back({d.name, d});
    return TERN_OK;
  }
  static tern_status h_add_variable(tern_ctx* c, const tern_variable_def* in) {
    FakeHost& h = of(c);
    tern_variable_def d;
    const char* what = "variable";
    if (tern_status s = h.admit(what, in, d, TERN_FAKE_END(tern_variable_def, get), true,
                                &tern_variable_def::get, "get");
        s != TERN_OK || h.claim(what, d.name) != TERN_OK)
      return TERN_ERROR;
    h.variables_.push_back({d.name, d});
    return TERN_OK;
  }
  static tern_status h_add_event_listener(tern_ctx* c, const tern_event_listener_def* in) {
    FakeHost& h = of(c);
    tern_event_listener_def d;
    if (h.admit("event listener", in, d, TERN_FAKE_END(tern_event_listener_def, on_event), false,
                &tern_event_listener_def::on_event, "on_event") != TERN_OK)
      return TERN_ERROR;
    h.listeners_.push_back({d.events ? d.events : "", d});
    return TERN_OK;
  }
  static tern_status h_add_hook(tern_ctx* c, const tern_hook_def* in) {
    FakeHost& h = of(c);
    tern_hook_def d;
    if (!h.in_init_) return h.refuse("hook registered outside init"), TERN_ERROR;
    if (!copy_def(in, d, TERN_FAKE_END(tern_hook_def, run)))
      return h.malformed("hook", nullptr, "size too small");
    if (d.point < TERN_HOOK_PRE_BANNER || d.point > TERN_HOOK_ROUTER_PRECONDITION)
      return h.malformed("hook", nullptr, "unknown hook point");
    if (!d.run) return h.malformed("hook", nullptr, "no run function");
    h.hooks_.push_back(d);
    return TERN_OK;
  }
#undef TERN_FAKE_END
  // The text answers: empty unless the entry succeeds.
  static void clear(tern_str* out) {
    if (out) *out = tern_str{"", 0};
  }
  static tern_status h_expand(tern_call* call, tern_str in, tern_str* out) {
    FakeHost& h = *of(call).host;
    clear(out);
    Result r = h.expander_ ? h.expander_(v(in)) : h.default_expand(v(in));
    if (r.status == TERN_OK && out) *out = of(call).keep(std::move(r.out));
    if (!r.error.empty()) of(call).error = r.error;
    return r.status;
  }
  Result default_expand(std::string_view in) const {
    Result r;
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] != '$' || i + 1 == in.size()) {
        r.out += in[i];
        continue;
      }
      size_t start = i + 1, end;
      bool braced = in[start] == '{';
      if (braced) {
        end = in.find('}', start);
        if (end == std::string_view::npos) end = in.size();
        ++start;
      } else {
        end = start;
        while (end < in.size() && (std::isalnum(static_cast<unsigned char>(in[end])) || in[end] == '_'))
          ++end;
      }
      std::string name(in.substr(start, end - start));
      auto it = vars_.find(name);
      if (it == vars_.end()) {
        r.status = TERN_ERROR;
        r.error = "unknown variable name \"" + name + "\"";
        return r;
      }
      r.out += it->second;
      i = braced ? end : end - 1;
    }
    return r;
  }
  static tern_status h_get_variable(tern_call* call, const char* name, tern_str* out) {
    FakeHost& h = *of(call).host;
    clear(out);
    auto it = h.vars_.find(name);
    if (it == h.vars_.end()) return TERN_DECLINE;
    *out = of(call).keep(it->second);
    return TERN_OK;
  }
  static tern_status h_get_option(tern_call* call, const char* name, tern_str* out) {
    FakeHost& h = *of(call).host;
    clear(out);
    auto it = h.opt_text_.find(name);
    if (it != h.opt_text_.end()) {
      *out = of(call).keep(it->second);
      return TERN_OK;
    }
    for (auto& o : h.options_)
      if (o.name == name && o.default_value) {
        *out = of(call).keep(*o.default_value);
        return TERN_OK;
      }
    return TERN_DECLINE;
  }
  static tern_status h_get_option_int(tern_call* call, const char* name, int64_t* out) {
    FakeHost& h = *of(call).host;
    auto it = h.opt_int_.find(name);
    if (it == h.opt_int_.end()) return TERN_DECLINE;
    *out = it->second;
    return TERN_OK;
  }
  static tern_status h_raise_event(tern_call* call, tern_str event, tern_str data,
                                   tern_str* verdict) {
    FakeHost& h = *of(call).host;
    clear(verdict);
    h.raised_.push_back({std::string(v(event)), std::string(v(data))});
    if (verdict) *verdict = of(call).keep(h.raise_verdict_);
    return TERN_OK;
  }
  static tern_status h_dns_query(tern_call* call, tern_str name, uint16_t rrtype,
                                 tern_dns_answer* answer) {
    FakeHost& h = *of(call).host;
    auto it = h.dns_.find({std::string(v(name)), rrtype});
    h.dns_rdata_.clear();
    *answer = tern_dns_answer{};
    answer->size = sizeof *answer;
    if (it == h.dns_.end()) {
      answer->rcode = 3;  // NXDOMAIN
      return TERN_OK;
    }
    for (auto& r : it->second.rdata) h.dns_rdata_.push_back(s(r));
    answer->rcode = it->second.rcode;
    answer->secure = it->second.secure;
    answer->count = h.dns_rdata_.size();
    answer->rdata = h.dns_rdata_.data();
    return TERN_OK;
  }
  static tern_status h_set_recipient_data(tern_call* call, size_t recipient, tern_str key,
                                          tern_str value) {
    of(call).host->recipient_data_[{recipient, std::string(v(key))}] = std::string(v(value));
    return TERN_OK;
  }
  static tern_status h_recipient_data(tern_call* call, tern_str key, tern_str* out) {
    FakeHost& h = *of(call).host;
    clear(out);
    auto it = h.recipient_data_.find({h.current_recipient_, std::string(v(key))});
    if (it == h.recipient_data_.end()) return TERN_DECLINE;
    *out = of(call).keep(it->second);
    return TERN_OK;
  }
  static void h_set_session_data(tern_call* call, tern_ctx*, void* data, void (*free_fn)(void*)) {
    FakeHost& h = *of(call).host;
    h.end_session();
    h.session_data_ = data;
    h.session_free_ = free_fn;
  }
  static void* h_session_data(tern_call* call, tern_ctx*) { return of(call).host->session_data_; }
  static tern_status h_conn_read(tern_conn* c, void* dst, size_t len, size_t* got) {
    FakeConn& conn = *reinterpret_cast<FakeConn*>(c);
    size_t n = std::min(len, conn.input.size() - conn.pos);
    if (n == 0 && conn.timeout_at_end) return TERN_DEFER;
    std::copy_n(conn.input.data() + conn.pos, n, static_cast<char*>(dst));
    conn.pos += n;
    *got = n;
    return TERN_OK;
  }
  static tern_status h_match_host_list(tern_call* call, tern_str list) {
    FakeHost& h = *of(call).host;
    auto it = h.host_lists_.find(std::string(v(list)));
    return it == h.host_lists_.end() ? TERN_FAIL : it->second;
  }
  static tern_status h_conn_set_timeout(tern_conn* c, uint32_t ms) {
    reinterpret_cast<FakeConn*>(c)->timeout_ms = ms;
    return TERN_OK;
  }
  static tern_status h_conn_set_addresses(tern_conn* c, tern_str client_ip, uint16_t client_port,
                                          tern_str local_ip, uint16_t local_port) {
    FakeConn& conn = *reinterpret_cast<FakeConn*>(c);
    conn.client_ip = std::string(v(client_ip));
    conn.local_ip = std::string(v(local_ip));
    conn.client_port = client_port;
    conn.local_port = local_port;
    return TERN_OK;
  }

  static void h_call_error(tern_call* call, tern_str* out) {
    if (out) *out = of(call).keep(of(call).error);
  }

  // One constant table per (minor, discovery), like the core's.
  static const tern_host* table_for(uint16_t minor, bool discovery) {
    static const tern_host tables[3][2] = {{make(0, false), make(0, true)},
                                           {make(1, false), make(1, true)},
                                           {make(2, false), make(2, true)}};
    return &tables[std::min<uint16_t>(minor, 2)][discovery ? 1 : 0];
  }
  static tern_host make(uint16_t minor, bool discovery) {
    tern_host t{};
    t.size = minor >= 2   ? sizeof(tern_host)
             : minor == 1 ? offsetof(tern_host, match_host_list)
                          : offsetof(tern_host, set_session_data);
    t.abi_major = TERN_ABI_MAJOR;
    t.abi_minor = minor >= 2 ? TERN_ABI_MINOR : minor;
    t.discovery = discovery ? 1 : 0;
    t.log = h_log;
    t.set_error = h_set_error;
    t.buf_append = h_buf_append;
    t.add_option = h_add_option;
    t.add_acl_condition = h_add_acl_condition;
    t.add_operator = h_add_operator;
    t.add_item = h_add_item;
    t.add_lookup = h_add_lookup;
    t.add_variable = h_add_variable;
    t.add_event_listener = h_add_event_listener;
    t.add_hook = h_add_hook;
    t.expand = h_expand;
    t.get_variable = h_get_variable;
    t.get_option = h_get_option;
    t.get_option_int = h_get_option_int;
    t.raise_event = h_raise_event;
    t.dns_query = h_dns_query;
    t.set_recipient_data = h_set_recipient_data;
    t.recipient_data = h_recipient_data;
    if (minor >= 1) {
      t.set_session_data = h_set_session_data;
      t.session_data = h_session_data;
      t.conn_read = h_conn_read;
      t.conn_set_addresses = h_conn_set_addresses;
    }
    if (minor >= 2) {
      t.match_host_list = h_match_host_list;
      t.conn_set_timeout = h_conn_set_timeout;
      t.call_error = h_call_error;
    }
    return t;
  }

  const tern_module* module_;
  Options opts_;
  Ctx ctx_;
  bool loaded_ = false, in_init_ = false;
  std::string init_error_;
  std::vector<Option> options_;
  std::vector<Named<tern_acl_condition_def>> conditions_;
  std::vector<Named<tern_operator_def>> operators_;
  std::vector<Named<tern_item_def>> items_;
  std::vector<Named<tern_lookup_def>> lookups_;
  std::vector<Named<tern_variable_def>> variables_;
  std::vector<Named<tern_event_listener_def>> listeners_;
  std::vector<tern_hook_def> hooks_;
  std::map<std::pair<std::string, std::string>, std::string> reserved_;
  std::map<std::string, std::string> vars_, opt_text_;
  std::map<std::string, int64_t> opt_int_;
  std::function<Result(std::string_view)> expander_;
  std::map<std::pair<std::string, uint16_t>, DnsRecord> dns_;
  std::vector<tern_str> dns_rdata_;
  std::map<std::pair<size_t, std::string>, std::string> recipient_data_;
  size_t current_recipient_ = 0;
  std::string raise_verdict_;
  std::map<std::string, tern_status> host_lists_;
  void* session_data_ = nullptr;
  void (*session_free_)(void*) = nullptr;
  std::vector<LogLine> logs_;
  std::vector<RaisedEvent> raised_;
};

}  // namespace tern::testing
