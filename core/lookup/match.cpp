// core/lookup/match.cpp: Exim's list matching (match.c and check_host in
// verify.c, 4.96 behaviour).
//
// A list is walked item by item; `!` flips an item's sense; the first item
// that matches decides; if none does, the list matches only when its last
// item was negative. Each kind has its own item test: domains and local
// parts use the string test (`^regex`, `*suffix`, lookups, literal; `@` and
// `@[]` for domains), addresses split into local part and domain, hosts
// compare IP addresses, networks, net-lookups and (with a name) names.
//
// The data of a match is what Exim puts in $value for ${if match_*}: a
// lookup's data, otherwise the item as written (negated or not), which for
// addresses Exim assembles in its own odd way (see address_value).
#include "core/lookup/match.hpp"

#include <cctype>

#include "core/lookup/internal.hpp"
#include "core/text/ipaddr.hpp"
#include "core/text/list.hpp"
#include "core/text/regex.hpp"

namespace tern::lookup {

Result<bool> match_simple_pattern(std::string_view subject, std::string_view pattern, bool caseless,
                                  std::vector<std::string>* captures) {
  if (!pattern.empty() && pattern[0] == '^') {
    auto rx = text::Regex::compile(pattern, caseless);
    if (!rx.ok()) return rx.take_error();
    return rx.value().search(subject, captures);
  }
  if (!pattern.empty() && pattern[0] == '*') {
    std::string_view suffix = pattern.substr(1);
    if (subject.size() < suffix.size()) return false;
    std::string_view tail = subject.substr(subject.size() - suffix.size());
    bool hit = caseless ? equal_caseless(tail, suffix) : tail == suffix;
    if (hit && captures) {
      captures->assign({std::string(subject), std::string(subject.substr(0, subject.size() - suffix.size()))});
    }
    return hit;
  }
  return caseless ? equal_caseless(subject, pattern) : subject == pattern;
}

bool strip_negation(std::string_view& item) {
  bool negative = false;
  while (!item.empty() && item[0] == '!') {
    negative = !negative;
    item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item[0]))) item.remove_prefix(1);
  }
  return negative;
}

