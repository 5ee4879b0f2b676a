// core/expand/evaluate.cpp: evaluate a compiled expansion in a Context.
//
// Mirrors Exim 4.96's expand_string_internal and eval_condition at run
// time: the order in which arguments are expanded, which parts are only
// "skipped" (walked for errors, no lookups or commands), how $value and the
// numeric variables are saved and restored around if/lookup/extract/sg, and
// every run-time failure text. Results are appended to one output string.
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/expand/tree.hpp"
#include "core/text/ipaddr.hpp"
#include "core/lookup/match.hpp"
#include "core/text/list.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::expand {
namespace detail {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Exim's strcmpic, quirk included: when `a` is a proper prefix of `b` the
// result is b's next character, so "" sorts after "a" (lti{}{a} is false).
int strcmpic(std::string_view a, std::string_view b) {
  for (size_t i = 0; i < a.size(); ++i) {
    int ca = std::tolower(static_cast<unsigned char>(a[i]));
    int cb = i < b.size() ? std::tolower(static_cast<unsigned char>(b[i])) : 0;
    if (ca != cb) return ca - cb;
  }
  return a.size() < b.size() ? static_cast<unsigned char>(b[a.size()]) : 0;
}
int strcmpb(std::string_view a, std::string_view b) {
  int c = a.compare(b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

// string_printing2(s, SP_TAB): non-printing characters escaped, tab and
// top-bit bytes kept.
std::string printing(std::string_view s) { return text::string_printing(s, true); }

// string_dequote: a double-quoted string with escapes, or a word.
std::string dequote(std::string_view s, size_t& i) {
  std::string out;
  if (i < s.size() && s[i] == '"') {
    ++i;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\' && i + 1 < s.size()) {
        ++i;
        char c = s[i];
        switch (c) {
          case 'n': c = '\n'; break;
          case 't': c = '\t'; break;
          case 'r': c = '\r'; break;
          default: break;
        }
        out += c;
        ++i;
      } else {
        out += s[i++];
      }
    }
    if (i < s.size()) ++i;
  } else {
    while (i < s.size() && !is_space(s[i])) out += s[i++];
  }
  return out;
}

// expand_getkeyed
std::optional<std::string> getkeyed(std::string_view key, std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  while (i < s.size()) {
    size_t dk = i;
    while (i < s.size() && s[i] != '=' && !is_space(s[i])) ++i;
    std::string_view dkey = s.substr(dk, i - dk);
    while (i < s.size() && is_space(s[i])) ++i;
    if (i < s.size() && s[i] == '=') {
      ++i;
      while (i < s.size() && is_space(s[i])) ++i;
    }
    std::string data = dequote(s, i);
    if (dkey.size() == key.size() && strcmpic(dkey, key) == 0) return data;
    while (i < s.size() && is_space(s[i])) ++i;
  }
  return std::nullopt;
}

// expand_gettokened
std::optional<std::string> gettokened(int field, std::string_view seps, std::string_view s) {
  if (field == 0) return std::string(s);
  std::vector<std::string_view> fields;
  size_t start = 0;
  for (;;) {
    size_t e = s.find_first_of(seps, start);
    if (seps.empty()) e = std::string_view::npos;
    if (e == std::string_view::npos) {
      fields.push_back(s.substr(start));
      break;
    }
    fields.push_back(s.substr(start, e - start));
    start = e + 1;
    if (field > 0 && static_cast<int>(fields.size()) >= field) break;
  }
  if (field > 0) {
    if (static_cast<int>(fields.size()) < field) return std::nullopt;
    return std::string(fields[field - 1]);
  }
  int n = static_cast<int>(fields.size());
  if (-field > n) return std::nullopt;
  return std::string(fields[n + field]);
}

std::optional<std::string> getlistele(int field, std::string_view list) {
  if (field < 0) {
    int count = 0;
    text::ListReader r(list);
    std::string item;
    while (r.next(item)) ++count;
    field = count + field + 1;
  }
  if (field <= 0) return std::nullopt;
  text::ListReader r(list);
  std::string item;
  for (int i = 0; i < field; ++i)
    if (!r.next(item)) return std::nullopt;
  return item;
}

// dewrap: strip the enclosing pair; error "missing 'c'".
Result<std::string> dewrap(std::string_view s, char open, char close) {
  size_t p = 0;
  while (p < s.size() && is_space(s[p])) ++p;
  bool quotes = open == close;
  if (p >= s.size() || s[p] != open) return Error::failed(std::string("missing '") + open + "'");
  {
    size_t start = ++p;
    unsigned depth = 0;
    while (p < s.size()) {
      if (s[p] == '\\') {
        ++p;
      } else if (!quotes && s[p] == open) {
        ++depth;
      } else if (s[p] == close) {
        if (depth == 0) return std::string(s.substr(start, p - start));
        --depth;
      }
      ++p;
    }
  }
  return Error::failed(std::string("missing '") + close + "'");
}

// json_nextinlist
std::optional<std::string> json_next(std::string_view& list) {
  size_t p = 0;
  while (p < list.size() && is_space(list[p])) ++p;
  size_t item = p;
  int ad = 0, od = 0;
  while (p < list.size() && (list[p] != ',' || ad != 0 || od != 0)) {
    switch (list[p]) {
      case '[': ++ad; break;
      case ']': --ad; break;
      case '{': ++od; break;
      case '}': --od; break;
    }
    ++p;
  }
  std::string_view it = list.substr(item, p - item);
  list = p < list.size() ? list.substr(p + 1) : list.substr(p);
  if (it.empty()) return std::nullopt;
  return std::string(it);
}

std::string prvs_daystamp(std::time_t now, int day_offset) {
  std::string days = std::to_string((static_cast<long long>(now) + day_offset * 86400LL) / 86400);
  return days.size() >= 3 ? days.substr(days.size() - 3) : "100";
}

std::optional<std::string> prvs_hmac(std::string_view address, std::string_view key, std::string_view keynum,
                                     std::string_view daystamp) {
  if (key.size() > 64) return std::nullopt;
  std::string src;
  src += keynum.empty() ? '0' : keynum[0];
  src += daystamp.substr(0, 3);
  src += address;
  auto h = text::hmac("sha1", key, src);
  if (!h) return std::nullopt;
  return h->substr(0, 6);
}

const char* rc_name(AclOutcome::Rc rc) {
  switch (rc) {
    case AclOutcome::Rc::kOk: return "OK";
    case AclOutcome::Rc::kFail: return "FAIL";
    case AclOutcome::Rc::kDefer: return "DEFER";
    case AclOutcome::Rc::kError: return "ERROR";
    case AclOutcome::Rc::kDiscard: return "DISCARD";
    case AclOutcome::Rc::kFailDrop: return "FAIL_DROP";
  }
  return "ERROR";
}

// Exim's time values for the readsocket timeout: 5s, 2m, 1h, plain seconds.
int parse_seconds(std::string_view t) {
  int total = 0, v = 0;
  bool any = false;
  for (char c : t) {
    if (is_digit(c)) {
      v = v * 10 + (c - '0');
      any = true;
      continue;
    }
    int mult = c == 'w' ? 7 * 86400 : c == 'd' ? 86400 : c == 'h' ? 3600 : c == 'm' ? 60 : c == 's' ? 1 : -1;
    if (mult < 0) return -1;
    total += v * mult;
    v = 0;
  }
  return any ? total + v : -1;
}

// ${readsocket{spec}{request}{options}{eol}}: connect to a Unix socket or
// "inet:host:port", send the request, read to EOF, with a timeout.
Result<std::string> read_socket(const std::vector<std::string>& a) {
  const std::string& spec = a[0];
  int timeout = 5;
  bool do_shutdown = true;
  std::optional<std::string> eol;
  if (a.size() > 2) {
    text::ListReader reader(a[2], ',');
    std::string opt;
    bool first = true;
    while (reader.next(opt)) {
      if (first) {
        first = false;
        if (opt.find('=') == std::string::npos) {
          int t = parse_seconds(opt);
          if (t >= 0) timeout = t;
          continue;
        }
      }
      if (opt == "shutdown=no") do_shutdown = false;
      if (opt.rfind("timeout=", 0) == 0) {
        int t = parse_seconds(std::string_view(opt).substr(8));
        if (t >= 0) timeout = t;
      }
    }
  }
  if (a.size() > 3 && !a[3].empty()) eol = a[3];
  int fd = -1;
  if (spec.rfind("inet:", 0) == 0) {
    std::string rest = spec.substr(5);
    size_t colon = rest.rfind(':');
    if (colon == std::string::npos) return Error::failed("missing port for readsocket " + spec);
    std::string host = rest.substr(0, colon), port = rest.substr(colon + 1);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    struct addrinfo hints {};
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res)
      return Error::failed("no IP address found for host " + host);
    int err = 0;
    for (auto* ai = res; ai; ai = ai->ai_next) {
      fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
      if (fd < 0) continue;
      struct timeval tv {timeout, 0};
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
      err = errno;
      close(fd);
      fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) return Error::failed("failed to connect to any address for " + host + ": " + std::strerror(err));
  } else {
    struct sockaddr_un sa {};
    sa.sun_family = AF_UNIX;
    if (spec.size() >= sizeof sa.sun_path) return Error::failed("socket path too long: " + spec);
    std::memcpy(sa.sun_path, spec.data(), spec.size());
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) != 0) {
      int err = errno;
      if (fd >= 0) close(fd);
      return Error::failed("failed to connect to socket " + spec + ": " + std::strerror(err));
    }
  }
  struct timeval tv {timeout, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (!a[1].empty()) {
    size_t off = 0;
    while (off < a[1].size()) {
      ssize_t w = send(fd, a[1].data() + off, a[1].size() - off, MSG_NOSIGNAL);
      if (w <= 0) {
        int err = errno;
        close(fd);
        return Error::failed(std::string("request write to socket failed: ") + std::strerror(err));
      }
      off += static_cast<size_t>(w);
    }
  }
  if (do_shutdown) shutdown(fd, SHUT_WR);
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t r = recv(fd, buf, sizeof buf, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      close(fd);
      return Error::failed("socket read timed out");
    }
    if (r <= 0) break;
    for (ssize_t i = 0; i < r; ++i) {
      if (eol && buf[i] == '\n') {
        data += *eol;
      } else {
        data += buf[i];
      }
    }
  }
  close(fd);
  return data;
}

