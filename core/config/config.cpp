// core/config/config.cpp: the reader behind load(): lines, macros, sections, options.
//
// LineSource turns files into logical lines the way Exim's get_config_line()
// does (macro substitution per physical line, conditionals, .include,
// comments, continuations); Loader then hands each logical line to the
// section it belongs to. Error texts are Exim 4.96's, prefixed `file:line: `.
#include "core/config/config.hpp"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>

namespace tern::config {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_name_char(char c) { return isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_upper(char c) { return isupper(static_cast<unsigned char>(c)) != 0; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return out;
}

Error at(const Location& where, const std::string& what) {
  return Error::failed(where.file + ":" + std::to_string(where.line) + ": " + what);
}

// ---------------------------------------------------------------------------
// Macros

class Macros {
 public:
  std::vector<Macro> list;

  Macro* find(std::string_view name) {
    for (auto& m : list)
      if (m.name == name) return &m;
    return nullptr;
  }

  // Substitute every macro in `line` from `from` on: each macro in order of
  // definition, all its occurrences, without rescanning its own replacement.
  // Returns whether anything was substituted.
  bool expand(std::string& line, size_t from) const { return substitute(list, line, from); }

  // A configuration has hundreds of built-in macros and most lines name
  // none, so a macro is searched for only when the pair of characters it
  // starts with occurs in the line; the pairs are taken again after each
  // substitution, because a replacement can bring a later macro's name.
  static bool substitute(const std::vector<Macro>& macros, std::string& line, size_t from) {
    bool found = false;
    std::vector<bool> pairs = char_pairs(line, from);
    for (const auto& m : macros) {
      if (m.name.empty()) continue;
      if (m.name.size() >= 2 && !pairs[pair_index(m.name[0], m.name[1])]) continue;
      size_t pos = from;
      size_t before = line.size();
      bool changed = false;
      while ((pos = line.find(m.name, pos)) != std::string::npos) {
        line.replace(pos, m.name.size(), m.value);
        pos += m.value.size();
        found = changed = true;
      }
      if (changed || line.size() != before) pairs = char_pairs(line, from);
    }
    return found;
  }

  static std::vector<bool> start_pairs(const std::vector<Macro>& macros) {
    std::vector<bool> starts(65536);
    for (const auto& m : macros) {
      if (m.name.size() >= 2) {
        starts[pair_index(m.name[0], m.name[1])] = true;
      } else if (m.name.size() == 1) {
        for (int b = 0; b < 256; ++b) starts[pair_index(m.name[0], static_cast<char>(b))] = true;
      }
    }
    return starts;
  }

  static size_t pair_index(char a, char b) {
    return static_cast<unsigned char>(a) * 256u + static_cast<unsigned char>(b);
  }
  static std::vector<bool> char_pairs(const std::string& line, size_t from) {
    std::vector<bool> pairs(65536);
    for (size_t i = from; i + 1 < line.size(); ++i) pairs[pair_index(line[i], line[i + 1])] = true;
    return pairs;
  }
};

// ---------------------------------------------------------------------------
// Lines

struct OpenFile {
  std::string name;
  std::unique_ptr<std::ifstream> in;
  int line = 0;
};

struct Conditional {
  int state = 0;  // the state to return to at .endif
  Location where;
  std::string word;
};

class LineSource {
 public:
  explicit LineSource(Macros& macros) : macros_(macros) {}

  Status open(const std::string& path, const Location* from) {
    auto in = std::make_unique<std::ifstream>(path);
    if (!*in) {
      if (from) return at(*from, "failed to open included configuration file " + path);
      return Error::failed(path + ": failed to open configuration file: " + strerror(errno));
    }
    files_.push_back({path, std::move(in), 0});
    return {};
  }

