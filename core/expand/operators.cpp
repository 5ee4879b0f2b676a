// core/expand/operators.cpp: every `${name:argument}` operator of Exim 4.96.
//
// resolve_operator() splits the written name as Exim does: first the names
// that contain an underscore (local_part, time_eval, ...), else the part
// before the first underscore is the name and the rest its argument
// (length_2_3 -> "length" with args {"2_3"}; no underscore -> no args). Only
// an unknown name fails there; a bad suffix fails when the operator runs, as
// in Exim, which skips operators (and so their checks) in unused branches.
//
// The argument is treated as a C string (Exim stops at a NUL byte), and
// results Exim builds with string_cat stop at a NUL too (${base64d}).
// headers_charset is taken to be UTF-8, the value of Debian's Exim build
// that the tests were checked against.
//
// Not implemented, with the reason:
//   md5/sha1/sha256/base64 of certificate variables ($tls_in_peercert):
//     the evaluator has to spot those before calling here (no TLS yet).
//   stat: no expand_forbid (RDO_EXISTS) check; the environment has none.
//   rfc2047d: only an unknown charset is an error (Exim's iconv_open text);
//     text iconv cannot convert is kept as it is.
// Not operators in 4.96, so unknown here too: headerwrap, xtextd, bless,
// exim_version.
#include <sys/stat.h>

