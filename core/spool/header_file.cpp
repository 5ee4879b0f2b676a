// core/spool/header_file.cpp: the -H writer and reader.
//
// Spool files are ours, but a crash or an operator can damage them: the reader bounds every
// count by what is left of the input and returns an Error instead of trusting a length.
#include "core/spool/header_file.hpp"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <vector>

namespace tern::spool {
namespace {

// ---- the non-recipients tree -------------------------------------------------------
// Exim keeps a binary search tree (strcmp order) and writes it pre-order. tern writes the
// balanced tree of the sorted set, which is a valid Exim tree.
void write_tree(const std::vector<const std::string*>& v, std::size_t lo, std::size_t hi,
                std::string& out) {
  if (lo >= hi) return;
  std::size_t mid = lo + (hi - lo) / 2;
  out += mid > lo ? 'Y' : 'N';
  out += mid + 1 < hi ? 'Y' : 'N';
  out += ' ';
  out += *v[mid];
  out += '\n';
  write_tree(v, lo, mid, out);
  write_tree(v, mid + 1, hi, out);
}

class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  bool line(std::string_view& out) {  // without its newline; false at EOF or no newline
    std::size_t nl = d_.find('\n', pos_);
    if (nl == std::string_view::npos) return false;
    out = d_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    return true;
  }
  bool take(std::size_t n, std::string_view& out) {
    if (d_.size() - pos_ < n) return false;
    out = d_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool at_end() const { return pos_ >= d_.size(); }
  char peek() const { return d_[pos_]; }

 private:
  std::string_view d_;
  std::size_t pos_ = 0;
};

template <class T>
bool to_int(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

Error bad(std::string_view file, std::string_view what) {
  return Error::failed("spool file " + std::string(file.empty() ? "-H" : file) +
                       ": format error: " + std::string(what));
}

bool read_tree(Reader& r, std::string_view line, std::set<std::string>& out, int depth) {
  if (depth > 64 || line.size() < 3 || line[2] != ' ') return false;
  char left = line[0], right = line[1];
  if ((left != 'Y' && left != 'N') || (right != 'Y' && right != 'N')) return false;
  out.emplace(line.substr(3));
  std::string_view next;
  if (left == 'Y' && !(r.line(next) && read_tree(r, next, out, depth + 1))) return false;
  if (right == 'Y' && !(r.line(next) && read_tree(r, next, out, depth + 1))) return false;
  return true;
}

}  // namespace

std::string format_recipient(const Recipient& r) {
  if (r.pno < 0 && r.errors_to.empty() && r.dsn_flags == 0) return r.address;
  char nums[64];
  std::string s = r.address + ' ' + r.orcpt;
  std::snprintf(nums, sizeof nums, " %zu,%d ", r.orcpt.size(), r.dsn_flags);
  s += nums;
  s += r.errors_to;
  std::snprintf(nums, sizeof nums, " %zu,%d#3", r.errors_to.size(), r.pno);
  s += nums;
  return s;
}

// Mirrors spool_in.c: the extra data sits at the end of the line and is found by reading
// backwards from it, because addresses may contain spaces.
Result<Recipient> parse_recipient(std::string_view line) {
  Recipient r;
  if (line.empty()) return Error::failed("empty recipient line");
  std::size_t p = line.size();
  while (p > 0 && std::isdigit(static_cast<unsigned char>(line[p - 1]))) --p;
  auto digits_back = [&](std::size_t end) {  // start of the [0-9,-]* run ending at end
    std::size_t q = end;
    while (q > 0 && (std::isdigit(static_cast<unsigned char>(line[q - 1])) || line[q - 1] == ',' ||
                     line[q - 1] == '-'))
      --q;
    return q;
  };
  auto two_ints = [](std::string_view s, int& a, int& b) {
    std::size_t comma = s.find(',');
    return comma != std::string_view::npos && to_int(s.substr(0, comma), a) &&
           to_int(s.substr(comma + 1), b);
  };
  if (p == line.size() || p == 0) {
    r.address = std::string(line);
  } else if (line[p - 1] == ',') {  // Exim 3: <address> <d>,<pno>,<d>... keep the pno
    std::size_t q = p - 1;
    while (q > 0 && (std::isdigit(static_cast<unsigned char>(line[q - 1])) || line[q - 1] == ',')) --q;
    if (q == 0 || line[q - 1] != ' ') {
      r.address = std::string(line);
    } else {
      int dummy;
      two_ints(line.substr(q, line.find(',', line.find(',', q) + 1) - q), dummy, r.pno);
      r.address = std::string(line.substr(0, q - 1));
    }
  } else if (line[p - 1] == ' ') {  // early Exim 4: <address> <pno>
    to_int(line.substr(p), r.pno);
    r.address = std::string(line.substr(0, p - 1));
  } else if (line[p - 1] == '#') {
    // "... <orcpt> <len>,<dsn_flags> <errors_to> <len>,<pno>#<bits>": bit 1 is the
    // errors_to part (last), bit 2 the DSN part before it. `end` is the exclusive end of
    // what is still unread; each part is "<text> <len>,<n>" preceded by a space.
    int flags = 0;
    to_int(line.substr(p), flags);
    std::size_t end = p - 1;  // the '#'
    auto part = [&](std::string& text, int& n) -> bool {
      std::size_t q = digits_back(end);
      int len = 0;
      if (q < 1 || line[q - 1] != ' ' || !two_ints(line.substr(q, end - q), len, n) || len < 0 ||
          std::size_t(len) + 2 > q)
        return false;
      std::size_t start = q - 1 - std::size_t(len);
      text = std::string(line.substr(start, std::size_t(len)));
      if (line[start - 1] != ' ') return false;
      end = start - 1;
      return true;
    };
    if ((flags & 1) && !part(r.errors_to, r.pno))
      return Error::failed("bad errors_to data in recipient line");
    if ((flags & 2) && !part(r.orcpt, r.dsn_flags))
      return Error::failed("bad DSN data in recipient line");
    r.address = std::string(line.substr(0, end));
  } else {
    r.address = std::string(line);
  }
  return r;
}

std::string format_header_file(const Envelope& e) {
  std::string out;
  out.reserve(1024);
  char num[64];
  out += e.id + "-H\n";
  out += e.originator_login.substr(0, 63);
  std::snprintf(num, sizeof num, " %lld %lld\n", (long long)e.originator_uid,
                (long long)e.originator_gid);
  out += num;
  out += '<' + e.sender + ">\n";
  std::snprintf(num, sizeof num, "%lld %d\n", (long long)e.received_time, e.warning_count);
  out += num;
  for (const auto& v : e.vars) {
    out += v.tainted ? "--" : "-";
    out += v.name;
    if (v.is_acl()) {
      std::snprintf(num, sizeof num, " %zu\n", v.acl_value.size());
      out += ' ' + v.value + num + v.acl_value + '\n';
      continue;
    }
    if (v.has_value) out += ' ' + v.value;
    out += '\n';
  }
  if (e.nonrecipients.empty()) {
    out += "XX\n";
  } else {
    std::vector<const std::string*> sorted;
    for (const auto& a : e.nonrecipients) sorted.push_back(&a);
    write_tree(sorted, 0, sorted.size(), out);
  }
  out += std::to_string(e.recipients.size()) + '\n';
  for (const auto& r : e.recipients) out += format_recipient(r) + '\n';
  out += '\n';
  for (const auto& h : e.headers) {
    std::snprintf(num, sizeof num, "%03zu%c ", h.text.size(), h.type);
    out += num;
    out += h.text;
  }
  return out;
}

Result<Envelope> parse_header_file(std::string_view data, std::string_view file_name) {
  Reader r(data);
  Envelope e;
  std::string_view l;
  if (!r.line(l) || l.size() < 3 || l.substr(l.size() - 2) != "-H")
    return bad(file_name, "first line is not <id>-H");
  if (!file_name.empty() && l != file_name) return bad(file_name, "first line names another file");
  e.id = std::string(l.substr(0, l.size() - 2));
  // login uid gid: the numbers are the last two words; the login may hold spaces.
  if (!r.line(l)) return bad(file_name, "truncated");
  {
    std::size_t s2 = l.rfind(' ');
    std::size_t s1 = s2 == std::string_view::npos || s2 == 0 ? s2 : l.rfind(' ', s2 - 1);
    if (s1 == std::string_view::npos || !to_int(l.substr(s1 + 1, s2 - s1 - 1), e.originator_uid) ||
        !to_int(l.substr(s2 + 1), e.originator_gid))
      return bad(file_name, "bad originator line");
    e.originator_login = std::string(l.substr(0, s1));
  }
  if (!r.line(l) || l.size() < 2 || l.front() != '<' || l.back() != '>')
    return bad(file_name, "bad sender line");
  e.sender = std::string(l.substr(1, l.size() - 2));
  if (!r.line(l)) return bad(file_name, "truncated");
  {
    std::size_t sp = l.find(' ');
    if (sp == std::string_view::npos || !to_int(l.substr(0, sp), e.received_time) ||
        !to_int(l.substr(sp + 1), e.warning_count))
      return bad(file_name, "bad time line");
  }
  for (;;) {
    if (!r.line(l)) return bad(file_name, "truncated in options");
    if (l.empty() || l[0] != '-') break;
    SpoolVar v;
    v.tainted = l.size() > 1 && l[1] == '-';
    std::string_view body = l.substr(v.tainted ? 2 : 1);
    std::size_t sp = body.find(' ');
    v.name = std::string(body.substr(0, sp));
    if (sp != std::string_view::npos) {
      v.has_value = true;
      v.value = std::string(body.substr(sp + 1));
    }
    if (v.is_acl()) {  // "-aclm NAME LEN" then LEN bytes and a newline
      std::size_t sp2 = v.value.rfind(' ');
      std::size_t len = 0;
      std::string_view content;
      if (sp2 == std::string::npos || !to_int(std::string_view(v.value).substr(sp2 + 1), len) ||
          !r.take(len + 1, content) || content.back() != '\n')
        return bad(file_name, "bad ACL variable");
      v.value.resize(sp2);
      v.acl_value = std::string(content.substr(0, len));
    }
    e.vars.push_back(std::move(v));
  }
  if (l != "XX") {
    if (!read_tree(r, l, e.nonrecipients, 0)) return bad(file_name, "bad non-recipients tree");
  }
  std::size_t count = 0;
  if (!r.line(l) || !to_int(l, count) || count > 1000000) return bad(file_name, "bad recipient count");
  for (std::size_t i = 0; i < count; ++i) {
    if (!r.line(l)) return bad(file_name, "truncated in recipients");
    auto rc = parse_recipient(l);
    if (!rc) return bad(file_name, rc.error().message);
    e.recipients.push_back(std::move(*rc));
  }
  if (!r.line(l) || !l.empty()) return bad(file_name, "no blank line before the headers");
  while (!r.at_end()) {
    // NNNc<space>text: the length has at least three digits (more for long headers),
    // then the type letter, then a space.
    std::string_view ch, prefix, text;
    std::size_t len = 0, ndigits = 0;
    std::string digits;
    while (!r.at_end() && std::isdigit(static_cast<unsigned char>(r.peek())) && ndigits++ < 9) {
      (void)r.take(1, ch);
      digits += ch;
    }
    if (!to_int(std::string_view(digits), len) || !r.take(2, prefix) || prefix[1] != ' ')
      return bad(file_name, "bad header prefix");
    if (!r.take(len, text)) return bad(file_name, "truncated header");
    if (text.find('\0') != std::string_view::npos) return bad(file_name, "NUL in header");
    e.headers.push_back(Header{prefix[0], std::string(text)});
  }
  return e;
}

}  // namespace tern::spool