  // The next logical line into `out`; false at the end of the input.
  Result<bool> next(SourceLine& out) {
    std::string logical;
    bool continuing = false;
    for (;;) {
      std::string phys;
      if (!read_physical(phys)) {
        if (continuing) break;  // "a \" at the end of the file
        if (!cond_stack_.empty()) {
          const Conditional& c = cond_stack_.back();
          return at(c.where, "." + c.word + " without matching .endif");
        }
        return false;
      }
      Location here{files_.back().name, files_.back().line};
      std::string_view body = trim(phys);
      if (continuing) {
        // Inside a continuation a comment line is skipped; a blank one ends it.
        if (!body.empty() && body[0] == '#') continue;
        if (body.empty()) break;
      }
      // Macro substitution, except in the name of a macro being defined.
      std::string text(continuing ? body : std::string_view(phys).substr(phys.find_first_not_of(" \t") == std::string::npos ? phys.size() : phys.find_first_not_of(" \t")));
      size_t from = 0;
      if (!continuing && !text.empty() && is_upper(text[0])) {
        size_t i = 0;
        while (i < text.size() && is_name_char(text[i])) ++i;
        size_t j = i;
        while (j < text.size() && is_space(text[j])) ++j;
        if (j < text.size() && text[j] == '=') from = j;
      }
      // Conditionals apply to physical lines at the start of a logical line.
      if (!continuing && !text.empty() && text[0] == '.') {
        auto handled = conditional(text, here);
        if (!handled) return handled.take_error();
        if (*handled) continue;
      }
      if (state_ != 0) continue;
      macros_.expand(text, from);
      if (!continuing) {
        std::string_view t = trim(text);
        if (t.empty() || t[0] == '#') continue;
        if (t.rfind(".include", 0) == 0) {
          auto inc = include(t, here);
          if (!inc) return inc.take_error();
          if (*inc) continue;
        }
        out.where = here;
      }
      // Trailing white space goes; a trailing backslash continues the line.
      while (!text.empty() && is_space(text.back())) text.pop_back();
      if (!text.empty() && text.back() == '\\') {
        text.pop_back();
        logical += text;
        continuing = true;
        continue;
      }
      logical += text;
      break;
    }
    while (!logical.empty() && is_space(logical.back())) logical.pop_back();
    out.text = std::move(logical);
    return true;
  }

 private:
  bool read_physical(std::string& line) {
    while (!files_.empty()) {
      OpenFile& f = files_.back();
      if (std::getline(*f.in, line)) {
        ++f.line;
        return true;
      }
      files_.pop_back();
    }
    return false;
  }

  // .ifdef and friends; true when `text` was one of them.
  Result<bool> conditional(const std::string& text, const Location& here) {
    static const struct {
      const char* word;
      int if_found, if_not;
      int push;  // +1 push, 0 keep, -1 pop
    } kConds[] = {
        {"ifdef", 0, 1, 1}, {"ifndef", 1, 0, 1}, {"elifdef", 2, 3, 0},
        {"elifndef", 3, 2, 0}, {"else", 2, 2, 0}, {"endif", 0, 0, -1},
    };
    // State table: 0 reading, 1 skipping to .else/.endif, 2 skipping to .endif.
    static const int kNext[3][4] = {{0, 1, 2, 2}, {2, 2, 0, 1}, {2, 2, 2, 2}};
    size_t i = 1;
    while (i < text.size() && isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string word = text.substr(1, i - 1);
    for (const auto& c : kConds) {
      if (word != c.word) continue;
      if (i < text.size() && !is_space(text[i])) return false;
      std::string rest = text.substr(i);
      bool found = macros_.expand(rest, 0);
      int action = found ? c.if_found : c.if_not;
      if (c.push > 0) {
        if (cond_stack_.size() >= 10) return at(here, "." + word + " nested too deeply");
        cond_stack_.push_back({state_, here, word});
        state_ = kNext[state_][action];
      } else if (c.push < 0) {
        if (cond_stack_.empty()) return at(here, ".endif without matching .ifdef");
        state_ = cond_stack_.back().state;
        cond_stack_.pop_back();
      } else {
        if (cond_stack_.empty()) return at(here, "." + word + " without matching .ifdef");
        state_ = kNext[state_][action];
      }
      return true;
    }
    return false;
  }

  // .include / .include_if_exists; true when `t` was one.
  Result<bool> include(std::string_view t, const Location& here) {
    bool if_exists = false;
    std::string_view rest;
    if (t.rfind(".include_if_exists", 0) == 0) {
      if_exists = true;
      rest = t.substr(18);
    } else {
      rest = t.substr(8);
    }
    if (!rest.empty() && !is_space(rest[0])) return false;
    std::string path(trim(rest));
    if (path.size() >= 2 && path.front() == '"' && path.back() == '"') path = path.substr(1, path.size() - 2);
    if (path.empty() || path[0] != '/')
      return at(here, std::string(if_exists ? ".include_if_exists" : ".include") +
                          " specifies a non-absolute path \"" + path + "\"");
    if (if_exists) {
      std::ifstream probe(path);
      if (!probe) return true;
    }
    if (files_.size() > 50) return at(here, ".include nested too deeply");
    Status st = open(path, &here);
    if (!st) return st.take_error();
    return true;
  }

  Macros& macros_;
  std::vector<OpenFile> files_;
  std::vector<Conditional> cond_stack_;
  int state_ = 0;
};

// ---------------------------------------------------------------------------
// Sections

const char* const kSections[] = {"acl", "authenticators", "local_scan", "retry", "rewrite", "routers",
                                 "transports"};

bool is_acl_verb(std::string_view w) {
  for (const char* v : {"accept", "defer", "deny", "discard", "drop", "require", "warn"})
    if (w == v) return true;
  return false;
}

std::string first_word(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && !is_space(s[i])) ++i;
  return std::string(s.substr(0, i));
}

// Splits a retry or rewrite line into fields; a field may be double-quoted.
std::vector<std::string> fields(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i >= s.size()) break;
    std::string f;
    if (s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        f += s[i++];
      }
      ++i;
    } else {
      while (i < s.size() && !is_space(s[i])) f += s[i++];
    }
    out.push_back(std::move(f));
  }
  return out;
}

