// core/smtp/address.cpp: Exim's RFC 2822 mailbox reader, as in parse.c.
//
// The reader keeps Exim's structure (read_local_part, read_domain,
// read_route, read_addr_spec) because its error texts depend on where the
// scan stops. The input is read through a cursor that yields 0 past the end,
// the C terminator Exim's loops rely on; nothing indexes past the view.
#include "core/smtp/address.hpp"

#include <cctype>
#include <cstring>

namespace tern::smtp {
namespace {

bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool is_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_xdigit(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
// mac_iscntrl_or_special: controls, DEL, space and the RFC 822 specials.
bool is_cntrl_or_special(unsigned char c) {
  return c < 32 || c == 127 || std::strchr(" ()<>@,;:\\\".[]", c) != nullptr;
}
bool ieq_prefix(std::string_view s, size_t at, std::string_view p) {
  if (s.size() - at < p.size()) return false;
  for (size_t i = 0; i < p.size(); ++i) {
    unsigned char a = s[at + i], b = p[i];
    if ((a | 0x20) != (b | 0x20)) return false;
  }
  return true;
}

class Reader {
 public:
  Reader(std::string_view in, const AddressOptions& opt) : in_(in), opt_(opt) {}

  Result<ParsedAddress> extract();

 private:
  unsigned char at(size_t i) const { return i < in_.size() ? in_[i] : 0; }
  size_t skip_comment(size_t s);
  size_t read_domain(size_t s, std::string& t);
  size_t read_local_part(size_t s, std::string& t, bool allow_null);
  size_t read_route(size_t s, std::string& t);
  size_t read_addr_spec(size_t s, std::string& t, unsigned char term, size_t& domain);
  Error fail(std::string m) { return Error::failed(std::move(m)); }
  std::string may_not_follow(size_t rest, size_t prefix_len) const {
    return "malformed address: " + std::string(in_.substr(rest, 32)) + " may not follow " +
           std::string(in_.substr(0, prefix_len));
  }

  std::string_view in_;
  const AddressOptions& opt_;
  size_t last_comment_ = 0;  // start of the last skip_comment, Exim's end marker
  const char* error_ = nullptr;
  std::string error_text_;
};

size_t Reader::skip_comment(size_t s) {
  last_comment_ = s;
  while (at(s)) {
    while (is_space(at(s))) ++s;
    if (at(s) != '(') break;
    int level = 1;
    unsigned char c;
    while ((c = at(++s)) != 0) {
      if (c == '(') {
        ++level;
      } else if (c == ')') {
        if (--level <= 0) {
          ++s;
          break;
        }
      } else if (c == '\\' && at(s + 1) != 0) {
        ++s;
      }
    }
  }
  return s;
}

// On error: error_ set and the domain part of `t` (what this call appended)
// removed, as Exim's *tt = 0.
size_t Reader::read_domain(size_t s, std::string& t) {
  const size_t tt = t.size();
  s = skip_comment(s);
  if (at(s) == '[') {
    t += static_cast<char>(at(s++));
    if (ieq_prefix(in_, s, "IPv6:") || ieq_prefix(in_, s, "IPv4:")) {
      t.append(in_.substr(s, 5));
      s += 5;
    }
    while (at(s) == '.' || at(s) == ':' || is_xdigit(at(s))) t += static_cast<char>(at(s++));
    if (at(s) == ']') {
      t += static_cast<char>(at(s++));
    } else {
      error_ = "malformed domain literal";
      t.resize(tt);
    }
    if (!opt_.allow_domain_literals) {
      error_ = "domain literals not allowed";
      t.resize(tt);
    }
    return skip_comment(s);
  }
  for (;;) {
    const size_t tsave = t.size();
    if (at(s) != '-') {
      if (!opt_.allow_utf8_domains) {
        while (is_alnum(at(s)) || at(s) == '-') t += static_cast<char>(at(s++));
      } else {
        for (;;) {
          unsigned char c = at(s);
          if (is_alnum(c) || c == '-') {
            t += static_cast<char>(at(s++));
            continue;
          }
          if ((c & 0xc0) != 0xc0) break;  // not the start of a UTF-8 character
          int d = c << 2, i;
          for (i = 1; i < 6; ++i) {
            if ((d & 0x80) == 0) break;
            d <<= 1;
          }
          bool bad = i == 6;
          if (!bad) {
            t += static_cast<char>(at(s++));
            while (i-- > 0) {
              if ((at(s) & 0xc0) != 0x80) {
                bad = true;
                break;
              }
              t += static_cast<char>(at(s++));
            }
          }
          if (bad) {
            error_ = "invalid UTF-8 byte sequence";
            t.resize(tt);
            return s;
          }
        }
      }
    }
    s = skip_comment(s);
    if (t.size() == tsave) {  // empty component
      if (opt_.strip_trailing_dot && t.size() > tt && at(s) != '.') {
        t.pop_back();
      } else {
        error_ = "domain missing or malformed";
        t.resize(tt);
      }
      return s;
    }
    if (at(s) != '.') break;
    t += static_cast<char>(at(s++));
    s = skip_comment(s);
  }
  return s;
}

// `t` receives this local part (cleared first): the caller may inspect it
// even on error, as Exim's buffer.
size_t Reader::read_local_part(size_t s, std::string& t, bool allow_null) {
  t.clear();
  error_ = nullptr;
  for (;;) {
    const size_t tsave = t.size();
    s = skip_comment(s);
    if (at(s) == '"') {
      t += '"';
      unsigned char c;
      while ((c = at(++s)) != 0 && c != '"') {
        t += static_cast<char>(c);
        if (c == '\\' && at(s + 1) != 0) t += static_cast<char>(at(++s));
      }
      if (c != '"') {
        error_ = "unmatched doublequote in local part";
        return s;
      }
      ++s;
      t += '"';
    } else {
      while (at(s) != 0 && (!is_cntrl_or_special(at(s)) || at(s) == '\\')) {
        unsigned char c = at(s++);
        t += static_cast<char>(c);
        if (c == '\\' && at(s) != 0) t += static_cast<char>(at(s++));
      }
    }
    s = skip_comment(s);
    if (t.size() == tsave && at(s) != '.') {
      if (t.empty() && !allow_null) error_ = "missing or malformed local part";
      return s;
    }
    if (at(s) != '.') break;
    do t += static_cast<char>(at(s++));
    while (at(s) == '.');
  }
  return s;
}

size_t Reader::read_route(size_t s, std::string& t) {
  bool commas = false;
  error_ = nullptr;
  while (at(s) == '@') {
    t += '@';
    const size_t before = t.size();
    s = read_domain(s + 1, t);
    if (t.size() == before) return s;
    if (at(s) != ',') break;
    t += static_cast<char>(at(s++));
    commas = true;
    s = skip_comment(s);
  }
  if (at(s) == ':')
    t += static_cast<char>(at(s++));
  else
    error_ = commas ? "colon expected after route list" : "no local part";
  return skip_comment(s);
}

size_t Reader::read_addr_spec(size_t s, std::string& t, unsigned char term, size_t& domain) {
  s = read_local_part(s, t, false);
  if (error_ == nullptr && at(s) != term) {
    if (at(s) != '@') {
      error_text_ = "\"@\" or \".\" expected after \"" + t + "\"";
    } else {
      t += static_cast<char>(at(s++));
      domain = t.size();
      s = read_domain(s, t);
    }
  }
  return s;
}

Result<ParsedAddress> Reader::extract() {
  ParsedAddress out;
  std::string& t = out.address;
  size_t domain = 0, start, end;

  size_t s = skip_comment(0);
  start = s;
  s = read_local_part(s, t, true);
  if (error_) return fail(error_);

  if (at(s) != '@' && at(s) != '<') {
    if (at(s) == 0 || at(s) == ';') {
      if (t.empty()) return fail("empty address");
      end = last_comment_;
      goto succeeded;
    }
    // A phrase before <route-addr>: words until '<' (the end of input gives an
    // empty word, hence an error).
    std::string phrase;
    while (at(s) != '<') {
      s = read_local_part(s, phrase, false);
      if (error_) return fail(std::string(error_) + " (expected word or \"<\")");
    }
  }

  if (at(s) == '<') {
    bool source_routed = false;
    int brackets = 1;
    ++s;
    if (opt_.strip_excess_angle_brackets)
      while (at(s) == '<') ++brackets, ++s;
    t.clear();
    start = s;
    s = skip_comment(s);
    if (at(s) == '@') {
      std::string route;
      s = read_route(s, route);
      if (error_) return fail(error_);
      source_routed = true;
    }
    if (opt_.allow_null && !source_routed && at(s) == '>') {
      t.clear();
    } else {
      size_t dom = 0;
      s = read_addr_spec(s, t, '>', dom);
      if (error_) return fail(error_);
      if (!error_text_.empty()) return fail(error_text_);
      domain = dom;
      if (source_routed && domain == 0) return fail("domain missing in source-routed address");
    }
    end = s;
    while (brackets-- > 0) {
      if (at(s++) != '>') {
        if (at(s - 1) == 0) return fail("'>' missing at end of address");
        return fail(may_not_follow(s - 1, s - 1));
      }
    }
    s = skip_comment(s);
  } else if (t.empty()) {
    // "@route:local@domain" without brackets: the route is dropped.
    std::string route;
    s = read_route(s, route);
    if (error_) return fail(error_);
    size_t dom = 0;
    s = read_addr_spec(s, t, 0, dom);
    if (error_) return fail(error_);
    if (!error_text_.empty()) return fail(error_text_);
    domain = dom;
    end = last_comment_;
    if (domain == 0) return fail("domain missing in source-routed address");
  } else {
    t += static_cast<char>(at(s++));  // '@'
    domain = t.size();
    s = read_domain(s, t);
    if (t.size() == domain) return fail(error_ ? error_ : "domain missing or malformed");
    end = last_comment_;
  }

succeeded:
  if (at(s) != 0) return fail(may_not_follow(s, s));
  while (end > 0 && is_space(at(end - 1))) --end;
  if (end > start && end - start > kAddressMaxLength)
    return fail("address is ridiculously long: " + t.substr(0, 64) + "...");
  out.domain_offset = domain;
  return out;
}

}  // namespace

Result<ParsedAddress> extract_address(std::string_view mailbox, const AddressOptions& opt) {
  if (size_t nul = mailbox.find('\0'); nul != std::string_view::npos)
    mailbox = mailbox.substr(0, nul);
  return Reader(mailbox, opt).extract();
}

SplitAddress split_address(std::string_view address) {
  size_t at = address.rfind('@');
  std::string_view local = address.substr(0, at);
  SplitAddress out;
  for (size_t i = 0; i < local.size(); ++i) {
    if (local[i] == '"') continue;
    if (local[i] == '\\' && i + 1 < local.size()) ++i;
    out.local_part += static_cast<char>(std::tolower(static_cast<unsigned char>(local[i])));
  }
  if (at != std::string_view::npos)
    for (char c : address.substr(at + 1)) out.domain += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Exim's parse_find_address_end(s, FALSE): comments, quoted strings and <...> (with a
// source route's commas) do not end an address.
size_t find_address_end(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return k < s.size() ? s[k] : '\0'; };
  bool source_routing = at(i) == '@';
  int no_term = source_routing ? 1 : 0;
  while (at(i) && (at(i) != ',' || no_term > 0)) {
    if (at(i) == '\\' && at(i + 1)) {
      i += 2;
    } else if (at(i) == '"') {
      while (at(++i)) {
        if (at(i) == '\\' && at(i + 1)) ++i;
        else if (at(i) == '"') {
          ++i;
          break;
        }
      }
    } else if (at(i) == '(') {
      int level = 1;
      while (at(++i)) {
        if (at(i) == '\\' && at(i + 1)) ++i;
        else if (at(i) == '(') ++level;
        else if (at(i) == ')' && --level <= 0) {
          ++i;
          break;
        }
      }
    } else {
      if (at(i) == '<') {
        source_routing = at(i + 1) == '@';
        no_term = source_routing ? 2 : 1;
      } else if (at(i) == '>') {
        --no_term;
      } else if (source_routing && at(i) == ':') {
        --no_term;
      }
      ++i;
    }
  }
  return i;
}

}  // namespace tern::smtp