#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/expand/operator_table.hpp"
#include "core/smtp/address.hpp"
#include "core/text/idna.hpp"
#include "core/text/ipaddr.hpp"
#include "core/text/list.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::expand {
namespace {

constexpr const char* kHeadersCharset = "UTF-8";

using Out = Result<std::string>;

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// The argument as Exim sees it: a C string.
std::string_view cstr(std::string_view s) { return s.substr(0, s.find('\0')); }

// The operator name as written, e.g. "base64d_x", for error messages.
std::string written(const char* base, const OperatorCall& c) {
  return c.args.empty() ? std::string(base) : std::string(base) + "_" + c.args[0];
}

bool is_space(int c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// ---------------------------------------------------------------- case, hashes

Out op_lc(const OperatorCall& c) {
  std::string s(cstr(c.input));
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

Out op_uc(const OperatorCall& c) {
  std::string s(cstr(c.input));
  for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

Out op_strlen(const OperatorCall& c) { return std::to_string(cstr(c.input).size()); }

Out op_md5(const OperatorCall& c) { return text::md5_hex(cstr(c.input)); }

Out op_sha1(const OperatorCall& c) { return text::to_hex(text::digest("sha1", cstr(c.input)), true); }

// sha2_N / sha256_N, and sha3_N: the variant comes from the suffix.
Out sha_family(const OperatorCall& c, const char* family, const char* deflt,
               std::initializer_list<const char*> sizes) {
  std::string size = c.args.empty() ? deflt : c.args[0];
  bool known = std::any_of(sizes.begin(), sizes.end(), [&](const char* s) { return size == s; });
  if (!known) return Error::failed(std::string("unrecognised ") + family + " variant");
  std::string algo = std::string(family) == "sha3" ? "sha3-" + size : "sha" + size;
  return text::to_hex(text::digest(algo, cstr(c.input)), true);
}

Out op_sha2(const OperatorCall& c) { return sha_family(c, "sha2", "256", {"256", "384", "512"}); }
Out op_sha3(const OperatorCall& c) {
  return sha_family(c, "sha3", "256", {"224", "256", "384", "512"});
}

// ---------------------------------------------------------------- number bases

constexpr std::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// strtoul(s, &t, 10) with Exim's "*t must be the end" check.
std::optional<unsigned long> decimal_ulong(std::string_view s) {
  std::string copy(s);
  char* end = nullptr;
  unsigned long n = std::strtoul(copy.c_str(), &end, 10);
  if (*end) return std::nullopt;
  return n;
}

Out not_decimal(const char* op, std::string_view in) {
  return Error::failed(std::string("argument for ") + op + " operator is " + quoted(in) +
                       ", which is not a decimal number");
}

Out op_base32(const OperatorCall& c) {
  std::string_view in = cstr(c.input);
  auto n = decimal_ulong(in);
  if (!n) return not_decimal("base32", in);
  std::string out;
  for (unsigned long v = *n; v; v >>= 5) out.insert(out.begin(), kBase32[v & 0x1f]);
  return out;
}

Out op_base62(const OperatorCall& c) {
  std::string_view in = cstr(c.input);
  auto n = decimal_ulong(in);
  if (!n) return not_decimal("base62", in);
  std::string out(6, '0');
  unsigned long v = *n;
  for (int i = 5; i >= 0; --i, v /= 62) out[i] = kBase62[v % 62];
  return out;
}

// base32d / base62d: Exim prints the unsigned sum with "%ld".
Out decode_base(std::string_view in, std::string_view digits, const std::string& failure) {
  unsigned long n = 0;
  for (char ch : in) {
    size_t pos = digits.find(ch);
    if (pos == std::string_view::npos) return Error::failed(failure);
    n = n * digits.size() + pos;
  }
  return std::to_string(static_cast<long>(n));
}

Out op_base32d(const OperatorCall& c) {
  std::string_view in = cstr(c.input);
  return decode_base(in, kBase32, "argument for base32d operator is " + quoted(in) +
                                      ", which is not a base 32 number");
}

Out op_base62d(const OperatorCall& c) {
  std::string_view in = cstr(c.input);
  return decode_base(in, kBase62, "argument for base62d operator is " + quoted(in) +
                                      ", which is not a base 62 number");
}

// ---------------------------------------------------------------- base64, hex

Out op_base64(const OperatorCall& c) { return text::base64_encode(cstr(c.input)); }

Out op_base64d(const OperatorCall& c) {
  std::string_view in = cstr(c.input);
  auto d = text::base64_decode(in);
  if (!d)
    return Error::failed("string " + quoted(in) + " is not well-formed for " +
                         quoted(written("base64d", c)) + " operator");
  return std::string(cstr(*d));
}

Out op_hex2b64(const OperatorCall& c) {
  std::string_view in = cstr(c.input);
  for (char ch : in)
    if (!std::isxdigit(static_cast<unsigned char>(ch)))
      return Error::failed(quoted(in) + " is not a hex string");
  if (in.size() % 2)
    return Error::failed(quoted(in) + " contains an odd number of characters");
  std::string bytes;
  for (size_t i = 0; i < in.size(); i += 2)
    bytes += static_cast<char>(std::stoi(std::string(in.substr(i, 2)), nullptr, 16));
  return text::base64_encode(bytes);
}

Out op_hexquote(const OperatorCall& c) {
  std::string out;
  char buf[8];
  for (unsigned char ch : cstr(c.input)) {
    if (ch < 0x21 || ch > 0x7e) {
      std::snprintf(buf, sizeof buf, "\\x%02x", ch);
      out += buf;
    } else {
      out += static_cast<char>(ch);
    }
  }
  return out;
}

// ---------------------------------------------------------------- escaping

Out op_escape(const OperatorCall& c) { return text::string_printing(cstr(c.input)); }

Out op_escape8bit(const OperatorCall& c) {
  std::string out;
  char buf[8];
  for (unsigned char ch : cstr(c.input)) {
    if (ch < 127 && ch != '\\') {
      out += static_cast<char>(ch);
    } else {
      std::snprintf(buf, sizeof buf, "\\%03o", ch);
      out += buf;
    }
  }
  return out;
}

Out op_rxquote(const OperatorCall& c) {
  std::string out;
  for (unsigned char ch : cstr(c.input)) {
    if (!std::isalnum(ch)) out += '\\';
    out += static_cast<char>(ch);
  }
  return out;
}

// Quote in "..." with \n, \r, \\ and \" escapes.
std::string double_quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '\n') out += "\\n";
    else if (ch == '\r') out += "\\r";
    else {
      if (ch == '\\' || ch == '"') out += '\\';
      out += ch;
    }
  }
  return out + "\"";
}

Out op_quote(const OperatorCall& c) {
  std::string_view in = cstr(c.input);
  if (!c.args.empty()) {  // quote_<lookup>[_<options>]
    const std::string& arg = c.args[0];
    size_t us = arg.find('_');
    std::string_view type = std::string_view(arg).substr(0, us);
    std::string_view opts = us == std::string::npos ? std::string_view() : std::string_view(arg).substr(us + 1);
    return c.env.quote_for_lookup(type, opts, in);
  }
  bool needs = in.empty() || std::any_of(in.begin(), in.end(), [](char ch) {
                 return !std::isalnum(static_cast<unsigned char>(ch)) && !std::strchr("_-.", ch);
               });
  return needs ? double_quote(in) : std::string(in);
}

Out op_quote_local_part(const OperatorCall& c) {
  std::string_view in = cstr(c.input);
  bool needs = in.empty();
  for (size_t i = 0; !needs && i < in.size(); ++i) {
    unsigned char ch = static_cast<unsigned char>(in[i]);
    needs = !std::isalnum(ch) && !std::strchr("!#$%&'*+-/=?^_`{|}~", ch) &&
            (ch != '.' || i == 0 || i + 1 == in.size());
  }
  return needs ? double_quote(in) : std::string(in);
}

// ---------------------------------------------------------------- numbers, time

Out op_eval(const OperatorCall& c) { return text::eval(c.input, false); }
Out op_eval10(const OperatorCall& c) { return text::eval(c.input, true); }

Out op_randint(const OperatorCall& c) {
  auto max = text::parse_int(cstr(c.input), true);
  if (!max) return max.take_error();
  int m = static_cast<int>(*max);
  if (m <= 1) return std::string("0");
  static thread_local std::mt19937 gen{std::random_device{}()};
  return std::to_string(std::uniform_int_distribution<int>(0, m - 1)(gen));
}

// readconf_readtime(s, 0, FALSE): [<n>w][<n>d][<n>h][<n>m][<n>s], each
// number as sscanf("%d") reads it; -1 when malformed.
int read_time(std::string_view in) {
  std::string s(in);
  size_t p = 0;
  int32_t total = 0;
  for (;;) {
    if (!std::isdigit(static_cast<unsigned char>(s[p]))) return -1;
    size_t q = p;
    while (std::isdigit(static_cast<unsigned char>(s[q]))) ++q;
    errno = 0;
    long v = std::strtol(s.c_str() + p, nullptr, 10);  // saturates, as glibc scanf
    uint32_t value = static_cast<uint32_t>(v);
    p = q;
    switch (s[p]) {
      case 'w': value *= 7; [[fallthrough]];
      case 'd': value *= 24; [[fallthrough]];
      case 'h': value *= 60; [[fallthrough]];
      case 'm': value *= 60; [[fallthrough]];
      case 's': ++p; break;
      default: return -1;
    }
    total = static_cast<int32_t>(static_cast<uint32_t>(total) + value);
    if (p >= s.size()) return total;
  }
}

// readconf_printtime().
std::string print_time(int32_t t) {
  std::string out;
  int64_t v = t;
  if (v < 0) {
    out += '-';
    v = -v;
  }
  int64_t s = v % 60, m = v / 60 % 60, h = v / 3600 % 24, d = v / 86400 % 7, w = v / 604800;
  if (w > 0) out += std::to_string(w) + "w";
  if (d > 0) out += std::to_string(d) + "d";
  if (h > 0) out += std::to_string(h) + "h";
  if (m > 0) out += std::to_string(m) + "m";
  if (s > 0 || out.empty() || out == "-") out += std::to_string(s) + "s";
  return out;
}

Out op_time_eval(const OperatorCall& c) {
  std::string_view in = cstr(c.input);
  int n = read_time(in);
  if (n < 0)
    return Error::failed("string " + quoted(in) + " is not an Exim time interval in " +
                         quoted(written("time_eval", c)) + " operator");
  return std::to_string(n);
}

Out op_time_interval(const OperatorCall& c) {
  std::string_view in = cstr(c.input);
  uint32_t n = 0;
  size_t i = 0;
  while (i < in.size() && std::isdigit(static_cast<unsigned char>(in[i])))
    n = n * 10 + static_cast<uint32_t>(in[i++] - '0');
  if (i != in.size())
    return Error::failed("string " + quoted(in) + " is not a positive number in " +
                         quoted(written("time_interval", c)) + " operator");
  return print_time(static_cast<int32_t>(n));
}

// ---------------------------------------------------------------- substrings

enum class Cut { kLength, kSubstr, kHash, kNhash };

// length_n, substr_m_n, hash_n_m, nhash_n_m and their one-letter forms.
Out cut_op(const OperatorCall& c, const char* name, Cut kind) {
  if (c.args.empty()) return Error::failed(std::string("missing values after ") + name);
  std::string_view arg = c.args[0];
  const std::string full = written(name, c);
  int sign = 1;
  int64_t v1 = 0, v2 = -1;
  int64_t* pn = &v1;
  if (kind == Cut::kLength) {
    pn = &v2;
    v2 = 0;
  } else if (name[0] == 's' && !arg.empty() && arg[0] == '-') {
    sign = -1;
    arg.remove_prefix(1);
  }
  for (size_t i = 0; i < arg.size(); ++i) {
    char ch = arg[i];
    if (i > 0 && ch == '_' && pn == &v1) {
      pn = &v2;
      v2 = 0;
      if (i + 1 < arg.size()) continue;
      --i;  // a trailing '_' is looked at again, now as a non-digit
    } else if (!std::isdigit(static_cast<unsigned char>(ch))) {
      return Error::failed("non-digit after underscore in " + quoted(full));
    } else {
      *pn = static_cast<int32_t>(static_cast<uint32_t>(*pn) * 10 + static_cast<uint32_t>(ch - '0'));
    }
  }
  int n1 = static_cast<int>(v1) * sign, n2 = static_cast<int>(v2);
  std::string_view in = cstr(c.input);
  switch (kind) {
    case Cut::kHash: return text::hash_values(in, n1, n2);
    case Cut::kNhash: return text::nhash_values(in, n1, n2);
    default: return text::substr_values(in, n1, n2);
  }
}

Out op_length(const OperatorCall& c) { return cut_op(c, "length", Cut::kLength); }
Out op_l(const OperatorCall& c) { return cut_op(c, "l", Cut::kLength); }
Out op_substr(const OperatorCall& c) { return cut_op(c, "substr", Cut::kSubstr); }
Out op_s(const OperatorCall& c) { return cut_op(c, "s", Cut::kSubstr); }
Out op_hash(const OperatorCall& c) { return cut_op(c, "hash", Cut::kHash); }
Out op_h(const OperatorCall& c) { return cut_op(c, "h", Cut::kHash); }
Out op_nhash(const OperatorCall& c) { return cut_op(c, "nhash", Cut::kNhash); }
Out op_nh(const OperatorCall& c) { return cut_op(c, "nh", Cut::kNhash); }

// ---------------------------------------------------------------- lists

Out op_listcount(const OperatorCall& c) {
  text::ListReader r(cstr(c.input));
  std::string item;
  int n = 0;
  while (r.next(item)) ++n;
  return std::to_string(n);
}

// expand_listnamed(): the items of a named list joined by " : ", nested
// "+name" items expanded in place, re-quoted for a colon separator.
Status append_named_list(const OperatorCall& c, std::string& out, std::string_view name,
                         const std::string* type, int depth) {
  static constexpr const char* kKinds[] = {"address", "domain", "host", "localpart"};
  if (!name.empty() && name[0] == '+') name.remove_prefix(1);
  const std::string* list = nullptr;
  std::string kind_word;
  if (!type) {
    for (const char* k : kKinds)
      if ((list = c.env.named_list(k, name))) break;
  } else {
    char t = type->empty() ? '\0' : (*type)[0];
    auto it = std::find_if(std::begin(kKinds), std::end(kKinds),
                           [&](const char* k) { return t != '\0' && k[0] == t; });
    if (it == std::end(kKinds)) return Error::failed("bad suffix on \"list\" operator");
    list = c.env.named_list(*it, name);
    kind_word = std::string(*it) + " ";
  }
  if (!list) return Error::failed(quoted(name) + " is not a " + kind_word + "named list");
  if (depth > 50) return Error::failed("named list " + quoted(name) + " refers to itself");

  text::ListReader r(*list);
  std::string item;
  bool first = true;
  while (r.next(item)) {
    if (!first) out += " : ";
    first = false;
    if (!item.empty() && item[0] == '+') {
      if (auto st = append_named_list(c, out, item, type, depth + 1); !st) return st;
    } else if (r.separator() != ':') {
      for (size_t i = 0; i < item.size(); ++i) {
        if (item[i] == ':') out += "::";
        else if (item[i] == r.separator()) {
          out += item[i];
          if (i + 1 < item.size() && item[i + 1] == r.separator()) ++i;
        } else out += item[i];
      }
    } else {
      out += item;
    }
  }
  return {};
}

Out op_listnamed(const OperatorCall& c) {
  std::string out;
  const std::string* type = c.args.empty() ? nullptr : &c.args[0];
  if (auto st = append_named_list(c, out, cstr(c.input), type, 0); !st) return st.take_error();
  return out;
}

// ---------------------------------------------------------------- IP addresses

Out not_an_ip(std::string_view in) { return Error::failed(quoted(in) + " is not an IP address"); }

Out op_mask(const OperatorCall& c) {
  std::string_view in = cstr(c.input);
  auto ip = text::parse_ip_address(in, true);
  if (!ip) return not_an_ip(in);
  if (!ip->mask_offset) return Error::failed("missing mask value in " + quoted(in));
  std::string mask_text(in.substr(*ip->mask_offset + 1));
  char* end = nullptr;
  long mask = std::strtol(mask_text.c_str(), &end, 10);
  int mask_int = static_cast<int>(mask);
  if (*end || mask_int < 0 || mask_int > (ip->family == 4 ? 32 : 128))
    return Error::failed("mask value too big in " + quoted(in));
  text::apply_mask(*ip, mask_int);
  bool normalised = !c.args.empty() && !c.args[0].empty() && c.args[0][0] == 'n';
  if (ip->family == 4 || !normalised) return text::format_full(*ip, mask_int, '.');
  return text::format_ipv6_compressed(*ip) + "/" + std::to_string(mask_int);
}

// IPv4 addresses become IPv4-mapped IPv6 ones.
std::optional<text::IpAddress> as_ipv6(std::string_view in) {
  auto ip = text::parse_ip_address(in, false);
  if (ip && ip->family == 4) {
    ip->words = {0, 0, 0xffff, ip->words[0]};
    ip->family = 6;
  }
  return ip;
}

Out op_ipv6norm(const OperatorCall& c) {
  auto ip = as_ipv6(cstr(c.input));
  if (!ip) return not_an_ip(cstr(c.input));
  return text::format_ipv6_compressed(*ip);
}

Out op_ipv6denorm(const OperatorCall& c) {
  auto ip = as_ipv6(cstr(c.input));
  if (!ip) return not_an_ip(cstr(c.input));
  return text::format_full(*ip, -1, ':');
}

Out op_reverse_ip(const OperatorCall& c) {
  std::string_view in = cstr(c.input);
  if (!text::parse_ip_address(in, true))
    return Error::failed("reverse_ip() not given an IP address [" + std::string(in) + "]");
  return text::reverse_ip(in);
}

// ---------------------------------------------------------------- addresses

// Exim's parse_extract_address() and helpers, reading an RFC 2822 mailbox
// (comments, quoted strings, route-addrs, group syntax when allowed) down
// to its operative address. Errors are not kept: the operators that use it
// yield nothing for a bad address.
class AddressParser {
 public:
  struct Parsed {
    std::string address;
    size_t domain = 0;  // offset of the domain in `address`, 0 if none
  };