class Loader {
 public:
  Loader(const LoadRequest& req, Config& cfg) : req_(req), cfg_(cfg), lines_(macros_) {}

  // Scan mode (scan_main_settings): only macro lines and the main options
  // in `names` are interpreted; the first "begin" ends the scan.
  void scan_only(const std::vector<std::string>& names, std::map<std::string, EarlySetting>& out) {
    scan_names_ = &names;
    scan_out_ = &out;
  }

  Status run() {
    const OptionRegistry& reg = *req_.registry;
    for (const auto& [n, v] : req_.builtin_macros) macros_.list.push_back({n, v, true, false});
    add_option_macros(reg);
    for (const auto& [n, v] : req_.defines) {
      if (Macro* m = macros_.find(n)) m->value = v;
      else macros_.list.push_back({n, v, false, true});
    }
    for (const OptionDef* d : reg.list(Scope::kMain)) cfg_.main.values[d->name] = d->default_value;

    if (Status st = lines_.open(req_.path, nullptr); !st) return st;
    SourceLine line;
    for (;;) {
      auto more = lines_.next(line);
      if (!more) return more.take_error();
      if (!*more) break;
      if (scan_names_ != nullptr) {
        if (!scan(line)) break;
        continue;
      }
      if (Status st = handle(line); !st) return st;
    }
    if (scan_names_ != nullptr) return scan_status_;
    if (Status st = finish_driver(); !st) return st;
    cfg_.macros = macros_.list;
    cfg_.macro_starts = Macros::start_pairs(cfg_.macros);
    derive_defaults();
    return {};
  }

 private:
  void add_option_macros(const OptionRegistry& reg) {
    auto add = [&](std::string name) { macros_.list.push_back({std::move(name), "y", true, false}); };
    for (const OptionDef* d : reg.list(Scope::kMain)) add("_OPT_MAIN_" + upper(d->name));
    const std::pair<Scope, const char*> scopes[] = {
        {Scope::kRouter, "ROUTER"}, {Scope::kTransport, "TRANSPORT"}, {Scope::kAuthenticator, "AUTHENTICATOR"}};
    for (auto [scope, word] : scopes) {
      for (const OptionDef* d : reg.list(scope))
        if (d->driver.empty()) add(std::string("_OPT_") + word + "S_" + upper(d->name));
      for (const DriverDef* drv : reg.drivers(scope)) {
        add(std::string("_DRIVER_") + word + "_" + upper(drv->name));
        for (const OptionDef* d : reg.list(scope, drv->name))
          if (!d->driver.empty()) add(std::string("_OPT_") + word + "_" + upper(drv->name) + "_" + upper(d->name));
      }
    }
  }

  // One line in scan mode; false when the main section has ended (or a
  // macro line was wrong: scan_status_ says why).
  bool scan(const SourceLine& line) {
    std::string_view t = trim(line.text);
    if (!t.empty() && is_upper(t[0])) {
      scan_status_ = define_macro(line, t);
      return scan_status_.ok();
    }
    if (first_word(t) == "begin") return false;
    size_t i = 0;
    while (i < t.size() && is_name_char(t[i])) ++i;
    std::string name(t.substr(0, i));
    for (const auto& wanted : *scan_names_) {
      if (name != wanted) continue;
      std::string_view rest = trim(t.substr(i));
      if (!rest.empty() && rest[0] == '=') (*scan_out_)[name] = {std::string(trim(rest.substr(1))), line.where};
    }
    return true;
  }

