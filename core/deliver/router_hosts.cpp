// core/deliver/router_hosts.cpp: the routers that find hosts: manualroute (route_list,
// route_data, hosts_randomize), dnslookup (MX, then AAAA and A; implicit MX; preference
// order with random order among equals; widen_domains, mx_domains) and ipliteral.
//
// Host names are looked up through the core's resolver (libunbound, which also reads
// /etc/hosts), AAAA before A as Exim does. Not done yet: the `self` option (a host list
// that names this host), check_srv, same_domain_copy_routing, fallback_hosts.
#include <arpa/inet.h>

#include <random>

#include "core/deliver/router_drivers.hpp"
#include "core/dns/resolver.hpp"
#include "core/lookup/match.hpp"
#include "core/text/ipaddr.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::deliver {

namespace {

bool is_ip_literal(std::string_view s) { return text::ip_version(s) != 0; }

}  // namespace

Result<std::vector<Host>> lookup_host_addresses(module_host::DnsResolver& resolver, const std::string& name, int mx,
                                                bool* all_secure) {
  std::vector<Host> out;
  for (uint16_t type : {dns::kTypeAaaa, dns::kTypeA}) {
    auto a = resolver.query(name, type);
    if (!a) return Error::defer("host lookup for " + name + " did not complete (" + a.error().message + ")");
    if (a->rcode != 0 && a->rcode != 3) return Error::defer("host lookup for " + name + " did not complete (DNS error)");
    if (all_secure && !a->rdata.empty() && !a->secure) *all_secure = false;
    for (const auto& ip : dns::addresses(*a)) {
      Host h;
      h.name = name;
      h.address = ip;
      h.mx = mx;
      h.dnssec = a->secure;
      out.push_back(std::move(h));
    }
  }
  return out;
}

namespace {

// One host list item of manualroute: "name", "name:port" (written "name::port" in a colon
// list), "[ip]:port", an IP literal.
Host parse_host_item(std::string_view item) {
  Host h;
  if (item.starts_with("[")) {
    auto close = item.find(']');
    h.name = std::string(item.substr(1, close == std::string_view::npos ? item.size() - 1 : close - 1));
    if (close != std::string_view::npos && close + 1 < item.size() && item[close + 1] == ':')
      h.port = std::atoi(std::string(item.substr(close + 2)).c_str());
  } else if (auto colon = item.find(':'); colon != std::string_view::npos && item.find(':', colon + 1) == std::string_view::npos) {
    h.name = std::string(item.substr(0, colon));
    h.port = std::atoi(std::string(item.substr(colon + 1)).c_str());
  } else {
    h.name = std::string(item);
  }
  if (is_ip_literal(h.name)) h.address = h.name;
  return h;
}

// Splits a colon list ("::" is a literal colon; Exim's <sep change is honoured).
std::vector<std::string> colon_list(std::string_view s) {
  char sep = ':';
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  if (s.size() >= 2 && s[0] == '<' && !std::isalnum(static_cast<unsigned char>(s[1]))) {
    sep = s[1];
    s.remove_prefix(2);
  }
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || (s[i] == sep && !(i + 1 < s.size() && s[i + 1] == sep))) {
      auto b = cur.find_first_not_of(" \t\n");
      auto e = cur.find_last_not_of(" \t\n");
      if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
      cur.clear();
    } else if (s[i] == sep) {
      cur += sep;
      ++i;
    } else {
      cur += s[i];
    }
  }
  return out;
}

// Exim's manualroute host lookup for a host list: IP literals as they are, names through
// DNS (A/AAAA; /etc/hosts first). A name not found: an Error (kFailed), a lookup that
// did not complete: kDefer.
Result<std::vector<Host>> resolve_host_list(const std::vector<std::string>& items, RouteEnv& env, bool randomize) {
  std::vector<Host> listed;
  for (const auto& item : items) listed.push_back(parse_host_item(item));
  if (randomize) {
    static std::mt19937 rng(std::random_device{}());
    std::shuffle(listed.begin(), listed.end(), rng);
  }
  std::vector<Host> out;
  for (auto& h : listed) {
    if (!h.address.empty() || env.resolver == nullptr) {
      out.push_back(h);
      continue;
    }
    auto found = lookup_host_addresses(*env.resolver, h.name, kMxNone, nullptr);
    if (!found) return found.take_error();
    if (found->empty()) return Error::failed("lookup of host \"" + h.name + "\" failed");
    for (auto& f : *found) {
      f.port = h.port;
      out.push_back(std::move(f));
    }
  }
  return out;
}