// ${imapfolder}: a UTF-8 folder name in IMAP's modified UTF-7, with the
// hierarchy separator `sep` written as '.' (Exim's imap_utf7_encode).
Result<std::string> imap_utf7(std::string_view name, char sep, std::string_view specials) {
  bool lead = !name.empty() && name[0] == sep;
  if (lead) name.remove_prefix(1);
  std::string_view s = name;
  bool plain = !lead;
  for (unsigned char c : s) {
    if (c >= 0x7f || c < 0x20 || c == '.' || c == '/' || c == '&' || c == static_cast<unsigned char>(sep) ||
        specials.find(static_cast<char>(c)) != std::string_view::npos) {
      plain = false;
      break;
    }
  }
  if (plain) return std::string(s);
  // UTF-8 to UTF-16 code units.
  std::vector<uint16_t> units;
  for (size_t i = 0; i < name.size();) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    uint32_t cp = c;
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    if (extra) cp = c & (0x3f >> extra);
    ++i;
    for (int k = 0; k < extra && i < name.size(); ++k, ++i) cp = (cp << 6) | (static_cast<unsigned char>(name[i]) & 0x3f);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push_back(static_cast<uint16_t>(0xd800 | (cp >> 10)));
      units.push_back(static_cast<uint16_t>(0xdc00 | (cp & 0x3ff)));
    } else {
      units.push_back(static_cast<uint16_t>(cp));
    }
  }
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
  std::string out;
  std::string bytes;  // pending UTF-16BE bytes of the current base64 run
  bool in_b64 = false, lastsep = false;
  auto flush = [&]() {
    if (!in_b64) return;
    uint32_t acc = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
      acc = (acc << 8) | b;
      bits += 8;
      while (bits >= 6) {
        bits -= 6;
        out += b64[(acc >> bits) & 0x3f];
      }
    }
    if (bits > 0) out += b64[(acc << (6 - bits)) & 0x3f];
    out += '-';
    bytes.clear();
    in_b64 = false;
  };
  for (uint16_t u : units) {
    bool ascii = u < 0x7f && u >= 0x20;
    char c = static_cast<char>(u);
    if (!ascii || (specials.find(c) != std::string_view::npos && c != sep)) {
      lastsep = false;
      if (!in_b64) {
        out += '&';
        in_b64 = true;
      }
      bytes += static_cast<char>(u >> 8);
      bytes += static_cast<char>(u & 0xff);
    } else if ((c != '.' && c != '/') || c == sep) {
      flush();
      if (c == sep) {
        if (!lastsep) out += '.';
        lastsep = true;
      } else {
        out += c;
        if (c == '&') out += '-';
        lastsep = false;
      }
    } else {
      return Error::failed(std::string("imapfolder: illegal character '") + c + "'");
    }
  }
  flush();
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

class Evaluator final : public OperatorEnv {
 public:
  Evaluator(Context& ctx, const std::optional<Error>& syntax) : ctx_(ctx), syntax_(&syntax) {}

  Status seq(const Seq& s, std::string& out, bool skip) {
    if (skip) {
      if (!s.skip_walk) return {};
    } else if (s.literal) {
      out += s.text;
      return {};
    }
    for (const auto& n : s.nodes) {
      Status st = node(n, out, skip);
      if (!st) return st;
    }
    return {};
  }

  // What Exim's expansion yields for `s` while skipping: its text only.
  static std::string skip_value(const Seq& s) {
    if (s.literal) return s.text;
    std::string v;
    for (const auto& n : s.nodes)
      if (n.kind == NodeKind::kText) v += n.text;
    return v;
  }

  Result<std::string> value_of(const Seq& s, bool skip) {
    if (s.literal) return skip ? std::string() : s.text;
    std::string out;
    Status st = seq(s, out, skip);
    if (!st) return st.take_error();
    return out;
  }

  // OperatorEnv
  Result<std::string> expand(std::string_view s) override {
    Expansion e = compile(s, ctx_.extensions);
    return run_sub(e);
  }
  const std::string* named_list(std::string_view kind, std::string_view name) override {
    if (!ctx_.named_list) return nullptr;
    using lookup::ListKind;
    if (kind.empty()) {
      for (ListKind k : {ListKind::kAddress, ListKind::kDomain, ListKind::kHost, ListKind::kLocalPart})
        if (const std::string* l = ctx_.named_list(k, name)) return l;
      return nullptr;
    }
    ListKind k = kind == "domain"    ? ListKind::kDomain
                 : kind == "host"    ? ListKind::kHost
                 : kind == "address" ? ListKind::kAddress
                                     : ListKind::kLocalPart;
    return ctx_.named_list(k, name);
  }
  Result<std::string> quote_for_lookup(std::string_view type, std::string_view opts, std::string_view s) override {
    const lookup::LookupType* t = ctx_.registry ? ctx_.registry->find(type) : nullptr;
    if (!t) {
      // ${quote_mysql:..} without mysql: name the module that brings it.
      if (ctx_.extensions) {
        std::string op = "quote_" + std::string(type);
        auto module = ctx_.extensions->unloaded_owner(ExtensionKind::kOperator, op);
        if (!module) module = ctx_.extensions->unloaded_owner(ExtensionKind::kLookup, type);
        if (module) return Error::failed(not_loaded_text("operator", op, *module));
      }
      return Error::failed("unknown lookup type \"" + std::string(type) + "\"");
    }
    auto q = t->quote(s, opts);
    if (!q && t->has_quote())
      return Error::failed("\"" + std::string(opts) + "\" unrecognized after \"${quote_" + std::string(type) + "\"");
    return q ? *q : std::string(s);
  }
  std::time_t now() override { return std::chrono::system_clock::to_time_t(clock()); }

  Result<std::string> run_sub(const Expansion& e);
  bool syntax_raised_ = false;

 private:
  Context& ctx_;
  const std::optional<Error>* syntax_;
  std::string scratch_;

  std::chrono::system_clock::time_point clock() {
    return ctx_.clock ? ctx_.clock() : std::chrono::system_clock::now();
  }

  // An `unknown lookup type "NAME"` error becomes the "not loaded" text when
  // NAME belongs to a module that is not loaded; others pass unchanged.
  Error lookup_type_error(Error e) const {
    static constexpr std::string_view kUnknown = "unknown lookup type \"";
    if (!ctx_.extensions || e.message.rfind(kUnknown, 0) != 0 || e.message.back() != '"') return e;
    std::string name = e.message.substr(kUnknown.size(), e.message.size() - kUnknown.size() - 1);
    if (auto module = ctx_.extensions->unloaded_owner(ExtensionKind::kLookup, name))
      e.message = not_loaded_text("lookup type", name, *module);
    return e;
  }
  Result<lookup::LookupSpec> lookup_spec(const std::string& written) {
    if (!ctx_.registry) return lookup_type_error(Error::failed("unknown lookup type \"" + written + "\""));
    auto spec = lookup::parse_lookup_name(*ctx_.registry, written);
    if (!spec) return lookup_type_error(spec.take_error());
    return spec;
  }

  Error syntax_error() {
    syntax_raised_ = true;
    if (*syntax_) return **syntax_;
    return Error::failed("missing or misplaced { or }");
  }
  // Wrap a run-time error with Exim's " inside ..." suffix (syntax errors
  // carry theirs already).
  Error wrap(Error e, const std::string& suffix) {
    if (!syntax_raised_) e.message += suffix;
    return e;
  }