  Status handle(const SourceLine& line) {
    std::string_view t = trim(line.text);
    if (!t.empty() && is_upper(t[0])) return define_macro(line, t);
    if (first_word(t) == "begin") return begin(line, trim(t.substr(5)));
    if (section_.empty()) return main_line(line, t);
    if (section_ == "acl") return acl_line(line, t);
    if (section_ == "routers") return driver_line(line, t, Scope::kRouter, cfg_.routers);
    if (section_ == "transports") return driver_line(line, t, Scope::kTransport, cfg_.transports);
    if (section_ == "authenticators") return driver_line(line, t, Scope::kAuthenticator, cfg_.authenticators);
    if (section_ == "retry") return retry_line(line, t);
    if (section_ == "rewrite") return rewrite_line(line, t);
    cfg_.local_scan.push_back(line);
    return {};
  }

  Status define_macro(const SourceLine& line, std::string_view t) {
    size_t i = 0;
    while (i < t.size() && is_name_char(t[i])) ++i;
    std::string name(t.substr(0, i));
    while (i < t.size() && is_space(t[i])) ++i;
    if (i >= t.size() || t[i] != '=') return at(line.where, "malformed macro definition");
    ++i;
    bool redef = i < t.size() && t[i] == '=';
    if (redef) ++i;
    std::string value(trim(t.substr(i)));
    if (Macro* m = macros_.find(name)) {
      if (m->command_line) return {};  // -D wins over the file
      if (!redef)
        return at(line.where, "macro \"" + name + "\" is already defined (use \"==\" if you want to redefine it)");
      m->value = value;
      return {};
    }
    for (const auto& m : macros_.list) {
      if (name.find(m.name) != std::string::npos)
        return at(line.where, "\"" + name + "\" cannot be defined as a macro because previously defined macro \"" +
                                  m.name + "\" is a substring");
    }
    macros_.list.push_back({name, value, false, false});
    return {};
  }

  Status begin(const SourceLine& line, std::string_view name) {
    bool known = false;
    for (const char* s : kSections) known = known || name == s;
    if (!known) return at(line.where, "\"" + std::string(name) + "\" is not a known configuration section name");
    if (!seen_sections_.insert(std::string(name)).second)
      return at(line.where, "\"" + std::string(name) + "\" section is repeated in the configuration file");
    if (Status st = finish_driver(); !st) return st;
    section_ = std::string(name);
    return {};
  }

  // ---- options ----

  // Parses "name", "no_name", "name = value" against `scope`/`driver`;
  // `driver_known` false means private options cannot be known yet.
  Status option_line(const SourceLine& line, std::string_view t, Scope scope, const std::string& driver,
                     OptionSet& set, const std::string& instance) {
    const OptionRegistry& reg = *req_.registry;
    // Exim's "hide name = value": -bP does not show the value to non-admin users.
    bool hide = false;
    if (t.size() > 4 && t.compare(0, 4, "hide") == 0 && is_space(t[4])) {
      hide = true;
      t.remove_prefix(4);
      while (!t.empty() && is_space(t[0])) t.remove_prefix(1);
    }
    if (t.empty() || !isalpha(static_cast<unsigned char>(t[0])))
      return at(line.where, "option setting expected: " + std::string(t));
    size_t i = 0;
    while (i < t.size() && is_name_char(t[i])) ++i;
    std::string name(t.substr(0, i));
    bool negated = false;
    const OptionDef* def = reg.find(scope, driver, name);
    std::string base = name;
    if (def == nullptr) {
      for (const char* prefix : {"no_", "not_"}) {
        std::string_view p(prefix);
        if (name.compare(0, p.size(), p) == 0) {
          if (const OptionDef* d = reg.find(scope, driver, name.substr(p.size()))) {
            def = d;
            negated = true;
            base = name.substr(p.size());
            break;
          }
        }
      }
    }
    if (def == nullptr) return unknown_option(line, scope, driver, name, instance);
    if (negated && def->type != OptionType::kBool)
      return at(line.where, "negation prefix applied to a non-boolean option");
    while (i < t.size() && is_space(t[i])) ++i;
    OptionValue value;
    if (i >= t.size()) {
      if (def->type != OptionType::kBool)
        return at(line.where, "unexpected end of line (data missing) after " + base);
      value.is_set = true;
      value.flag = !negated;
    } else if (t[i] != '=') {
      return at(line.where, "missing \"=\" after " + name);
    } else if (negated) {
      return at(line.where, "extra characters follow boolean option " + name);
    } else {
      ++i;
      while (i < t.size() && is_space(t[i])) ++i;
      auto v = parse_option_value(*def, t.substr(i));
      if (!v) return at(line.where, v.error().message);
      value = std::move(*v);
    }
    value.hide = hide;
    // Synonyms: "verify" sets verify_sender and verify_recipient.
    std::vector<std::string> targets;
    if (def->alias_of.empty()) {
      targets.push_back(def->name);
    } else {
      std::string_view a = def->alias_of;
      size_t p;
      while ((p = a.find(',')) != std::string_view::npos) targets.emplace_back(a.substr(0, p)), a.remove_prefix(p + 1);
      targets.emplace_back(a);
    }
    for (const std::string& target : targets) {
      if (set.set_at_.count(target))
        return at(line.where, "\"" + target + "\" option set for the second time");
      set.values[target] = value;
      set.set_at_[target] = line.where;
    }
    return {};
  }

