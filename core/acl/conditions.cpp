// core/acl/conditions.cpp: the conditions and modifiers that need no file of their own
// (acl_check_condition's switch).
//
// List conditions (hosts, domains, local_parts, senders, recipients,
// sender_domains, authenticated, encrypted) expand their list and match it
// with Exim's rules (core/lookup/match), setting $host_data, $domain_data,
// ... from the item that matched. Header and log modifiers collect what the
// session acts on; a module's condition goes through its registry.
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/acl/evaluator.hpp"
#include "core/acl/ratelimit.hpp"
#include "core/config/options.hpp"
#include "core/dns/resolver.hpp"
#include "core/text/ipaddr.hpp"
#include "core/text/list.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::acl::detail {
namespace {

bool prefix_caseless(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && equal_caseless(s.substr(0, p.size()), p);
}

}  // namespace

uint32_t module_bit(Where w) {
  switch (w) {
    case Where::kConnect:
      return TERN_ACL_CONNECT;
    case Where::kHelo:
      return TERN_ACL_HELO;
    case Where::kMail:
      return TERN_ACL_MAIL;
    case Where::kRcpt:
      return TERN_ACL_RCPT;
    case Where::kPredata:
      return TERN_ACL_PREDATA;
    case Where::kData:
      return TERN_ACL_DATA;
    case Where::kMime:
      return TERN_ACL_MIME;
    case Where::kQuit:
      return TERN_ACL_QUIT;
    case Where::kNotQuit:
      return TERN_ACL_NOTQUIT;
    case Where::kVrfy:
      return TERN_ACL_VRFY;
    case Where::kExpn:
      return TERN_ACL_EXPN;
    case Where::kStartTls:
      return TERN_ACL_STARTTLS;
    default:
      return 0;
  }
}

lookup::MatchEnv Evaluator::match_env() {
  lookup::MatchEnv env = expand::match_env(env_.ctx);
  env.trace = tracer();
  if (env_.verifier) {
    env.lookup_host_name = [this]() -> std::optional<std::string> {
      Verifier::HostName h = env_.verifier->host_name();
      if (h.rc != VerifyOutcome::Rc::kOk) return std::nullopt;
      return h.name;
    };
  }
  if (env_.dns) {
    // Host names in host lists are looked up (A and AAAA), as Exim does.
    env.resolve_host = [this](std::string_view name) -> Result<std::vector<std::string>> {
      std::vector<std::string> all;
      bool deferred = false;
      for (uint16_t type : {uint16_t{1}, uint16_t{28}}) {
        auto r = env_.dns->query(name, type);
        if (!r) {
          deferred = true;
          continue;
        }
        for (auto& a : dns::addresses(*r)) all.push_back(std::move(a));
      }
      if (all.empty() && deferred)
        return Error::defer("DNS lookup of \"" + std::string(name) + "\" deferred");
      if (all.empty()) return Error::failed("failed to find IP address for " + std::string(name));
      return all;
    };
  }
  return env;
}

Rc Evaluator::match(std::string_view subject, const Condition& c, lookup::ListKind kind,
                    const char* data_var, ListCache* cache, std::string_view host_name) {
  // match_check_list: the list is expanded first; a forced failure means
  // "not in the list", another failure defers.
  auto list = expand::evaluate(c.value, env_.ctx);
  if (!list) {
    if (list.error().is_forced()) {
      trace("expansion of \"" + c.arg + "\" forced failure: assume not in this list");
      return Rc::kFail;
    }
    log(kLogMain | kLogPanic,
        "failed to expand \"" + c.arg + "\" while checking a list: " + list.error().message);
    return Rc::kDefer;
  }
  lookup::MatchEnv env = match_env();
  if (kind == lookup::ListKind::kHost) env.trace_name = "host";
  env.named_list_cache = cache;
  // Domains, local parts and addresses match caselessly unless +caseful.
  auto r = lookup::match_list(subject, *list, kind, env, true, host_name);
  if (!r) {
    log_msg_ = message(r.error().message);
    return Rc::kError;
  }
  for (auto& l : r->log) log(kLogMain | kLogPanic, std::move(l));
  switch (r->outcome) {
    case lookup::MatchResult::Outcome::kMatch:
      if (data_var && !r->from_cache) set_var(data_var, r->data);
      return Rc::kOk;
    case lookup::MatchResult::Outcome::kNoMatch:
      return Rc::kFail;
    case lookup::MatchResult::Outcome::kDefer:
      if (r->error != "NULL") search_error_ = r->error;
      return Rc::kDefer;
  }
  return Rc::kFail;
}