  Status node(const Node& n, std::string& out, bool skip);
  // An operator's or a module item's value, added to `out`.
  static Status append(Result<std::string> r, std::string& out) {
    if (!r) return r.take_error();
    out += *r;
    return {};
  }
  Status item(const Node& n, std::string& out, bool skip);
  // `find` sets $value (or not), then the yes/no tail of `type` runs; the
  // numeric variables come back afterwards, as in Exim.
  template <class Find>
  Status found_yesno(const Node& n, const char* type, std::string& out, bool skip, Find find) {
    auto saved_value = ctx_.value;
    auto saved_num = ctx_.numeric;
    Status found = find();
    if (!found) return found;
    Status st = yesno(n, ctx_.value.has_value(), std::move(saved_value), type, out, skip);
    if (!st) return st;
    ctx_.numeric = std::move(saved_num);
    return {};
  }
  Result<bool> cond(const Cond& c, bool skip);
  Status partial(const Node& n, bool skip);
  Status yesno(const Seq* yes, const Seq* no, bool fail, bool ok, std::optional<std::string> save_lookup,
               const char* type, std::string& out, bool skip);
  Status yesno(const Node& n, bool ok, std::optional<std::string> save_lookup, const char* type,
               std::string& out, bool skip) {
    const YesNo* yn = n.yn.get();
    return yesno(yn && yn->has_yes ? &yn->yes : nullptr, yn && yn->has_no ? &yn->no : nullptr, yn && yn->fail, ok,
                 std::move(save_lookup), type, out, skip);
  }
  Status lookup_item(const Node& n, std::string& out, bool skip);
  Status lookup_find(const Node& n, bool skip);
  Status listextract_find(const Node& n, bool skip);
  Status extract_find(const Node& n, bool& numbered_out, size_t& need_out);
  // The syntax error of a yes/no part; "fail" without its brace is worded
  // differently unless the failure was actually wanted.
  Error yesno_syntax_error(const Node& n, bool yes, bool skip) {
    // The strings read before the error were expanded as process_yesno
    // does: only the chosen one for real.
    if (n.yn) {
      Status st = seq(n.yn->yes, scratch_, skip || !yes);
      if (st && n.yn->has_no) st = seq(n.yn->no, scratch_, skip || yes);
      if (!st) return st.take_error();
    }
    Error e = syntax_error();
    if (n.yn && n.yn->fail_unclosed && (skip || yes)) {
      const std::string tag = " after forcedfail";
      auto pos = e.message.find(tag);
      if (pos != std::string::npos) e.message.erase(pos, tag.size());
    }
    return e;
  }
  Status numeric_item(const Node& n, const std::vector<std::string>& a, std::string& out);
  Status extract_item(const Node& n, std::string& out, bool skip);
  Status listop_item(const Node& n, std::string& out, bool skip);
  Status sort_item(const Node& n, std::string& out, bool skip);
  Status sg_item(const Node& n, std::string& out, bool skip);
  Status run_item(const Node& n, std::string& out, bool skip);
  Status prvscheck_item(const Node& n, std::string& out, bool skip);
  Result<bool> match_cond(const Cond& c, const std::string& a, const std::string& b);
  Result<AclOutcome> call_acl(const std::vector<std::string>& args);
  Result<std::vector<std::string>> args_of(const Node& n, bool skip);
};

Result<std::string> Evaluator::run_sub(const Expansion& e) {
  std::string out;
  Status st = evaluate_into(e, ctx_, out);
  if (!st) return st.take_error();
  return out;
}

Result<std::vector<std::string>> Evaluator::args_of(const Node& n, bool skip) {
  std::vector<std::string> v;
  v.reserve(n.args.size());
  for (const auto& a : n.args) {
    auto r = value_of(a, skip);
    if (!r) return r.take_error();
    v.push_back(std::move(r.value()));
  }
  return v;
}

Status Evaluator::partial(const Node& n, bool skip) {
  if (n.item == Item::kReadsocket && n.mode >= 2 && !skip) {
    // Exim connects before it looks for the closing brace.
    std::vector<std::string> a;
    for (int i = 0; i < n.mode; ++i) {
      auto r = value_of(n.args[i], false);
      if (!r) return r.take_error();
      a.push_back(std::move(*r));
    }
    auto r = read_socket(a);
    if (!r) return r.take_error();
    return syntax_error();
  }
  if (n.item == Item::kIf && n.cond && n.yn) {
    auto c = cond(*n.cond, skip);
    if (!c) return c.take_error();
    return yesno_syntax_error(n, *c, skip);
  }
  if (n.item == Item::kMap || n.item == Item::kFilter || n.item == Item::kReduce || n.item == Item::kSort) {
    // The list (and reduce's start value) are expanded; the body was only
    // scanned when Exim found the error.
    size_t real = n.item == Item::kReduce ? 2 : 1;
    for (size_t i = 0; i < n.args.size(); ++i) {
      Status st = seq(n.args[i], scratch_, skip || i >= real);
      if (!st) return st;
    }
    if (n.cond) {
      auto r = cond(*n.cond, true);
      if (!r) return r.take_error();
    }
    return syntax_error();
  }
  if (n.item == Item::kListextract && !n.args.empty()) {
    Status st = listextract_find(n, skip);
    if (!st) return st;
    return syntax_error();
  }
  if (n.item == Item::kExtract && n.num > 0 && static_cast<int>(n.args.size()) == n.num && !skip) {
    // Only the yes/no part is wrong: Exim has extracted by then.
    bool numbered;
    size_t need;
    Status st = extract_find(n, numbered, need);
    if (!st) return st;
    return syntax_error();
  }
  if (n.item == Item::kLookup && n.yn) {
    // The yes/no part is wrong: Exim has done the lookup by then.
    Status st = lookup_find(n, skip);
    if (!st) return st;
    return yesno_syntax_error(n, ctx_.value.has_value(), skip);
  }
  if (n.item == Item::kLookup && !n.text.empty()) {
    // Exim checks the lookup type before reading the file-or-query argument.
    if (n.mode == 1 && !n.args.empty()) {
      Status st = seq(n.args[0], scratch_, skip);
      if (!st) return st;
    }
    auto spec = lookup_spec(n.text);
    if (!spec) return spec.take_error();
  }
  if (n.cond) {
    auto r = cond(*n.cond, skip);
    if (!r) return r.take_error();
  }
  for (const auto& a : n.args) {
    std::string tmp;
    Status st = seq(a, tmp, skip);
    if (!st) return st;
  }
  if (n.yn) {
    std::string tmp;
    Status st = seq(n.yn->yes, tmp, skip);
    if (!st) return st;
    st = seq(n.yn->no, tmp, skip);
    if (!st) return st;
  }
  return syntax_error();
}

Status Evaluator::node(const Node& n, std::string& out, bool skip) {
  switch (n.kind) {
    case NodeKind::kText:
      if (!skip) out += n.text;
      return {};
    case NodeKind::kVar:
      if (skip) return {};
      if (!append_variable(*n.var, ctx_, out)) {
        return Error::failed(n.braced ? "unknown variable in \"${" + n.text + "}\""
                                      : "unknown variable name \"" + n.text + "\"");
      }
      return {};
    case NodeKind::kAclVar:
    case NodeKind::kRouterVar: {
      const auto& m = n.kind == NodeKind::kAclVar ? ctx_.acl_vars : ctx_.router_vars;
      auto it = m.find(n.text);
      if (it != m.end()) {
        if (!skip) out += it->second;
      } else if (ctx_.strict_acl_vars) {
        std::string full = (n.kind == NodeKind::kAclVar ? "acl_" : "r_") + n.text;
        return Error::failed(check_variable_error_message(
            n.braced ? "unknown variable in \"${" + full + "}\"" : "unknown variable name \"" + full + "\"", full));
      }
      return {};
    }
    case NodeKind::kAuthVar:
      if (!skip && static_cast<size_t>(n.num) <= ctx_.auth_vars.size()) out += ctx_.auth_vars[n.num - 1];
      return {};
    case NodeKind::kRegexVar:
      return {};
    case NodeKind::kHeader:
      if (!skip && ctx_.variables) {
        if (auto h = ctx_.variables->header(n.text, n.hform)) out += *h;
      }
      return {};
    case NodeKind::kNumVar:
      if (!skip && static_cast<size_t>(n.num) < ctx_.numeric.size()) out += ctx_.numeric[n.num];
      return {};
    case NodeKind::kOperator:
    case NodeKind::kExtOperator: {
      auto arg = value_of(n.args[0], skip);
      if (!arg) return arg.take_error();
      if (skip) return {};
      return append(n.kind == NodeKind::kOperator ? n.op->fn(OperatorCall{*arg, n.op->args, *this})
                                                  : n.ext_op->apply(*arg, ctx_),
                    out);
    }
    case NodeKind::kExtItem: {
      auto args = args_of(n, skip);
      if (!args) return args.take_error();
      if (skip) return {};
      return append(n.ext_item->apply(*args, ctx_), out);
    }
    case NodeKind::kExtVar: {
      if (skip) return {};
      auto r = n.ext_var->get(ctx_);
      if (!r) return r.take_error();
      if (*r) out += **r;
      return {};
    }
    case NodeKind::kMarker:
      return syntax_error();
    case NodeKind::kPartial:
      return partial(n, skip);
    case NodeKind::kItem:
      return item(n, out, skip);
  }
  return {};
}

Status Evaluator::yesno(const Seq* yes_s, const Seq* no_s, bool fail, bool ok,
                        std::optional<std::string> save_lookup, const char* type, std::string& out, bool skip) {
  if (!yes_s) {
    if (type[0] == 'i') {
      if (ok && !skip) out += "true";
    } else {
      if (ok && ctx_.value && !skip) out += *ctx_.value;
      ctx_.value = std::move(save_lookup);
    }
    return {};
  }
  {
    bool sk = !ok || skip;
    Status st = sk ? seq(*yes_s, scratch_, true) : seq(*yes_s, out, false);
    if (!st) return st;
  }
  ctx_.value = std::move(save_lookup);
  if (no_s) {
    bool sk = ok || skip;
    Status st = sk ? seq(*no_s, scratch_, true) : seq(*no_s, out, false);
    if (!st) return st;
  } else if (fail && !ok && !skip) {
    return Error::forced(std::string("\"") + type + "\" failed and \"fail\" requested");
  }
  return {};
}

