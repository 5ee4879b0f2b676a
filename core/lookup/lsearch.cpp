// core/lookup/lsearch.cpp: the linear-search file lookups (lsearch,
// wildlsearch, nwildlsearch, iplsearch) and dsearch.
//
// Exim rescans an lsearch file on every lookup. Here a file is parsed once
// into its entries (key, data) and, for plain lsearch, indexed by lower-cased
// key, so a lookup is one hash probe. Before each uncached find the file is
// stat()ed and re-read when its inode, size or mtime changed, which keeps
// Exim's "edits are seen at once" behaviour. The parse follows Exim 4.96's
// lsearch.c: comments and blank lines, keys ended by colon or white space,
// quoted keys with backslash escapes, an optional colon after the key,
// continuation lines (leading white space becomes one space) up to the first
// blank or comment line. With the ret=full option (Exim 4.96) the whole entry
// is returned instead of its data: the key as read (a quoted key unquoted,
// its escapes interpreted), what followed it on the line, and the joined
// continuation lines. One difference: Exim reads lines in 4096-byte
// pieces, and its handling of longer physical lines is not reproduced.
#include <dirent.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <unistd.h>
#include <unordered_map>

#include "core/lookup/internal.hpp"
#include "core/text/ipaddr.hpp"
#include "core/text/regex.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::lookup {

std::string open_failed_text(int err, std::string_view what) {
  std::string out = "failed to open " + std::string(what) + ": " + std::strerror(err);
  if (err == EACCES)
    out += " (euid=" + std::to_string(geteuid()) + " egid=" + std::to_string(getegid()) + ")";
  return out;
}

namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Whether the comma-separated lookup options `opts` include `word`.
bool has_word(std::string_view opts, std::string_view word) {
  while (!opts.empty()) {
    size_t comma = opts.find(',');
    if (opts.substr(0, comma) == word) return true;
    if (comma == std::string_view::npos) break;
    opts.remove_prefix(comma + 1);
  }
  return false;
}

enum class Kind { kPlain, kWild, kNWild, kIp };

struct Entry {
  std::string key;
  std::string data;
  std::string full;  // ret=full: key, the rest of its line, continuations
  // nwildlsearch: the compiled `^` key; iplsearch: key classification.
  std::shared_ptr<text::Regex> regex;
  std::string regex_error;
  int ip = 0;                         // iplsearch: the key's family, 0 if not an address
  std::optional<size_t> mask_offset;  // and where its '/' is
};

// One parsed file, the handle of all four lsearch types.
class LsearchFile final : public Handle {
 public:
  struct Identity {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    struct timespec mtime {};
    bool operator==(const Identity& o) const {
      return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
             mtime.tv_nsec == o.mtime.tv_nsec;
    }
  };
  Identity id;
  std::vector<Entry> entries;
  std::unordered_map<std::string, size_t> index;  // plain: lower(key) -> first entry
};

Found parse_into(LsearchFile& f, std::string_view filename, const std::string& content, Kind kind) {
  f.entries.clear();
  f.index.clear();
  // Split into physical lines; the last one may lack its newline, and then
  // (as in Exim) its trailing white space is kept.
  struct Line {
    std::string_view text;
    bool eol;
  };
  std::vector<Line> lines;
  std::string_view all(content);
  size_t pos = 0;
  while (pos < all.size()) {
    size_t nl = all.find('\n', pos);
    if (nl == std::string_view::npos) {
      lines.push_back({all.substr(pos), false});
      break;
    }
    lines.push_back({all.substr(pos, nl - pos), true});
    pos = nl + 1;
  }
  auto trimmed = [](const Line& l) {
    std::string_view t = l.text;
    if (l.eol)
      while (!t.empty() && is_space(t.back())) t.remove_suffix(1);
    return t;
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = trimmed(lines[i]);
    if (line.empty() || line[0] == '#' || is_space(line[0])) continue;
    Entry e;
    size_t s = 0;
    if (line[0] == '"') {
      ++s;
      while (s < line.size() && line[s] != '"') {
        if (line[s] == '\\')
          e.key += text::interpret_escape(line, s);
        else
          e.key += line[s];
        ++s;
      }
      if (s < line.size()) ++s;
    } else {
      while (s < line.size() && line[s] != ':' && !is_space(line[s])) ++s;
      e.key = std::string(line.substr(0, s));
    }
    e.full = e.key;
    e.full += line.substr(s);
    while (s < line.size() && is_space(line[s])) ++s;
    if (s < line.size() && line[s] == ':') {
      ++s;
      while (s < line.size() && is_space(line[s])) ++s;
    }
    e.data = std::string(line.substr(s));
    for (size_t j = i + 1; j < lines.size(); ++j) {
      std::string_view c = trimmed(lines[j]);
      // After a blank or comment line nothing more is joined (Exim goes on
      // reading but adds nothing).
      if (c.empty() || c[0] == '#') break;
      if (!is_space(c[0])) break;
      size_t k = 0;
      while (k < c.size() && is_space(c[k])) ++k;
      e.data += ' ';
      e.data += c.substr(k);
      e.full += ' ';
      e.full += c.substr(k);
    }
    if ((kind == Kind::kNWild || kind == Kind::kWild) && !e.key.empty() && e.key[0] == '^') {
      auto rx = text::Regex::compile(e.key, true);
      if (rx.ok())
        e.regex = std::make_shared<text::Regex>(std::move(rx.value()));
      else
        e.regex_error = rx.error().message;
    }
    if (kind == Kind::kIp && e.key != "*") {
      if (auto net = text::parse_ip_address(e.key, true)) {
        e.ip = net->family;
        e.mask_offset = net->mask_offset;
      }
    }
    if (kind == Kind::kPlain) f.index.emplace(lower(e.key), f.entries.size());
    f.entries.push_back(std::move(e));
  }
  (void)filename;
  return Found::found({});
}