  bool allow_group = false;
  bool found_group = false;

  std::optional<Parsed> extract(std::string_view mailbox) {
    text_ = std::string(mailbox);
    const char* s = text_.c_str();
    Parsed r;
    std::string& t = r.address;
    size_t i = 0;
    bool err = false;
    for (;;) {  // RESTART after a group name
      i = skip_comment(i);
      t.clear();
      i = read_local_part(i, t, err, true);
      if (err) return failed(i);
      if (s[i] == '@' || s[i] == '<') break;
      if (s[i] == 0 || s[i] == ';') {
        if (t.empty()) return failed(i);
        return succeeded(i, std::move(r));
      }
      std::string phrase;
      while (s[i] != '<' && (!allow_group || s[i] != ':')) {
        phrase.clear();
        i = read_local_part(i, phrase, err, false);
        if (err) return failed(i);
      }
      if (s[i] != ':') break;
      found_group = true;
      allow_group = false;
      ++i;
    }

    if (s[i] == '<') {
      size_t domain = 0;
      bool source_routed = false;
      t.clear();
      i = skip_comment(i + 1);
      if (s[i] == '@') {
        i = read_route(i, t, err);
        if (err) return failed(i);
        t.clear();
        source_routed = true;
      }
      i = read_addr_spec(i, t, '>', err, domain);
      if (err) return failed(i);
      r.domain = domain;
      if (source_routed && domain == 0) return failed(i);
      if (s[i++] != '>') return failed(i - 1);
      i = skip_comment(i);
    } else if (t.empty()) {  // "@route:local@domain" without <>
      size_t domain = 0;
      i = read_route(i, t, err);
      if (err) return failed(i);
      t.clear();
      i = read_addr_spec(i, t, '\0', err, domain);
      if (err || domain == 0) return failed(i);
      r.domain = domain;
    } else {
      t += s[i++];
      r.domain = t.size();
      i = read_domain(i, t, err);
      if (t.size() == r.domain) return failed(i);
    }
    return succeeded(i, std::move(r));
  }