Result<AclOutcome> Evaluator::call_acl(const std::vector<std::string>& args) {
  if (!ctx_.acl) return Error::failed("ACL not available");
  std::vector<std::string> rest(args.begin() + 1, args.end());
  auto saved = ctx_.acl_args;
  ctx_.acl_args = rest;
  auto r = ctx_.acl(args[0], rest);
  ctx_.acl_args = std::move(saved);
  return r;
}

Status Evaluator::item(const Node& n, std::string& out, bool skip) {
  switch (n.item) {
    case Item::kIf: {
      auto saved_num = ctx_.numeric;
      auto saved_value = ctx_.value;
      auto c = cond(*n.cond, skip);
      if (!c) return c.take_error();
      Status st = yesno(n, *c, ctx_.value, "if", out, skip);
      if (!st) return st;
      ctx_.value = std::move(saved_value);
      ctx_.numeric = std::move(saved_num);
      return {};
    }
    case Item::kLookup:
      return lookup_item(n, out, skip);
    case Item::kExtract:
      return extract_item(n, out, skip);
    case Item::kMap:
    case Item::kFilter:
    case Item::kReduce:
      return listop_item(n, out, skip);
    case Item::kSort:
      return sort_item(n, out, skip);
    case Item::kSg:
      return sg_item(n, out, skip);
    case Item::kRun:
      return run_item(n, out, skip);
    case Item::kPrvscheck:
      return prvscheck_item(n, out, skip);
    case Item::kEnv: {
      auto saved = ctx_.value;
      auto key = value_of(n.args[0], skip);
      if (!key) return key.take_error();
      if (ctx_.getenv) {
        ctx_.value = ctx_.getenv(*key);
      } else if (const char* v = ::getenv(key->c_str())) {
        ctx_.value = std::string(v);
      } else {
        ctx_.value.reset();
      }
      return yesno(n, ctx_.value.has_value(), std::move(saved), "env", out, skip);
    }
    case Item::kListextract:
      return found_yesno(n, "listextract", out, skip, [&] { return listextract_find(n, skip); });
    case Item::kCertextract: {
      auto saved = ctx_.value;
      auto field = value_of(n.args[0], skip);
      if (!field) return field.take_error();
      auto var = value_of(n.args[1], skip);
      if (!var) return var.take_error();
      ctx_.value.reset();
      if (!skip) {
        if (!find_variable_def(*var)) return Error::failed("no variable named \"" + *var + "\"");
        if (*var != "tls_in_ourcert" && *var != "tls_in_peercert" && *var != "tls_out_ourcert" &&
            *var != "tls_out_peercert")
          return Error::failed("\"" + *var + "\" is not a certificate");
      }
      return yesno(n, false, std::move(saved), "certextract", out, skip);
    }
    case Item::kReadsocket: {
      if (ctx_.forbid_readsocket) return Error::failed("socket insertions are not permitted");
      std::vector<std::string> a;
      for (int i = 0; i < n.mode; ++i) {
        auto r = value_of(n.args[i], skip);
        if (!r) return r.take_error();
        a.push_back(std::move(*r));
      }
      bool has_fail = static_cast<int>(n.args.size()) > n.mode;
      if (skip) {
        if (has_fail) return seq(n.args.back(), scratch_, true);
        return {};
      }
      auto r = read_socket(a);
      if (r) {
        out += *r;
        return {};
      }
      if (!has_fail) return r.take_error();
      return seq(n.args.back(), out, false);
    }
    default:
      break;
  }

  // Items whose arguments are all read first (read_subs).
  if (n.item == Item::kReadfile && ctx_.forbid_readfile) return Error::failed("file insertions are not permitted");
  auto args_r = args_of(n, skip);
  if (!args_r) return args_r.take_error();
  if (skip) {
    if (n.item == Item::kSubstr || n.item == Item::kLength || n.item == Item::kHash || n.item == Item::kNhash) {
      // Exim 4.96 converts the numbers before it notices it is skipping.
      std::vector<std::string> sv;
      for (const auto& a : n.args) sv.push_back(skip_value(a));
      std::string scratch;
      return numeric_item(n, sv, scratch);
    }
    return {};
  }
  auto& a = *args_r;
  switch (n.item) {
    case Item::kAcl: {
      auto r = call_acl(a);
      if (!r) return r.take_error();
      switch (r->rc) {
        case AclOutcome::Rc::kOk:
        case AclOutcome::Rc::kFail:
          if (r->user_message) out += *r->user_message;
          return {};
        case AclOutcome::Rc::kDefer:
          return Error::forced(std::string("DEFER from acl \"") + a[0] + "\"");
        default:
          return Error::failed(std::string(rc_name(r->rc)) + " from acl \"" + a[0] + "\"");
      }
    }
    case Item::kImapfolder: {
      std::string sep = a.size() > 1 ? a[1] : "/";
      if (sep.size() != 1)
        return Error::failed("IMAP folder separator must be one character, found \"" + sep + "\"");
      return append(imap_utf7(a[0], sep[0], a.size() > 2 ? std::string_view(a[2]) : std::string_view()), out);
    }
    case Item::kSrsEncode: {
      if (a[1].empty()) return {};
      std::string lc = a[1];
      for (auto& ch : lc) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      auto h = text::hmac("md5", a[0], lc);
      if (!h) return h.take_error();
      std::string g = "SRS0=" + h->substr(0, 4) + "=";
      static const char base32[] = "abcdefghijklmnopqrstuvwxyz234567";
      unsigned long i = static_cast<unsigned long>(now() / 86400) & 0x3ff;
      g += base32[i >> 5];
      g += base32[i & 0x1f];
      g += '=';
      // The return path as a bare address: <...> and white space dropped.
      std::string addr = trim(a[1]);
      if (addr.size() >= 2 && addr.front() == '<' && addr.back() == '>') addr = trim(addr.substr(1, addr.size() - 2));
      size_t at = addr.rfind('@');
      std::string local = at == std::string::npos ? addr : addr.substr(0, at);
      if (at != std::string::npos) g += addr.substr(at + 1);
      g += '=';
      bool quoted = local.find('"') != std::string::npos;
      if (quoted) {
        std::string d;
        for (char ch : local)
          if (ch != '"') d += ch;
        local = std::move(d);
      }
      g += local;
      if (quoted) out += '"';
      out += g;
      if (quoted) out += '"';
      out += '@';
      out += a[2];
      return {};
    }
    case Item::kPerl:
      // tern has no embedded Perl; Exim says this when perl_startup is unset.
      return Error::failed("A setting of perl_startup is needed when using the Perl interpreter");
    case Item::kAuthresults:
      out += "Authentication-Results: ";
      out += a[0];
      return {};
    case Item::kTr: {
      size_t old = out.size();
      out += a[0];
      if (a[2].empty()) return {};
      size_t o2m = a[2].size() - 1;
      for (size_t i = old; i < out.size(); ++i) {
        size_t m = a[1].rfind(out[i]);
        if (m != std::string::npos) out[i] = a[2][m < o2m ? m : o2m];
      }
      return {};
    }
    case Item::kSubstr:
    case Item::kLength:
    case Item::kHash:
    case Item::kNhash:
      return numeric_item(n, a, out);
    default:
      break;
  }
  switch (n.item) {
    case Item::kHmac:
      return append(text::hmac(a[0], a[1], a[2]), out);
    case Item::kListquote: {
      if (a[1].empty()) {
        out += ' ';
        return {};
      }
      char sep = a[0].empty() ? '\0' : a[0][0];
      for (char c : a[1]) {
        if (c == sep) out += c;
        out += c;
      }
      return {};
    }
    case Item::kPrvs: {
      const std::string& addr = a[0];
      size_t at = addr.rfind('@');
      if (at == std::string::npos || at == 0 || at + 1 == addr.size())
        return Error::failed("prvs first argument must be a qualified email address");
      if (a.size() > 2 && (a[2].size() != 1 || !is_digit(a[2][0])))
        return Error::failed("prvs third argument must be a single digit");
      std::string keynum = a.size() > 2 ? a[2] : "0";
      std::string day = prvs_daystamp(now(), 7);
      auto h = prvs_hmac(addr, a[1], keynum, day);
      if (!h) return Error::failed("prvs hmac-sha1 conversion failed");
      out += "prvs=";
      out += keynum;
      out += day;
      out += *h;
      out += '=';
      out.append(addr, 0, at);
      out += '@';
      out.append(addr, at + 1, std::string::npos);
      return {};
    }
    case Item::kReadfile: {
      FILE* f = std::fopen(a[0].c_str(), "rb");
      if (!f) return Error::failed("failed to open " + a[0] + ": " + std::strerror(errno));
      char buf[1024];
      bool has_eol = a.size() > 1;
      while (std::fgets(buf, sizeof buf, f)) {
        size_t len = std::strlen(buf);
        bool nl = len > 0 && buf[len - 1] == '\n';
        if (has_eol && nl) --len;
        out.append(buf, len);
        if (has_eol && nl) out += a[1];
      }
      std::fclose(f);
      return {};
    }
    default:
      return {};
  }
}