// stat() identity of `path`; false with errno set when it cannot be read.
bool identity_of(const std::string& path, LsearchFile::Identity& id, bool& regular) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  id.dev = st.st_dev;
  id.ino = st.st_ino;
  id.size = st.st_size;
  id.mtime = st.st_mtim;
  regular = S_ISREG(st.st_mode);
  return true;
}

class LsearchType final : public LookupType {
 public:
  LsearchType(std::string name, Kind kind, KeyExpander expander = {})
      : name_(std::move(name)), kind_(kind), expander_(std::move(expander)) {}
  std::string_view name() const override { return name_; }
  Style style() const override { return Style::kSingleKey; }

  Result<std::unique_ptr<Handle>> open(std::string_view filename) override {
    auto f = std::make_unique<LsearchFile>();
    if (auto err = load(*f, filename); !err.empty()) return Error::failed(err);
    return std::unique_ptr<Handle>(std::move(f));
  }

  Found find(Handle& handle, std::string_view filename, std::string_view key,
             std::string_view opts) override {
    auto& f = static_cast<LsearchFile&>(handle);
    const bool full = has_word(opts, "ret=full");
    // Re-read the file when it changed since it was parsed.
    LsearchFile::Identity now;
    bool regular = true;
    if (identity_of(std::string(filename), now, regular) && !(now == f.id)) {
      if (auto err = load(f, filename); !err.empty()) return Found::defer(err);
    }
    switch (kind_) {
      case Kind::kPlain: {
        auto it = f.index.find(lower(key));
        if (it == f.index.end()) return Found::not_found();
        const Entry& e = f.entries[it->second];
        return Found::found(full ? e.full : e.data);
      }
      case Kind::kIp: return find_ip(f, key, full);
      case Kind::kWild:
      case Kind::kNWild: return find_wild(f, key, full);
    }
    return Found::not_found();
  }