  Status unknown_option(const SourceLine& line, Scope scope, const std::string& driver, const std::string& name,
                        const std::string& instance) {
    const OptionRegistry& reg = *req_.registry;
    std::string bare = name;
    for (const char* prefix : {"no_", "not_"}) {
      std::string_view p(prefix);
      if (name.compare(0, p.size(), p) == 0 && !reg.find_unloaded(scope, driver, name) &&
          reg.find_unloaded(scope, driver, name.substr(p.size())))
        bare = name.substr(p.size());
    }
    if (const UnloadedOption* u = reg.find_unloaded(scope, driver, bare))
      return at(line.where, "option \"" + bare + "\" belongs to module \"" + u->module +
                                "\", which is not loaded: add it to \"modules\"");
    if (const SkippedOption* s = reg.find_skipped(scope, driver, bare))
      return at(line.where, std::string(scope == Scope::kMain ? "main option" : "option") + " \"" + bare +
                                "\" is not supported: " + s->reason);
    if (scope == Scope::kMain) return at(line.where, "main option \"" + name + "\" unknown");
    if (driver.empty())
      return at(line.where, "option \"" + name + "\" unknown (\"driver\" must be specified before any private options)");
    (void)instance;
    return at(line.where, "option \"" + name + "\" unknown");
  }

  // ---- main section ----

  Status main_line(const SourceLine& line, std::string_view t) {
    static const std::pair<const char*, ListKind> kLists[] = {{"domainlist", ListKind::kDomain},
                                                              {"hostlist", ListKind::kHost},
                                                              {"addresslist", ListKind::kAddress},
                                                              {"localpartlist", ListKind::kLocalPart}};
    std::string w = first_word(t);
    for (auto [word, kind] : kLists) {
      std::string_view wv = w;
      bool cache = false;
      if (wv == std::string(word) + "_cache") cache = true;
      else if (wv != word) continue;
      return named_list(line, trim(t.substr(w.size())), kind, cache);
    }
    return option_line(line, t, Scope::kMain, "", cfg_.main, "");
  }

  Status named_list(const SourceLine& line, std::string_view t, ListKind kind, bool cache) {
    static const char* const kKindNames[] = {"domain", "host", "address", "local part"};
    size_t i = 0;
    while (i < t.size() && is_name_char(t[i])) ++i;
    std::string name(t.substr(0, i));
    size_t j = i;
    while (j < t.size() && is_space(t[j])) ++j;
    if (name.empty() || j >= t.size() || t[j] != '=')
      return at(line.where, "missing '=' after \"" + name + "\"");
    for (const auto& l : cfg_.named_lists)
      if (l.kind == kind && l.name == name)
        return at(line.where, "duplicate name \"" + name + "\" for a named " + kKindNames[static_cast<int>(kind)] +
                                  " list");
    cfg_.named_lists.push_back({kind, name, std::string(trim(t.substr(j + 1))), cache, line.where});
    return {};
  }

  // ---- drivers ----

