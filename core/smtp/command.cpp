// core/smtp/command.cpp: verb recognition and argument parsing as smtp_in.c does it.
//
// MAIL and RCPT parameters are taken off the END of the argument one at a
// time (Exim's extract_option), so the order of checks, what is silently
// ignored (a bad SIZE value, RET= without DSN) and what falls back into the
// address and fails there ("FOO=bar may not follow <a@b>") all follow Exim.
#include "core/smtp/command.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "core/text/ipaddr.hpp"

namespace tern::smtp {
namespace {

bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_alnum(unsigned char c) { return is_alpha(c) || is_digit(c); }
bool is_xdigit(unsigned char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

struct VerbEntry {
  std::string_view name;
  Verb verb;
  bool has_arg;
  bool is_mail;  // Exim's is_mail_cmd
};

// Exim's cmd_list, in its order (the first match wins).
constexpr VerbEntry kVerbs[] = {
    {"rset", Verb::kRset, false, false},         {"helo", Verb::kHelo, true, false},
    {"ehlo", Verb::kEhlo, true, false},          {"auth", Verb::kAuth, true, true},
    {"starttls", Verb::kStarttls, false, false}, {"mail from:", Verb::kMail, true, true},
    {"rcpt to:", Verb::kRcpt, true, true},       {"data", Verb::kData, false, true},
    {"bdat", Verb::kBdat, true, true},           {"quit", Verb::kQuit, false, true},
    {"noop", Verb::kNoop, true, false},          {"etrn", Verb::kEtrn, true, false},
    {"vrfy", Verb::kVrfy, true, false},          {"expn", Verb::kExpn, true, false},
    {"help", Verb::kHelp, true, false},
};

Rejection reject(int code, std::string text, bool synprot = true) {
  return Rejection{Reply::make(code, std::move(text)), synprot};
}

// One parameter taken off the end of `data`, Exim's extract_option(). On
// success `data` loses " NAME=VALUE" (and trailing white space); restore()
// puts the parameter back as Exim does ("name[-1] = ' '; value[-1] = '='").
struct Option {
  std::string name, value;
  bool has_eq = false;
};

bool extract_option(std::string& data, Option& opt) {
  long v = static_cast<long>(data.size()) - 1;
  auto at = [&](long i) -> unsigned char {
    return i >= 0 && i < static_cast<long>(data.size()) ? data[i] : 0;
  };
  while (v >= 0 && is_space(at(v))) --v;
  data.resize(static_cast<size_t>(v + 1));
  while (v > 0 && at(v) != '=' && !is_space(at(v))) {
    if (at(v) == '"') {
      do --v;
      while (at(v) != '"' && v > 1);
    }
    --v;
  }
  // Exim would step before the buffer here (a quote at offset 1); the
  // outcome is the whole argument taken as one unknown option, which is
  // put back at once: equivalent to "no option".
  if (v < 0) return false;
  long n = v;
  if (at(v) == '=') {
    while (is_alpha(at(n - 1))) --n;
    if (!is_space(at(n - 1))) return false;
    opt.name = data.substr(n, v - n);
    opt.value = data.substr(v + 1);
    opt.has_eq = true;
    data.resize(n - 1);
  } else {
    ++n;
    if (v == 0) return false;
    opt.name = opt.value = data.substr(n);
    opt.has_eq = false;
    data.resize(v);
  }
  return true;
}

void restore(std::string& data, const Option& opt) {
  data += ' ';
  data += opt.name;
  if (opt.has_eq) {
    data += '=';
    data += opt.value;
  }
}

// glibc sscanf("%u"): optional sign, decimal digits, value reduced modulo 2^32.
std::optional<std::pair<uint32_t, size_t>> scan_unsigned(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  size_t digits = i;
  unsigned long long v = 0;
  bool overflow = false;
  while (i < s.size() && is_digit(s[i])) {
    unsigned d = s[i++] - '0';
    if (v > (ULLONG_MAX - d) / 10) overflow = true;
    v = v * 10 + d;
  }
  if (i == digits) return std::nullopt;
  if (overflow) v = ULLONG_MAX;  // strtoul saturates, then the sign applies
  if (neg) v = 0 - v;
  return std::make_pair(static_cast<uint32_t>(v), i);
}

}  // namespace

std::string_view verb_name(Verb v) {
  switch (v) {
    case Verb::kHelo:
      return "HELO";
    case Verb::kEhlo:
      return "EHLO";
    case Verb::kMail:
      return "MAIL";
    case Verb::kRcpt:
      return "RCPT";
    case Verb::kData:
      return "DATA";
    case Verb::kBdat:
      return "BDAT";
    case Verb::kRset:
      return "RSET";
    case Verb::kNoop:
      return "NOOP";
    case Verb::kQuit:
      return "QUIT";
    case Verb::kVrfy:
      return "VRFY";
    case Verb::kExpn:
      return "EXPN";
    case Verb::kHelp:
      return "HELP";
    case Verb::kEtrn:
      return "ETRN";
    case Verb::kStarttls:
      return "STARTTLS";
    case Verb::kAuth:
      return "AUTH";
    default:
      return "";
  }
}

bool is_nonmail(Verb v) {
  for (const auto& e : kVerbs)
    if (e.verb == v) return !e.is_mail;
  return false;
}

Command identify(std::string_view line, bool overlong) {
  Command c;
  while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
  c.line = line;
  c.overlong = overlong;
  if (overlong) return c;  // kUnknown, as Exim's OTHER_CMD for a full buffer
  if (line.find('\0') != std::string_view::npos) {
    c.verb = Verb::kNul;
    return c;
  }
  for (const auto& e : kVerbs) {
    const size_t len = e.name.size();
    if (line.size() < len || !ieq(line.substr(0, len), e.name)) continue;
    if (!(e.name.back() == ':' || line.size() == len || line[len] == ' ')) continue;
    size_t a = len;
    while (a < line.size() && is_space(line[a])) ++a;
    c.argument = line.substr(a);
    c.matched = e.verb;
    c.verb = (e.has_arg || c.argument.empty()) ? e.verb : Verb::kBadArgument;
    return c;
  }
  return c;
}

Parsed<std::string> parse_helo(Verb verb, std::string_view arg, const HeloOptions& opt) {
  bool ok = opt.accept_junk;
  if (!ok && !arg.empty()) {
    if (arg.front() == '[') {
      if (arg.back() == ']' && arg.size() >= 2) {
        std::string_view in = arg.substr(1, arg.size() - 2);
        if (in.size() >= 5 && ieq(in.substr(0, 5), "IPv6:"))
          ok = text::ip_version(in.substr(5)) == 6;
        else if (in.size() >= 5 && ieq(in.substr(0, 5), "IPv4:"))
          ok = text::ip_version(in.substr(5)) == 4;
        else
          ok = text::ip_version(in) != 0;
      }
    } else {
      ok = true;
      for (unsigned char ch : arg) {
        if (!is_alnum(ch) && ch != '.' && ch != '-' &&
            (ch == 0 || opt.allow_chars.find(static_cast<char>(ch)) == std::string_view::npos)) {
          ok = false;
          break;
        }
      }
    }
  }
  if (ok) return {std::string(arg), std::nullopt};
  return {std::nullopt,
          reject(501, "Syntactically invalid " + std::string(verb_name(verb)) + " argument(s)")};
}

std::optional<std::string> xtext_decode(std::string_view s) {
  std::string out;
  auto hex = [](unsigned char c) {
    return is_digit(c) ? c - '0' : lower(static_cast<char>(c)) - 'a' + 10;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char x = s[i];
    if (x < 33 || x > 127 || x == '=') return std::nullopt;
    if (x == '+') {
      if (i + 1 >= s.size() || !is_xdigit(s[i + 1])) return std::nullopt;
      if (i + 2 >= s.size() || !is_xdigit(s[i + 2])) return std::nullopt;
      out += static_cast<char>(hex(s[i + 1]) << 4 | hex(s[i + 2]));
      i += 2;
    } else {
      out += static_cast<char>(x);
    }
  }
  return out;
}

Parsed<MailCommand> parse_mail(std::string_view argument, const MailOptions& opt) {
  if (argument.empty()) return {std::nullopt, reject(501, "MAIL must have an address operand")};
  MailCommand m;
  std::string data(argument);
  AddressOptions aopt = opt.address;
  aopt.allow_null = true;
  bool size_given = false;
  long long size = 0;

  if (opt.esmtp) {
    Option o;
    while (extract_option(data, o)) {
      const bool need_value = ieq(o.name, "SIZE") || ieq(o.name, "BODY") || ieq(o.name, "AUTH") ||
                              ieq(o.name, "RET") || ieq(o.name, "ENVID");
      if (need_value && o.value.empty()) break;
      if (ieq(o.name, "SIZE")) {
        // strtoul: white space and a sign are accepted; a partial number is not.
        const char* b = o.value.c_str();
        char* end = nullptr;
        errno = 0;
        unsigned long v = std::strtoul(b, &end, 10);
        if (*end != 0) break;  // Exim ignores a bad SIZE silently
        size = (v > static_cast<unsigned long>(INT_MAX)) ? INT_MAX : static_cast<long long>(v);
        size_given = true;
      } else if (ieq(o.name, "BODY")) {
        if (!opt.accept_8bitmime) break;
        if (ieq(o.value, "8BITMIME"))
          m.body = Body::k8bitmime;
        else if (ieq(o.value, "7BIT"))
          m.body = Body::k7bit;
        else
          return {std::nullopt, reject(501, "invalid data for BODY")};
      } else if (ieq(o.name, "RET")) {
        if (!opt.dsn_advertised) continue;
        if (m.ret != Ret::kNone)
          return {std::nullopt, reject(501, "RET can be specified once only")};
        m.ret = ieq(o.value, "HDRS") ? Ret::kHdrs : ieq(o.value, "FULL") ? Ret::kFull : Ret::kNone;
        if (m.ret == Ret::kNone) return {std::nullopt, reject(501, "Value for RET is invalid")};
      } else if (ieq(o.name, "ENVID")) {
        if (!opt.dsn_advertised) continue;
        if (m.envid) return {std::nullopt, reject(501, "ENVID can be specified once only")};
        m.envid = o.value;
      } else if (ieq(o.name, "AUTH")) {
        if (o.value == "<>") {
          m.auth = "<>";
          continue;
        }
        auto decoded = xtext_decode(o.value);
        if (!decoded) return {std::nullopt, reject(501, "invalid data for AUTH")};
        m.auth = std::move(*decoded);
      } else if (ieq(o.name, "PRDR")) {
        if (opt.prdr_enable) m.prdr = true;
      } else if (ieq(o.name, "SMTPUTF8")) {
        if (!opt.smtputf8_advertised)
          return {std::nullopt, reject(501, "SMTPUTF8 used when not advertised")};
        m.smtputf8 = true;
        aopt.allow_utf8_domains = true;
      } else {
        restore(data, o);
        break;
      }
    }
  }

  auto addr = extract_address(data, aopt);
  if (!addr.ok()) return {std::nullopt, Rejection{Reply::make(501, data + ": " + addr.error().message), true, addr.error().message}};
  m.sender = std::move(addr.value());
  if (size_given) m.size = size;
  m.data = std::move(data);
  if (opt.size_limit > 0 && m.size && *m.size > opt.size_limit)
    return {std::nullopt, Rejection{replies::size_exceeded(), false}};
  return {std::move(m), std::nullopt};
}

Parsed<RcptCommand> parse_rcpt(std::string_view argument, const RcptOptions& opt) {
  if (argument.empty()) return {std::nullopt, reject(501, "RCPT must have an address operand")};
  RcptCommand r;
  std::string data(argument);
  AddressOptions aopt = opt.address;
  aopt.allow_null = false;

  if (opt.esmtp) {
    Option o;
    while (extract_option(data, o)) {
      if (opt.dsn_advertised && ieq(o.name, "ORCPT")) {
        if (r.orcpt) return {std::nullopt, reject(501, "ORCPT can be specified once only")};
        r.orcpt = o.value;
      } else if (opt.dsn_advertised && ieq(o.name, "NOTIFY")) {
        if (r.notify != 0) return {std::nullopt, reject(501, "NOTIFY can be specified once only")};
        if (ieq(o.value, "NEVER")) {
          r.notify |= kNotifyNever;
          continue;
        }
        std::string_view rest = o.value;
        while (!rest.empty()) {
          size_t comma = rest.find(',');
          std::string_view item = rest.substr(0, comma);
          rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
          if (ieq(item, "SUCCESS"))
            r.notify |= kNotifySuccess;
          else if (ieq(item, "FAILURE"))
            r.notify |= kNotifyFailure;
          else if (ieq(item, "DELAY"))
            r.notify |= kNotifyDelay;
          else
            return {std::nullopt, reject(501, "Invalid value for NOTIFY parameter")};
        }
      } else {
        restore(data, o);
        break;
      }
    }
  }

  auto addr = extract_address(data, aopt);
  if (!addr.ok()) return {std::nullopt, Rejection{Reply::make(501, data + ": " + addr.error().message), true, addr.error().message}};
  r.recipient = std::move(addr.value());
  r.data = std::move(data);
  return {std::move(r), std::nullopt};
}

std::optional<Reply> check_qualified(const ParsedAddress& a, std::string_view data,
                                     std::string_view what, bool allow_unqualified) {
  if (a.has_domain() || a.address.empty() || allow_unqualified) return std::nullopt;
  if (what == "recipient" && ieq(a.address, "postmaster")) return std::nullopt;
  return Reply::make(
      501, std::string(data) + ": " + std::string(what) + " address must contain a domain");
}

Reply mail_accepted(bool prdr) { return Reply::make(250, prdr ? "OK, PRDR Requested" : "OK"); }

Parsed<BdatCommand> parse_bdat(std::string_view argument) {
  auto scanned = scan_unsigned(argument);
  if (!scanned) return {std::nullopt, reject(501, "missing size for BDAT command")};
  BdatCommand b;
  b.size = scanned->first;
  size_t i = scanned->second;
  while (i < argument.size() && is_space(argument[i])) ++i;
  b.last = ieq(argument.substr(i), "LAST");
  return {b, std::nullopt};
}

Reply bdat_zero_size() { return Reply::make(504, "zero size for BDAT command"); }
Reply bdat_not_advertised() {
  return Reply::make(503, "BDAT command used when CHUNKING not advertised");
}

AuthCommand parse_auth(std::string_view argument) {
  AuthCommand a;
  size_t sp = 0;
  while (sp < argument.size() && !is_space(argument[sp])) ++sp;
  a.mechanism = argument.substr(0, sp);
  while (sp < argument.size() && is_space(argument[sp])) ++sp;
  if (sp < argument.size()) a.initial = argument.substr(sp);
  return a;
}

Reply auth_unsupported(std::string_view mechanism) {
  return Reply::make(504, std::string(mechanism) + " authentication mechanism not supported");
}

Parsed<ParsedAddress> parse_vrfy(std::string_view argument) {
  auto addr = extract_address(argument, AddressOptions{});
  if (!addr.ok()) return {std::nullopt, reject(501, addr.error().message, false)};
  return {std::move(addr.value()), std::nullopt};
}

}  // namespace tern::smtp