Status Evaluator::numeric_item(const Node& n, const std::vector<std::string>& a, std::string& out) {
  Result<std::string> r = std::string();
  bool two = a.size() == 2;
  switch (n.item) {
    case Item::kSubstr: r = two ? text::substr(a[1], a[0], "") : text::substr(a[2], a[0], a[1]); break;
    case Item::kLength: r = text::length(a[1], a[0]); break;
    case Item::kHash: r = two ? text::hash(a[1], a[0], "") : text::hash(a[2], a[0], a[1]); break;
    default: r = two ? text::nhash(a[1], a[0], "") : text::nhash(a[2], a[0], a[1]); break;
  }
  return append(std::move(r), out);
}

Status Evaluator::lookup_item(const Node& n, std::string& out, bool skip) {
  return found_yesno(n, "lookup", out, skip, [&] { return lookup_find(n, skip); });
}

// ${listextract}'s arguments and extraction into $value. Works on a
// partial node too (as far as its arguments go).
Status Evaluator::listextract_find(const Node& n, bool skip) {
  auto a0 = value_of(n.args[0], skip);
  if (!a0) return a0.take_error();
  std::string f = trim(skip ? skip_value(n.args[0]) : *a0);
  if (f.empty() && !skip) return Error::failed("first argument of \"listextract\" must not be empty");
  int sign = 1, x = 0;
  size_t i = 0;
  if (i < f.size() && f[i] == '-') {
    sign = -1;
    ++i;
  }
  while (i < f.size() && is_digit(f[i])) x = x * 10 + (f[i++] - '0');
  if (i < f.size()) return Error::failed("first argument of \"listextract\" must be numeric");
  if (n.args.size() < 2) return {};
  auto list = value_of(n.args[1], skip);
  if (!list) return list.take_error();
  if (skip) {
    ctx_.value.reset();
  } else {
    ctx_.value = getlistele(sign * x, *list);
  }
  return {};
}

// The lookup itself: sets $value (and $1.. for partial- matches).
Status Evaluator::lookup_find(const Node& n, bool skip) {
  if (ctx_.forbid_lookups) return Error::failed("lookup expansions are not permitted");
  bool has_key = n.mode == 1;
  std::string key;
  if (has_key) {
    auto k = value_of(n.args[0], skip);
    if (!k) return k.take_error();
    key = std::move(*k);
  }
  auto spec = lookup_spec(n.text);
  if (!spec) return spec.take_error();
  bool single = spec->type->style() == lookup::Style::kSingleKey;
  if (single && !has_key) return Error::failed("missing {key} for single-key \"" + n.text + "\" lookup");
  if (!single && has_key)
    return Error::failed("a single key was given for lookup type \"" + n.text +
                         "\", which is not a single-key lookup type");
  auto file = value_of(n.args[has_key ? 1 : 0], skip);
  if (!file) return file.take_error();
  // Exim skips leading white space of a query (also in its DEFER text).
  if (!has_key) file->erase(0, std::find_if_not(file->begin(), file->end(), is_space) - file->begin());
  if (skip) {
    ctx_.value.reset();
  } else {
    if (!ctx_.searcher) return Error::failed("lookups are not available");
    std::string matched;
    lookup::Found f =
        single ? ctx_.searcher->find(*spec, *file, key, &matched, nullptr, &ctx_)
               : ctx_.searcher->query(*spec, *file, &ctx_);
    if (f.status == lookup::Found::Status::kDefer) {
      // An open failure is reported as it is; a deferred find as Exim's DEFER.
      if (f.error.rfind("failed to open", 0) == 0 || f.error.find("requires an absolute") != std::string::npos ||
          f.error.find("is not a regular file") != std::string::npos ||
          f.error.rfind("unknown lookup", 0) == 0)
        return Error::failed(f.error);
      return Error::defer("lookup of \"" + printing(single ? key : *file) + "\" gave DEFER: " + f.error);
    }
    if (f.status == lookup::Found::Status::kFound) {
      ctx_.value = std::move(f.data);
      if (single && spec->partial >= 0 && !matched.empty()) {
        // partial-: $1 is the part of the key the wildcard matched, $2 the
        // fixed part.
        std::string first = ctx_.numeric.empty() ? std::string() : ctx_.numeric[0];
        std::string fixed = matched;
        std::string wild;
        const std::string& pre = spec->partial_prefix;
        if (matched != key && matched.compare(0, pre.size(), pre) == 0) {
          fixed = matched.substr(pre.size());
          if (key.size() > fixed.size()) wild = key.substr(0, key.size() - fixed.size() - 1);
        }
        ctx_.numeric = {first, wild, fixed};
      }
    } else {
      ctx_.value.reset();
    }
  }
  return {};
}

Status Evaluator::extract_item(const Node& n, std::string& out, bool skip) {
  auto saved_value = ctx_.value;
  auto saved_num = ctx_.numeric;
  if (skip) {
    for (const auto& a : n.args) {
      Status st = seq(a, scratch_, true);
      if (!st) return st;
    }
    if (n.yn) {
      Status st = seq(n.yn->yes, scratch_, true);
      if (st) st = seq(n.yn->no, scratch_, true);
      if (!st) return st;
    }
    ctx_.value = saved_value;
    return {};
  }
  bool numbered = false;
  size_t need = 2;
  Status found = extract_find(n, numbered, need);
  if (!found) return found;
  Status st;
  if (n.num > 0) {
    st = yesno(n, ctx_.value.has_value(), std::move(saved_value), "extract", out, false);
  } else {
    const Seq* yes = n.args.size() > need ? &n.args[need] : nullptr;
    const Seq* no = n.args.size() > need + 1 ? &n.args[need + 1] : nullptr;
    st = yesno(yes, no, n.yn && n.yn->fail, ctx_.value.has_value(), std::move(saved_value), "extract", out, false);
  }
  if (!st) return st;
  ctx_.numeric = std::move(saved_num);
  return {};
}

// ${extract}'s arguments and extraction into $value (not the yes/no part).
Status Evaluator::extract_find(const Node& n, bool& numbered_out, size_t& need_out) {
  std::vector<std::string> a;
  int field = 1;
  bool numbered = false;
  size_t need = 2;
  for (size_t i = 0; i < need; ++i) {
    if (i >= n.args.size())
      return Error::failed("missing '{' for arg " + std::to_string(i + 1) + " of extract");
    auto r = value_of(n.args[i], false);
    if (!r) return r.take_error();
    a.push_back(std::move(*r));
    if (i == 0) {
      a[0] = trim(a[0]);
      if (a[0].empty()) return Error::failed("first argument of \"extract\" must not be empty");
      size_t p = 0;
      int sign = 1;
      // Exim accumulates in a C int; an overlong number wraps there, so do
      // the same arithmetic in unsigned (defined) and convert back.
      unsigned x = 0;
      if (a[0][0] == '-') {
        sign = -1;
        ++p;
      }
      while (p < a[0].size() && is_digit(a[0][p])) x = x * 10u + static_cast<unsigned>(a[0][p++] - '0');
      if (p == a[0].size()) {
        field = static_cast<int>(sign < 0 ? 0u - x : x);
        numbered = true;
        if (n.mode == 0) need = 3;
      }
    }
  }
  if (n.mode == 0) {
    ctx_.value = numbered ? gettokened(field, a[1], a[2]) : getkeyed(a[0], a[1]);
  } else {
    auto body = dewrap(a[1], numbered ? '[' : '{', numbered ? ']' : '}');
    if (!body)
      return Error::failed(body.error().message + " wrapping " + (numbered ? "array" : "object") +
                           " for extract json");
    std::string_view list = *body;
    ctx_.value.reset();
    if (numbered) {
      if (field <= 0) return Error::failed("first argument of \"extract\" must be greater than zero");
      std::optional<std::string> it;
      while (field > 0 && (it = json_next(list))) --field;
      if (it) {
        while (!it->empty() && is_space(it->back())) it->pop_back();
        ctx_.value = std::move(it);
      }
    } else {
      while (auto it = json_next(list)) {
        auto k = dewrap(*it, '"', '"');
        if (!k) return Error::failed(k.error().message + " wrapping string key for extract json");
        if (*k == a[0]) {
          size_t kpos = it->find('"');
          size_t q = kpos + 1 + k->size() + 1;
          while (q < it->size() && is_space((*it)[q])) ++q;
          if (q >= it->size() || (*it)[q] != ':')
            return Error::failed("missing object value-separator for extract json");
          ++q;
          while (q < it->size() && is_space((*it)[q])) ++q;
          ctx_.value = it->substr(q);
          break;
        }
      }
    }
    if (n.mode == 2 && ctx_.value) {
      auto d = dewrap(*ctx_.value, '"', '"');
      if (!d) return Error::failed(d.error().message + " wrapping string result for extract jsons");
      ctx_.value = std::move(*d);
    }
  }
  numbered_out = numbered;
  need_out = need;
  return {};
}