void Evaluator::add_headers(std::string_view h) {
  // setup_header: leading newlines go, exactly one newline ends the text;
  // each line (with its continuations) is one header, ":at_start:" and
  // friends say where it goes, a line that is no header gets "X-ACL-Warn: ".
  while (!h.empty() && h.front() == '\n') h.remove_prefix(1);
  if (h.empty()) return;
  std::string text(h);
  while (text.size() > 1 && text.back() == '\n' && text[text.size() - 2] == '\n') text.pop_back();
  if (text.back() != '\n') text += '\n';
  size_t p = 0;
  while (p < text.size()) {
    size_t q = p;
    for (;;) {
      q = text.find('\n', q) + 1;
      if (q >= text.size() || (text[q] != ' ' && text[q] != '\t')) break;
    }
    AddedHeader::Position pos = AddedHeader::Position::kBottom;
    size_t start = p;
    if (text[start] == ':') {
      static const std::pair<std::string_view, AddedHeader::Position> kWhere[] = {
          {":after_received:", AddedHeader::Position::kAfterReceived},
          {":at_start_rfc:", AddedHeader::Position::kTopRfc},
          {":at_start:", AddedHeader::Position::kTop},
          {":at_end:", AddedHeader::Position::kBottom}};
      for (const auto& [name, where] : kWhere) {
        if (prefix_caseless(std::string_view(text).substr(start), name)) {
          pos = where;
          start += name.size();
          break;
        }
      }
      while (start < q && (text[start] == ' ' || text[start] == '\t')) ++start;
    }
    size_t s = start;
    while (s + 1 < q && text[s] != ':' && std::isgraph(static_cast<unsigned char>(text[s]))) ++s;
    std::string hdr = (text[s] == ':' ? "" : "X-ACL-Warn: ") + text.substr(start, q - start);
    bool present = false;
    for (const auto& a : env_.state.added_headers)
      if (a.text.compare(0, hdr.size(), hdr) == 0) present = true;
    if (!present) env_.state.added_headers.push_back({pos, std::move(hdr)});
    p = q;
  }
}

void Evaluator::remove_headers(std::string_view names) {
  if (names.empty()) return;
  std::string& r = env_.state.removed_headers;
  r = r.empty() ? std::string(names) : r + " : " + std::string(names);
}

