// core/deliver/router.cpp: the router engine: generic options, preconditions, the chain of
// routers, children of redirects (see router.hpp).
#include "core/deliver/router.hpp"

#include <pwd.h>

#include <algorithm>
#include <random>

#include "core/deliver/router_drivers.hpp"
#include "core/lookup/match.hpp"

namespace tern::deliver {

class Router {
 public:
  const config::DriverInstance* instance = nullptr;
  std::unique_ptr<RouterDriver> driver;
};

RouterSet::~RouterSet() = default;

Result<std::string> expand_option(const config::DriverInstance& d, std::string_view name, expand::Context& ctx) {
  std::string text = d.options.get_string(name);
  if (text.empty() || (text.find('$') == std::string::npos && text.find('\\') == std::string::npos)) return text;
  auto r = expand::expand(text, ctx);
  if (!r && !r.error().is_forced() && !r.error().is_defer())
    return Error::failed("failed to expand \"" + text + "\" in " + d.name + " " + std::string(name) + ": " +
                         r.error().message);
  return r;
}

Result<std::shared_ptr<const RouterSet>> RouterSet::build(const config::Config& config) {
  std::shared_ptr<RouterSet> set(new RouterSet());
  set->config_ = &config;
  for (const auto& r : config.routers) {
    Result<std::unique_ptr<RouterDriver>> d = Error::failed("");
    if (r.driver == "accept")
      d = make_accept_router(r);
    else if (r.driver == "redirect")
      d = make_redirect_router(r);
    else if (r.driver == "manualroute")
      d = make_manualroute_router(r);
    else if (r.driver == "dnslookup")
      d = make_dnslookup_router(r);
    else if (r.driver == "ipliteral")
      d = make_ipliteral_router(r);
    else
      return Error::failed(r.where.file + ":" + std::to_string(r.where.line) + ": router driver \"" + r.driver +
                           "\" is not in this build");
    if (!d) return Error::failed(r.where.file + ":" + std::to_string(r.where.line) + ": " + d.error().message);
    if ((*d)->needs_transport() && r.options.get_string("transport").empty())
      return Error::failed("a transport is required for the " + r.name + " router");
    auto router = std::make_unique<Router>();
    router->instance = &r;
    router->driver = std::move(*d);
    set->routers_.push_back(std::move(router));
  }
  return std::shared_ptr<const RouterSet>(std::move(set));
}

void set_address_variables(const std::vector<Address>& addresses, std::size_t index, DeliveryVariables& vars) {
  const Address& a = addresses[index];
  vars.set("local_part", a.local_part);
  vars.set("domain", a.domain);
  vars.set("address_data", a.address_data);
  vars.set("home", a.home);
  const Address* top = &a;
  while (top->parent >= 0) top = &addresses[static_cast<std::size_t>(top->parent)];
  vars.set("original_local_part", top->local_part);
  vars.set("original_domain", top->domain);
  if (a.parent >= 0) {
    const Address& p = addresses[static_cast<std::size_t>(a.parent)];
    vars.set("parent_local_part", p.local_part);
    vars.set("parent_domain", p.domain);
  } else {
    vars.unset("parent_local_part");
    vars.unset("parent_domain");
  }
}

namespace {

// A list option (domains, local_parts, senders): expanded, then matched. nullopt: the
// option is unset; otherwise whether it matched, or a defer Error.
Result<std::optional<bool>> match_option(const config::DriverInstance& r, std::string_view option,
                                         std::string_view subject, lookup::ListKind kind, RouteEnv& env,
                                         std::string_view data_var) {
  if (!r.options.was_set(option) && r.options.get_string(option).empty()) return std::optional<bool>();
  auto list = expand_option(r, option, *env.ctx);
  if (!list) return Error::defer(list.error().message);
  auto me_m = expand::match_env(*env.ctx);
  auto m = lookup::match_list(subject, *list, kind, me_m, kind == lookup::ListKind::kDomain);
  if (!m) return Error::defer(m.error().message);
  if (m->outcome == lookup::MatchResult::Outcome::kDefer)
    return Error::defer("unable to complete match against \"" + *list + "\": " + m->error);
  if (m->matched() && !data_var.empty()) env.vars->set(data_var, m->data);
  return std::optional<bool>(m->matched());
}

// Exim's check_router_conditions(): true when the router is to run; a defer Error when a
// list could not be checked.
Result<bool> preconditions_met(const config::DriverInstance& r, Address& a, RouteEnv& env) {
  if (env.verifying ? !r.options.get_bool("verify_recipient") : r.options.get_bool("verify_only")) return false;
  auto d = match_option(r, "domains", a.domain, lookup::ListKind::kDomain, env, "domain_data");
  if (!d) return d.take_error();
  if (*d && !**d) return false;
  auto l = match_option(r, "local_parts", a.local_part, lookup::ListKind::kLocalPart, env, "local_part_data");
  if (!l) return l.take_error();
  if (*l && !**l) return false;
  if (r.options.get_bool("check_local_user")) {
    struct passwd* pw = getpwnam(a.local_part.c_str());
    if (!pw) return false;
    a.home = pw->pw_dir;
    a.uid = pw->pw_uid;
    a.gid = pw->pw_gid;
    env.vars->set("home", a.home);
    env.vars->set("local_user_uid", std::to_string(pw->pw_uid));
    env.vars->set("local_user_gid", std::to_string(pw->pw_gid));
  }
  auto s = match_option(r, "senders", env.sender, lookup::ListKind::kAddress, env, "");
  if (!s) return s.take_error();
  if (*s && !**s) return false;
  if (!r.options.get_string("condition").empty()) {
    auto c = expand::check_condition(expand::compile(r.options.get_string("condition")), *env.ctx);
    if (!c) {
      if (c.error().is_forced()) return false;
      return Error::defer("failed to expand \"" + r.options.get_string("condition") + "\" in " + r.name +
                          " router: " + c.error().message);
    }
    if (!*c) return false;
  }
  return true;
}

// The modules' TERN_HOOK_ROUTER_PRECONDITION hooks, after the router's own preconditions:
// true runs the router, false skips it (a hook declined, as a failed precondition does);
// an Error fails (kFailed) or defers the address, with the hook's verdict as its text.
Result<bool> module_preconditions(const config::DriverInstance& r, RouteEnv& env) {
  module_host::CallEnv call = env.modules ? *env.modules : module_host::CallEnv{};
  call.expand = env.ctx;
  call.driver = &r;
  call.driver_scope = config::Scope::kRouter;
  call.recipients = env.recipients;
  // The hook's argument, owned by the call: a late (abandoned) hook may still read it.
  struct Arg {
    std::string name;
    tern_str str;
  };
  auto arg = std::make_shared<Arg>();
  arg->name = r.name;
  arg->str = {arg->name.data(), arg->name.size()};
  module_host::HookResult h = env.hooks->run(TERN_HOOK_ROUTER_PRECONDITION, call, &arg->str, arg);
  if (h.status == TERN_OK) return true;
  if (h.status == TERN_DECLINE) return false;
  std::string text = !h.verdict.empty() ? h.verdict
                     : !h.error.empty() ? h.error
                                        : "router precondition of module " + h.module + " " +
                                              (h.status == TERN_FAIL ? "failed" : "deferred");
  if (h.status == TERN_FAIL) return Error::failed(std::move(text));
  return Error::defer(std::move(text));
}

// Splits an expanded headers_add text into header lines (a newline not followed by white
// space ends one), each ending with "\n"; empty lines are dropped.
std::vector<std::string> split_headers(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i < text.size(); ++i) {
    cur += text[i];
    if (text[i] == '\n' && (i + 1 >= text.size() || (text[i + 1] != ' ' && text[i + 1] != '\t'))) {
      if (cur != "\n") out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur + "\n");
  return out;
}

// The generic options applied when a router accepts or redirects: errors_to, headers_add,
// headers_remove. An Error defers the address.
Status apply_generic(const config::DriverInstance& r, Address& a, RouteEnv& env) {
  if (!r.options.get_string("errors_to").empty()) {
    auto e = expand_option(r, "errors_to", *env.ctx);
    if (!e) return Error::defer(e.error().message);
    a.errors_to = *e;
    a.errors_to_set = true;
  }
  if (!r.options.get_string("headers_add").empty()) {
    auto h = expand_option(r, "headers_add", *env.ctx);
    if (!h && !h.error().is_forced()) return Error::defer(h.error().message);
    if (h)
      for (auto& line : split_headers(*h)) a.extra_headers.push_back(std::move(line));
  }
  if (!r.options.get_string("headers_remove").empty()) {
    auto h = expand_option(r, "headers_remove", *env.ctx);
    if (!h && !h.error().is_forced()) return Error::defer(h.error().message);
    if (h) {
      std::string_view rest = *h;
      while (!rest.empty()) {
        auto colon = rest.find(':');
        std::string_view item = rest.substr(0, colon);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (!item.empty()) a.remove_headers.emplace_back(item);
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
      }
    }
  }
  return {};
}

// Exim skips a router for an address whose ancestor had the same address and was
// handled by that router (an alias that names itself does not loop).
bool ancestor_routed_here(const std::vector<Address>& all, const Address& a, std::string_view router) {
  if (a.skip_router == router) return true;
  for (int p = a.parent; p >= 0; p = all[static_cast<std::size_t>(p)].parent) {
    const Address& anc = all[static_cast<std::size_t>(p)];
    if (anc.router == router && anc.address == a.address) return true;
  }
  return false;
}

}  // namespace

void RouterSet::route(std::vector<Address>& all, std::size_t index, RouteEnv& env) const {
  auto finish = [&](RouteStatus st, std::string message, int err = 0, bool pass_message = false) {
    all[index].status = st;
    all[index].message = std::move(message);
    all[index].basic_errno = err;
    all[index].pass_message = pass_message;
  };
  if (all[index].is_pipe || all[index].is_file) return;  // routed by their redirect
  if (all[index].status != RouteStatus::kPending) return;
  if (env.recipients) env.recipients->select(all[index].spool_recipient);
  const bool module_hooks = env.hooks && env.hooks->has(TERN_HOOK_ROUTER_PRECONDITION);
  for (const auto& router : routers_) {
    const config::DriverInstance& r = *router->instance;
    set_address_variables(all, index, *env.vars);
    env.vars->unset("domain_data");
    env.vars->unset("local_part_data");
    if (ancestor_routed_here(all, all[index], r.name)) continue;
    auto met = preconditions_met(r, all[index], env);
    if (!met) return finish(RouteStatus::kDeferred, met.error().message);
    if (!*met) continue;
    if (module_hooks) {
      auto hooked = module_preconditions(r, env);
      if (!hooked) {
        all[index].router = r.name;
        return finish(hooked.error().is_defer() ? RouteStatus::kDeferred : RouteStatus::kFailed,
                      hooked.error().message);
      }
      if (!*hooked) continue;
    }
    if (!r.options.get_string("address_data").empty()) {
      auto d = expand_option(r, "address_data", *env.ctx);
      if (!d) {
        if (d.error().is_forced()) continue;
        return finish(RouteStatus::kDeferred, d.error().message);
      }
      all[index].address_data = *d;
      env.vars->set("address_data", *d);
    }
    DriverOutcome out = router->driver->run(all[index], all, env);
    Address& a = all[index];
    switch (out.kind) {
      case DriverOutcome::kDecline:
        if (!r.options.get_bool("more")) return finish(RouteStatus::kFailed, "Unrouteable address");
        continue;
      case DriverOutcome::kFail:
        a.router = r.name;
        return finish(RouteStatus::kFailed, out.message, out.basic_errno, out.pass_message);
      case DriverOutcome::kDefer:
        a.router = r.name;
        return finish(RouteStatus::kDeferred, out.message, out.basic_errno, out.pass_message);
      case DriverOutcome::kDiscard:
        a.router = r.name;
        return finish(RouteStatus::kDiscarded, "");
      case DriverOutcome::kRedirect: {
        if (auto st = apply_generic(r, a, env); !st) return finish(RouteStatus::kDeferred, st.error().message);
        a.router = r.name;
        Address parent = a;  // children inherit its properties
        for (auto& c : out.children) {
          c.parent = static_cast<int>(index);
          c.spool_recipient = parent.spool_recipient;
          c.address_data = parent.address_data;
          c.errors_to = parent.errors_to;
          c.errors_to_set = parent.errors_to_set;
          c.extra_headers.insert(c.extra_headers.begin(), parent.extra_headers.begin(), parent.extra_headers.end());
          c.remove_headers.insert(c.remove_headers.begin(), parent.remove_headers.begin(),
                                  parent.remove_headers.end());
          if (c.is_pipe || c.is_file) {
            c.router = r.name;
            c.status = c.transport.empty() ? RouteStatus::kDeferred : RouteStatus::kRouted;
            c.home = parent.home;
            c.uid = parent.uid;
            c.gid = parent.gid;
          }
          all.push_back(std::move(c));
        }
        all[index].status = RouteStatus::kRedirected;
        return;
      }
      case DriverOutcome::kAccept: {
        if (auto st = apply_generic(r, a, env); !st) return finish(RouteStatus::kDeferred, st.error().message);
        a.router = r.name;
        auto t = out.transport.empty() ? expand_option(r, "transport", *env.ctx) : Result<std::string>(out.transport);
        if (!t) return finish(RouteStatus::kDeferred, t.error().message);
        a.transport = *t;
        a.hosts = std::move(out.hosts);
        return finish(RouteStatus::kRouted, "");
      }
    }
  }
  finish(RouteStatus::kFailed, "Unrouteable address");
}

std::vector<std::size_t> RouterSet::route_all(std::vector<Address>& all, RouteEnv& env) const {
  std::vector<std::size_t> stack, leaves;
  for (std::size_t i = all.size(); i-- > 0;)
    if (all[i].status == RouteStatus::kPending) stack.push_back(i);
  while (!stack.empty()) {
    std::size_t i = stack.back();
    stack.pop_back();
    std::size_t before = all.size();
    route(all, i, env);
    if (all[i].status == RouteStatus::kRedirected) {
      for (std::size_t c = all.size(); c-- > before;) stack.push_back(c);  // first written first
    } else {
      leaves.push_back(i);
    }
  }
  return leaves;
}

void sort_mx_hosts(std::vector<Host>& hosts) {
  static std::mt19937 rng(std::random_device{}());
  std::shuffle(hosts.begin(), hosts.end(), rng);
  std::stable_sort(hosts.begin(), hosts.end(), [](const Host& a, const Host& b) { return a.mx < b.mx; });
}

}  // namespace tern::deliver
