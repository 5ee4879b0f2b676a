// core/acl/evaluate.cpp: running ACLs: statements and verbs (acl_check_internal), messages,
// nesting, ${acl}.
//
// The order of evaluation, the messages kept and the trace lines are
// acl.c's: a statement's conditions run in order until one is not OK; the
// verb then decides (accept/discard on OK, deny/defer/drop on OK, require
// on anything else, warn never); `message` and `log_message` are expanded
// after the conditions, for the outcomes each verb uses them for, with the
// message a condition left in $acl_verify_message.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/acl/evaluator.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::acl::detail {
namespace {

// The Context's variables with the ACL's own ($acl_verify_message,
// $dnslist_*, ...) over them.
class Overlay final : public expand::VariableSource {
 public:
  Overlay(const Evaluator& ev, const expand::VariableSource* base) : ev_(ev), base_(base) {}
  bool append(std::string_view name, std::string& out) const override {
    if (ev_.append_variable(name, out)) return true;
    return base_ && base_->append(name, out);
  }
  std::optional<std::string> header(std::string_view name, expand::HeaderForm form) const override {
    return base_ ? base_->header(name, form) : std::nullopt;
  }

 private:
  const Evaluator& ev_;
  const expand::VariableSource* base_;
};

// Exim's debug_printf_indent: one column per level, every fourth a "╎".
std::string indent(int level) {
  std::string s;
  for (int i = 1; i <= level; ++i) s += i % 4 == 0 ? "\u254e" : " ";
  return s;
}

// expand_string returns its argument itself when there is nothing to do,
// which decides whether acl.c traces the expanded value.
bool needs_expansion(std::string_view s) {
  return s.find_first_of("$\\") != std::string_view::npos;
}

constexpr std::string_view kSpaces = "                             ";  // acl.c's 29

}  // namespace