Rc Evaluator::run_condition(const Statement& st, const Condition& c, std::string_view arg) {
  const std::string arg_s(arg);
  switch (c.def->id) {
    case CondId::kAcl: {
      Rc rc = check_wargs(c);
      if (rc == Rc::kDiscard && st.verb != Verb::kAccept && st.verb != Verb::kDiscard) {
        log_msg_ =
            message("nested ACL returned \"discard\" for \"" + std::string(verb_name(st.verb)) +
                    "\" command (only allowed with \"accept\" or \"discard\")");
        return Rc::kError;
      }
      return rc;
    }
    case CondId::kAddHeader:
      add_headers(arg);
      return Rc::kOk;
    case CondId::kAuthenticated: {
      std::string who = variable("sender_host_authenticated");
      if (who.empty()) return Rc::kFail;
      return match(who, c, lookup::ListKind::kString, nullptr, nullptr);
    }
    case CondId::kCondition: {
      auto v = expand::acl_condition_value(arg);
      if (!v) {
        log_msg_ = message(v.error().message);
        return Rc::kDefer;
      }
      return *v ? Rc::kOk : Rc::kFail;
    }
    case CondId::kContinue:
      return Rc::kOk;
    case CondId::kControl:
      return control(arg);
    case CondId::kDelay: {
      auto t = config::parse_time(arg);
      if (!t) {
        log_msg_ = message("syntax error in argument for \"delay\" modifier: \"" + arg_s +
                           "\" is not a time value");
        return Rc::kError;
      }
      trace("delay modifier requests " + std::to_string(*t) + "-second delay");
      if (env_.host_checking) {
        trace("delay skipped in -bh checking mode");
      } else {
        if (env_.flush && !env_.state.controls.no_delay_flush) env_.flush();
        std::this_thread::sleep_for(std::chrono::seconds(*t));
        result_.delay += std::chrono::seconds(*t);
      }
      return Rc::kOk;
    }
    case CondId::kDnslists:
      return dnslists(arg);
    case CondId::kDomains:
      return match(addr_ ? addr_->domain : std::string(), c, lookup::ListKind::kDomain,
                   "domain_data", &domain_lists_);
    case CondId::kEncrypted: {
      std::string cipher = variable("tls_in_cipher");
      if (cipher.empty()) return Rc::kFail;
      // "TLS1.3:TLS_AES_256_GCM_SHA384:256": the middle part is tested.
      if (size_t colon = cipher.find(':'); colon != std::string::npos) {
        cipher.erase(0, colon + 1);
        cipher = cipher.substr(0, cipher.find(':'));
      }
      return match(cipher, c, lookup::ListKind::kString, nullptr, nullptr);
    }
    case CondId::kHosts: {
      Rc rc = match(variable("sender_host_address"), c, lookup::ListKind::kHost, "host_data",
                    &env_.state.memory.host_lists, variable("sender_host_name"));
      if (rc == Rc::kDefer && search_error_) log_msg_ = message(*search_error_);
      return rc;
    }
    case CondId::kLocalParts:
      return match(addr_ ? addr_->local_part : std::string(), c, lookup::ListKind::kLocalPart,
                   "local_part_data", &local_part_lists_);
    case CondId::kLogRejectTarget: {
      unsigned bits = 0;
      text::ListReader items(arg);
      std::string name;
      while (items.next(name)) {
        if (name == "main")
          bits |= kLogMain;
        else if (name == "panic")
          bits |= kLogPanic;
        else if (name == "reject")
          bits |= kLogReject;
        else {
          bits |= kLogMain | kLogReject;
          log(kLogMain | kLogPanic, "unknown log name \"" + name +
                                        "\" in \"log_reject_target\" in " +
                                        std::string(where_name(where_)) + " ACL");
        }
      }
      log_reject_target_ = bits;
      return Rc::kOk;
    }
    case CondId::kLogwrite: {
      unsigned bits = 0;
      std::string_view s = arg;
      std::string unknown;
      if (!s.empty() && s.front() == ':') {
        s.remove_prefix(1);
        while (!s.empty() && s.front() != ':') {
          if (s.substr(0, 4) == "main")
            bits |= kLogMain, s.remove_prefix(4);
          else if (s.substr(0, 5) == "panic")
            bits |= kLogPanic, s.remove_prefix(5);
          else if (s.substr(0, 6) == "reject")
            bits |= kLogReject, s.remove_prefix(6);
          else {
            bits = kLogMain | kLogPanic;
            unknown = "unknown log name in \"" + arg_s + "\" in \"logwrite\" in " +
                      std::string(where_name(where_)) + " ACL";
            s = {};
            break;
          }
          if (!s.empty() && s.front() == ',') s.remove_prefix(1);
        }
        if (!s.empty()) s.remove_prefix(1);
      }
      std::string text = unknown.empty() ? std::string(s) : unknown;
      size_t skip = 0;
      while (skip < text.size() && std::isspace(static_cast<unsigned char>(text[skip]))) ++skip;
      log(bits ? bits : kLogMain, text::string_printing(std::string_view(text).substr(skip)));
      return Rc::kOk;
    }
    case CondId::kQueue:
      if (arg.find('/') != std::string_view::npos) {
        log_msg_ = message("Directory separator not permitted in queue name: '" + arg_s + "'");
        return Rc::kError;
      }
      env_.state.controls.queue = arg_s;
      return Rc::kOk;
    case CondId::kRatelimit:
      return ratelimit(arg);
    case CondId::kRecipients:
      return match(addr_ ? addr_->address : std::string(), c, lookup::ListKind::kAddress,
                   "recipient_data", nullptr);
    case CondId::kRemoveHeader:
      remove_headers(arg);
      return Rc::kOk;
    case CondId::kSeen:
      log_msg_ = message("the \"seen\" condition is not supported in this build of tern");
      return Rc::kError;
    case CondId::kSenderDomains: {
      std::string sender = variable("sender_address");
      size_t at = sender.rfind('@');
      return match(at == std::string::npos ? std::string() : sender.substr(at + 1), c,
                   lookup::ListKind::kDomain, nullptr, &env_.state.memory.sender_domain_lists);
    }
    case CondId::kSenders:
      return match(variable("sender_address"), c, lookup::ListKind::kAddress, "sender_data",
                   &env_.state.memory.sender_lists);
    case CondId::kSet:
      env_.ctx.acl_vars[c.varname] = arg_s;
      return Rc::kOk;
    case CondId::kUdpsend:
      return udpsend(arg);
    case CondId::kVerify: {
      // What verification said is $acl_verify_message from now on; a warn
      // statement never replies with it.
      Rc rc = verify(arg);
      if (user_msg_) verify_message_ = user_msg_;
      if (st.verb == Verb::kWarn) user_msg_ = nullptr;
      return rc;
    }
    case CondId::kModule:
      return module_condition(c, arg);
    case CondId::kEndpass:
    case CondId::kMessage:
    case CondId::kLogMessage:
      return Rc::kOk;  // handled by the caller
  }
  return Rc::kError;
}