 private:
  static bool special(unsigned char c) {
    return c < 32 || c == 127 || std::strchr(" ()<>@,;:\\\".[]", c) != nullptr;
  }
  // Domain-literal text (RFC 5322 dtext): printable ASCII but [ \ ].
  static bool dtext(unsigned char c) { return (c >= 33 && c <= 90) || (c >= 94 && c <= 126); }

  char at(size_t i) const { return i < text_.size() ? text_[i] : '\0'; }

  std::optional<Parsed> succeeded(size_t i, Parsed&& r) {
    if (at(i) != 0) {
      if (!(found_group && at(i) == ';')) return std::nullopt;
      found_group = false;
      allow_group = true;
    }
    return std::move(r);
  }
  std::optional<Parsed> failed(size_t i) {
    if (found_group && at(i) == ';') {
      found_group = false;
      allow_group = true;
    }
    return std::nullopt;
  }

  size_t skip_comment(size_t i) const {
    while (at(i)) {
      while (is_space(at(i))) ++i;
      if (at(i) != '(') break;
      int level = 1;
      char c;
      while ((c = at(++i)) != 0) {
        if (c == '(') ++level;
        else if (c == ')') {
          if (--level <= 0) {
            ++i;
            break;
          }
        } else if (c == '\\' && at(i + 1) != 0) ++i;
      }
    }
    return i;
  }