bool equal_caseless(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

Evaluator::Evaluator(const AclSet::Impl& set, RunEnv& env, Where where, AclResult& result,
                     bool install_hook, int level)
    : set_(set), env_(env), where_(where), result_(result), level_(level) {
  saved_variables_ = env_.ctx.variables;
  overlay_ = std::make_unique<Overlay>(*this, saved_variables_);
  env_.ctx.variables = overlay_.get();
  hook_installed_ = install_hook;
  if (!install_hook) return;
  saved_hook_ = std::move(env_.ctx.acl);
  // ${acl} inside these ACLs runs here, one level deeper (acl_eval).
  env_.ctx.acl = [this](std::string_view name,
                        const std::vector<std::string>&) -> Result<expand::AclOutcome> {
    Message user;
    Rc rc = eval(name, &user);
    return outcome_of(rc, user);
  };
}

expand::AclOutcome outcome_of(Rc rc, const Message& user) {
  expand::AclOutcome o;
  switch (rc) {
    case Rc::kOk:
      o.rc = expand::AclOutcome::Rc::kOk;
      break;
    case Rc::kFail:
      o.rc = expand::AclOutcome::Rc::kFail;
      break;
    case Rc::kDefer:
      o.rc = expand::AclOutcome::Rc::kDefer;
      break;
    case Rc::kError:
      o.rc = expand::AclOutcome::Rc::kError;
      break;
    case Rc::kDiscard:
      o.rc = expand::AclOutcome::Rc::kDiscard;
      break;
    case Rc::kFailDrop:
      o.rc = expand::AclOutcome::Rc::kFailDrop;
      break;
  }
  if (user) o.user_message = *user;
  return o;
}

Evaluator::~Evaluator() {
  env_.ctx.variables = saved_variables_;
  if (hook_installed_) env_.ctx.acl = std::move(saved_hook_);
}

bool Evaluator::append_variable(std::string_view name, std::string& out) const {
  if (auto it = run_vars_.find(name); it != run_vars_.end()) {
    out += it->second;
    return true;
  }
  if (name == "acl_verify_message") {
    if (verify_message_) out += *verify_message_;
    return true;
  }
  if (name == "headers_added") {
    // fn_hdrs_added: the added lines without their final newlines.
    bool first = true;
    for (const auto& h : env_.state.added_headers) {
      if (!first) out += '\n';
      first = false;
      std::string_view t = h.text;
      if (!t.empty() && t.back() == '\n') t.remove_suffix(1);
      out += t;
    }
    return true;
  }
  return env_.state.append_variable(name, out);
}

std::string Evaluator::variable(std::string_view name) const {
  std::string out;
  if (env_.ctx.variables) env_.ctx.variables->append(name, out);
  return out;
}

void Evaluator::trace(std::string_view line, bool indented) const {
  if (!env_.trace) return;
  // Only the first line is indented: Exim indents where a debug line starts.
  size_t nl = line.find('\n');
  env_.trace((indented ? indent(level_) : std::string()) + std::string(line.substr(0, nl)));
  while (nl != std::string_view::npos) {
    line.remove_prefix(nl + 1);
    nl = line.find('\n');
    env_.trace(line.substr(0, nl));
  }
}

std::function<void(std::string_view)> Evaluator::tracer() const {
  if (!env_.trace) return {};
  return [this](std::string_view line) { trace(line); };
}

void Evaluator::log(unsigned targets, std::string text) {
  result_.logs.push_back({targets, std::move(text)});
  if (env_.log) env_.log(result_.logs.back());
}

void Evaluator::set_var(std::string_view name, std::string value) {
  env_.state.set_variable(name, std::move(value));
}

// ---------------------------------------------------------------- entry points

Rc Evaluator::check(std::string_view acl) {
  user_msg_ = log_msg_ = nullptr;
  sender_failure_.reset();
  rates_cmd_.clear();
  log_reject_target_ = kLogMain | kLogReject;
  if (where_ == Where::kRcpt || where_ == Where::kVrfy || where_ == Where::kPrdr) {
    size_t at = env_.recipient.rfind('@');
    if (at == std::string::npos) {
      log_msg_ = message("defer in percent_hack_domains check");
      return Rc::kDefer;
    }
    Address a;
    a.address = env_.recipient;
    a.local_part = env_.recipient.substr(0, at);
    for (char ch : env_.recipient.substr(at + 1))
      a.domain += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    addr_ = std::move(a);
  }
  level_ = 0;
  Rc rc = check_internal(acl);
  // Exim forgets these after an ACL check.
  for (const char* v : {"domain_data", "address_data", "sender_address_data"})
    env_.state.clear_variable(v);
  if (rc == Rc::kDiscard &&
      (static_cast<int>(where_) > static_cast<int>(Where::kNotSmtp) || where_ == Where::kPredata)) {
    log(kLogMain | kLogPanic,
        "\"discard\" verb not allowed in " + std::string(where_name(where_)) + " ACL");
    return Rc::kError;
  }
  if (rc == Rc::kFailDrop && where_ == Where::kMailAuth) {
    log(kLogMain | kLogPanic,
        "\"drop\" verb not allowed in " + std::string(where_name(where_)) + " ACL");
    return Rc::kError;
  }
  // string_split_message makes a new string only for a long message.
  if (user_msg_ && user_msg_->size() > 75) user_msg_ = message(split_message(*user_msg_));
  return rc;
}

Rc Evaluator::eval(std::string_view name, Message* user_message) {
  Message saved_user = std::move(user_msg_), saved_log = std::move(log_msg_);
  std::optional<Address> saved_addr = addr_;
  user_msg_ = log_msg_ = nullptr;
  sender_failure_.reset();
  rates_cmd_.clear();
  log_reject_target_ = kLogMain | kLogReject;
  if (where_ == Where::kRcpt) {
    Address a;
    a.local_part = variable("local_part");
    a.domain = variable("domain");
    a.address = a.local_part + "@" + a.domain;
    addr_ = std::move(a);
  }
  ++level_;
  Rc rc = check_internal(name);
  --level_;
  *user_message = std::move(user_msg_);
  user_msg_ = std::move(saved_user);
  log_msg_ = std::move(saved_log);
  addr_ = std::move(saved_addr);
  return rc;
}

// ---------------------------------------------------------------- acl_check_internal

Rc Evaluator::check_internal(std::string_view s) {
  if (level_ > 20) {
    log_msg_ = message("ACL nested too deep: possible loop");
    return Rc::kError;
  }
  std::string text(s);
  if (level_ == 0 && needs_expansion(text)) {
    auto r = expand::expand(text, env_.ctx);
    if (!r) {
      if (r.error().is_forced()) return Rc::kOk;
      log_msg_ = message("failed to expand ACL string \"" + text + "\": " + r.error().message);
      return Rc::kError;
    }
    text = std::move(*r);
  }
  std::string_view ss = text;
  while (!ss.empty() && std::isspace(static_cast<unsigned char>(ss.front()))) ss.remove_prefix(1);

  std::string acl_name = "inline ACL";
  std::shared_ptr<const CompiledAcl> dynamic;
  const std::vector<Statement>* statements = nullptr;
  const bool one_word = ss.find(' ') == std::string_view::npos;
  if (one_word) {
    if (auto it = set_.named.find(ss); it != set_.named.end()) {
      if (it->second.statements.empty()) {
        trace("ACL \"" + std::string(ss) + "\" is empty: implicit DENY");
        return Rc::kFail;
      }
      acl_name = "ACL \"" + std::string(ss) + "\"";
      trace("using ACL \"" + std::string(ss) + "\"");
      statements = &it->second.statements;
    }
  }
  if (!statements) {
    const bool file = one_word && !ss.empty() && ss.front() == '/';
    std::string key = (file ? "f" : "t") + std::string(ss);
    {
      std::lock_guard<std::mutex> lock(set_.dynamic_mu);
      if (auto it = set_.dynamic.find(key); it != set_.dynamic.end()) dynamic = it->second;
    }
    std::string source(ss);
    if (file && dynamic) {
      // Once read, Exim keeps a file's ACL under its path, as if named so.
      if (dynamic->statements.empty()) {
        trace("ACL \"" + std::string(ss) + "\" is empty: implicit DENY");
        return Rc::kFail;
      }
      acl_name = "ACL \"" + std::string(ss) + "\"";
      trace("using ACL \"" + std::string(ss) + "\"");
    } else if (file) {
      std::ifstream in(source, std::ios::binary);
      if (!in) {
        log_msg_ = message("failed to open ACL file \"" + source + "\": " + std::strerror(errno));
        return Rc::kError;
      }
      std::stringstream buf;
      buf << in.rdbuf();
      source = buf.str();
      acl_name = "ACL \"" + std::string(ss) + "\"";
      trace("read ACL from file " + std::string(ss));
    }
    if (!dynamic) {
      ParseError err;
      auto parsed = parse_statements(split_acl_text(source, set_.runtime_location), set_.cc, &err);
      if (!parsed) {
        log_msg_ = message(parsed.error().message);
        return Rc::kError;
      }
      auto compiled = std::make_shared<CompiledAcl>();
      compiled->statements = std::move(*parsed);
      dynamic = compiled;
      std::lock_guard<std::mutex> lock(set_.dynamic_mu);
      set_.dynamic.emplace(std::move(key), compiled);
    }
    statements = &dynamic->statements;
  }
  return run_statements(*statements, acl_name);
}

Rc Evaluator::run_statements(const std::vector<Statement>& statements,
                             const std::string& acl_name) {
  const bool quit_check = level_ == 0 && (where_ == Where::kQuit || where_ == Where::kNotQuit);
  for (const Statement& st : statements) {
    const std::string verb(verb_name(st.verb));
    log_msg_ = user_msg_ = nullptr;
    temp_details_ = false;
    callout_defer_ = false;
    trace("processing \"" + verb + "\" (" + st.where.file + " " + std::to_string(st.where.line) +
          ")");
    search_error_.reset();
    bool endpass = false;
    Rc cond = check_conditions(st, endpass);

    switch (cond) {
      case Rc::kDefer:
        trace(verb + ": condition test deferred in " + acl_name);
        if (!callout_defer_) {
          if (search_error_ && !search_error_->empty()) log_msg_ = message(*search_error_);
          if (set_.smtp_return_error_details) temp_details_ = true;
        } else {
          temp_details_ = true;
        }
        if (st.verb != Verb::kWarn) return Rc::kDefer;
        break;
      case Rc::kError:
        trace(verb + ": condition test error in " + acl_name);
        return Rc::kError;
      case Rc::kOk:
        trace(verb + ": condition test succeeded in " + acl_name);
        break;
      case Rc::kFail:
        trace(verb + ": condition test failed in " + acl_name);
        break;
      case Rc::kDiscard:
        trace(verb + ": condition test yielded \"discard\" in " + acl_name);
        break;
      case Rc::kFailDrop:
        trace(verb + ": condition test yielded \"drop\" in " + acl_name);
        break;
    }

    auto end = [&](const char* what) { trace("end of " + acl_name + ": " + what); };
    auto bad_quit = [&]() {
      log_msg_ = message("QUIT or not-QUIT toplevel ACL may not fail ('" + verb +
                         "' verb used incorrectly)");
      return Rc::kError;
    };
    switch (st.verb) {
      case Verb::kAccept:
      case Verb::kDiscard: {
        const bool accept = st.verb == Verb::kAccept;
        if (cond == Rc::kOk || cond == Rc::kDiscard) {
          end(accept ? "ACCEPT" : "DISCARD");
          if (accept) return cond;
          if (quit_check) return bad_quit();
          return Rc::kDiscard;
        }
        if (endpass) {
          trace(verb + ": endpass encountered - denying access");
          return cond;
        }
        break;
      }
      case Verb::kDefer:
      case Verb::kDeny:
      case Verb::kDrop:
        if (cond == Rc::kOk) {
          end(st.verb == Verb::kDefer ? "DEFER" : st.verb == Verb::kDeny ? "DENY" : "DROP");
          if (quit_check) return bad_quit();
          if (st.verb == Verb::kDefer) temp_details_ = true;
          return st.verb == Verb::kDefer  ? Rc::kDefer
                 : st.verb == Verb::kDeny ? Rc::kFail
                                          : Rc::kFailDrop;
        }
        break;
      case Verb::kRequire:
        if (cond != Rc::kOk) {
          end("not OK");
          if (quit_check) return bad_quit();
          return cond;
        }
        break;
      case Verb::kWarn:
        if (cond == Rc::kOk) {
          // acl_warn: log the log message once per message (unless it is
          // the user message itself), and add the user message as headers.
          if (log_msg_ && log_msg_ != user_msg_) {
            std::string t = env_.host_ident + " Warning: " + text::string_printing(*log_msg_);
            if (sender_failure_ && !sender_failure_->message.empty() &&
                equal_caseless(*log_msg_, "sender verify failed"))
              t += ": " + sender_failure_->message;
            if (env_.state.memory.warned.insert(t).second) log(kLogMain, t);
          }
          if (user_msg_) {
            if (static_cast<int>(where_) > static_cast<int>(Where::kNotSmtp))
              log(kLogMain | kLogPanic,
                  "ACL \"warn\" with \"message\" setting found in a non-message (" +
                      std::string(where_name(where_)) +
                      ") ACL: cannot specify header lines here: message ignored");
            else
              add_headers(*user_msg_);
          }
        } else if (cond == Rc::kDefer) {
          log(kLogMain, env_.host_ident +
                            " Warning: ACL \"warn\" statement skipped: condition test deferred" +
                            (log_msg_ ? ": " + *log_msg_ : std::string()));
        }
        log_msg_ = user_msg_ = nullptr;  // in case an implicit DENY follows
        break;
    }
  }
  trace("end of " + acl_name + ": implicit DENY");
  return Rc::kFail;
}

// ---------------------------------------------------------------- acl_check_condition

Rc Evaluator::check_conditions(const Statement& st, bool& endpass) {
  const Condition* user_message = nullptr;
  const Condition* log_message = nullptr;
  Rc rc = Rc::kOk;
  for (const Condition& c : st.conditions) {
    switch (c.def->id) {
      case CondId::kMessage:
        trace("  message: " + c.arg);
        user_message = &c;
        continue;
      case CondId::kLogMessage:
        trace("l_message: " + c.arg);
        log_message = &c;
        continue;
      case CondId::kEndpass:
        endpass = true;
        continue;
      default:
        break;
    }
    const bool expanded = c.def->expand_at_top && c.def->id != CondId::kAcl;
    std::string arg;
    if (expanded) {
      auto r = expand::evaluate(c.value, env_.ctx);
      if (!r) {
        if (r.error().is_forced()) continue;
        log_msg_ = message("failed to expand ACL string \"" + c.arg + "\": " + r.error().message);
        return r.error().is_defer() ? Rc::kDefer : Rc::kError;
      }
      arg = std::move(*r);
    } else {
      arg = c.arg;
    }

    const std::string name =
        c.def->id == CondId::kModule ? c.module->name : std::string(c.def->name);
    if (env_.trace) {
      std::string head =
          "check " + std::string(!c.def->modifier && c.negated ? "!" : "") + name + " ";
      if (c.def->id == CondId::kSet) head += "acl_" + c.varname + " ";
      trace(head + "= " + c.arg);
      if (expanded && needs_expansion(c.arg)) {
        // Not indented: acl.c writes it with debug_printf.
        trace(std::string(kSpaces.substr(0, std::min(head.size(), kSpaces.size()))) + "= " + arg,
              false);
      }
    }

    // Conditions of the core are allowed where acl.c allows them; a
    // module's where it registered them (ACLs the ABI has no bit for take
    // only what is allowed everywhere).
    bool forbidden = false;
    if (c.def->id == CondId::kModule) {
      uint32_t b = module_bit(where_);
      forbidden = b ? !c.module->allowed_in(b) : c.module->where != TERN_ACL_ALL;
    } else {
      forbidden = (c.def->forbids & bit(where_)) != 0;
    }
    if (forbidden) {
      log_msg_ = message(std::string("cannot ") + (c.def->modifier ? "use " : "test ") + name +
                         " condition in " + std::string(where_name(where_)) + " ACL");
      return Rc::kError;
    }

    rc = run_condition(st, c, arg);
    if (!c.def->modifier && c.negated) {
      if (rc == Rc::kOk)
        rc = Rc::kFail;
      else if (rc == Rc::kFail || rc == Rc::kFailDrop)
        rc = Rc::kOk;
    }
    if (rc != Rc::kOk) break;
  }

  // The messages, for the outcomes each verb uses them for. `message`
  // replaces what a condition said (unless it expands to nothing);
  // `log_message` goes in front of the existing log message.
  if (endpass && rc == Rc::kOk) user_message = nullptr;
  auto uses = [&](Rc r) {
    switch (st.verb) {
      case Verb::kAccept:
      case Verb::kDiscard:
        return r == Rc::kOk || r == Rc::kFail || r == Rc::kFailDrop;
      case Verb::kRequire:
        return r == Rc::kFail || r == Rc::kFailDrop;
      default:
        return r == Rc::kOk;
    }
  };
  if (uses(rc)) {
    Message old_user = user_msg_;
    Message old_log = log_msg_ ? log_msg_ : old_user;
    if (st.verb == Verb::kWarn ||
        (rc == Rc::kOk && (st.verb == Verb::kAccept || st.verb == Verb::kDiscard)))
      log_msg_ = user_msg_ = nullptr;
    auto expand_message = [&](const Condition& c,
                              const Message& verify) -> std::optional<std::string> {
      verify_message_ = verify;
      auto r = expand::evaluate(c.value, env_.ctx);
      if (r) return std::move(*r);
      if (!r.error().is_forced())
        log(kLogMain | kLogPanic,
            "failed to expand ACL message \"" + c.arg + "\": " + r.error().message);
      return std::nullopt;
    };
    if (user_message) {
      if (auto m = expand_message(*user_message, old_user); m && !m->empty())
        user_msg_ = message(std::move(*m));
    }
    if (log_message) {
      if (auto m = expand_message(*log_message, old_log); m && !m->empty())
        log_msg_ = message(log_msg_ ? *m + ": " + *log_msg_ : std::move(*m));
    }
    if (!log_msg_) log_msg_ = user_msg_;
  }
  verify_message_ = nullptr;
  return rc;
}

Rc Evaluator::check_wargs(const Condition& c) {
  // The name and up to nine arguments, each expanded on its own.
  std::vector<std::string> values;
  for (size_t i = 0; i < c.words.size() && i < 10; ++i) {
    auto r = expand::evaluate(c.words[i], env_.ctx);
    if (!r) {
      if (r.error().is_forced()) return Rc::kError;
      log_msg_ = message("failed to expand ACL string \"" + c.words[i].source() +
                         "\": " + r.error().message);
      return r.error().is_defer() ? Rc::kDefer : Rc::kError;
    }
    values.push_back(std::move(*r));
  }
  if (values.empty()) values.emplace_back();
  std::vector<std::string> saved = std::move(env_.ctx.acl_args);
  env_.ctx.acl_args.assign(values.begin() + 1, values.end());
  ++level_;
  Rc rc = check_internal(values[0]);
  --level_;
  env_.ctx.acl_args = std::move(saved);
  return rc;
}

}  // namespace tern::acl::detail
