// core/text/strfuncs.cpp: the string functions shared by expansion items
// and operators, reproducing Exim 4.96 (expand.c, base64.c, crypt16.c).
//
// Exim works on C strings and its arithmetic is C arithmetic: where Exim
// relies on wrap-around (int casts of strtol, eval overflow) we wrap the same
// way, explicitly. Where Exim 4.96 crashes (a zero divisor in hash/nhash, a
// negative ${hash} length) we return an error instead; those texts are ours.
#include "core/text/strfuncs.hpp"

#include <crypt.h>
#include <openssl/evp.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

namespace tern::text {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// strtol(s, &end, 10) cast to int, as Exim's `(int)Ustrtol(...)`; sets
// `rest_empty` when the whole string was consumed.
int c_strtol_int(std::string_view s, bool& rest_empty) {
  std::string copy(s);
  char* end = nullptr;
  long v = std::strtol(copy.c_str(), &end, 10);
  rest_empty = *end == '\0';
  return static_cast<int>(static_cast<unsigned long>(v));
}

// Read the numeric arguments of the item forms: `"x" is not a positive
// number (in "substr" expansion)`. `positive` is Exim's check for the
// second argument.
Result<int> item_number(std::string_view arg, bool positive, std::string_view item) {
  bool rest_empty = false;
  int v = c_strtol_int(arg, rest_empty);
  if (!rest_empty || (positive && v < 0))
    return Error::failed(quoted(arg) + " is not a" + (positive ? " positive" : "") +
                         " number (in " + quoted(item) + " expansion)");
  return v;
}

// ---- eval: Exim's recursive-descent integer evaluator ----

class Evaluator {
 public:
  Evaluator(const std::string& text, bool decimal) : s_(text.c_str()), decimal_(decimal) {}

  // Evaluates the whole text; on error sets `error` and leaves `pos()` where
  // Exim's pointer stopped.
  int64_t run(const char*& error) {
    int64_t v = expr(false);
    error = error_;
    return v;
  }
  size_t pos() const { return p_; }

 private:
  using U = uint64_t;
  static constexpr int64_t kMax = INT64_MAX;
  static constexpr int64_t kMin = INT64_MIN;

  char cur() const { return s_[p_]; }
  char skip_ws() {
    while (is_space(s_[p_])) ++p_;
    return s_[p_];
  }

  int64_t expr(bool endket) {
    int64_t x = op_or();
    if (!error_) {
      if (endket) {
        if (cur() != ')') error_ = "expecting closing parenthesis";
        else {
          ++p_;
          skip_ws();
        }
      } else if (cur()) {
        error_ = "expecting operator";
      }
    }
    return x;
  }

  int64_t number() {
    int64_t n = 0;
    char c = skip_ws();
    if (std::isdigit(static_cast<unsigned char>(c))) {
      long long v = 0;
      int count = 0;
      (void)std::sscanf(s_ + p_, decimal_ ? "%lld%n" : "%lli%n", &v, &count);
      p_ += static_cast<size_t>(count);
      n = v;
      switch (std::tolower(static_cast<unsigned char>(cur()))) {
        case 'k': n = static_cast<int64_t>(static_cast<U>(n) * 1024); ++p_; break;
        case 'm': n = static_cast<int64_t>(static_cast<U>(n) * 1024 * 1024); ++p_; break;
        case 'g': n = static_cast<int64_t>(static_cast<U>(n) * 1024 * 1024 * 1024); ++p_; break;
        default: break;
      }
      skip_ws();
    } else if (c == '(') {
      ++p_;
      n = expr(true);
    } else {
      error_ = "expecting number or opening parenthesis";
    }
    return n;
  }

  int64_t unary() {
    char c = skip_ws();
    if (c == '+' || c == '-' || c == '~') {
      ++p_;
      int64_t x = unary();
      if (c == '-') x = static_cast<int64_t>(U{0} - static_cast<U>(x));
      else if (c == '~') x = ~x;
      return x;
    }
    return number();
  }