  size_t read_domain(size_t i, std::string& t, bool& err) const {
    const size_t start = t.size();
    i = skip_comment(i);
    if (at(i) == '[') {
      t += at(i++);
      while (dtext(static_cast<unsigned char>(at(i)))) t += at(i++);
      if (at(i) == ']') t += at(i++);
      else {
        err = true;
        t.resize(start);
      }
      return skip_comment(i);
    }
    for (;;) {
      const size_t part = t.size();
      if (at(i) != '-')
        while (std::isalnum(static_cast<unsigned char>(at(i))) || at(i) == '-') t += at(i++);
      i = skip_comment(i);
      if (t.size() == part) {
        err = true;
        t.resize(start);
        return i;
      }
      if (at(i) != '.') return i;
      t += at(i++);
      i = skip_comment(i);
    }
  }

  size_t read_local_part(size_t i, std::string& t, bool& err, bool allow_null) const {
    const size_t start = t.size();
    err = false;
    for (;;) {
      const size_t word = t.size();
      i = skip_comment(i);
      if (at(i) == '"') {
        t += '"';
        char c;
        while ((c = at(++i)) != 0 && c != '"') {
          t += c;
          if (c == '\\' && at(i + 1) != 0) t += at(++i);
        }
        if (c != '"') {
          err = true;
          return i;
        }
        ++i;
        t += '"';
      } else {
        while (at(i) && (!special(static_cast<unsigned char>(at(i))) || at(i) == '\\')) {
          char c = at(i++);
          t += c;
          if (c == '\\' && at(i)) t += at(i++);
        }
      }
      i = skip_comment(i);
      if (t.size() == word && at(i) != '.') {
        if (t.size() == start && !allow_null) err = true;
        return i;
      }
      if (at(i) != '.') return i;
      do t += at(i++);
      while (at(i) == '.');
    }
  }

  size_t read_route(size_t i, std::string& t, bool& err) const {
    err = false;
    while (at(i) == '@') {
      t += '@';
      size_t before = t.size();
      i = read_domain(i + 1, t, err);
      if (t.size() == before) {
        err = true;
        return i;
      }
      if (at(i) != ',') break;
      t += at(i++);
      i = skip_comment(i);
    }
    if (at(i) == ':') t += at(i++);
    else err = true;
    return skip_comment(i);
  }

  size_t read_addr_spec(size_t i, std::string& t, char term, bool& err, size_t& domain) const {
    i = read_local_part(i, t, err, false);
    if (err || at(i) == term) return i;
    if (at(i) != '@') {
      err = true;
      return i;
    }
    t += at(i++);
    domain = t.size();
    return read_domain(i, t, err);
  }