Status Evaluator::listop_item(const Node& n, std::string& out, bool skip) {
  const std::string name = n.text;
  auto list = value_of(n.args[0], skip);
  if (!list) return list.take_error();
  auto saved_value = ctx_.value;
  auto saved_item = ctx_.item;
  if (n.item == Item::kReduce) {
    auto init = value_of(n.args[1], skip);
    if (!init) return init.take_error();
    ctx_.value = std::move(*init);
  }
  // The body is checked once as if skipped (static errors).
  if (n.item == Item::kFilter) {
    auto r = cond(*n.cond, true);
    if (!r) return wrap(r.take_error(), " inside \"" + name + "\" item");
  } else {
    Status st = seq(n.args.back(), scratch_, true);
    if (!st) return wrap(st.take_error(), " inside \"" + name + "\" item");
  }
  if (skip) {
    ctx_.value = std::move(saved_value);
    return {};
  }
  text::ListReader reader(*list);
  std::string it;
  size_t save_ptr = out.size();
  char sep = reader.separator();
  while (reader.next(it)) {
    sep = reader.separator();
    ctx_.item = it;
    std::string temp;
    if (n.item == Item::kFilter) {
      auto saved = ctx_.value;
      auto r = cond(*n.cond, false);
      if (!r) {
        ctx_.item = saved_item;
        ctx_.value = saved_value;
        return wrap(r.take_error(), " inside \"" + name + "\" condition");
      }
      ctx_.value = std::move(saved);
      if (!*r) continue;
      temp = it;
    } else {
      Status st = seq(n.args.back(), temp, false);
      if (!st) {
        ctx_.item = saved_item;
        return wrap(st.take_error(), " inside \"" + name + "\" item");
      }
      if (n.item == Item::kReduce) {
        ctx_.value = std::move(temp);
        continue;
      }
    }
    if (out.size() != save_ptr && (temp.empty() || temp[0] == sep)) out += ' ';
    for (char c : temp) {
      out += c;
      if (c == sep) out += c;
    }
    out += sep;
  }
  if (n.item == Item::kReduce) {
    if (ctx_.value) out += *ctx_.value;
    ctx_.value = std::move(saved_value);
  } else if (out.size() != save_ptr) {
    out.pop_back();
  }
  ctx_.item = std::move(saved_item);
  return {};
}

Status Evaluator::sort_item(const Node& n, std::string& out, bool skip) {
  auto list = value_of(n.args[0], skip);
  if (!list) return list.take_error();
  {
    Status st = seq(n.args[2], scratch_, true);
    if (!st) return st;
  }
  if (skip) return {};
  auto saved_item = ctx_.item;
  CondType ct = static_cast<CondType>(n.mode);
  auto before = [&](const std::string& l, const std::string& r) -> bool {
    if (!n.alpha) {
      auto num = [](const std::string& s) -> std::optional<int64_t> {
        if (trim(s).empty()) return 0;
        auto v = text::parse_int(s);
        if (!v) return std::nullopt;
        return *v;
      };
      auto a = num(l), b = num(r);
      if (!a || !b) return false;
      switch (ct) {
        case CondType::kNumG: return *a > *b;
        case CondType::kNumGE: return *a >= *b;
        case CondType::kNumL: return *a < *b;
        case CondType::kNumLE: return *a <= *b;
        default: return false;
      }
    }
    switch (ct) {
      case CondType::kStrLt: return strcmpb(l, r) < 0;
      case CondType::kStrLti: return strcmpic(l, r) < 0;
      case CondType::kStrLe: return strcmpb(l, r) <= 0;
      case CondType::kStrLei: return strcmpic(l, r) <= 0;
      case CondType::kStrGt: return strcmpb(l, r) > 0;
      case CondType::kStrGti: return strcmpic(l, r) > 0;
      case CondType::kStrGe: return strcmpb(l, r) >= 0;
      case CondType::kStrGei: return strcmpic(l, r) >= 0;
      default: return false;
    }
  };
  std::vector<std::string> items, keys;
  text::ListReader reader(*list);
  std::string it;
  char sep = reader.separator();
  while (reader.next(it)) {
    sep = reader.separator();
    ctx_.item = it;
    std::string field;
    Status st = seq(n.args[2], field, false);
    if (!st || field.empty()) {
      ctx_.item = saved_item;
      return Error::failed("field-extract in sort: \"" + n.text + "\"");
    }
    size_t pos = keys.size();
    for (size_t i = 0; i < keys.size(); ++i) {
      if (before(field, keys[i])) {
        pos = i;
        break;
      }
    }
    items.insert(items.begin() + static_cast<long>(pos), it);
    keys.insert(keys.begin() + static_cast<long>(pos), std::move(field));
  }
  std::string joined;
  for (const auto& i : items) text::list_append(joined, i, sep);
  out += joined;
  ctx_.item = std::move(saved_item);
  return {};
}

Status Evaluator::sg_item(const Node& n, std::string& out, bool skip) {
  auto saved_num = ctx_.numeric;
  auto args_r = args_of(n, skip);
  if (!args_r) return args_r.take_error();
  if (skip) {
    // Exim 4.96 compiles the pattern even when the result is not needed.
    if (n.regex && !n.regex->ok()) return n.regex->error();
    return {};
  }
  auto& a = *args_r;
  std::optional<Result<text::Regex>> compiled;
  const Result<text::Regex>* re = n.regex ? &*n.regex : nullptr;
  if (!re) {
    compiled = text::Regex::compile(a[1]);
    re = &*compiled;
  }
  if (!re->ok()) return re->error();
  std::optional<Expansion> rep_local;
  const Expansion* rep = n.replacement.get();
  if (!rep) {
    rep_local = compile(a[2], ctx_.extensions);
    rep = &*rep_local;
  }
  const std::string& subject = a[0];
  size_t moffset = 0, extra = 0;
  bool notempty = false;
  std::vector<long> ov;
  for (;;) {
    if (!(*re)->search_at(subject, moffset + extra, ov, notempty)) {
      if (notempty) {
        // No non-empty match here: try again one character further on.
        extra = 1;
        notempty = false;
        continue;
      }
      out.append(subject, moffset, std::string::npos);
      break;
    }
    size_t pairs = ov.size() / 2;
    while (pairs > 1 && ov[2 * (pairs - 1)] < 0) --pairs;
    ctx_.numeric.clear();
    for (size_t i = 0; i < pairs; ++i) {
      long s = ov[2 * i], e = ov[2 * i + 1];
      ctx_.numeric.push_back(s < 0 ? std::string() : subject.substr(static_cast<size_t>(s), static_cast<size_t>(e - s)));
    }
    out.append(subject, moffset, static_cast<size_t>(ov[0]) - moffset);
    auto ins = run_sub(*rep);
    if (!ins) return ins.take_error();
    out += *ins;
    moffset = static_cast<size_t>(ov[1]);
    extra = 0;
    notempty = false;
    if (ov[0] == ov[1]) {
      if (moffset >= subject.size()) break;
      notempty = true;
    }
  }
  ctx_.numeric = std::move(saved_num);
  return {};
}

// Split a command line as transport_set_up_command does: white space
// separates arguments; double quotes group with escapes, single quotes
// group verbatim.
std::vector<std::string> split_command(std::string_view cmd) {
  std::vector<std::string> argv;
  size_t i = 0;
  for (;;) {
    while (i < cmd.size() && is_space(cmd[i])) ++i;
    if (i >= cmd.size()) break;
    if (cmd[i] == '\'') {
      size_t e = cmd.find('\'', i + 1);
      if (e == std::string_view::npos) e = cmd.size();
      argv.emplace_back(cmd.substr(i + 1, e - i - 1));
      i = e < cmd.size() ? e + 1 : e;
    } else {
      argv.push_back(dequote(cmd, i));
    }
  }
  return argv;
}