 private:
  // Reads and parses `filename` into `f`; returns an error text or "".
  std::string load(LsearchFile& f, std::string_view filename) {
    std::string path(filename);
    std::FILE* fp = std::fopen(path.c_str(), "rb");
    if (!fp) return open_failed_text(errno, path + " for linear search");
    struct stat st;
    if (::fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
      std::fclose(fp);
      return path + " is not a regular file (" + name_ + " lookup)";
    }
    std::string content;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, fp)) > 0) content.append(buf, n);
    std::fclose(fp);
    f.id.dev = st.st_dev;
    f.id.ino = st.st_ino;
    f.id.size = st.st_size;
    f.id.mtime = st.st_mtim;
    (void)parse_into(f, filename, content, kind_);
    return {};
  }

  Found find_ip(LsearchFile& f, std::string_view key, bool full) {
    bool key_star = key == "*";
    if (!key_star && text::ip_version(key) == 0)
      return Found::defer("\"" + std::string(key) +
                          "\" is not a valid iplsearch key (an IP address, with optional CIDR mask, "
                          "is wanted): in a host list, use net-iplsearch as the search type");
    for (const Entry& e : f.entries) {
      if (e.key == "*") {
        if (!key_star) continue;
      } else if (key_star) {
        continue;
      } else if (e.ip == 0 || !text::host_is_in_net(key, e.key, e.mask_offset)) {
        continue;
      }
      return Found::found(full ? e.full : e.data);
    }
    return Found::not_found();
  }

  Found find_wild(LsearchFile& f, std::string_view key, bool full) {
    for (const Entry& e : f.entries) {
      std::string pattern = e.key;
      bool expanded = false;
      if (kind_ == Kind::kWild && expander_) {
        auto x = expander_(pattern);
        if (!x.ok()) {
          if (x.error().is_forced()) continue;
          // Exim logs "failed to expand ... while checking a list" and the
          // lookup defers without a message of its own.
          return Found::defer("");
        }
        expanded = x.value() != pattern;
        pattern = std::move(x.value());
      }
      // A leading `!` (possibly repeated, spaces allowed after it) negates;
      // a one-item list whose only item is negative matches everything else.
      std::string_view p(pattern);
      bool negate = strip_negation(p);
      bool hit;
      if (!expanded && !negate && e.regex) {
        hit = e.regex->search(key);
      } else if (!expanded && !negate && !e.regex_error.empty()) {
        return Found::defer(e.regex_error);
      } else {
        auto m = match_simple_pattern(key, p, true, nullptr);
        if (!m.ok()) return Found::defer(m.error().message);
        hit = m.value();
      }
      if (hit != negate) return Found::found(full ? e.full : e.data);
    }
    return Found::not_found();
  }

  std::string name_;
  Kind kind_;
  KeyExpander expander_;
};

// dsearch: the "file" is a directory and a key is found when an entry of
// that name exists. Exim 4.96 options: ret=full (return the full path),
// filter=file|dir|subdir (only regular files / directories / directories
// other than "." and ".."); unknown option values are ignored, as in Exim.
class DirHandle final : public Handle {};

class DsearchType final : public LookupType {
 public:
  std::string_view name() const override { return "dsearch"; }
  Style style() const override { return Style::kSingleKey; }

  Result<std::unique_ptr<Handle>> open(std::string_view filename) override {
    std::string path(filename);
    DIR* d = ::opendir(path.c_str());
    if (!d) return Error::failed(open_failed_text(errno, path + " for directory search"));
    ::closedir(d);
    return std::unique_ptr<Handle>(std::make_unique<DirHandle>());
  }

  Found find(Handle& handle, std::string_view dirname, std::string_view key,
             std::string_view opts) override {
    (void)handle;
    if (key.find('/') != std::string_view::npos)
      return Found::defer("key for dsearch lookup contains a slash: " + std::string(key));
    bool full = false;
    enum { kAny, kFile, kDir, kSubdir } filter = kAny;
    size_t pos = 0;
    while (pos <= opts.size() && !opts.empty()) {
      size_t comma = opts.find(',', pos);
      std::string_view o = opts.substr(pos, comma == std::string_view::npos ? opts.npos : comma - pos);
      if (o == "ret=full") full = true;
      else if (o == "filter=file") filter = kFile;
      else if (o == "filter=dir") filter = kDir;
      else if (o == "filter=subdir") filter = kSubdir;
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
    std::string path = std::string(dirname) + "/" + std::string(key);
    if (path.size() >= PATH_MAX) return Found::defer("path name too long");
    struct stat st;
    if (::lstat(path.c_str(), &st) < 0) {
      if (errno == ENOENT) return Found::not_found();
      return Found::defer(path + ": lstat: " + std::strerror(errno));
    }
    bool ok = true;
    switch (filter) {
      case kAny: break;
      case kFile: ok = S_ISREG(st.st_mode); break;
      case kDir: ok = S_ISDIR(st.st_mode); break;
      case kSubdir: ok = S_ISDIR(st.st_mode) && key != "." && key != ".."; break;
    }
    if (!ok) return Found::not_found();
    return Found::found(full ? path : std::string(key));
  }
};

}  // namespace

std::unique_ptr<LookupType> make_lsearch() { return std::make_unique<LsearchType>("lsearch", Kind::kPlain); }
std::unique_ptr<LookupType> make_wildlsearch(KeyExpander expander, bool expand_keys) {
  if (!expand_keys) return std::make_unique<LsearchType>("nwildlsearch", Kind::kNWild);
  return std::make_unique<LsearchType>("wildlsearch", Kind::kWild, std::move(expander));
}
std::unique_ptr<LookupType> make_iplsearch() { return std::make_unique<LsearchType>("iplsearch", Kind::kIp); }
std::unique_ptr<LookupType> make_dsearch() { return std::make_unique<DsearchType>(); }

}  // namespace tern::lookup