class ManualrouteRouter final : public RouterDriver {
 public:
  explicit ManualrouteRouter(const config::DriverInstance& r) : r_(r) {}

  DriverOutcome run(const Address& a, const std::vector<Address>&, RouteEnv& env) const override {
    DriverOutcome o;
    std::string entry;  // "hostlist options"
    if (!r_.options.get_string("route_data").empty()) {
      auto d = expand_option(r_, "route_data", *env.ctx);
      if (!d) {
        if (d.error().is_forced()) return o;
        o.kind = DriverOutcome::kDefer;
        o.message = d.error().message;
        return o;
      }
      if (d->empty()) return o;
      entry = *d;
    } else {
      bool found = false;
      // route_list: semicolon-separated "pattern hostlist options".
      std::string route_list = r_.options.get_string("route_list");
      std::string_view list = route_list;
      while (!list.empty() && !found) {
        auto semi = list.find(';');
        std::string_view one = list.substr(0, semi);
        list = semi == std::string_view::npos ? std::string_view() : list.substr(semi + 1);
        while (!one.empty() && std::isspace(static_cast<unsigned char>(one.front()))) one.remove_prefix(1);
        if (one.empty()) continue;
        auto sp = one.find_first_of(" \t");
        std::string pattern(one.substr(0, sp));
        auto me_m = expand::match_env(*env.ctx);
        auto m = lookup::match_list(a.domain, pattern, lookup::ListKind::kDomain, me_m, true);
        if (!m || m->outcome == lookup::MatchResult::Outcome::kDefer) {
          o.kind = DriverOutcome::kDefer;
          o.message = "unable to match " + pattern + " in route_list";
          return o;
        }
        if (!m->matched()) continue;
        env.vars->set("domain_data", m->data);
        std::string rest = sp == std::string_view::npos ? "" : std::string(one.substr(sp));
        auto e = rest.find('$') == std::string::npos ? Result<std::string>(rest) : expand::expand(rest, *env.ctx);
        if (!e) {
          if (e.error().is_forced()) continue;
          o.kind = DriverOutcome::kDefer;
          o.message = e.error().message;
          return o;
        }
        entry = *e;
        found = true;
      }
      if (!found) return o;  // no entry for the domain: decline
    }
    // The host list (maybe quoted) and the options after it.
    std::string_view e = entry;
    while (!e.empty() && std::isspace(static_cast<unsigned char>(e.front()))) e.remove_prefix(1);
    std::string hostlist;
    if (!e.empty() && e.front() == '"') {
      auto close = e.find('"', 1);
      hostlist = std::string(e.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
      e = close == std::string_view::npos ? std::string_view() : e.substr(close + 1);
    } else {
      auto sp = e.find_first_of(" \t");
      hostlist = std::string(e.substr(0, sp));
      e = sp == std::string_view::npos ? std::string_view() : e.substr(sp);
    }
    bool randomize = r_.options.get_bool("hosts_randomize");
    std::string transport;
    for (std::size_t p = 0; p < e.size();) {
      while (p < e.size() && std::isspace(static_cast<unsigned char>(e[p]))) ++p;
      auto q = e.find_first_of(" \t", p);
      std::string word(e.substr(p, q == std::string_view::npos ? std::string_view::npos : q - p));
      p = q == std::string_view::npos ? e.size() : q;
      if (word == "randomize") randomize = true;
      else if (word == "no_randomize") randomize = false;
      // byname, bydns, ipv4_prefer, ipv4_only and the self options: names go through the resolver.
    }
    auto hosts = resolve_host_list(colon_list(hostlist), env, randomize);
    if (!hosts) {
      o.kind = DriverOutcome::kDefer;
      o.message = hosts.error().message;
      return o;
    }
    o.kind = DriverOutcome::kAccept;
    o.hosts = std::move(*hosts);
    return o;
  }

 private:
  const config::DriverInstance& r_;
};

class DnslookupRouter final : public RouterDriver {
 public:
  explicit DnslookupRouter(const config::DriverInstance& r) : r_(r) {}