Rc Evaluator::module_condition(const Condition& c, std::string_view arg) {
  module_host::CallEnv call = env_.call_env ? *env_.call_env : module_host::CallEnv{};
  call.expand = &env_.ctx;
  if (!call.dns) call.dns = env_.dns;
  module_host::AclResult r = set_.cc.modules->check(*c.module, arg, call);
  if (!r.message.empty()) user_msg_ = log_msg_ = message(r.message);
  switch (r.status) {
    case TERN_OK:
      return Rc::kOk;
    case TERN_DECLINE:
    case TERN_FAIL:
      return Rc::kFail;
    case TERN_DEFER:
      log_msg_ =
          message(r.error.empty() ? "condition \"" + c.module->name + "\" deferred" : r.error);
      return Rc::kDefer;
    default:
      log_msg_ = message(r.error.empty() ? "condition \"" + c.module->name + "\" failed" : r.error);
      return Rc::kError;
  }
}

Rc Evaluator::udpsend(std::string_view arg) {
  // Two list items (host, port), then the payload as it stands.
  char sep = ':';
  std::string_view s = arg;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  if (s.size() > 1 && s.front() == '<' && std::ispunct(static_cast<unsigned char>(s[1]))) {
    sep = s[1];
    s.remove_prefix(2);
  }
  bool more = false;  // a separator followed the last item read
  auto item = [&]() -> std::optional<std::string> {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    if (s.empty()) return std::nullopt;
    std::string out;
    while (!s.empty()) {
      if (s.front() == sep) {
        if (s.size() > 1 && s[1] == sep) {
          out += sep;
          s.remove_prefix(2);
          continue;
        }
        break;
      }
      out += s.front();
      s.remove_prefix(1);
    }
    while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
    bool ended = s.empty();
    if (!ended) s.remove_prefix(1);
    more = !ended;
    return out;
  };
  auto host = item();
  if (!host) {
    log_msg_ = message("missing destination host in \"udpsend\" modifier");
    return Rc::kError;
  }
  auto port = item();
  if (!port) {
    log_msg_ = message("missing destination port in \"udpsend\" modifier");
    return Rc::kError;
  }
  if (!more) {
    log_msg_ = message("missing datagram payload in \"udpsend\" modifier");
    return Rc::kError;
  }
  char* end = nullptr;
  long portnum = std::strtol(port->c_str(), &end, 10);
  if (*end != '\0') {
    log_msg_ = message("bad destination port in \"udpsend\" modifier");
    return Rc::kError;
  }
  std::string address = *host;
  if (text::ip_version(address) == 0) {
    std::vector<std::string> found;
    if (env_.dns) {
      for (uint16_t type : {uint16_t{1}, uint16_t{28}})
        if (auto r = env_.dns->query(address, type)) found = dns::addresses(*r);
    }
    if (found.empty()) {
      log_msg_ = message("DNS lookup failed in \"udpsend\" modifier");
      return Rc::kDefer;
    }
    address = found.front();
  }
  std::string payload(s);
  trace("udpsend [" + address + "]:" + std::to_string(portnum) + " " + payload);
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* ai = nullptr;
  std::string error;
  ssize_t sent = -1;
  if (int e = getaddrinfo(address.c_str(), std::to_string(portnum).c_str(), &hints, &ai); e != 0) {
    error = gai_strerror(e);
  } else {
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        (sent = send(fd, payload.data(), payload.size(), MSG_NOSIGNAL)) < 0)
      error = std::strerror(errno);
    if (fd >= 0) close(fd);
    freeaddrinfo(ai);
  }
  if (!error.empty()) {
    log_msg_ = message("\"udpsend\" failed: " + error);
    return Rc::kDefer;
  }
  if (static_cast<size_t>(sent) < payload.size()) {
    log_msg_ = message("\"udpsend\" truncated from " + std::to_string(payload.size()) + " to " +
                       std::to_string(sent) + " octets");
    return Rc::kDefer;
  }
  trace("udpsend " + std::to_string(sent) + " bytes");
  return Rc::kOk;
}

}  // namespace tern::acl::detail