  std::string text_;
};

enum class Part { kAddress, kLocalPart, kDomain };

Out address_part(const OperatorCall& c, Part part) {
  AddressParser p;
  auto r = p.extract(cstr(c.input));
  if (!r) return std::string();
  switch (part) {
    case Part::kAddress: return r->address;
    case Part::kLocalPart: return r->domain ? r->address.substr(0, r->domain - 1) : r->address;
    case Part::kDomain: return r->domain ? r->address.substr(r->domain) : std::string();
  }
  return std::string();
}

Out op_address(const OperatorCall& c) { return address_part(c, Part::kAddress); }
Out op_local_part(const OperatorCall& c) { return address_part(c, Part::kLocalPart); }
Out op_domain(const OperatorCall& c) { return address_part(c, Part::kDomain); }

Out op_addresses(const OperatorCall& c) {
  std::string_view in = cstr(c.input);
  size_t i = 0;
  while (i < in.size() && is_space(in[i])) ++i;
  char sep = ':';
  if (i < in.size() && in[i] == '>') {
    if (i + 1 >= in.size())
      return Error::failed("output separator missing in expanding ${addresses:" +
                           std::string(in.substr(i)) + "}");
    sep = in[i + 1];
    i += 2;
  }
  AddressParser parser;
  parser.allow_group = true;
  std::string out;
  for (;;) {
    size_t end = smtp::find_address_end(in, i);
    auto r = parser.extract(in.substr(i, end - i));
    if (r) {
      if (!out.empty() && r->address[0] == sep) out += ' ';
      for (char ch : r->address) {
        out += ch;
        if (ch == sep) out += sep;
      }
      out += sep;
    }
    if (end >= in.size()) break;
    i = end + 1;
  }
  if (!out.empty()) out.pop_back();
  return out;
}

// ---------------------------------------------------------------- RFC 2047

// parse_quote_2047() into Exim's 2048-byte buffer, without folding.
Out op_rfc2047(const OperatorCall& c) {
  std::string_view in = cstr(c.input);
  const std::string head = std::string("=?") + kHeadersCharset + "?Q?";
  const size_t limit = 2048 - head.size() - 8;
  std::string out = head;
  size_t line = head.size();  // the first line's header is not counted
  bool coded = false, first_byte = false;
  char buf[8];
  for (unsigned char ch : in) {
    if (out.size() > limit) break;
    if (out.size() - line > 67 && !first_byte) {
      out += "?= ";
      line = out.size();
      out += head;
    }
    if (ch < 33 || ch > 126 || std::strchr("?=()<>@,;:\\\".[]_", ch)) {
      if (ch == ' ') {
        out += '_';
        first_byte = false;
      } else {
        std::snprintf(buf, sizeof buf, "=%02X", ch);
        out += buf;
        coded = true;
        first_byte = !first_byte;
      }
    } else {
      out += static_cast<char>(ch);
      first_byte = false;
    }
  }
  out += "?=";
  return coded ? out : std::string(in);
}

// Convert `s` from `charset` to the headers charset; unchanged when iconv
// fails on the text. A charset iconv does not know sets `*error` to Exim's
// message (rfc2047.c), which fails the expansion.
std::string to_headers_charset(const std::string& s, const std::string& charset, std::string* error) {
  if (strcasecmp(charset.c_str(), kHeadersCharset) == 0) return s;
  iconv_t cd = iconv_open(kHeadersCharset, charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    int err = errno;
    if (error && error->empty()) {
      *error = std::string("iconv_open(\"") + kHeadersCharset + "\", \"" + charset + "\") failed: " +
               std::strerror(err) + (err == EINVAL ? " (maybe unsupported conversion)" : "");
    }
    return s;
  }
  std::string out(s.size() * 4 + 16, '\0');
  char* inp = const_cast<char*>(s.data());
  size_t inleft = s.size(), outleft = out.size();
  char* outp = out.data();
  size_t rc = iconv(cd, &inp, &inleft, &outp, &outleft);
  iconv_close(cd);
  if (rc == static_cast<size_t>(-1)) return s;
  out.resize(out.size() - outleft);
  return out;
}

// One encoded word at `i` ("=?charset?q?text?="): its decoded text and end.
// `error` (may be null): see to_headers_charset.
std::optional<std::pair<std::string, size_t>> decode_word(std::string_view s, size_t i,
                                                          std::string* error = nullptr) {
  if (s.compare(i, 2, "=?") != 0) return std::nullopt;
  size_t q1 = s.find('?', i + 2);
  if (q1 == std::string_view::npos || q1 + 2 >= s.size() || s[q1 + 2] != '?') return std::nullopt;
  char enc = static_cast<char>(std::tolower(static_cast<unsigned char>(s[q1 + 1])));
  size_t end = s.find("?=", q1 + 3);
  if (end == std::string_view::npos || (enc != 'q' && enc != 'b')) return std::nullopt;
  if (end + 2 - i > 75) return std::nullopt;  // check_rfc2047_length
  std::string charset(s.substr(i + 2, q1 - i - 2));
  std::string_view data = s.substr(q1 + 3, end - q1 - 3);
  std::string raw;
  if (enc == 'b') {
    auto d = text::base64_decode(data);
    if (!d) return std::nullopt;
    raw = *d;
  } else {
    for (size_t k = 0; k < data.size(); ++k) {
      if (data[k] == '_') raw += ' ';
      else if (data[k] == '=' && k + 2 < data.size() && std::isxdigit(static_cast<unsigned char>(data[k + 1])) &&
               std::isxdigit(static_cast<unsigned char>(data[k + 2]))) {
        raw += static_cast<char>(std::stoi(std::string(data.substr(k + 1, 2)), nullptr, 16));
        k += 2;
      } else raw += data[k];
    }
  }
  return std::make_pair(to_headers_charset(raw, charset, error), end + 2);
}

Out op_rfc2047d(const OperatorCall& c) {
  std::string_view in = cstr(c.input);
  std::string out;
  size_t i = 0;
  bool after_word = false;
  std::string error;
  while (i < in.size()) {
    auto w = decode_word(in, i, &error);
    if (!error.empty()) return Error::failed(error);
    if (w) {
      out += w->first;
      i = w->second;
      after_word = true;
      continue;
    }
    if (after_word && is_space(in[i])) {  // white space between two words goes
      size_t j = i;
      while (j < in.size() && is_space(in[j])) ++j;
      if (j < in.size() && decode_word(in, j)) {
        i = j;
        continue;
      }
    }
    out += in[i++];
    after_word = false;
  }
  return std::string(cstr(out));
}

// ---------------------------------------------------------------- UTF-8

Out op_from_utf8(const OperatorCall& c) {
  static constexpr unsigned char kExtra[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                             1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                             2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
                                             3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5};
  static constexpr int kMask[] = {0xff, 0x1f, 0x0f, 0x07, 0x03, 0x01};
  std::string_view in = cstr(c.input);
  std::string out;
  for (size_t i = 0; i < in.size();) {
    int ch = static_cast<unsigned char>(in[i++]);
    if ((ch & 0xc0) == 0xc0) {  // Exim's GETUTF8INC, stopping at the end
      int a = kExtra[ch & 0x3f], shift = 6 * a;
      ch = (ch & kMask[a]) << shift;
      while (a-- > 0 && i < in.size()) {
        shift -= 6;
        ch |= (static_cast<unsigned char>(in[i++]) & 0x3f) << shift;
      }
    }
    out += static_cast<char>(ch > 255 ? '_' : ch);
  }
  return out;
}

// Replace each broken UTF-8 sequence by '?'.
Out op_utf8clean(const OperatorCall& c) {
  std::string out;
  std::string seq;
  int bytes_left = 0;
  long codepoint = 0;
  for (unsigned char ch : cstr(c.input)) {
    int bad = 0;  // 1: wrong continuation, -1: invalid or too large
    if (bytes_left) {
      if ((ch & 0xc0) != 0x80) {
        bad = 1;
      } else {
        codepoint = (codepoint << 6) | (ch & 0x3f);
        seq += static_cast<char>(ch);
        if (--bytes_left == 0) {
          if (codepoint > 0x10FFFF || (codepoint >= 0xD800 && codepoint <= 0xDFFF)) bad = -1;
          else {
            out += seq;
            seq.clear();
          }
        }
      }
    } else {
      if (!(ch & 0x80)) {
        out += static_cast<char>(ch);
        continue;
      }
      if ((ch & 0xe0) == 0xc0) {
        if (ch == 0xc0 || ch == 0xc1) bad = -1;
        else {
          bytes_left = 1;
          codepoint = ch & 0x1f;
        }
      } else if ((ch & 0xf0) == 0xe0) {
        bytes_left = 2;
        codepoint = ch & 0x0f;
      } else if ((ch & 0xf8) == 0xf0) {
        bytes_left = 3;
        codepoint = ch & 0x07;
      } else {
        bad = -1;
      }
      seq.assign(1, static_cast<char>(ch));
    }
    if (bad) {
      bytes_left = 0;
      seq.clear();
      out += '?';
      if (bad == 1 && !(ch & 0x80)) out += static_cast<char>(ch);
    }
  }
  if (bytes_left) out += '?';
  return out;
}

// The IDNA conversions (core/text/idna). Exim's message quotes the input
// through string_printing() and adds the library's text.
Out idna(Result<std::string> r, const char* from, const char* to, std::string_view in) {
  if (!r)
    return Error::failed("error converting " + std::string(from) + " (" + text::string_printing(in) +
                         ") to " + to + ": " + r.error().message);
  return std::string(cstr(*r));
}

Out op_utf8_domain_to_alabel(const OperatorCall& c) {
  return idna(text::domain_to_alabel(cstr(c.input)), "utf8", "alabel", cstr(c.input));
}
Out op_utf8_domain_from_alabel(const OperatorCall& c) {
  return idna(text::domain_from_alabel(cstr(c.input)), "alabel", "utf8", cstr(c.input));
}
Out op_utf8_localpart_to_alabel(const OperatorCall& c) {
  return idna(text::localpart_to_alabel(cstr(c.input)), "utf8", "alabel", cstr(c.input));
}
Out op_utf8_localpart_from_alabel(const OperatorCall& c) {
  return idna(text::localpart_from_alabel(cstr(c.input)), "alabel", "utf8", cstr(c.input));
}

// ---------------------------------------------------------------- the rest

Out op_expand(const OperatorCall& c) {
  std::string_view in = cstr(c.input);
  auto r = c.env.expand(in);
  if (r) return r;
  Error e = r.take_error();
  e.message = "internal expansion of " + quoted(in) + " failed: " + e.message;
  return e;
}

Out op_stat(const OperatorCall& c) {
  std::string path(cstr(c.input));
  struct stat st;
  if (::stat(path.c_str(), &st) < 0)
    return Error::failed("stat(" + path + ") failed: " + std::strerror(errno));
  static constexpr const char* kNormal[] = {"---", "--x", "-w-", "-wx", "r--", "r-x", "rw-", "rwx"};
  static constexpr const char* kSetid[] = {"--S", "--s", "-wS", "-ws", "r-S", "r-s", "rwS", "rws"};
  static constexpr const char* kSticky[] = {"--T", "--t", "-wT", "-wt", "r-T", "r-t", "rwT", "rwt"};
  char smode[11];
  mode_t mode = st.st_mode;
  switch (mode & S_IFMT) {
    case S_IFIFO: smode[0] = 'p'; break;
    case S_IFCHR: smode[0] = 'c'; break;
    case S_IFDIR: smode[0] = 'd'; break;
    case S_IFBLK: smode[0] = 'b'; break;
    case S_IFREG: smode[0] = '-'; break;
    default: smode[0] = '?'; break;
  }
  const char* const* tables[3] = {(mode & 01000) ? kSticky : kNormal, (mode & 02000) ? kSetid : kNormal,
                                  (mode & 04000) ? kSetid : kNormal};
  for (int i = 0; i < 3; ++i, mode >>= 3) std::memcpy(smode + 7 - i * 3, tables[i][mode & 7], 3);
  smode[10] = '\0';
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "mode=%04lo smode=%s inode=%ld device=%ld links=%ld uid=%ld gid=%ld size=%lld "
                "atime=%ld mtime=%ld ctime=%ld",
                static_cast<long>(st.st_mode & 077777), smode, static_cast<long>(st.st_ino),
                static_cast<long>(st.st_dev), static_cast<long>(st.st_nlink), static_cast<long>(st.st_uid),
                static_cast<long>(st.st_gid), static_cast<long long>(st.st_size),
                static_cast<long>(st.st_atime), static_cast<long>(st.st_mtime),
                static_cast<long>(st.st_ctime));
  return std::string(buf);
}