  int64_t mult() {
    int64_t x = unary();
    while (!error_ && (cur() == '*' || cur() == '/' || cur() == '%')) {
      char op = s_[p_++];
      int64_t y = unary();
      if (error_) break;
      if (y == -1 && x == kMin && op != '*') {  // Exim's SIGFPE dodge
        x = kMax;
        continue;
      }
      if (op == '*') {
        x = static_cast<int64_t>(static_cast<U>(x) * static_cast<U>(y));
      } else if (y == 0) {
        error_ = op == '/' ? "divide by zero" : "modulo by zero";
        x = 0;
        break;
      } else {
        x = op == '/' ? x / y : x % y;
      }
    }
    return x;
  }

  int64_t sum() {
    int64_t x = mult();
    while (!error_ && (cur() == '+' || cur() == '-')) {
      char op = s_[p_++];
      int64_t y = mult();
      if (error_) break;
      // Exim's "over-conservative" check, including its test of x twice.
      if (x >= kMax / 2 || (x <= -(kMax / 2) && y <= -(kMax / 2))) {
        error_ = op == '+' ? "overflow in sum" : "overflow in difference";
        break;
      }
      x = static_cast<int64_t>(op == '+' ? static_cast<U>(x) + static_cast<U>(y)
                                         : static_cast<U>(x) - static_cast<U>(y));
    }
    return x;
  }

  int64_t shift() {
    int64_t x = sum();
    while (!error_ && (cur() == '<' || cur() == '>') && s_[p_ + 1] == cur()) {
      char op = cur();
      p_ += 2;
      int64_t y = sum();
      if (error_) break;
      unsigned n = static_cast<unsigned>(y) & 63;  // as the x86 shift does
      x = op == '<' ? static_cast<int64_t>(static_cast<U>(x) << n) : x >> n;
    }
    return x;
  }

  template <int64_t (Evaluator::*Next)()>
  int64_t binary(char op_char, int64_t (*combine)(int64_t, int64_t)) {
    int64_t x = (this->*Next)();
    while (!error_ && cur() == op_char) {
      ++p_;
      int64_t y = (this->*Next)();
      if (error_) break;
      x = combine(x, y);
    }
    return x;
  }
  int64_t op_and() { return binary<&Evaluator::shift>('&', [](int64_t a, int64_t b) { return a & b; }); }
  int64_t op_xor() { return binary<&Evaluator::op_and>('^', [](int64_t a, int64_t b) { return a ^ b; }); }
  int64_t op_or() { return binary<&Evaluator::op_xor>('|', [](int64_t a, int64_t b) { return a | b; }); }

  const char* s_;
  size_t p_ = 0;
  bool decimal_;
  const char* error_ = nullptr;
};

// ---- hashing helpers ----

constexpr std::string_view kHashCodes =  // sic: "rts", as in Exim
    "abcdefghijklmnopqrtsuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr unsigned kPrimes[] = {2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47,
                                53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113};

const EVP_MD* digest_by_exim_name(std::string_view name) {
  std::string n(name);
  return EVP_get_digestbyname(n.c_str());
}

// One-shot keyed hash (RFC 2104), the way Exim's ${hmac} builds it.
std::string hmac_raw(std::string_view algorithm, std::string_view key, std::string_view data) {
  const size_t block = 64;
  std::string k(key);
  if (k.size() > block) k = digest(algorithm, k);
  std::string inner(block, '\x36'), outer(block, '\x5c');
  for (size_t i = 0; i < k.size(); ++i) {
    inner[i] = static_cast<char>(inner[i] ^ k[i]);
    outer[i] = static_cast<char>(outer[i] ^ k[i]);
  }
  return digest(algorithm, outer + digest(algorithm, inner + std::string(data)));
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

bool equal_nocase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && starts_with_nocase(a, b);
}

// {md5} and {sha1}: base64 (LDAP style) or hex, chosen by length.
bool digest_matches(std::string_view algorithm, std::string_view plain, std::string_view coded,
                    size_t b64_len, size_t hex_len) {
  std::string d = digest(algorithm, plain);
  if (coded.size() == b64_len) return base64_encode(d) == coded;
  if (coded.size() == hex_len) return equal_nocase(to_hex(d, true), coded);
  return false;
}

// crypt() through the reentrant interface; empty on failure.
std::string call_crypt(const std::string& key, const std::string& salt) {
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  errno = 0;
  const char* r = crypt_r(key.c_str(), salt.c_str(), data.get());
  return r ? std::string(r) : std::string();
}