Status Evaluator::run_item(const Node& n, std::string& out, bool skip) {
  if (ctx_.forbid_run) return Error::failed("running a command is not permitted");
  std::vector<std::string> argv;
  if (n.mode == 1) {
    auto cmd = value_of(n.args[0], skip);
    if (!cmd) return cmd.take_error();
    if (!skip) argv = split_command(*cmd);
  } else if (!skip) {
    for (auto& raw : split_command(n.text)) {
      auto e = expand(raw);
      if (!e) {
        Error err = e.take_error();
        err.message = "Expansion of \"" + raw + "\" from command \"" + n.text + "\" in ${run} expansion failed: " +
                      err.message;
        return err;
      }
      argv.push_back(std::move(*e));
    }
  } else {
    Status st = seq(n.args[0], scratch_, true);
    if (!st) return st;
  }
  if (skip) {
    ctx_.runrc = 0;
    ctx_.value.reset();
  } else {
    if (argv.empty()) argv.emplace_back();  // Exim runs nothing: exit 127
    int out_pipe[2];
    if (pipe(out_pipe) != 0) return Error::failed(std::string("couldn't create child process: ") + std::strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
      close(out_pipe[0]);
      close(out_pipe[1]);
      return Error::failed(std::string("couldn't create child process: ") + std::strerror(errno));
    }
    if (pid == 0) {
      setpgid(0, 0);
      umask(0077);
      int devnull = open("/dev/null", O_RDONLY);
      if (devnull >= 0) dup2(devnull, 0);
      dup2(out_pipe[1], 1);
      dup2(out_pipe[1], 2);
      close(out_pipe[0]);
      close(out_pipe[1]);
      std::vector<char*> cargv;
      for (auto& s : argv) cargv.push_back(s.data());
      cargv.push_back(nullptr);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
    close(out_pipe[1]);
    std::string data;
    char buf[4096];
    for (;;) {
      ssize_t r = read(out_pipe[0], buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      data.append(buf, static_cast<size_t>(r));
    }
    close(out_pipe[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) return Error::failed("command killed by signal " + std::to_string(WTERMSIG(status)));
    ctx_.runrc = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    ctx_.value = std::move(data);
  }
  return yesno(n, ctx_.runrc == 0, ctx_.value, "run", out, skip);
}

Status Evaluator::prvscheck_item(const Node& n, std::string& out, bool skip) {
  ctx_.prvscheck_result.reset();
  ctx_.prvscheck_address.reset();
  ctx_.prvscheck_keynum.reset();
  auto a0 = value_of(n.args[0], skip);
  if (!a0) return a0.take_error();
  static const Result<text::Regex> re =
      text::Regex::compile("^prvs\\=([0-9])([0-9]{3})([A-F0-9]{6})\\=(.+)\\@(.+)$", true);
  std::vector<std::string> caps;
  if (re.ok() && re->search(*a0, &caps)) {
    ctx_.numeric = caps;
    std::string address = caps[4] + "@" + caps[5];
    ctx_.prvscheck_address = address;
    ctx_.prvscheck_keynum = caps[1];
    auto secret = value_of(n.args[1], skip);
    if (!secret) return secret.take_error();
    auto p = prvs_hmac(address, *secret, caps[1], caps[2]);
    if (!p) return Error::failed("hmac-sha1 conversion failed");
    if (*p == caps[3]) {
      unsigned inow = static_cast<unsigned>(std::stoul(prvs_daystamp(now(), 0)));
      unsigned iexpire = static_cast<unsigned>(std::stoul(caps[2]));
      if (iexpire < 7 && inow >= 993) inow = 0;
      if (iexpire >= inow) ctx_.prvscheck_result = "1";
    }
    std::string a2;
    if (n.args.size() > 2) {
      auto r = value_of(n.args[2], skip);
      if (!r) return r.take_error();
      a2 = std::move(*r);
    }
    if (!skip) out += a2.empty() ? address : a2;
    ctx_.prvscheck_address.reset();
    ctx_.prvscheck_keynum.reset();
    return {};
  }
  for (size_t i = 1; i < n.args.size(); ++i) {
    Status st = seq(n.args[i], scratch_, skip || true);
    if (!st) return st;
  }
  return {};
}

Result<bool> Evaluator::match_cond(const Cond& c, const std::string& a, const std::string& b) {
  bool expand_failed = false;
  lookup::MatchEnv env = match_env(ctx_, &expand_failed);
  Result<lookup::MatchResult> r = lookup::MatchResult{};
  switch (c.type) {
    case CondType::kMatchAddress: r = lookup::match_list(a, b, lookup::ListKind::kAddress, env, true); break;
    case CondType::kMatchDomain: r = lookup::match_list(a, b, lookup::ListKind::kDomain, env, true); break;
    case CondType::kMatchLocalPart: r = lookup::match_list(a, b, lookup::ListKind::kLocalPart, env, true); break;
    default:
      if (!a.empty() && text::ip_version(a) == 0) return Error::failed("\"" + a + "\" is not an IP address");
      r = lookup::match_ip(a, b, env);
      break;
  }
  // A named list that fails to expand makes Exim's match defer with no
  // message of its own.
  if (expand_failed && (!r || r->outcome == lookup::MatchResult::Outcome::kDefer))
    return Error::failed("unable to complete match against \"" + b + "\": NULL");
  if (!r) return lookup_type_error(r.take_error());
  if (r->outcome == lookup::MatchResult::Outcome::kDefer)
    return Error::failed("unable to complete match against \"" + b + "\": " + r->error);
  // $value: match_isinlist (domain, local part, address lists) unsets it
  // first; then the item that matched, negated or not, sets it (the list
  // item as written, or a lookup's data). match_ip leaves it alone unless
  // an item gave data.
  if (c.type != CondType::kMatchIp) ctx_.value.reset();
  if (!r->data.empty()) ctx_.value = r->data;
  return r->matched();
}

Result<bool> Evaluator::cond(const Cond& c, bool skip) {
  if (c.partial) {
    bool numeric = !c.name.empty() && !std::isalpha(static_cast<unsigned char>(c.name[0]));
    for (const auto& a : c.args) {
      auto v = value_of(a, skip);
      if (!v) return v.take_error();
      // Numeric comparisons convert each argument as soon as it is read.
      if (numeric && !skip && !v->empty()) {
        auto n = text::parse_int(*v);
        if (!n) return n.take_error();
      }
    }
    for (const auto& s : c.subs) {
      auto r = cond(s, skip);
      if (!r) return r;
    }
    return syntax_error();
  }
  const bool testfor = !c.negate;
  auto done = [&](bool v) -> Result<bool> { return skip ? false : (v == testfor); };
  switch (c.type) {
    case CondType::kDef: {
      if (skip) return false;
      if (c.def.kind == NodeKind::kHeader) {
        bool exists = ctx_.variables && ctx_.variables->header(c.def.text, HeaderForm::kRaw).has_value();
        return exists == testfor;
      }
      std::string v;
      Status st = node(c.def, v, false);
      if (!st && c.def.kind == NodeKind::kExtVar) return st.take_error();  // the module's own failure
      if (!st) {
        std::string full = c.def.kind == NodeKind::kAclVar      ? "acl_" + c.def.text
                           : c.def.kind == NodeKind::kRouterVar ? "r_" + c.def.text
                                                                : c.def.text;
        return Error::failed(
            check_variable_error_message("unknown variable \"" + full + "\" after \"def:\"", full));
      }
      return (!v.empty()) == testfor;
    }
    case CondType::kFirstDelivery:
      return done(ctx_.first_delivery);
    case CondType::kQueueRunning:
      return done(ctx_.queue_running);
    case CondType::kExists: case CondType::kIsip: case CondType::kIsip4: case CondType::kIsip6:
    case CondType::kPam: case CondType::kRadius: case CondType::kLdapauth: case CondType::kPwcheck: {
      auto a = value_of(c.args[0], skip);
      if (!a) return a.take_error();
      if (skip) return false;
      switch (c.type) {
        case CondType::kExists: {
          if (ctx_.forbid_exists) return Error::failed("File existence tests are not permitted");
          struct stat st;
          return (::stat(a->c_str(), &st) == 0) == testfor;
        }
        case CondType::kIsip: return (text::ip_version(*a) != 0) == testfor;
        case CondType::kIsip4: return (text::ip_version(*a) == 4) == testfor;
        case CondType::kIsip6: return (text::ip_version(*a) == 6) == testfor;
        default: return Error::failed("support for \"" + c.name + "\" not compiled");
      }
    }
    case CondType::kSaslauthd:
      return Error::failed("support for \"saslauthd\" not compiled");
    case CondType::kAcl: {
      std::vector<std::string> a;
      for (const auto& s : c.args) {
        auto r = value_of(s, skip);
        if (!r) return r.take_error();
        a.push_back(std::move(*r));
      }
      if (skip) return false;
      auto r = call_acl(a);
      if (!r) return r.take_error();
      switch (r->rc) {
        case AclOutcome::Rc::kOk:
        case AclOutcome::Rc::kFail:
          ctx_.value = r->user_message;
          return (r->rc == AclOutcome::Rc::kOk) == testfor;
        case AclOutcome::Rc::kDefer:
          return Error::forced("DEFER from acl \"" + a[0] + "\"");
        default:
          return Error::failed(std::string(rc_name(r->rc)) + " from acl \"" + a[0] + "\"");
      }
    }
    case CondType::kBool:
    case CondType::kBoolLax: {
      std::string t;
      if (skip) {
        if (!c.args[0].literal) {
          Status st = seq(c.args[0], scratch_, true);
          if (!st) return st.take_error();
          return false;
        }
        t = c.args[0].text;
      } else {
        auto r = value_of(c.args[0], false);
        if (!r) return r.take_error();
        t = std::move(*r);
      }
      t = trim(t);
      bool v = false;
      bool lax = c.type == CondType::kBoolLax;
      auto all_digits = [](std::string_view s) {
        for (char ch : s)
          if (!is_digit(ch)) return false;
        return true;
      };
      if (t.empty()) {
        v = false;
      } else if (t[0] == '-' ? all_digits(std::string_view(t).substr(1)) : all_digits(t)) {
        v = std::atoi(t.c_str()) != 0;
        if (lax && t.size() > 1) v = true;
      } else if (strcmpic(t, "true") == 0 || strcmpic(t, "yes") == 0) {
        v = true;
      } else if (strcmpic(t, "false") == 0 || strcmpic(t, "no") == 0) {
        v = false;
      } else if (lax) {
        v = true;
      } else {
        return Error::failed("unrecognised boolean value \"" + t + "\"");
      }
      return done(v);
    }
    case CondType::kInboundSrs: {
      std::vector<std::string> a;
      for (const auto& s : c.args) {
        auto r = value_of(s, skip);
        if (!r) return r.take_error();
        a.push_back(std::move(*r));
      }
      if (skip) return false;
      static const Result<text::Regex> re =
          text::Regex::compile("^(?i)SRS0=([^=]+)=([A-Z2-7]{2})=([^=]*)=(.*)$", true);
      bool v = re.ok() && re->search(a[0]) && a[1].empty();
      return v == testfor;
    }
    case CondType::kAnd:
    case CondType::kOr: {
      bool is_and = c.type == CondType::kAnd;
      bool combined = is_and;
      bool decided = skip;
      for (const auto& s : c.subs) {
        auto r = cond(s, decided);
        if (!r) return wrap(r.take_error(), " inside \"" + c.name + "{...}\" condition");
        if (decided) continue;
        bool v = *r;  // includes the subcondition's own negation
        if (is_and) {
          combined = combined && v;
          if (!combined) decided = true;
        } else {
          combined = combined || v;
          if (combined) decided = true;
        }
      }
      return done(combined);
    }
    case CondType::kForall: case CondType::kForany: case CondType::kForallJson:
    case CondType::kForanyJson: case CondType::kForallJsons: case CondType::kForanyJsons: {
      bool is_forany = c.type == CondType::kForany || c.type == CondType::kForanyJson ||
                       c.type == CondType::kForanyJsons;
      bool is_json = c.type != CondType::kForall && c.type != CondType::kForany;
      bool is_jsons = c.type == CondType::kForallJsons || c.type == CondType::kForanyJsons;
      auto list = value_of(c.args[0], skip);
      if (!list) return list.take_error();
      {
        auto r = cond(c.subs[0], true);
        if (!r) return wrap(r.take_error(), " inside \"" + c.name + "\" condition");
      }
      if (skip) return false;
      auto saved_item = ctx_.item;
      bool raw = false;
      auto step = [&](std::string item) -> Result<bool> {  // true: stop
        ctx_.item = std::move(item);
        auto r = cond(c.subs[0], false);
        if (!r) {
          ctx_.item = saved_item;
          return wrap(r.take_error(), " inside \"" + c.name + "\" condition");
        }
        raw = *r;
        return *r == is_forany;
      };
      if (is_json) {
        auto body = dewrap(*list, '[', ']');
        if (!body) return body.take_error();
        std::string_view l = *body;
        while (auto it = json_next(l)) {
          std::string item = std::move(*it);
          if (is_jsons) {
            auto d = dewrap(item, '"', '"');
            if (!d) {
              ctx_.item = saved_item;
              return Error::failed(d.error().message + " wrapping string result for extract jsons");
            }
            item = std::move(*d);
          }
          auto r = step(std::move(item));
          if (!r) return r;
          if (*r) break;
        }
      } else {
        text::ListReader reader(*list);
        std::string it;
        while (reader.next(it)) {
          auto r = step(it);
          if (!r) return r;
          if (*r) break;
        }
      }
      ctx_.item = std::move(saved_item);
      return raw == testfor;
    }
    default:
      break;
  }

  // Two-argument comparisons.
  bool numeric = !std::isalpha(static_cast<unsigned char>(c.name[0]));
  std::string a[2];
  int64_t num[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    auto r = value_of(c.args[i], skip);
    if (!r) return r.take_error();
    a[i] = std::move(*r);
    if (numeric && !skip && !a[i].empty()) {
      auto v = text::parse_int(a[i]);
      if (!v) return v.take_error();
      num[i] = *v;
    }
  }
  if (skip) return false;
  bool t = false;
  switch (c.type) {
    case CondType::kNumE: case CondType::kNumEE: t = num[0] == num[1]; break;
    case CondType::kNumG: t = num[0] > num[1]; break;
    case CondType::kNumGE: t = num[0] >= num[1]; break;
    case CondType::kNumL: t = num[0] < num[1]; break;
    case CondType::kNumLE: t = num[0] <= num[1]; break;
    case CondType::kStrLt: t = strcmpb(a[0], a[1]) < 0; break;
    case CondType::kStrLti: t = strcmpic(a[0], a[1]) < 0; break;
    case CondType::kStrLe: t = strcmpb(a[0], a[1]) <= 0; break;
    case CondType::kStrLei: t = strcmpic(a[0], a[1]) <= 0; break;
    case CondType::kStrEq: t = a[0] == a[1]; break;
    case CondType::kStrEqi: t = strcmpic(a[0], a[1]) == 0; break;
    case CondType::kStrGt: t = strcmpb(a[0], a[1]) > 0; break;
    case CondType::kStrGti: t = strcmpic(a[0], a[1]) > 0; break;
    case CondType::kStrGe: t = strcmpb(a[0], a[1]) >= 0; break;
    case CondType::kStrGei: t = strcmpic(a[0], a[1]) >= 0; break;
    case CondType::kMatch: {
      std::optional<Result<text::Regex>> compiled;
      const Result<text::Regex>* re = c.regex ? &*c.regex : nullptr;
      if (!re) {
        compiled = text::Regex::compile(a[1]);
        re = &*compiled;
      }
      if (!re->ok()) return re->error();
      std::vector<std::string> caps;
      t = (*re)->search(a[0], &caps);
      if (t) ctx_.numeric = std::move(caps);
      break;
    }
    case CondType::kMatchAddress: case CondType::kMatchDomain: case CondType::kMatchIp:
    case CondType::kMatchLocalPart: {
      auto r = match_cond(c, a[0], a[1]);
      if (!r) return r;
      t = *r;
      break;
    }
    case CondType::kCrypteq: {
      auto r = text::crypteq(a[0], a[1]);
      if (!r) return r.take_error();
      t = *r;
      break;
    }
    case CondType::kInlist:
    case CondType::kInlisti: {
      text::ListReader reader(a[1]);
      std::string it;
      while (reader.next(it)) {
        if (c.type == CondType::kInlisti ? strcmpic(a[0], it) == 0 : a[0] == it) {
          t = true;
          ctx_.value = it;
          break;
        }
      }
      break;
    }
    default:
      break;
  }
  return t == testfor;
}

}  // namespace
}  // namespace detail

void MapVariables::set_header(std::string name_with_colon, std::string value) {
  headers_.emplace_back(std::move(name_with_colon), std::move(value));
}

bool MapVariables::append(std::string_view name, std::string& out) const {
  auto it = values_.find(name);
  if (it == values_.end()) return false;
  out += it->second;
  return true;
}

std::optional<std::string> MapVariables::header(std::string_view name, HeaderForm form) const {
  (void)form;
  std::optional<std::string> v;
  for (const auto& [n, value] : headers_) {
    if (detail::strcmpic(n, name) != 0) continue;
    if (v) {
      *v += "\n";
    } else {
      v.emplace();
    }
    *v += value;
  }
  return v;
}

Status evaluate_into(const Expansion& e, Context& ctx, std::string& out) {
  const auto& impl = *e.impl_;
  if (impl.root.literal) {
    out += impl.root.text;
    return {};
  }
  detail::Evaluator ev(ctx, impl.syntax_error);
  return ev.seq(impl.root, out, false);
}

Result<std::string> evaluate(const Expansion& e, Context& ctx) {
  std::string out;
  Status st = evaluate_into(e, ctx, out);
  if (!st) return st.take_error();
  // Exim's results are C strings: an escaped NUL ends them.
  if (auto z = out.find('\0'); z != std::string::npos) out.resize(z);
  return out;
}

Result<std::string> expand(std::string_view s, Context& ctx) { return evaluate(compile(s, ctx.extensions), ctx); }

Result<bool> check_condition(const Expansion& e, Context& ctx) {
  auto r = evaluate(e, ctx);
  if (!r) return r.take_error();
  const std::string& s = *r;
  return !(s.empty() || s == "0" || detail::strcmpic(s, "no") == 0 || detail::strcmpic(s, "false") == 0);
}

Result<bool> check_acl_condition(const Expansion& e, Context& ctx) {
  auto r = evaluate(e, ctx);
  if (!r) return r.take_error();
  return acl_condition_value(*r);
}

Result<bool> acl_condition_value(std::string_view s) {
  // acl.c: all digits (or empty) is a number; otherwise yes/true, no/false.
  std::string_view digits = !s.empty() && s[0] == '-' ? std::string_view(s).substr(1) : std::string_view(s);
  if (digits.find_first_not_of("0123456789") == std::string_view::npos) return std::atoi(std::string(s).c_str()) != 0;
  if (detail::strcmpic(s, "no") == 0 || detail::strcmpic(s, "false") == 0) return false;
  if (detail::strcmpic(s, "yes") == 0 || detail::strcmpic(s, "true") == 0) return true;
  return Error::defer("invalid \"condition\" value \"" + std::string(s) + "\"");
}

lookup::MatchEnv match_env(Context& ctx, bool* expand_failed) {
  lookup::MatchEnv env;
  env.searcher = ctx.searcher;
  env.registry = ctx.registry;
  env.named_list = [&ctx](lookup::ListKind k, std::string_view name) -> const std::string* {
    return ctx.named_list ? ctx.named_list(k, name) : nullptr;
  };
  env.expand = [&ctx, expand_failed](std::string_view s) {
    auto r = expand(s, ctx);
    if (!r && expand_failed) *expand_failed = true;
    return r;
  };
  env.primary_hostname = ctx.primary_hostname;
  env.interface_addresses = ctx.interface_addresses;
  return env;
}

}  // namespace tern::expand
