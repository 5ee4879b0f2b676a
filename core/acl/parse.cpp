// core/acl/parse.cpp: reading ACL statements with Exim's acl_read rules, and the helpers for inline
// and file ACLs.
//
// Exim reads an ACL line by line: a verb starts a statement and may carry
// its first condition on the same line; every other line is a condition or
// modifier of the current statement, `name = value` (or `name=value`),
// optionally negated with `!`. The errors below are acl.c's texts.
#include <cctype>

#include "core/acl/internal.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::acl::detail {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

void skip_space(std::string_view& s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
}

// readconf_readname: a name of letters, digits and underscores that starts
// with a letter; white space around it is skipped.
std::string read_name(std::string_view& s) {
  skip_space(s);
  std::string name;
  if (!s.empty() && std::isalpha(static_cast<unsigned char>(s.front()))) {
    while (!s.empty() &&
           (std::isalnum(static_cast<unsigned char>(s.front())) || s.front() == '_')) {
      name += s.front();
      s.remove_prefix(1);
    }
  }
  skip_space(s);
  return name;
}

std::optional<Verb> find_verb(std::string_view name) {
  for (Verb v : {Verb::kAccept, Verb::kDefer, Verb::kDeny, Verb::kDiscard, Verb::kDrop,
                 Verb::kRequire, Verb::kWarn})
    if (verb_name(v) == name) return v;
  return std::nullopt;
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// The name of `set acl_c1 = ...`: Exim's checks, in its order.
Result<std::string> read_set_name(std::string_view& s) {
  std::string whole(s);
  if (s.substr(0, 5) != "acl_c" && s.substr(0, 5) != "acl_m")
    return Error::failed("invalid variable name after \"set\" in ACL modifier \"set " + whole +
                         "\" (must start \"acl_c\" or \"acl_m\")");
  size_t end = 5;
  if (end >= s.size() || (!std::isdigit(static_cast<unsigned char>(s[end])) && s[end] != '_'))
    return Error::failed("invalid variable name after \"set\" in ACL modifier \"set " + whole +
                         "\" (digit or underscore must follow acl_c or acl_m)");
  while (end < s.size() && s[end] != '=' && !is_space(s[end])) {
    if (!std::isalnum(static_cast<unsigned char>(s[end])) && s[end] != '_')
      return Error::failed(std::string("invalid character \"") + s[end] +
                           "\" in variable name in ACL modifier \"set " + whole + "\"");
    ++end;
  }
  std::string name(s.substr(4, end - 4));
  s.remove_prefix(end);
  skip_space(s);
  return name;
}

// What a name means: the core's condition, a module's, or an error.
Status resolve(Condition& c, const std::string& name, std::string_view line,
               const CompileContext& cc, ParseError* error) {
  if ((c.def = find_condition(name))) return {};
  if (cc.modules) {
    if ((c.module = cc.modules->find_condition(name))) {
      static constexpr CondDef kModuleCondition{"", CondId::kModule, true, false, 0};
      static constexpr CondDef kModuleModifier{"", CondId::kModule, true, true, 0};
      c.def = c.module->is_modifier() ? &kModuleModifier : &kModuleCondition;
      return {};
    }
  }
  if (cc.extensions) {
    if (auto owner = cc.extensions->unloaded_owner(expand::ExtensionKind::kCondition, name)) {
      error->acl_read_text = false;
      return Error::failed(expand::not_loaded_text("condition", name, *owner));
    }
  }
  if (const char* why = left_out_condition(name)) {
    error->acl_read_text = false;
    return Error::failed("ACL condition \"" + name + "\" is not supported: " + why);
  }
  return Error::failed("unknown ACL condition/modifier in " + quoted(line));
}

}  // namespace

std::string dequote(std::string_view& s) {
  std::string out;
  if (s.empty() || s.front() != '"') {
    while (!s.empty() && !is_space(s.front())) {
      out += s.front();
      s.remove_prefix(1);
    }
    return out;
  }
  s.remove_prefix(1);
  while (!s.empty() && s.front() != '"') {
    if (s.front() == '\\') {
      size_t i = 0;
      out += text::interpret_escape(s, i);
      s.remove_prefix(i + 1);
      continue;
    }
    out += s.front();
    s.remove_prefix(1);
  }
  if (!s.empty()) s.remove_prefix(1);
  return out;
}