// Exim's own crypt16(): two crypt() blocks, the second salted from the first.
std::string crypt16(const std::string& key, const std::string& salt) {
  std::string res = call_crypt(key, salt).substr(0, 13);
  if (key.size() > 8) {
    std::string s2 = res.size() >= 4 ? res.substr(2, 2) : std::string();
    std::string p = call_crypt(key.substr(8), s2);
    if (p.size() > 2) res += p.substr(2, 11);
  }
  return res;
}

}  // namespace

Result<int64_t> parse_int(std::string_view s) { return parse_int(s, false); }

Result<int64_t> parse_int(std::string_view s, bool non_negative) {
  size_t start = 0;
  while (start < s.size() && is_space(s[start])) ++start;
  if (start > 0 && start == s.size()) return int64_t{0};
  std::string copy(s.substr(start));
  const char* msg = "invalid integer \"%s\"";
  char* end = nullptr;
  errno = 0;
  long long value = std::strtoll(copy.c_str(), &end, 10);
  if (end == copy.c_str()) {
    msg = "integer expected but \"%s\" found";
  } else if (value < 0 && non_negative) {
    msg = "non-negative integer expected but \"%s\" found";
  } else {
    long long scale = 1;
    switch (std::tolower(static_cast<unsigned char>(*end))) {
      case 'k': scale = 1024LL; break;
      case 'm': scale = 1024LL * 1024; break;
      case 'g': scale = 1024LL * 1024 * 1024; break;
      default: break;
    }
    if (scale != 1) {
      if (value > LLONG_MAX / scale || value < LLONG_MIN / scale) errno = ERANGE;
      else value *= scale;
      ++end;
    }
    if (errno == ERANGE) {
      msg = "absolute value of integer \"%s\" is too large (overflow)";
    } else {
      while (is_space(*end)) ++end;
      if (*end == '\0') return static_cast<int64_t>(value);
    }
  }
  std::string text(msg);
  text.replace(text.find("%s"), 2, copy);
  return Error::failed(text);
}

std::string substr_values(std::string_view s, int offset, int length) {
  int64_t sublen = static_cast<int64_t>(s.size());
  int64_t v1 = offset, v2 = length;
  if (v1 < 0) {  // count from the right
    v1 += sublen;
    if (v1 < 0) {
      v2 += v1;
      if (v2 < 0) v2 = 0;
      v1 = 0;
    } else if (v2 < 0) {
      v2 = v1;
      v1 = 0;
    }
  } else if (v1 > sublen) {
    v1 = sublen;
    v2 = 0;
  } else if (v2 < 0) {
    v2 = sublen;
  }
  if (v1 + v2 > sublen) v2 = sublen - v1;
  return std::string(s.substr(static_cast<size_t>(v1), static_cast<size_t>(v2)));
}

Result<std::string> hash_values(std::string_view s, int length, int chars) {
  if (chars < 0) chars = 26;
  else if (chars > static_cast<int>(kHashCodes.size()))
    return Error::failed("hash count \"" + std::to_string(chars) + "\" too big");
  const int sublen = static_cast<int>(s.size());
  if (length >= sublen) return std::string(s);
  if (length < 0)  // Exim 4.96 dies here (string_catn with a negative count)
    return Error::failed("internal error in string_catn (count " + std::to_string(length) + ")");
  if (chars == 0) return Error::failed("hash count \"0\" is not usable");  // Exim: SIGFPE
  std::string t(s);
  int i = 0;
  for (int j = length; j < sublen; ++j) {
    unsigned c = static_cast<unsigned char>(t[j]);
    int shift = static_cast<int>((c + static_cast<unsigned>(j)) & 7);
    t[i] = static_cast<char>(static_cast<unsigned char>(t[i]) ^ ((c << shift) | (c >> (8 - shift))));
    if (++i >= length) i = 0;
  }
  for (i = 0; i < length; ++i) t[i] = kHashCodes[static_cast<unsigned char>(t[i]) % chars];
  t.resize(length);
  return t;
}