  DriverOutcome run(const Address& a, const std::vector<Address>&, RouteEnv& env) const override {
    DriverOutcome o;
    if (env.resolver == nullptr) {
      o.kind = DriverOutcome::kDefer;
      o.message = "no DNS resolver";
      return o;
    }
    std::vector<std::string> candidates{a.domain};
    for (const auto& w : colon_list(r_.options.get_string("widen_domains"))) candidates.push_back(a.domain + "." + w);
    for (const auto& domain : candidates) {
      auto mx = env.resolver->query(domain, dns::kTypeMx);
      if (!mx) return defer(o, "host lookup for " + domain + " did not complete");
      if (mx->rcode == 3) continue;  // NXDOMAIN: try a widened name
      if (mx->rcode != 0) return defer(o, "host lookup for " + domain + " did not complete (DNS error)");
      std::vector<Host> hosts;
      if (!mx->rdata.empty()) {
        for (const auto& rd : mx->rdata) {
          if (rd.size() < 3) continue;
          int pref = (static_cast<unsigned char>(rd[0]) << 8) | static_cast<unsigned char>(rd[1]);
          std::string target = text::lower(dns::wire_name(rd, 2));
          if (target.empty()) {  // RFC 7505 null MX
            o.kind = DriverOutcome::kFail;
            o.message = "an MX or SRV record indicated no SMTP service";
            return o;
          }
          Host h;
          h.name = target;
          h.mx = pref;
          h.dnssec = mx->secure;
          hosts.push_back(std::move(h));
        }
        sort_mx_hosts(hosts);
        std::vector<Host> resolved;
        for (const auto& h : hosts) {
          bool secure = h.dnssec;
          auto addrs = lookup_host_addresses(*env.resolver, h.name, h.mx, &secure);
          if (!addrs) return defer(o, addrs.error().message);
          for (auto& x : *addrs) {
            x.dnssec = secure && x.dnssec;
            resolved.push_back(std::move(x));
          }
        }
        if (resolved.empty()) return o;  // MX hosts without addresses: decline
        o.kind = DriverOutcome::kAccept;
        o.hosts = std::move(resolved);
        return o;
      }
      // No MX: the domain's own addresses (implicit MX), unless mx_domains says it needs one.
      if (!r_.options.get_string("mx_domains").empty()) {
        auto me_m = expand::match_env(*env.ctx);
        auto m = lookup::match_list(domain, r_.options.get_string("mx_domains"), lookup::ListKind::kDomain,
                                    me_m, true);
        if (m && m->matched()) return o;
      }
      auto addrs = lookup_host_addresses(*env.resolver, domain, kMxImplicit, nullptr);
      if (!addrs) return defer(o, addrs.error().message);
      if (addrs->empty()) continue;
      o.kind = DriverOutcome::kAccept;
      o.hosts = std::move(*addrs);
      return o;
    }
    return o;  // not found: decline
  }

 private:
  static DriverOutcome defer(DriverOutcome& o, std::string m) {
    o.kind = DriverOutcome::kDefer;
    o.message = std::move(m);
    return o;
  }
  const config::DriverInstance& r_;
};

class IpliteralRouter final : public RouterDriver {
 public:
  DriverOutcome run(const Address& a, const std::vector<Address>&, RouteEnv&) const override {
    DriverOutcome o;
    std::string_view d = a.domain;
    if (d.size() < 3 || d.front() != '[' || d.back() != ']') return o;
    std::string_view ip = d.substr(1, d.size() - 2);
    if (ip.size() > 5 && (ip.starts_with("IPv6:") || ip.starts_with("ipv6:"))) ip.remove_prefix(5);
    if (!is_ip_literal(ip)) return o;
    Host h;
    h.name = std::string(d);
    h.address = std::string(ip);
    o.kind = DriverOutcome::kAccept;
    o.hosts.push_back(std::move(h));
    return o;
  }
};

}  // namespace

Result<std::unique_ptr<RouterDriver>> make_manualroute_router(const config::DriverInstance& r) {
  if (r.options.get_string("route_list").empty() && r.options.get_string("route_data").empty())
    return Error::failed("route_list or route_data (but not both) must be set for the " + r.name + " router");
  return std::unique_ptr<RouterDriver>(new ManualrouteRouter(r));
}

Result<std::unique_ptr<RouterDriver>> make_dnslookup_router(const config::DriverInstance& r) {
  return std::unique_ptr<RouterDriver>(new DnslookupRouter(r));
}

Result<std::unique_ptr<RouterDriver>> make_ipliteral_router(const config::DriverInstance&) {
  return std::unique_ptr<RouterDriver>(new IpliteralRouter());
}

}  // namespace tern::deliver