Result<std::vector<Statement>> parse_statements(const std::vector<config::SourceLine>& lines,
                                                const CompileContext& cc, ParseError* error) {
  std::vector<Statement> out;
  for (const auto& line : lines) {
    error->where = line.where;
    std::string_view s = line.text;
    skip_space(s);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    if (s.empty() || s.front() == '#') continue;
    const std::string_view saveline = s;
    bool negated = false;
    if (s.front() == '!') {
      negated = true;
      s.remove_prefix(1);
    }
    std::string name = read_name(s);
    if (auto verb = find_verb(name)) {
      if (negated) return Error::failed("malformed ACL line " + quoted(saveline));
      out.push_back({*verb, line.where, {}});
      if (s.empty()) continue;
      if (s.front() == '!') {
        negated = true;
        s.remove_prefix(1);
      }
      name = read_name(s);
    } else if (out.empty()) {
      return Error::failed("unknown ACL verb " + quoted(name) + " in " + quoted(saveline));
    }

    Statement& st = out.back();
    Condition c;
    if (Status r = resolve(c, name, saveline, cc, error); !r) return r.take_error();
    const std::string cond_name =
        c.def->id == CondId::kModule ? c.module->name : std::string(c.def->name);
    if (negated && c.def->modifier)
      return Error::failed("ACL error: negation is not allowed with " + quoted(cond_name));
    if (c.def->id == CondId::kEndpass && st.verb != Verb::kAccept && st.verb != Verb::kDiscard)
      return Error::failed("ACL error: " + quoted(cond_name) + " is not allowed with " +
                           quoted(verb_name(st.verb)));
    c.negated = negated;
    if (c.def->id == CondId::kSet) {
      auto v = read_set_name(s);
      if (!v) return v.take_error();
      c.varname = std::move(*v);
    }
    if (c.def->id != CondId::kEndpass) {
      if (s.empty() || s.front() != '=')
        return Error::failed("\"=\" missing after ACL " + quoted(name) + " " +
                             (c.def->modifier ? "modifier" : "condition"));
      s.remove_prefix(1);
      skip_space(s);
      c.arg = std::string(s);
    }
    if (c.def->id == CondId::kAcl) {
      std::string_view rest = c.arg;
      while (true) {
        skip_space(rest);
        if (rest.empty()) break;
        c.words.push_back(expand::compile(dequote(rest), cc.extensions));
      }
    } else {
      c.value = expand::compile(c.arg, cc.extensions);
    }
    st.conditions.push_back(std::move(c));
  }
  return out;
}

std::vector<config::SourceLine> split_acl_text(std::string_view text,
                                               const config::Location& where) {
  // acl_getline: blank lines and lines starting with '#' are skipped; a
  // backslash at the end (trailing white space allowed) continues the line,
  // the next one's leading white space dropped and comment lines skipped.
  std::vector<config::SourceLine> out;
  size_t i = 0;
  auto physical = [&](std::string_view& line) {
    if (i >= text.size()) return false;
    size_t nl = text.find('\n', i);
    if (nl == std::string_view::npos) nl = text.size();
    line = text.substr(i, nl - i);
    i = nl + 1;
    return true;
  };
  std::string_view line;
  while (physical(line)) {
    skip_space(line);
    if (line.empty() || line.front() == '#') continue;
    std::string logical;
    for (;;) {
      std::string_view body = line;
      while (!body.empty() && is_space(body.back())) body.remove_suffix(1);
      if (body.empty() || body.back() != '\\') {
        logical += line;
        break;
      }
      body.remove_suffix(1);
      logical += body;
      std::string_view next;
      bool got = false;
      while (physical(next)) {
        while (!next.empty() && (next.front() == ' ' || next.front() == '\t'))
          next.remove_prefix(1);
        if (!next.empty() && next.front() == '#') continue;
        got = true;
        break;
      }
      if (!got) break;
      line = next;
    }
    out.push_back({where, std::move(logical)});
  }
  return out;
}

}  // namespace tern::acl::detail