namespace tern::acl::detail {

Rc Evaluator::ratelimit(std::string_view arg) {
  RateLimitContext rc;
  rc.where = where_;
  rc.sender_host_address = variable("sender_host_address");
  if (addr_) rc.recipient_address = addr_->local_part + "@" + addr_->domain;
  rc.recipients_count = env_.recipients
                            ? static_cast<double>(env_.recipients->size())
                            : std::strtod(variable("recipients_count").c_str(), nullptr);
  rc.message_size = env_.message_size;
  // $sender_rate_limit and $sender_rate_period are set as they are read.
  {
    text::ListReader items = text::ListReader::with_fixed_separator(arg, '/');
    std::string limit, period;
    if (items.next(limit)) set_var("sender_rate_limit", limit);
    if (items.next(period)) set_var("sender_rate_period", period);
  }
  auto spec = parse_ratelimit(arg, rc);
  if (!spec) {
    log_msg_ = message(spec.error().message);
    return Rc::kError;
  }
  const std::string key = ratelimit_key(*spec, rc);
  char head[96];
  std::snprintf(head, sizeof head, "ratelimit condition count=%.0f %.1f/", spec->count,
                spec->limit);
  trace(head + key);

  // Rates already computed: for the command (and anything read-only), the
  // message or the connection.
  using Mode = RateLimitSpec::Mode;
  auto& memory = env_.state.memory;
  std::map<std::string, double, std::less<>>& cache =
      spec->readonly              ? rates_cmd_
      : spec->mode == Mode::kConn ? memory.rates_conn
      : spec->mode == Mode::kByte || spec->mode == Mode::kMail || spec->mode == Mode::kAllRcpts
          ? memory.rates_mail
          : rates_cmd_;
  auto format = [](double rate) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f", rate);
    return std::string(buf);
  };
  if (auto it = cache.find(key); it != cache.end()) {
    set_var("sender_rate", format(it->second));
    trace("ratelimit found pre-computed rate " + format(it->second));
    return it->second < spec->limit ? Rc::kFail : Rc::kOk;
  }
  if (!env_.ratelimits) {
    env_.state.clear_variable("sender_rate");
    trace("ratelimit database not available");
    log_msg_ = message("ratelimit database not available");
    return Rc::kDefer;
  }
  auto now = env_.ctx.clock ? env_.ctx.clock() : std::chrono::system_clock::now();
  RateLimitOutcome out = compute_ratelimit(*env_.ratelimits, *spec, key, now, tracer());
  cache[key] = out.rate;
  set_var("sender_rate", format(out.rate));
  return out.over ? Rc::kOk : Rc::kFail;
}

}  // namespace tern::acl::detail
