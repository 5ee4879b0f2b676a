// core/acl/verify.cpp: the `verify` condition (acl.c's acl_verify and verify.c's header checks).
//
// The argument is an item (recipient, sender[=address], helo,
// reverse_host_lookup, certificate, header_syntax, header_names_ascii,
// not_blind) with /options; the callout options are parsed with Exim's
// checks and passed on. Routing, callouts and host name lookups are the
// session's (Verifier); the header checks read RunEnv::header_lines.
#include <cctype>

#include "core/acl/evaluator.hpp"
#include "core/config/options.hpp"
#include "core/smtp/address.hpp"
#include "core/text/list.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::acl::detail {
namespace {

enum class Item {
  kReverseHostLookup,
  kCertificate,
  kHelo,
  kCsa,
  kHeaderSyntax,
  kNotBlind,
  kHeaderSender,
  kSender,
  kRecipient,
  kHeaderNamesAscii
};

constexpr uint32_t kAllWheres = 0xffffffffu;
constexpr uint32_t kDataOnly = bit(Where::kData) | bit(Where::kNotSmtp);

struct ItemDef {
  std::string_view name;
  Item id;
  uint32_t where_allowed;
  bool no_options;
};
constexpr ItemDef kItems[] = {
    {"reverse_host_lookup", Item::kReverseHostLookup, kAllWheres, false},
    {"certificate", Item::kCertificate, kAllWheres, true},
    {"helo", Item::kHelo, kAllWheres, true},
    {"csa", Item::kCsa, kAllWheres, false},
    {"header_syntax", Item::kHeaderSyntax, kDataOnly, true},
    {"not_blind", Item::kNotBlind, kDataOnly, true},
    {"header_sender", Item::kHeaderSender, kDataOnly, false},
    {"sender", Item::kSender,
     bit(Where::kMail) | bit(Where::kRcpt) | bit(Where::kPredata) | bit(Where::kData) |
         bit(Where::kNotSmtp),
     false},
    {"recipient", Item::kRecipient, bit(Where::kRcpt) | bit(Where::kVrfy), false},
    {"header_names_ascii", Item::kHeaderNamesAscii, kDataOnly, true},
};

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The headers whose addresses Exim checks, by name.
bool is_address_header(std::string_view name, bool to_cc_only) {
  if (to_cc_only) return equal_caseless(name, "to") || equal_caseless(name, "cc");
  for (std::string_view h : {"from", "reply-to", "sender", "to", "cc", "bcc"})
    if (equal_caseless(name, h)) return true;
  return false;
}

// The addresses of a header's value, split at the commas that separate
// them (not those in quotes, comments or <...>), with group syntax
// ("Friends: a@b, c@d;") taken apart. `fn(text, address)` gets each one;
// returning false stops the walk.
template <class Fn>
void for_each_address(std::string_view value, Fn fn) {
  bool allow_group = true, in_group = false;
  size_t i = 0;
  while (i < value.size()) {
    size_t start = i;
    int paren = 0, angle = 0;
    bool quoted = false;
    for (; i < value.size(); ++i) {
      char c = value[i];
      if (c == '\\' && i + 1 < value.size()) {
        ++i;
        continue;
      }
      if (quoted) {
        if (c == '"') quoted = false;
        continue;
      }
      if (paren) {
        if (c == '(')
          ++paren;
        else if (c == ')')
          --paren;
        continue;
      }
      if (c == '"')
        quoted = true;
      else if (c == '(')
        paren = 1;
      else if (c == '<')
        ++angle;
      else if (c == '>' && angle)
        --angle;
      else if (c == ',' && !angle)
        break;
    }
    std::string_view chunk = trim(value.substr(start, i - start));
    if (i < value.size()) ++i;  // the comma
    // "name:" opens a group when it comes before any '<' or '@'.
    if (allow_group) {
      size_t colon = chunk.find(':'), lt = chunk.find_first_of("<@\"(");
      if (colon != std::string_view::npos && (lt == std::string_view::npos || colon < lt)) {
        chunk = trim(chunk.substr(colon + 1));
        in_group = true;
        allow_group = false;
      }
    }
    if (in_group && !chunk.empty() && chunk.back() == ';') {
      chunk = trim(chunk.substr(0, chunk.size() - 1));
      in_group = false;
      allow_group = true;
    }
    if (!fn(chunk)) return;
  }
}

}  // namespace