Result<std::string> nhash_values(std::string_view s, int n, int m) {
  unsigned long total = 0;
  int i = 0;
  for (unsigned char c : s) {
    if (i == 0) i = static_cast<int>(std::size(kPrimes)) - 1;
    total += kPrimes[i--] * static_cast<unsigned>(c);
  }
  if (m < 0) {
    if (n == 0) return Error::failed("nhash divisor is zero");  // Exim: SIGFPE
    return std::to_string(total % static_cast<unsigned long>(static_cast<long>(n)));
  }
  int product = static_cast<int>(static_cast<unsigned>(n) * static_cast<unsigned>(m));
  if (product == 0 || m == 0) return Error::failed("nhash divisor is zero");  // Exim: SIGFPE
  total %= static_cast<unsigned long>(static_cast<long>(product));
  return std::to_string(total / static_cast<unsigned>(m)) + "/" +
         std::to_string(total % static_cast<unsigned>(m));
}

namespace {

// The numbers of ${substr}, ${hash} and ${nhash}: the first as written, the
// second (-1 when not given) not negative; errors name the item.
Result<std::pair<int, int>> item_numbers(std::string_view first,
                                         std::optional<std::string_view> second,
                                         std::string_view item) {
  auto v1 = item_number(first, false, item);
  if (!v1) return v1.take_error();
  int v2 = -1;
  if (second) {
    auto r = item_number(*second, true, item);
    if (!r) return r.take_error();
    v2 = *r;
  }
  return std::pair<int, int>{*v1, v2};
}

// The operator-style callers pass "" for an argument not given.
std::optional<std::string_view> given(std::string_view arg) {
  return arg.empty() ? std::nullopt : std::optional<std::string_view>(arg);
}

}  // namespace

Result<std::string> substr_item(std::string_view s, std::string_view offset,
                                std::optional<std::string_view> length) {
  auto v = item_numbers(offset, length, "substr");
  if (!v) return v.take_error();
  return substr_values(s, v->first, v->second);
}

Result<std::string> substr(std::string_view s, std::string_view offset, std::string_view length) {
  return substr_item(s, offset, given(length));
}

Result<std::string> length(std::string_view s, std::string_view n) {
  auto v = item_number(n, true, "length");
  if (!v) return v.take_error();
  return substr_values(s, 0, *v);
}

Result<std::string> hash_item(std::string_view s, std::string_view limit,
                              std::optional<std::string_view> prime) {
  auto v = item_numbers(limit, prime, "hash");
  if (!v) return v.take_error();
  return hash_values(s, v->first, v->second);
}

Result<std::string> hash(std::string_view s, std::string_view limit, std::string_view prime) {
  return hash_item(s, limit, given(prime));
}

Result<std::string> nhash_item(std::string_view s, std::string_view n,
                               std::optional<std::string_view> m) {
  auto v = item_numbers(n, m, "nhash");
  if (!v) return v.take_error();
  return nhash_values(s, v->first, v->second);
}

Result<std::string> nhash(std::string_view s, std::string_view n, std::string_view m) {
  return nhash_item(s, n, given(m));
}

Result<std::string> hmac(std::string_view algorithm, std::string_view key, std::string_view s) {
  if (algorithm != "md5" && algorithm != "sha1")
    return Error::failed("hmac algorithm " + quoted(algorithm) + " is not recognised");
  return to_hex(hmac_raw(algorithm, key, s));
}

Result<std::string> eval(std::string_view expression, bool decimal_only) {
  // Exim reads a C string: anything after a NUL is invisible to it.
  std::string text(expression.substr(0, expression.find('\0')));
  Evaluator ev(text, decimal_only);
  const char* error = nullptr;
  int64_t v = ev.run(error);
  if (error)
    return Error::failed(std::string("error in expression evaluation: ") + error +
                         " (after processing \"" + text.substr(0, ev.pos()) + "\")");
  return std::to_string(v);
}