// ---------------------------------------------------------------- the tables

struct Entry {
  const char* name;
  OperatorFn fn;
  const char* canonical;  // nullptr: same as name
};

// Names that contain an underscore; matched whole, take no suffix.
constexpr Entry kUnderscoreOps[] = {
    {"from_utf8", op_from_utf8, nullptr},
    {"local_part", op_local_part, nullptr},
    {"quote_local_part", op_quote_local_part, nullptr},
    {"reverse_ip", op_reverse_ip, nullptr},
    {"time_eval", op_time_eval, nullptr},
    {"time_interval", op_time_interval, nullptr},
    {"utf8_domain_from_alabel", op_utf8_domain_from_alabel, nullptr},
    {"utf8_domain_to_alabel", op_utf8_domain_to_alabel, nullptr},
    {"utf8_localpart_from_alabel", op_utf8_localpart_from_alabel, nullptr},
    {"utf8_localpart_to_alabel", op_utf8_localpart_to_alabel, nullptr},
};

// The others; a suffix after '_' is passed as args[0].
constexpr Entry kMainOps[] = {
    {"address", op_address, nullptr},     {"addresses", op_addresses, nullptr},
    {"base32", op_base32, nullptr},       {"base32d", op_base32d, nullptr},
    {"base62", op_base62, nullptr},       {"base62d", op_base62d, nullptr},
    {"base64", op_base64, nullptr},       {"base64d", op_base64d, nullptr},
    {"domain", op_domain, nullptr},       {"escape", op_escape, nullptr},
    {"escape8bit", op_escape8bit, nullptr}, {"eval", op_eval, nullptr},
    {"eval10", op_eval10, nullptr},       {"expand", op_expand, nullptr},
    {"h", op_h, "hash"},                  {"hash", op_hash, nullptr},
    {"hex2b64", op_hex2b64, nullptr},     {"hexquote", op_hexquote, nullptr},
    {"ipv6denorm", op_ipv6denorm, nullptr}, {"ipv6norm", op_ipv6norm, nullptr},
    {"l", op_l, "length"},                {"lc", op_lc, nullptr},
    {"length", op_length, nullptr},       {"listcount", op_listcount, nullptr},
    {"listnamed", op_listnamed, nullptr}, {"mask", op_mask, nullptr},
    {"md5", op_md5, nullptr},             {"nh", op_nh, "nhash"},
    {"nhash", op_nhash, nullptr},         {"quote", op_quote, nullptr},
    {"randint", op_randint, nullptr},     {"rfc2047", op_rfc2047, nullptr},
    {"rfc2047d", op_rfc2047d, nullptr},   {"rxquote", op_rxquote, nullptr},
    {"s", op_s, "substr"},                {"sha1", op_sha1, nullptr},
    {"sha2", op_sha2, nullptr},           {"sha256", op_sha2, nullptr},
    {"sha3", op_sha3, nullptr},           {"stat", op_stat, nullptr},
    {"str2b64", op_base64, nullptr},      {"strlen", op_strlen, nullptr},
    {"substr", op_substr, nullptr},       {"uc", op_uc, nullptr},
    {"utf8clean", op_utf8clean, nullptr},
};

template <size_t N>
const Entry* find(const Entry (&table)[N], std::string_view name) {
  for (const Entry& e : table)
    if (name == e.name) return &e;
  return nullptr;
}

}  // namespace

Result<ResolvedOperator> resolve_operator(std::string_view written_name) {
  ResolvedOperator op;
  const Entry* e = find(kUnderscoreOps, written_name);
  if (!e) {
    size_t us = written_name.find('_');
    e = find(kMainOps, written_name.substr(0, us));
    if (e && us != std::string_view::npos) op.args.emplace_back(written_name.substr(us + 1));
  }
  if (!e) return Error::failed("unknown expansion operator " + quoted(written_name));
  op.name = e->canonical ? e->canonical : e->name;
  op.fn = e->fn;
  return op;
}

}  // namespace tern::expand