Rc Evaluator::verify(std::string_view arg) {
  const std::string whole(arg);
  auto error = [&](std::string text) {
    log_msg_ = message(std::move(text));
    return Rc::kError;
  };
  auto bad_verify = [&]() {
    return error(
        "expected \"sender[=address]\", \"recipient\", \"helo\", \"header_syntax\", "
        "\"header_sender\", "
        "\"header_names_ascii\" or \"reverse_host_lookup\" at start of ACL condition \"verify " +
        whole + "\"");
  };
  text::ListReader items = text::ListReader::with_fixed_separator(arg, '/');
  std::string ss;
  if (!items.next(ss)) return bad_verify();
  const ItemDef* vp = nullptr;
  for (const auto& d : kItems) {
    bool hit = d.id == Item::kSender
                   ? ss.size() >= 6 && equal_caseless(std::string_view(ss).substr(0, 6), "sender")
                   : equal_caseless(ss, d.name);
    if (hit) {
      vp = &d;
      break;
    }
  }
  if (!vp) return bad_verify();
  if (vp->no_options && arg.find('/') != std::string_view::npos)
    return error("unexpected '/' found in \"" + whole + "\" (this verify item has no options)");
  if (!(vp->where_allowed & bit(where_)))
    return error("cannot verify " + std::string(vp->name) + " in ACL for " +
                 std::string(where_name(where_)));

  std::optional<std::string> sender_address;  // verify = sender[=address]
  switch (vp->id) {
    case Item::kReverseHostLookup: {
      if (variable("sender_host_address").empty()) return Rc::kOk;
      if (!variable("sender_host_name").empty()) return Rc::kOk;
      if (!env_.verifier) return error("cannot verify reverse_host_lookup without an SMTP session");
      trace("looking up host name to force name/address consistency check");
      Verifier::HostName h = env_.verifier->host_name();
      if (h.rc == VerifyOutcome::Rc::kOk) return Rc::kOk;
      if (h.rc == VerifyOutcome::Rc::kDefer) {
        log_msg_ = message("host lookup deferred for reverse lookup check");
        std::string o;
        while (items.next(o))
          if (equal_caseless(o, "defer_ok")) return Rc::kOk;
        return Rc::kDefer;
      }
      log_msg_ = message("host lookup failed" + h.message);
      return Rc::kFail;
    }
    case Item::kCertificate:
      if (variable("tls_in_certificate_verified") == "1") return Rc::kOk;
      user_msg_ = message("no verified certificate");
      return Rc::kFail;
    case Item::kHelo:
      if (!env_.verifier) return error("cannot verify helo without an SMTP session");
      return env_.verifier->verify_helo() ? Rc::kOk : Rc::kFail;
    case Item::kCsa:
      return error("verify = csa is not supported by tern");
    case Item::kHeaderSender:
      return error("verify = header_sender is not supported in this build of tern");
    case Item::kHeaderSyntax:
    case Item::kHeaderNamesAscii:
    case Item::kNotBlind: {
      std::optional<std::string> why;
      const std::vector<std::string> none;
      const auto& headers = env_.header_lines ? *env_.header_lines : none;
      if (vp->id == Item::kHeaderNamesAscii) {
        for (const auto& h : headers) {
          size_t colon = h.find(':');
          for (size_t k = 0; k < colon && k < h.size(); ++k) {
            unsigned char c = static_cast<unsigned char>(h[k]);
            if (c < 33 || c > 126) {
              why = "Invalid character in header \"" + h.substr(0, colon) + "\" found";
              break;
            }
          }
          if (why) break;
        }
      } else if (vp->id == Item::kHeaderSyntax) {
        for (const auto& h : headers) {
          size_t colon = h.find(':');
          if (colon == std::string::npos) continue;
          std::string_view name = trim(std::string_view(h).substr(0, colon));
          if (!is_address_header(name, false)) continue;
          const bool sender_header = equal_caseless(name, "from") || equal_caseless(name, "sender");
          for_each_address(std::string_view(h).substr(colon + 1), [&](std::string_view text) {
            if (text.empty()) return true;  // "empty address" is allowed
            auto a = smtp::extract_address(text, smtp::AddressOptions{});
            std::optional<std::string> err;
            if (!a)
              err = a.error().message;
            else if (!a->has_domain() && !(sender_header ? env_.allow_unqualified_sender
                                                         : env_.allow_unqualified_recipient))
              err = "unqualified address not permitted";
            if (!err) return true;
            std::string_view t = text;
            const char* verb_text = "is";
            if (t.size() > 1024) {
              t = t.substr(0, 1024);
              verb_text = "begins";
            }
            why = text::string_printing(*err + ": failing address in \"" + std::string(name) +
                                        ":\" header " + verb_text + ": " + std::string(t));
            return false;
          });
          if (why) break;
        }
        if (why) {
          if (set_.smtp_return_error_details)
            user_msg_ = message("Rejected after DATA: " + *why);
          else
            verify_message_ = message(*why);
        }
      } else {
        const std::vector<std::string> no_recipients;
        for (const auto& rcpt : env_.recipients ? *env_.recipients : no_recipients) {
          bool found = false;
          for (const auto& h : headers) {
            size_t colon = h.find(':');
            if (colon == std::string::npos ||
                !is_address_header(trim(std::string_view(h).substr(0, colon)), true))
              continue;
            for_each_address(std::string_view(h).substr(colon + 1), [&](std::string_view text) {
              auto a = smtp::extract_address(text, smtp::AddressOptions{});
              if (a && equal_caseless(a->address, rcpt)) found = true;
              return !found;
            });
            if (found) break;
          }
          if (!found) {
            why = "bcc recipient detected";
            break;
          }
        }
      }
      if (!why) return Rc::kOk;
      log_msg_ = message(*why);
      if (vp->id != Item::kHeaderSyntax && set_.smtp_return_error_details)
        user_msg_ = message("Rejected after DATA: " + *why);
      return Rc::kFail;
    }
    case Item::kSender: {
      std::string_view s = std::string_view(ss).substr(6);
      if (s.empty()) {
        sender_address = variable("sender_address");
      } else {
        while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
        if (s.empty() || s.front() != '=') return bad_verify();
        s.remove_prefix(1);
        sender_address = std::string(trim(s));
      }
      break;
    }
    case Item::kRecipient:
      break;
  }

  // Options of sender and recipient verification.
  VerifyRequest req;
  bool defer_ok = false;
  auto& co = req.callout;
  std::string o;
  while (items.next(o)) {
    if (equal_caseless(o, "defer_ok"))
      defer_ok = true;
    else if (equal_caseless(o, "no_details"))
      req.no_details = true;
    else if (equal_caseless(o, "success_on_redirect"))
      req.success_on_redirect = true;
    else if (equal_caseless(o, "callout_defer_ok")) {
      co.defer_ok = true;
      if (co.timeout == -1) co.timeout = 30;
    } else if (equal_caseless(o, "check_postmaster")) {
      co.postmaster_mailfrom = "";
      if (co.timeout == -1) co.timeout = 30;
    } else if (o.size() >= 7 && equal_caseless(std::string_view(o).substr(0, 7), "callout")) {
      co.timeout = 30;
      std::string_view rest = trim(std::string_view(o).substr(7));
      if (rest.empty()) continue;
      if (rest.front() != '=')
        return error("'=' expected after \"callout\" in ACL condition \"" + whole + "\"");
      text::ListReader subs = text::ListReader::with_fixed_separator(trim(rest.substr(1)), ',');
      std::string opt;
      while (subs.next(opt)) {
        static constexpr std::pair<std::string_view, bool> kOpts[] = {
            {"defer_ok", false},   {"no_cache", false},       {"random", false},
            {"use_sender", false}, {"use_postmaster", false}, {"postmaster_mailfrom", true},
            {"postmaster", false}, {"fullpostmaster", false}, {"mailfrom", true},
            {"maxwait", true},     {"connect", true},         {"hold", false}};
        std::string_view name, value = opt;
        bool has_value = false;
        for (const auto& [n, v] : kOpts) {
          if (opt.size() >= n.size() &&
              equal_caseless(std::string_view(opt).substr(0, n.size()), n)) {
            name = n;
            has_value = v;
            value = std::string_view(opt).substr(n.size());
            break;
          }
        }
        if (has_value) {
          value = trim(value);
          if (value.empty() || value.front() != '=')
            return error("'=' expected after \"" + std::string(name) +
                         "\" in ACL verify condition \"" + whole + "\"");
          value = trim(value.substr(1));
        }
        const bool timeval = name.empty() || name == "maxwait" || name == "connect";
        int seconds = -1;
        if (timeval) {
          auto t = config::parse_time(value);
          if (!t) return error("bad time value in ACL condition \"verify " + whole + "\"");
          seconds = static_cast<int>(*t);
        }
        if (name.empty())
          co.timeout = seconds;
        else if (name == "defer_ok")
          co.defer_ok = true;
        else if (name == "no_cache")
          co.no_cache = true;
        else if (name == "random")
          co.random = true;
        else if (name == "use_sender")
          co.use_sender = true;
        else if (name == "use_postmaster")
          co.use_postmaster = true;
        else if (name == "postmaster")
          co.postmaster = true, co.postmaster_mailfrom = "";
        else if (name == "fullpostmaster")
          co.fullpostmaster = true, co.postmaster_mailfrom = "";
        else if (name == "mailfrom")
          return error(
              "\"mailfrom\" is allowed as a callout option only for verify=header_sender (detected "
              "in ACL "
              "condition \"" +
              whole + "\")");
        else if (name == "postmaster_mailfrom")
          co.postmaster_mailfrom = std::string(value);
        else if (name == "maxwait")
          co.overall = seconds;
        else if (name == "connect")
          co.connect = seconds;
        else if (name == "hold")
          co.hold = true;
      }
    } else {
      return error("unknown option \"" + o + "\" in ACL condition \"verify " + whole + "\"");
    }
  }
  if (co.use_sender && co.use_postmaster)
    return error("only one of use_sender and use_postmaster can be set for a recipient callout");

  VerifyOutcome out;
  Rc rc = Rc::kOk;
  req.trace = tracer();
  if (sender_address) {
    if (co.use_sender || co.use_postmaster)
      return error("use_sender or use_postmaster cannot be used for a sender verify callout");
    if (sender_address->empty()) return Rc::kOk;  // a bounce: nothing to verify
    if (!env_.verifier) return error("cannot verify sender without an SMTP session");
    req.address = *sender_address;
    req.fake_sender = *sender_address != variable("sender_address");
    out = env_.verifier->verify_sender(req);
    trace("----------- end verify ------------");
    if (out.rc == VerifyOutcome::Rc::kOk) trace("sender " + req.address + " verified ok");
    if (out.address_data) set_var("sender_address_data", *out.address_data);
  } else {
    if (!env_.verifier) return error("cannot verify recipient without an SMTP session");
    req.address = addr_ ? addr_->address : std::string();
    out = env_.verifier->verify_recipient(req);
    trace("----------- end verify ------------");
    log_msg_ = out.message.empty() ? nullptr : message(out.message);
    user_msg_ = out.user_message ? message(*out.user_message) : log_msg_;
    if (out.pass_message) temp_details_ = true;
    if (out.address_data) set_var("address_data", *out.address_data);
  }
  callout_defer_ = out.callout_defer;
  rc = out.rc == VerifyOutcome::Rc::kOk     ? Rc::kOk
       : out.rc == VerifyOutcome::Rc::kFail ? Rc::kFail
                                            : Rc::kDefer;
  if (rc == Rc::kDefer && (defer_ok || (co.defer_ok && out.callout_defer))) {
    trace(std::string("verify defer overridden by ") +
          (defer_ok ? "defer_ok" : "callout_defer_ok"));
    rc = Rc::kOk;
  }
  if (rc != Rc::kOk && sender_address) {
    if (rc != Rc::kDefer) {
      log_msg_ = user_msg_ = message("Sender verify failed");
    } else if (!out.callout_defer) {
      log_msg_ = user_msg_ = message("Could not complete sender verify");
    } else {
      log_msg_ = message("Could not complete sender verify callout");
      user_msg_ = set_.smtp_return_error_details && out.user_message ? message(*out.user_message)
                                                                     : log_msg_;
    }
    SenderVerifyFailure f;
    f.address = req.address;
    f.message = out.message;
    f.user_message = out.user_message ? out.user_message : std::optional<std::string>(out.message);
    f.deferred = out.rc == VerifyOutcome::Rc::kDefer;
    f.postmaster_failed = out.postmaster_failed;
    f.callback_setup_failed = out.callback_setup_failed;
    f.told = req.no_details || env_.state.memory.senders_told.count(req.address) != 0;
    sender_failure_ = std::move(f);
  }
  return rc;
}

}  // namespace tern::acl::detail