std::string digest(std::string_view algorithm, std::string_view s) {
  const EVP_MD* md = digest_by_exim_name(algorithm);
  if (!md) return {};
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (!EVP_Digest(s.data(), s.size(), out, &len, md, nullptr)) return {};
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string to_hex(std::string_view bytes, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string md5_hex(std::string_view s) { return to_hex(digest("md5", s)); }
std::string sha1_hex(std::string_view s) { return to_hex(digest("sha1", s)); }
std::string sha256_hex(std::string_view s) { return to_hex(digest("sha256", s)); }

namespace {
char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower_ascii(c);
  return out;
}

bool equal_caseless(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  return true;
}

std::string xtext_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < '!' || c > '~' || c == '+' || c == '=') {
      out += '+';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kTable[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += kTable[v >> 18];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += kTable[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    bool two = i + 1 < bytes.size();
    if (two) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kTable[v >> 18];
    out += kTable[(v >> 12) & 63];
    out += two ? kTable[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view code) {
  auto value = [](int c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  size_t p = 0;
  // The next character, skipping white space; 0 at the end (as a C string).
  auto next = [&](bool skip_space) -> int {
    while (p < code.size() && skip_space && is_space(code[p])) ++p;
    return p < code.size() ? static_cast<unsigned char>(code[p++]) : 0;
  };
  std::string out;
  for (;;) {
    int x = next(true);
    if (x == 0) break;
    if ((x = value(x)) < 0) return std::nullopt;
    int y = next(true);
    if (y == 0 || (y = value(y)) < 0) return std::nullopt;
    out += static_cast<char>((x << 2) | (y >> 4));
    x = next(true);
    if (x == '=') {
      if (next(true) != '=' || next(true) != 0) return std::nullopt;
      break;
    }
    if ((x = value(x)) < 0) return std::nullopt;
    out += static_cast<char>(((y << 4) | (x >> 2)) & 0xff);
    y = next(true);
    if (y == '=') {
      if (next(true) != 0) return std::nullopt;
      break;
    }
    if ((y = value(y)) < 0) return std::nullopt;
    out += static_cast<char>(((x << 6) | y) & 0xff);
  }
  return out;
}

Result<bool> crypteq(std::string_view plain, std::string_view stored) {
  if (starts_with_nocase(stored, "{md5}"))
    return digest_matches("md5", plain, stored.substr(5), 24, 32);
  if (starts_with_nocase(stored, "{sha1}"))
    return digest_matches("sha1", plain, stored.substr(6), 28, 40);
  int which = 0;
  if (starts_with_nocase(stored, "{crypt}")) {
    stored.remove_prefix(7);
    which = 1;
  } else if (starts_with_nocase(stored, "{crypt16}")) {
    stored.remove_prefix(9);
    which = 2;
  } else if (!stored.empty() && stored[0] == '{') {
    return Error::failed("unknown encryption mechanism in " + quoted(stored));
  }
  std::string key(plain), salt(stored);
  std::string coded = which == 2 ? crypt16(key, salt) : call_crypt(key, salt);
  // Fewer than two salt characters would match an empty crypt() result.
  return salt.size() >= 2 && coded == salt;
}

std::string string_printing(std::string_view s, bool keep_top_bit) {
  std::string out;
  char buf[8];
  for (unsigned char ch : s) {
    if (std::isprint(ch) || ch == '\t' || (keep_top_bit && ch >= 0x80)) {
      out += static_cast<char>(ch);
      continue;
    }
    out += '\\';
    switch (ch) {
      case '\n': out += 'n'; break;
      case '\r': out += 'r'; break;
      case '\b': out += 'b'; break;
      case '\v': out += 'v'; break;
      case '\f': out += 'f'; break;
      default:
        std::snprintf(buf, sizeof buf, "%03o", ch);
        out += buf;
    }
  }
  return out;
}

char interpret_escape(std::string_view s, size_t& i) {
  if (i + 1 >= s.size()) return '\\';
  char c = s[++i];
  auto octal = [](char x) { return x >= '0' && x <= '7'; };
  if (octal(c)) {
    int v = c - '0';
    for (int k = 0; k < 2 && i + 1 < s.size() && octal(s[i + 1]); ++k) v = v * 8 + (s[++i] - '0');
    return static_cast<char>(v);
  }
  switch (c) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'v': return '\v';
    case 'x': {
      int v = 0;
      for (int k = 0; k < 2 && i + 1 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])); ++k) {
        char h = static_cast<char>(std::tolower(static_cast<unsigned char>(s[++i])));
        v = v * 16 + (h <= '9' ? h - '0' : h - 'a' + 10);
      }
      return static_cast<char>(v);
    }
    default: return c;
  }
}

}  // namespace tern::text