  Status driver_line(const SourceLine& line, std::string_view t, Scope scope, std::vector<DriverInstance>& list) {
    size_t i = 0;
    while (i < t.size() && is_name_char(t[i])) ++i;
    size_t j = i;
    while (j < t.size() && is_space(t[j])) ++j;
    if (i > 0 && j < t.size() && t[j] == ':') {
      std::string name(t.substr(0, i));
      if (Status st = finish_driver(); !st) return st;
      if (!trim(t.substr(j + 1)).empty()) return at(line.where, "extra characters follow driver name " + name);
      for (const auto& d : list)
        if (d.name == name)
          return at(line.where, "there are two " + std::string(scope_name(scope)) + "s called \"" + name + "\"");
      DriverInstance inst;
      inst.name = name;
      inst.where = line.where;
      for (const OptionDef* d : req_.registry->list(scope)) inst.options.values[d->name] = d->default_value;
      list.push_back(std::move(inst));
      current_ = &list.back();
      current_scope_ = scope;
      return {};
    }
    if (current_ == nullptr) return at(line.where, std::string(scope_name(scope)) + " name missing");
    DriverInstance& inst = *current_;
    // "driver = name" picks the private options and the driver's defaults.
    if (first_word(t) == "driver" || t.rfind("driver=", 0) == 0) {
      std::string_view v = t.substr(6);
      v = trim(v);
      if (!v.empty() && v[0] == '=') {
        if (!inst.driver.empty()) return at(line.where, "\"driver\" option set for the second time");
        std::string drv(trim(v.substr(1)));
        const DriverDef* dd = req_.registry->find_driver(scope, drv);
        if (dd == nullptr) {
          std::string s(scope_name(scope));
          return at(line.where, s + " " + inst.name + ": cannot find " + s + " driver \"" + drv + "\"");
        }
        inst.driver = drv;
        for (const OptionDef* d : req_.registry->list(scope, drv))
          if (!d->driver.empty()) inst.options.values[d->name] = d->default_value;
        for (const auto& [opt, text] : dd->generic_defaults) {
          if (inst.options.was_set(opt)) continue;
          if (const OptionDef* d = req_.registry->find(scope, drv, opt)) {
            auto pv = parse_option_value(*d, text);
            if (pv) inst.options.values[opt] = std::move(*pv);
          }
        }
        OptionValue dv;
        dv.is_set = true;
        dv.text = drv;
        inst.options.values["driver"] = dv;
        inst.options.set_at_["driver"] = line.where;
        return {};
      }
    }
    return option_line(line, t, scope, inst.driver, inst.options, inst.name);
  }

  Status finish_driver() {
    if (current_ == nullptr) return {};
    DriverInstance& inst = *current_;
    current_ = nullptr;
    if (inst.driver.empty())
      return at(inst.where, "no driver defined for " + std::string(scope_name(current_scope_)) + " \"" + inst.name + "\"");
    if (current_scope_ == Scope::kAuthenticator) {
      // Exim's tls authenticator always advertises under its instance name.
      OptionValue& pn = inst.options.values["public_name"];
      if (!pn.is_set || inst.driver == "tls") {
        pn.is_set = true;
        pn.text = inst.name;
      }
    }
    return {};
  }

  // ---- acl, retry, rewrite ----

  Status acl_line(const SourceLine& line, std::string_view t) {
    size_t i = 0;
    while (i < t.size() && (is_name_char(t[i]) || t[i] == '-' || t[i] == '.')) ++i;
    size_t j = i;
    while (j < t.size() && is_space(t[j])) ++j;
    if (i > 0 && j < t.size() && t[j] == ':' && trim(t.substr(j + 1)).empty()) {
      std::string name(t.substr(0, i));
      for (const auto& a : cfg_.acls)
        if (a.name == name) return at(line.where, "there are two ACLs called \"" + name + "\"");
      cfg_.acls.push_back({name, line.where, {}});
      return {};
    }
    if (cfg_.acls.empty()) return at(line.where, "missing or malformed ACL name");
    Acl& acl = cfg_.acls.back();
    std::string verb;
    for (size_t k = 0; k < t.size() && isalpha(static_cast<unsigned char>(t[k])); ++k) verb += t[k];
    if (is_acl_verb(verb)) {
      acl.statements.push_back({verb, {line}});
      return {};
    }
    if (acl.statements.empty())
      return at(line.where, "unknown ACL verb \"" + verb + "\" in \"" + std::string(t) + "\"");
    acl.statements.back().lines.push_back(line);
    return {};
  }