namespace {

enum class Item { kOk, kFail, kDefer, kError };

struct ItemResult {
  Item outcome = Item::kFail;
  std::string data;
  std::vector<std::string> captures;
  std::string error;
};

ItemResult ok_item() { return {Item::kOk, {}, {}, {}}; }
ItemResult fail_item() { return {}; }

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

const char* kind_name(ListKind k) {
  switch (k) {
    case ListKind::kDomain: return "domain";
    case ListKind::kHost: return "host";
    case ListKind::kAddress: return "address";
    case ListKind::kLocalPart: return "local part";
    case ListKind::kString: return "string";
  }
  return "string";
}

// The client's host name when match_list() got none: looked up once, on
// the first item that needs it (MatchEnv::lookup_host_name).
struct LazyHostName {
  bool tried = false;
  std::string name;
};

struct Ctx {
  ListKind kind;
  MatchEnv& env;
  bool caseless;
  std::string_view host_name;
  bool ip_only;
  int depth = 0;
  std::vector<std::string>* log;
  std::string_view trace_subject = {};  // what trace lines call the subject
  LazyHostName* lazy_name = nullptr;
};

// One line of Exim's list debugging: `<subject> in "<list>"? yes (<how>)`.
void trace_list(const Ctx& ctx, std::string_view list, bool yes, std::string_view how) {
  if (!ctx.env.trace) return;
  std::string line(ctx.trace_subject);
  line += " in \"";
  line += list;
  line += "\"? ";
  line += yes ? "yes (" : "no (";
  line += how;
  line += ')';
  ctx.env.trace(line);
}

std::string matched(std::string_view item) { return "matched \"" + std::string(item) + "\""; }

std::string trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// A `type;file-or-query` item (with partial-, *, *@ and options) looked up
// with `key`. Returns kOk with the data, kFail, kDefer, or an Error for the
// failures Exim treats as fatal (unknown type, file not openable).
Result<ItemResult> lookup_item(std::string_view item, std::string_view key, Ctx& ctx,
                               bool whole_address) {
  size_t semi = item.find(';');
  std::string type_text(item.substr(0, semi));
  if (!ctx.env.registry || !ctx.env.searcher) return Error::failed("lookups are not available here");
  auto spec = parse_lookup_name(*ctx.env.registry, type_text);
  if (!spec.ok()) return spec.take_error();
  std::string rest = trim(item.substr(semi + 1));
  if (whole_address && spec->partial >= 0) {
    ctx.log->push_back("partial matching is not applicable to whole-address lookups: ignored \"partial-\" in \"" +
                       std::string(item) + "\"");
    spec->partial = -1;
  }
  Found f;
  PartialVars vars;
  if (spec->type->style() == Style::kQuery) {
    f = ctx.env.searcher->query(spec.value(), rest);
  } else {
    f = ctx.env.searcher->find(spec.value(), rest, key, nullptr, whole_address ? nullptr : &vars);
  }
  if (f.open_failed) return Error::failed(f.error);
  ItemResult r;
  switch (f.status) {
    case Found::Status::kFound:
      r.outcome = Item::kOk;
      r.data = std::move(f.data);
      if (vars.set) r.captures = {std::string(key), vars.wild, vars.fixed};
      break;
    case Found::Status::kNotFound: r.outcome = Item::kFail; break;
    case Found::Status::kDefer:
      r.outcome = Item::kDefer;
      r.error = std::move(f.error);
      break;
  }
  return r;
}

ItemResult ok_item(std::string_view data) {
  ItemResult r = ok_item();
  r.data = std::string(data);
  return r;
}

// Exim's check_string: one domain / local part / string pattern. A match by
// anything but a lookup gives the pattern as its data (`@`: the primary
// host name it stands for).
Result<ItemResult> check_string(std::string_view s, std::string_view pattern, Ctx& ctx, ListKind kind,
                                bool caseless) {
  if (kind == ListKind::kDomain) {
    caseless = true;
    if (pattern == "@") {
      const std::string& me = ctx.env.primary_hostname;
      return equal_caseless(s, me) ? ok_item(me) : fail_item();
    }
    if (pattern == "@[]") {
      // A domain literal naming one of our interfaces.
      if (s.size() > 2 && s.front() == '[' && s.back() == ']') {
        std::string_view a = s.substr(1, s.size() - 2);
        if (a.substr(0, 5) == "IPv6:" || a.substr(0, 5) == "ipv6:") a.remove_prefix(5);
        for (const auto& ip : ctx.env.interface_addresses)
          if (ip == a) return ok_item(pattern);
      }
      return fail_item();
    }
    // @mx_any, @mx_primary, @mx_secondary need DNS, which list matching
    // does not do: they never match.
    if (pattern.substr(0, 4) == "@mx_") return fail_item();
  }
  if (!pattern.empty() && (pattern[0] == '^' || pattern[0] == '*' || pattern.find(';') == pattern.npos)) {
    ItemResult r;
    auto m = match_simple_pattern(s, pattern, caseless, &r.captures);
    if (!m.ok()) return m.take_error();
    if (!m.value()) return fail_item();
    r.outcome = Item::kOk;
    r.data = std::string(pattern);
    return r;
  }
  if (pattern.empty()) return s.empty() ? ok_item() : fail_item();
  return lookup_item(pattern, s, ctx, false);
}

Result<MatchResult> check_list(std::string_view subject, std::string_view list, Ctx& ctx);

// The data of a local@domain (or bare domain) address item that matched,
// as Exim 4.96 builds it: as many bytes of the pattern as the subject's
// local part has (none for a bare domain), `@`, then the domain part's own
// data. For a literal local part that is the pattern's local part, but for
// `*suffix` it is not: bob@x against `*@x` gives `*@x@x`, against `*b@x`
// gives `*b@@x`.
std::string address_value(std::string_view pattern, size_t subject_local_len, bool has_local,
                          std::string_view domain_data) {
  std::string v(has_local ? pattern.substr(0, subject_local_len) : std::string_view());
  v += '@';
  v += domain_data;
  return v;
}

// Exim checks an address's domain part as a one-item domain list, which
// its list debugging shows.
void trace_domain_part(const Ctx& ctx, std::string_view sdomain, std::string_view pattern,
                       const Result<ItemResult>& r) {
  if (!r.ok() || r->outcome == Item::kDefer || r->outcome == Item::kError) return;
  Ctx sub = ctx;
  sub.trace_subject = sdomain;
  trace_list(sub, pattern, r->outcome == Item::kOk, r->outcome == Item::kOk ? matched(pattern) : "end of list");
}

// Exim's check_address: `subject` is local@domain.
Result<ItemResult> check_address(std::string_view subject, std::string_view pattern, Ctx& ctx) {
  if (!pattern.empty() && pattern[0] == '^') {
    // A regex on the whole address gives no data.
    auto r = check_string(subject, pattern, ctx, ListKind::kString, ctx.caseless);
    if (r.ok()) r->data.clear();
    return r;
  }
  size_t semi = pattern.find(';');
  if (pattern.substr(0, 2) == "@@") {
    size_t at = subject.rfind('@');
    if (at == subject.npos) return fail_item();
    std::string_view local = subject.substr(0, at);
    auto r = lookup_item(pattern.substr(2), subject.substr(at + 1), ctx, true);
    if (!r.ok() || r->outcome != Item::kOk) return r;
    // The data is a list of local parts for the domain.
    for (const auto& raw : text::list_items(r->data)) {
      std::string_view it(raw);
      bool negate = strip_negation(it);
      auto m = match_simple_pattern(local, it, ctx.caseless, nullptr);
      if (!m.ok()) return m.take_error();
      if (m.value()) {
        if (negate) return fail_item();
        return ok_item(it);  // the entry that matched, not the whole list
      }
    }
    return fail_item();
  }
  if (semi != pattern.npos) {
    // A whole-address lookup, unless the `;` is in the domain part of
    // local@type;file (the `*@` affix is part of the type).
    std::string_view type = pattern.substr(0, semi);
    bool has_at = false;
    for (size_t i = 0; i < type.size(); ++i)
      if (type[i] == '@' && (i == 0 || type[i - 1] != '*')) has_at = true;
    if (!has_at) return lookup_item(pattern, subject, ctx, true);
  }
  size_t sat = subject.rfind('@');
  if (sat == subject.npos) {
    ctx.log->push_back("no @ found in the subject of an address list match: subject=\"" + std::string(subject) +
                       "\" pattern=\"" + std::string(pattern) + "\"");
    return fail_item();
  }
  std::string_view slocal = subject.substr(0, sat), sdomain = subject.substr(sat + 1);
  size_t pat = pattern.find('@');
  if (pat == pattern.npos) {
    auto r = check_string(sdomain, pattern, ctx, ListKind::kDomain, true);
    trace_domain_part(ctx, sdomain, pattern, r);
    if (r.ok() && r->outcome == Item::kOk) r->data = address_value(pattern, 0, false, r->data);
    return r;
  }
  std::string_view plocal = pattern.substr(0, pat), pdomain = pattern.substr(pat + 1);
  if (!plocal.empty() && plocal[0] == '*') {
    std::string_view suffix = plocal.substr(1);
    if (slocal.size() < suffix.size()) return fail_item();
    std::string_view tail = slocal.substr(slocal.size() - suffix.size());
    if (!(ctx.caseless ? equal_caseless(tail, suffix) : tail == suffix)) return fail_item();
  } else if (!(ctx.caseless ? equal_caseless(slocal, plocal) : slocal == plocal)) {
    return fail_item();
  }
  if (pdomain.empty()) return fail_item();  // Exim 4.96: `bob@` matches not even `bob@`
  if (pdomain[0] == '+') {
    Ctx sub = ctx;
    sub.kind = ListKind::kDomain;
    sub.trace_subject = sdomain;
    auto m = check_list(sdomain, pdomain, sub);
    if (!m.ok()) return m.take_error();
    ItemResult r;
    r.outcome = m->outcome == MatchResult::Outcome::kMatch ? Item::kOk
                : m->outcome == MatchResult::Outcome::kDefer ? Item::kDefer : Item::kFail;
    r.data = r.outcome == Item::kOk ? address_value(pattern, slocal.size(), true, m->data) : std::string();
    r.error = m->error;
    return r;
  }
  auto r = check_string(sdomain, pdomain, ctx, ListKind::kDomain, true);
  trace_domain_part(ctx, sdomain, pdomain, r);
  if (r.ok() && r->outcome == Item::kOk) r->data = address_value(pattern, slocal.size(), true, r->data);
  return r;
}

// verify.c's check_host: `ip` against one host list item.
Result<ItemResult> check_host(std::string_view ip, std::string_view ss, Ctx& ctx) {
  if (ss == "*") return ok_item();
  if (ip.empty()) return ss.empty() ? ok_item() : fail_item();
  if (ss.empty()) return fail_item();
  std::string pattern(ss);
  if (ss[0] == '@') {
    if (ss.size() == 1) {
      if (ctx.ip_only) return ItemResult{Item::kError, {}, {}, "NULL"};
      pattern = ctx.env.primary_hostname;
    } else if (ss == "@[]") {
      for (const auto& a : ctx.env.interface_addresses)
        if (a == ip) return ok_item();
      return fail_item();
    }
  }
  if (auto net = text::parse_ip_address(pattern, true))
    return text::host_is_in_net(ip, pattern, net->mask_offset) ? ok_item() : fail_item();
  {
    size_t t = 0;
    while (t < pattern.size() && (std::isdigit(static_cast<unsigned char>(pattern[t])) || pattern[t] == '.')) ++t;
    if (t == pattern.size() || (pattern[t] == '/' && t != 0))
      return ItemResult{Item::kError, {}, {}, "malformed IPv4 address or address mask"};
  }
  size_t semi = pattern.find(';');
  bool iplookup = ctx.ip_only && semi != std::string::npos;
  int mlen = -1;
  size_t type_start = 0;
  if (pattern.compare(0, 3, "net") == 0 && semi != std::string::npos) {
    size_t t = 3;
    int n = 0;
    while (t < pattern.size() && std::isdigit(static_cast<unsigned char>(pattern[t]))) n = n * 10 + (pattern[t++] - '0');
    mlen = t == 3 ? -1 : n;
    iplookup = t < pattern.size() && pattern[t] == '-';
    type_start = t + 1;
  }
  if (iplookup) {
    std::string type_name = pattern.substr(type_start, semi - type_start);
    if (!ctx.env.registry || !ctx.env.searcher) return Error::failed("lookups are not available here");
    LookupType* type = ctx.env.registry->find(type_name);
    if (!type) return Error::failed("unknown lookup type \"" + type_name + "\"");
    LookupSpec spec;
    spec.type = type;
    Found f;
    if (type->style() == Style::kQuery) {
      f = ctx.env.searcher->query(spec, pattern.substr(semi + 1));
    } else {
      char sep = type->name() == "iplsearch" ? ':' : '.';
      text::IpAddress a = text::host_aton(ip);
      if (mlen >= 0) text::apply_mask(a, mlen);
      std::string key = text::format_full(a, mlen, sep);
      f = ctx.env.searcher->find(spec, pattern.substr(semi + 1), key);
    }
    if (f.open_failed) return Error::failed(f.error);
    if (f.status == Found::Status::kFound) {
      ItemResult r = ok_item();
      r.data = std::move(f.data);
      return r;
    }
    if (f.status == Found::Status::kDefer) return ItemResult{Item::kDefer, {}, {}, f.error};
    return fail_item();
  }
  if (ctx.ip_only) return ItemResult{Item::kError, {}, {}, "cannot match host name in match_ip list"};
  bool plain_name = true;
  for (char c : pattern)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') plain_name = false;
  if (plain_name) {
    if (ctx.env.resolve_host) {
      auto addrs = ctx.env.resolve_host(pattern);
      if (!addrs.ok()) {
        if (addrs.error().is_defer()) return ItemResult{Item::kDefer, {}, {}, addrs.error().message};
        return ItemResult{Item::kError, {}, {}, "failed to find IP address for " + pattern};
      }
      for (const auto& a : addrs.value())
        if (text::host_is_in_net(a, ip, std::nullopt)) return ok_item();
      return fail_item();
    }
    return ItemResult{Item::kError, {}, {}, "failed to find IP address for " + pattern};
  }
  if (semi != std::string::npos && ctx.env.registry) {
    auto spec = parse_lookup_name(*ctx.env.registry, pattern.substr(0, semi));
    if (!spec.ok()) {
      ctx.log->push_back(spec.error().message + " in host list item \"" + pattern + "\"");
      return ItemResult{Item::kDefer, {}, {}, spec.error().message};
    }
    if (spec->type->style() == Style::kQuery) {
      auto r = check_string("", pattern, ctx, ListKind::kString, true);
      if (!r.ok() || r->outcome == Item::kOk || r->outcome == Item::kDefer) return r;
      return fail_item();
    }
  }
  std::string_view host_name = ctx.host_name;
  if (host_name.empty() && ctx.lazy_name && ctx.env.lookup_host_name) {
    if (!ctx.lazy_name->tried) {
      ctx.lazy_name->tried = true;
      if (ctx.env.trace) ctx.env.trace("sender host name required, to match against " + pattern);
      if (auto n = ctx.env.lookup_host_name()) ctx.lazy_name->name = std::move(*n);
    }
    host_name = ctx.lazy_name->name;
  }
  if (host_name.empty())
    return ItemResult{Item::kError, {}, {}, "failed to find host name for " + std::string(ip)};
  return check_string(host_name, pattern, ctx, ListKind::kString, true);
}

Result<ItemResult> check_item(std::string_view subject, std::string_view item, Ctx& ctx) {
  switch (ctx.kind) {
    case ListKind::kDomain: return check_string(subject, item, ctx, ListKind::kDomain, true);
    case ListKind::kLocalPart: return check_string(subject, item, ctx, ListKind::kLocalPart, ctx.caseless);
    case ListKind::kString: return check_string(subject, item, ctx, ListKind::kString, ctx.caseless);
    case ListKind::kAddress: return check_address(subject, item, ctx);
    case ListKind::kHost: return check_host(subject, item, ctx);
  }
  return fail_item();
}

// Exim's match_check_list.
Result<MatchResult> check_list(std::string_view subject, std::string_view list, Ctx& ctx) {
  MatchResult out;
  bool include_unknown = false, ignore_unknown = false, include_defer = false, ignore_defer = false;
  bool last_negative = false;
  text::ListReader reader(list, ':');
  std::string raw;
  while (reader.next(raw)) {
    std::string_view item(raw);
    if (ctx.kind == ListKind::kHost) {
      if (item == "+include_unknown") { include_unknown = true; ignore_unknown = false; continue; }
      if (item == "+exclude_unknown") { include_unknown = false; ignore_unknown = false; continue; }
      if (item == "+ignore_unknown") { ignore_unknown = true; include_unknown = false; continue; }
      if (item == "+include_defer") { include_defer = true; ignore_defer = false; continue; }
      if (item == "+exclude_defer") { include_defer = false; ignore_defer = false; continue; }
      if (item == "+ignore_defer") { ignore_defer = true; include_defer = false; continue; }
    }
    // `+caseful` (exactly, before any `!`) makes local parts caseful for
    // the rest of the list, and, as Exim shares the flag with named
    // sublists, for the rest of a list that includes this one.
    if ((ctx.kind == ListKind::kAddress || ctx.kind == ListKind::kLocalPart) && item == "+caseful") {
      ctx.caseless = false;
      continue;
    }
    bool positive = !strip_negation(item);
    last_negative = !positive;
    const auto yes = positive ? MatchResult::Outcome::kMatch : MatchResult::Outcome::kNoMatch;

    if (!item.empty() && item[0] == '+' && ctx.kind != ListKind::kString) {
      std::string_view name = item.substr(1);
      const std::string* text = ctx.env.named_list ? ctx.env.named_list(ctx.kind, name) : nullptr;
      if (!text) {
        ctx.log->push_back("unknown named " + std::string(kind_name(ctx.kind)) + " list \"" + std::string(item) + "\"");
        out.outcome = MatchResult::Outcome::kDefer;
        out.error = "NULL";
        return out;
      }
      std::map<std::string, bool, std::less<>>* cache =
          text->find('$') == std::string::npos ? ctx.env.named_list_cache : nullptr;
      if (cache) {
        if (auto hit = cache->find(name); hit != cache->end()) {
          if (!hit->second) continue;  // cached "not in it": the next item decides
          out.outcome = yes;
          out.from_cache = true;
          trace_list(ctx, list, positive, matched(raw) + " - cached");
          return out;
        }
      }
      if (ctx.depth > 50) return Error::failed("named list \"" + std::string(item) + "\" refers to itself");
      std::string expanded = *text;
      if (ctx.env.expand) {
        auto x = ctx.env.expand(*text);
        if (!x.ok()) return x.take_error();
        expanded = std::move(x.value());
      }
      Ctx sub = ctx;
      sub.depth = ctx.depth + 1;
      auto r = check_list(subject, expanded, sub);
      ctx.caseless = sub.caseless;
      if (!r.ok()) return r;
      if (r->outcome == MatchResult::Outcome::kDefer) return r;
      if (cache) (*cache)[std::string(name)] = r->outcome == MatchResult::Outcome::kMatch;
      if (r->outcome == MatchResult::Outcome::kMatch) {
        out = std::move(r.value());
        out.outcome = yes;
        trace_list(ctx, list, positive, matched(raw));
        return out;
      }
      continue;
    }

    auto r = check_item(subject, item, ctx);
    if (!r.ok()) return r.take_error();
    ItemResult& ir = r.value();
    switch (ir.outcome) {
      case Item::kOk:
        out.outcome = yes;
        out.data = std::move(ir.data);
        out.captures = std::move(ir.captures);
        trace_list(ctx, list, positive, matched(raw));
        return out;
      case Item::kFail: break;
      case Item::kDefer:
        if (ctx.kind == ListKind::kHost) {
          if (ignore_defer) break;
          if (include_defer) {
            ctx.log->push_back("DNS lookup of \"" + std::string(item) + "\" deferred: accepted by +include_defer");
            out.outcome = MatchResult::Outcome::kMatch;
            return out;
          }
        }
        out.outcome = MatchResult::Outcome::kDefer;
        out.error = std::move(ir.error);
        return out;
      case Item::kError:
        if (ignore_unknown) break;
        if (include_unknown) {
          ctx.log->push_back(ir.error + ": accepted by +include_unknown");
          out.outcome = MatchResult::Outcome::kMatch;
          return out;
        }
        out.outcome = MatchResult::Outcome::kNoMatch;
        return out;
    }
  }
  out.outcome = last_negative ? MatchResult::Outcome::kMatch : MatchResult::Outcome::kNoMatch;
  trace_list(ctx, list, last_negative, "end of list");
  return out;
}

}  // namespace

