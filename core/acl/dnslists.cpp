// core/acl/dnslists.cpp: the `dnslists` condition (Exim's dnsbl.c).
//
// Each item is `[+option | [txtdomain,]domain[=|==|!=|!==|&|=&|!&|!=&]ips][/keys]`:
// the key (the client's address by default; IP addresses are reversed) is
// looked up as an A record under the domain; with an IP list the answer must
// match it (= any address in the list, == all of them, & bitmask, !
// inverted). On a listing the TXT record gives $dnslist_text, the domain
// $dnslist_domain, the answer $dnslist_value and the key $dnslist_matched.
// Answers are cached per session for their TTL (at most an hour), as Exim
// caches them per process (one process is one connection).
#include <cctype>
#include <cstdio>

#include "core/acl/evaluator.hpp"
#include "core/dns/resolver.hpp"
#include "core/text/ipaddr.hpp"
#include "core/text/list.hpp"

namespace tern::acl {

struct SessionState::DnsCacheEntry {
  enum class Status { kSucceed, kNoMatch, kNoData, kAgain } status = Status::kAgain;
  std::chrono::system_clock::time_point expiry;
  std::vector<std::string> addresses;  // A records, in order
  bool text_set = false;
  std::optional<std::string> text;
};

namespace detail {
namespace {

using Entry = SessionState::DnsCacheEntry;
constexpr unsigned kMtNot = 1, kMtAll = 2;
constexpr uint32_t kMaxTtl = 3600;

// 127.0.0.0/8 as a 32-bit value, or nullopt for anything else.
std::optional<uint32_t> loopback_value(std::string_view a) {
  if (text::ip_version(a) != 4) return std::nullopt;
  uint32_t v = text::host_aton(a).words[0];
  if ((v & 0xff000000u) != 0x7f000000u) return std::nullopt;
  return v;
}

bool strange_domain(std::string_view d) {
  for (char c : d)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
      return true;
  return false;
}

// What a lookup found: the A records as $dnslist_value has them, the TXT.
struct Listing {
  bool found = false;
  std::string value;
  std::optional<std::string> text;
};

struct Check {
  std::string domain, domain_txt;  // domain_txt == domain when there is no TXT domain
  std::optional<std::string> iplist;
  bool bitmask = false;
  unsigned match_type = 0;
  Rc defer_return = Rc::kFail;
};

// one_check_dnsbl: one query name (`prepend`.`domain`), the answer cached
// in the session.
Rc one_check(RunEnv& env, const Check& c, const std::string& domain, const std::string& domain_txt,
             const std::string& keydomain, const std::string& prepend,
             const std::function<void(std::string_view)>& trace,
             const std::function<void(unsigned, std::string)>& log, Listing* listing) {
  auto say = [&](const std::string& l) {
    if (trace) trace(l);
  };
  const std::string query = prepend + "." + domain;
  if (query.size() >= 256) {
    log(kLogMain | kLogPanic, "dnslist query is too long (ignored): " + query + "...");
    return Rc::kFail;
  }
  const auto now = env.ctx.clock ? env.ctx.clock() : std::chrono::system_clock::now();
  auto& cache = env.state.memory.dnsbl_cache;
  std::shared_ptr<Entry> e;
  if (auto it = cache.find(query); it != cache.end()) e = it->second;
  if (e && e->expiry > now) {
    say("dnslists: using result of previous lookup");
  } else {
    if (e) say("cached data found but past valid time; ");
    e = std::make_shared<Entry>();
    cache[query] = e;
    say("new DNS lookup for " + query);
    uint32_t ttl = kMaxTtl;
    if (!env.dns) {
      e->status = Entry::Status::kAgain;
    } else if (auto r = env.dns->query(query, dns::kTypeA); !r) {
      e->status = Entry::Status::kAgain;
    } else if (r->rcode == 3) {
      e->status = Entry::Status::kNoMatch;
    } else if (r->rcode != 0) {
      e->status = Entry::Status::kAgain;
    } else {
      e->addresses = dns::addresses(*r);
      // A CNAME without A records is no listing.
      e->status = e->addresses.empty() ? Entry::Status::kNoData : Entry::Status::kSucceed;
      if (r->ttl > 0 && r->ttl < ttl) ttl = r->ttl;
    }
    e->expiry = now + std::chrono::seconds(ttl);
    say("dnslists: wrote cache entry, ttl=" + std::to_string(ttl));
  }

  if (e->status == Entry::Status::kSucceed) {
    std::string addlist;
    for (const auto& a : e->addresses) addlist += (addlist.empty() ? "" : ", ") + a;
    say("DNS lookup for " + query + " succeeded (yielding " + addlist + ")");
    if (c.iplist) {
      // Any address in the list (=), all of them (==), by bitmask (&).
      size_t i = 0;
      for (; i < e->addresses.size(); ++i) {
        const std::string& da = e->addresses[i];
        bool res = false;
        text::ListReader ips = text::ListReader::with_fixed_separator(*c.iplist, ',');
        std::string ip;
        if (!c.bitmask) {
          while (!res && ips.next(ip)) res = ip == da;
        } else {
          uint32_t mask = 0;
          if (text::ip_version(da) == 4) {
            if (auto v = loopback_value(da))
              mask = *v;
            else
              log(kLogMain, "DNS list lookup for " + keydomain + " at " + domain + " returned " +
                                da + "; not in 127.0/8 and discarded");
          }
          while (!res && ips.next(ip)) {
            if (text::ip_version(ip) != 4) continue;
            uint32_t v = text::host_aton(ip).words[0];
            res = (v & mask) == v;
          }
        }
        if (((c.match_type & kMtAll) != 0) == !res) break;
      }
      const bool none = i == e->addresses.size();
      if ((c.match_type == kMtNot || c.match_type == kMtAll) != none) {
        static constexpr const char* kWhy[] = {"was no match", "was an exclude match",
                                               "was an IP address that did not match",
                                               "were no IP addresses that did not match"};
        say("=> but we are not accepting this block class because");
        say(std::string("=> there ") + kWhy[c.match_type] + " for " +
            ((c.match_type & kMtAll) ? "=" : "") + (c.bitmask ? '&' : '=') + *c.iplist);
        return Rc::kFail;
      }
    } else {
      bool ok = false;
      for (const auto& da : e->addresses) {
        if (loopback_value(da))
          ok = true;
        else
          log(kLogMain, "DNS list lookup for " + keydomain + " at " + domain + " returned " + da +
                            "; not in 127.0/8 and discarded");
      }
      if (!ok) return Rc::kFail;
    }
    // Listed: the TXT record comes from the TXT domain when there is one
    // (which must list the key too), else from here.
    if (domain_txt != domain) {
      Check again = c;
      again.iplist.reset();
      again.bitmask = false;
      return one_check(env, again, domain_txt, domain_txt, keydomain, prepend, trace, log, listing);
    }
    if (!e->text_set) {
      e->text_set = true;
      if (env.dns) {
        // Exim keeps the first character-string of the first TXT record.
        if (auto r = env.dns->query(query, dns::kTypeTxt); r && r->rcode == 0) {
          for (const auto& rd : r->rdata) {
            if (rd.empty()) continue;
            e->text = rd.substr(1, static_cast<unsigned char>(rd[0]));
            break;
          }
        }
      }
    }
    listing->found = true;
    listing->value = addlist;
    listing->text = e->text;
    return Rc::kOk;
  }
  if (e->status == Entry::Status::kAgain) {
    log(kLogMain, "DNS list lookup defer (probably timeout) for " + query + ": " +
                      (c.defer_return == Rc::kOk     ? "assumed in list"
                       : c.defer_return == Rc::kFail ? "assumed not in list"
                                                     : "returned DEFER"));
    return c.defer_return;
  }
  say("DNS lookup for " + query + " failed");
  say("=> that means " + keydomain + " is not listed at " + domain);
  return Rc::kFail;
}

}  // namespace

Rc Evaluator::dnslists(std::string_view arg) {
  Rc defer_return = Rc::kFail;
  std::string revadd;
  auto logger = [this](unsigned t, std::string s) { log(t, std::move(s)); };
  text::ListReader items(arg);
  std::string item;
  while (items.next(item)) {
    trace("dnslists check: " + item);
    if (!item.empty() && item[0] == '+') {
      if (equal_caseless(item, "+include_unknown"))
        defer_return = Rc::kOk;
      else if (equal_caseless(item, "+exclude_unknown"))
        defer_return = Rc::kFail;
      else if (equal_caseless(item, "+defer_unknown"))
        defer_return = Rc::kDefer;
      else
        log(kLogMain | kLogPanic, "unknown item in dnslist (ignored): " + item);
      continue;
    }
    Check c;
    c.defer_return = defer_return;
    std::optional<std::string> key;
    if (size_t slash = item.find('/'); slash != std::string::npos) {
      key = item.substr(slash + 1);
      item.resize(slash);
    }
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      eq = item.find('&');
      c.bitmask = eq != std::string::npos;
    }
    if (eq != std::string::npos) {
      size_t cut = eq;
      if (eq > 0 && item[eq - 1] == '!') {
        c.match_type |= kMtNot;
        cut = eq - 1;
      }
      std::string rest = item.substr(eq + 1);
      if (!c.bitmask && !rest.empty() && (rest[0] == '=' || rest[0] == '&')) {
        c.bitmask = rest[0] == '&';
        c.match_type |= kMtAll;
        rest.erase(0, 1);
      }
      c.iplist = rest;
      item.resize(cut);
    }
    c.domain = c.domain_txt = item;
    if (size_t comma = item.find(','); comma != std::string::npos) {
      c.domain_txt = item.substr(0, comma);
      c.domain = item.substr(comma + 1);
    }
    if (strange_domain(c.domain))
      log(kLogMain,
          "dnslists domain \"" + c.domain + "\" contains strange characters - is this right?");
    if (c.domain_txt != c.domain && strange_domain(c.domain_txt))
      log(kLogMain,
          "dnslists domain \"" + c.domain_txt + "\" contains strange characters - is this right?");

    // A listing sets the four variables; a defer taken as a listing
    // (+include_unknown) leaves $dnslist_value and $dnslist_text as they were.
    auto listed = [&](const std::string& keydomain, const Listing& l) {
      set_var("dnslist_domain", c.domain_txt);
      set_var("dnslist_matched", keydomain);
      if (l.found) {
        set_var("dnslist_value", l.value);
        if (l.text)
          set_var("dnslist_text", *l.text);
        else
          env_.state.clear_variable("dnslist_text");
      }
      trace("=> that means " + keydomain + " is listed at " + c.domain_txt);
    };
    if (!key) {
      if (where_ == Where::kNotSmtpStart || where_ == Where::kNotSmtp) {
        log_msg_ = message("cannot test auto-keyed dnslists condition in " +
                           std::string(where_name(where_)) + " ACL");
        return Rc::kError;
      }
      std::string host = variable("sender_host_address");
      if (host.empty()) return Rc::kFail;  // can never match
      if (revadd.empty()) revadd = text::reverse_ip(host);
      Listing l;
      Rc rc = one_check(env_, c, c.domain, c.domain_txt, host, revadd, tracer(), logger, &l);
      if (rc == Rc::kOk) listed(host, l);
      if (rc != Rc::kFail) return rc;
    } else {
      bool deferred = false;
      text::ListReader keys(*key);
      std::string keydomain;
      while (keys.next(keydomain)) {
        std::string prepend =
            text::ip_version(keydomain) != 0 ? text::reverse_ip(keydomain) : keydomain;
        Listing l;
        Rc rc =
            one_check(env_, c, c.domain, c.domain_txt, keydomain, prepend, tracer(), logger, &l);
        if (rc == Rc::kOk) {
          listed(keydomain, l);
          return Rc::kOk;
        }
        if (rc == Rc::kDefer) deferred = true;
      }
      if (deferred) return Rc::kDefer;
    }
  }
  return Rc::kFail;
}

}  // namespace detail
}  // namespace tern::acl