  Status retry_line(const SourceLine& line, std::string_view t) {
    RetryRule r;
    r.where = line.where;
    r.text = std::string(t);
    auto f = fields(t);
    r.pattern = f.empty() ? "" : f[0];
    size_t k = 1;
    auto is_rule = [](const std::string& s) {
      return s.size() > 1 && (s[0] == 'F' || s[0] == 'G' || s[0] == 'H') && s[1] == ',';
    };
    if (k < f.size() && !is_rule(f[k])) r.error = f[k++];
    else r.error = "*";
    for (; k < f.size(); ++k) {
      if (f[k].rfind("senders=", 0) == 0) continue;
      r.rules.push_back(f[k]);
    }
    cfg_.retry.push_back(std::move(r));
    return {};
  }

  Status rewrite_line(const SourceLine& line, std::string_view t) {
    auto f = fields(t);
    if (f.size() < 2) return at(line.where, "missing rewrite replacement string");
    RewriteRule r{line.where, f[0], f[1], f.size() > 2 ? f[2] : "", std::string(t)};
    cfg_.rewrite.push_back(std::move(r));
    return {};
  }

  // Defaults Exim computes from other options.
  void derive_defaults() {
    auto& v = cfg_.main.values;
    auto unset = [&](const char* n) { return v.count(n) && !v[n].is_set; };
    if (unset("primary_hostname")) {
      char buf[256] = {0};
      gethostname(buf, sizeof buf - 1);
      v["primary_hostname"].is_set = true;
      v["primary_hostname"].text = buf;
    }
    if (unset("qualify_domain")) v["qualify_domain"] = v["primary_hostname"];
    if (unset("qualify_recipient")) v["qualify_recipient"] = v["qualify_domain"];
    if (unset("process_log_path") && v.count("spool_directory") && v["spool_directory"].is_set) {
      v["process_log_path"].is_set = true;
      v["process_log_path"].text = v["spool_directory"].text + "/exim-process.info";
    }
  }

  const LoadRequest& req_;
  Config& cfg_;
  Macros macros_;
  LineSource lines_;
  std::string section_;
  std::set<std::string> seen_sections_;
  DriverInstance* current_ = nullptr;
  Scope current_scope_ = Scope::kRouter;
  const std::vector<std::string>* scan_names_ = nullptr;
  std::map<std::string, EarlySetting>* scan_out_ = nullptr;
  Status scan_status_;
};

}  // namespace

// ---------------------------------------------------------------------------