Result<MatchResult> match_list(std::string_view subject, std::string_view list, ListKind kind, MatchEnv& env,
                               bool caseless, std::string_view host_name) {
  std::vector<std::string> log;
  LazyHostName lazy;
  Ctx ctx{kind, env, caseless, host_name, false, 0, &log};
  ctx.trace_subject = env.trace_name.empty() ? subject : std::string_view(env.trace_name);
  ctx.lazy_name = &lazy;
  if (kind == ListKind::kAddress && subject.empty()) {
    // The null sender matches only an empty item.
    MatchResult out;
    text::ListReader reader(list, ':');
    std::string item;
    bool last_negative = false;
    while (reader.next(item)) {
      std::string_view it(item);
      bool positive = !strip_negation(it);
      last_negative = !positive;
      if (it.empty()) {
        out.outcome = positive ? MatchResult::Outcome::kMatch : MatchResult::Outcome::kNoMatch;
        trace_list(ctx, list, positive, matched(item));
        return out;
      }
    }
    out.outcome = last_negative ? MatchResult::Outcome::kMatch : MatchResult::Outcome::kNoMatch;
    trace_list(ctx, list, last_negative, "end of list");
    return out;
  }
  auto r = check_list(subject, list, ctx);
  if (r.ok()) r->log = std::move(log);
  return r;
}

Result<MatchResult> match_ip(std::string_view ip, std::string_view list, MatchEnv& env) {
  if (!ip.empty() && text::ip_version(ip) == 0) return Error::failed("\"" + std::string(ip) + "\" is not an IP address");
  std::vector<std::string> log;
  Ctx ctx{ListKind::kHost, env, false, {}, true, 0, &log};
  ctx.trace_subject = env.trace_name.empty() ? ip : std::string_view(env.trace_name);
  auto r = check_list(ip, list, ctx);
  if (r.ok()) r->log = std::move(log);
  return r;
}

}  // namespace tern::lookup