const OptionValue* OptionSet::get(std::string_view name) const {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

const Location* OptionSet::set_at(std::string_view name) const {
  auto it = set_at_.find(name);
  return it == set_at_.end() ? nullptr : &it->second;
}

bool OptionSet::get_bool(std::string_view name) const {
  const OptionValue* v = get(name);
  return v && v->is_set && v->flag;
}

int64_t OptionSet::get_int(std::string_view name) const {
  const OptionValue* v = get(name);
  return v ? v->number : 0;
}

std::string OptionSet::get_string(std::string_view name) const {
  const OptionValue* v = get(name);
  return v && v->is_set ? v->text : std::string();
}

const NamedList* Config::find_list(ListKind kind, std::string_view name) const {
  for (const auto& l : named_lists)
    if (l.kind == kind && l.name == name) return &l;
  return nullptr;
}

const Acl* Config::find_acl(std::string_view name) const {
  for (const auto& a : acls)
    if (a.name == name) return &a;
  return nullptr;
}

static const DriverInstance* find_in(const std::vector<DriverInstance>& v, std::string_view name) {
  for (const auto& d : v)
    if (d.name == name) return &d;
  return nullptr;
}
const DriverInstance* Config::find_router(std::string_view n) const { return find_in(routers, n); }
const DriverInstance* Config::find_transport(std::string_view n) const { return find_in(transports, n); }
const DriverInstance* Config::find_authenticator(std::string_view n) const { return find_in(authenticators, n); }

const Macro* Config::find_macro(std::string_view name) const {
  for (const auto& m : macros)
    if (m.name == name) return &m;
  return nullptr;
}

Result<Config> load(const LoadRequest& request) {
  if (request.registry == nullptr) return Error::failed(request.path + ": no option registry given");
  Config cfg;
  cfg.file = request.path;
  cfg.registry = request.registry;
  Loader loader(request, cfg);
  if (Status st = loader.run(); !st) return st.take_error();
  return cfg;
}

Result<std::map<std::string, EarlySetting>> scan_main_settings(const LoadRequest& request,
                                                               const std::vector<std::string>& names) {
  if (request.registry == nullptr) return Error::failed(request.path + ": no option registry given");
  Config cfg;
  cfg.file = request.path;
  cfg.registry = request.registry;
  std::map<std::string, EarlySetting> out;
  Loader loader(request, cfg);
  loader.scan_only(names, out);
  if (Status st = loader.run(); !st) return st.take_error();
  return out;
}

std::string format_main_options(const Config& c) {
  std::string out;
  for (const OptionDef* d : c.registry->list(Scope::kMain)) {
    if (d->hidden) continue;
    const OptionValue* v = c.main.get(d->name);
    out += format_option(*d, v ? *v : d->default_value) + "\n";
  }
  return out;
}

Result<std::string> format_main_option(const Config& c, std::string_view name) {
  if (name == "config_file" || name == "configure_file") return std::string(c.file) + "\n";
  const OptionDef* d = c.registry->find(Scope::kMain, "", name);
  if (d == nullptr) return Error::failed(std::string(name) + " is not a known option");
  if (!d->alias_of.empty()) d = c.registry->find(Scope::kMain, "", d->alias_of);
  const OptionValue* v = c.main.get(d->name);
  return format_option(*d, v ? *v : d->default_value) + "\n";
}

static const std::vector<DriverInstance>& instances(const Config& c, Scope scope) {
  if (scope == Scope::kTransport) return c.transports;
  if (scope == Scope::kAuthenticator) return c.authenticators;
  return c.routers;
}

static std::string format_instance(const Config& c, Scope scope, const DriverInstance& inst) {
  std::string out = "\n" + inst.name + " " + std::string(scope_name(scope)) + ":\n";
  for (const OptionDef* d : c.registry->list(scope, inst.driver)) {
    if (d->hidden) continue;
    const OptionValue* v = inst.options.get(d->name);
    out += format_option(*d, v ? *v : d->default_value) + "\n";
  }
  return out;
}

std::string format_drivers(const Config& c, Scope scope) {
  std::string out;
  for (const auto& inst : instances(c, scope)) out += format_instance(c, scope, inst);
  return out;
}

Result<std::string> format_driver(const Config& c, Scope scope, std::string_view name) {
  for (const auto& inst : instances(c, scope))
    if (inst.name == name) return format_instance(c, scope, inst);
  return Error::failed(std::string(scope_name(scope)) + " " + std::string(name) + " not found");
}

std::string format_macros(const Config& c) {
  std::string out;
  for (const auto& m : c.macros) out += m.name + "=" + m.value + "\n";
  return out;
}

std::string substitute_macros(const Config& c, std::string_view line) {
  std::string out(line);
  bool any = false;
  for (size_t i = 0; !any && i < line.size(); ++i) {
    char next = i + 1 < line.size() ? line[i + 1] : '\0';
    any = c.macro_starts.empty() || c.macro_starts[Macros::pair_index(line[i], next)];
  }
  if (any) Macros::substitute(c.macros, out, 0);
  return out;
}

bool define_macro(Config& c, std::string_view line, std::string* name) {
  std::string_view t = trim(line);
  size_t i = 0;
  while (i < t.size() && is_name_char(t[i])) ++i;
  if (i == 0 || !is_upper(t[0])) return false;
  std::string_view rest = trim(t.substr(i));
  if (rest.empty() || rest[0] != '=') return false;
  rest.remove_prefix(rest.size() > 1 && rest[1] == '=' ? 2 : 1);
  std::string value = substitute_macros(c, trim(rest));
  std::string macro_name(t.substr(0, i));
  if (name) *name = macro_name;
  for (auto& m : c.macros) {
    if (m.name == macro_name) {
      m.value = std::move(value);
      return true;
    }
  }
  c.macros.push_back({std::move(macro_name), std::move(value), false, false});
  c.macro_starts = Macros::start_pairs(c.macros);
  return true;
}

Result<std::string> format_macro(const Config& c, std::string_view name) {
  if (const Macro* m = c.find_macro(name)) return m->name + "=" + m->value + "\n";
  return Error::failed("macro " + std::string(name) + " not found");
}

}  // namespace tern::config
