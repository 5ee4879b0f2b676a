// core/acl/acl_set.cpp: AclSet: compiling a configuration's ACLs, running one, and whether one may
// block.
#include <cctype>
#include <fstream>

#include "core/acl/evaluator.hpp"
#include "core/text/ipaddr.hpp"
#include "core/text/list.hpp"

namespace tern::acl {
namespace {

using detail::CondId;

// Exim shows ACLs read at run time as coming from the configuration's last
// line (config_lineno when reading ended).
int last_line(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  int lines = 0;
  std::string line;
  while (std::getline(in, line)) ++lines;
  return lines;
}

std::string located(const config::Location& at, const std::string& text) {
  return at.file + ":" + std::to_string(at.line) + ": " + text;
}

// A literal `control = name` that names a control of a module not loaded,
// or one of a feature tern leaves out, is refused with the configuration
// (Exim itself only finds unknown controls when they run).
Status check_literal_control(const detail::Condition& c, const detail::CompileContext& cc) {
  if (!c.value.is_literal()) return {};
  std::string_view value = c.value.literal();
  std::string_view name = value.substr(0, value.find('/'));
  if (detail::is_core_control(value) || (cc.modules && cc.modules->find_control(name))) return {};
  if (cc.extensions) {
    if (auto owner = cc.extensions->unloaded_owner(expand::ExtensionKind::kCondition, name))
      return Error::failed(expand::not_loaded_text("control", name, *owner));
  }
  if (const char* why = detail::left_out_control(name))
    return Error::failed("control \"" + std::string(name) + "\" is not supported: " + why);
  return {};
}

}  // namespace

AclSet::AclSet() : impl_(std::make_unique<Impl>()) {}
AclSet::~AclSet() = default;
AclSet::AclSet(AclSet&&) noexcept = default;
AclSet& AclSet::operator=(AclSet&&) noexcept = default;

Result<AclSet> AclSet::compile(const config::Config& config,
                               const module_host::AclRegistry* modules,
                               const expand::Extensions* extensions,
                               const lookup::Registry* lookups) {
  AclSet set;
  Impl& impl = *set.impl_;
  impl.cc = {modules, extensions};
  impl.lookups = lookups;
  impl.runtime_location = {config.file, last_line(config.file)};
  if (config.main.get(std::string_view("smtp_return_error_details")))
    impl.smtp_return_error_details = config.main.get_bool("smtp_return_error_details");
  for (const auto& l : config.named_lists)
    if (l.kind == config::ListKind::kHost) impl.host_lists.emplace(l.name, l.value);

  for (const config::Acl& acl : config.acls) {
    std::vector<config::SourceLine> lines;
    for (const auto& st : acl.statements)
      lines.insert(lines.end(), st.lines.begin(), st.lines.end());
    detail::ParseError err;
    auto parsed = detail::parse_statements(lines, impl.cc, &err);
    if (!parsed)
      return Error::failed(
          located(err.where, (err.acl_read_text ? "error in ACL: " : "") + parsed.error().message));
    for (const auto& st : *parsed)
      for (const auto& c : st.conditions)
        if (c.def->id == CondId::kControl)
          if (Status s = check_literal_control(c, impl.cc); !s)
            return Error::failed(located(st.where, s.error().message));
    impl.named.emplace(acl.name, detail::CompiledAcl{acl.name, std::move(*parsed)});
  }
  for (const auto& [name, acl] : impl.named) {
    std::set<std::string> visiting;
    impl.named_may_block[name] = impl.name_may_block(name, visiting);
  }
  return set;
}

// smtp_handle_acl_fail for a refusing run: the reply, the reject log text and the logs the
// code check writes, with "F=<sender> A=..." before it where Exim puts it.
static void fill_refusal(AclResult& result, Where where, detail::Rc rc, const Message& user, const Message& log,
                         bool temp, bool return_error_details, RunEnv& env,
                         std::optional<SenderVerifyFailure>* sender_failure) {
  detail::RefusalInput in;
  in.where = where;
  in.rc = rc;
  in.user_message = user;
  in.log_message = log;
  in.temp_details = temp;
  in.smtp_return_error_details = return_error_details;
  in.no_multiline = env.state.controls.no_multiline_responses;
  in.sender_failure = sender_failure;
  in.command_data = env.command_data;
  in.host_ident = env.host_ident;
  if (where == Where::kRcpt || where == Where::kData || where == Where::kMime) {
    std::string v;
    auto var = [&](std::string_view name) {
      v.clear();
      if (env.ctx.variables) env.ctx.variables->append(name, v);
      return v;
    };
    std::string info = "F=<" + var("sender_address") + ">";
    if (std::string auth = var("sender_host_authenticated"); !auth.empty()) {
      info += " A=" + auth;
      if (std::string id = var("authenticated_id"); !id.empty()) info += ":" + id;
    }
    in.sender_info = std::move(info);
  }
  detail::Refusal r = detail::build_refusal(in);
  result.reply = std::move(r.reply);
  result.reject_log = std::move(r.reject_log);
  for (auto& l : r.logs) {
    if (env.log) env.log(l);
    result.logs.push_back(std::move(l));
  }
}

AclResult AclSet::refusal(Where where, Verdict verdict, std::optional<std::string> message,
                          std::optional<std::string> log_message, RunEnv& env) const {
  AclResult result;
  result.verdict = verdict;
  const detail::Rc rc = verdict == Verdict::kDeny ? detail::Rc::kFail
                        : verdict == Verdict::kDefer ? detail::Rc::kDefer
                                                     : detail::Rc::kError;
  if (rc == detail::Rc::kError) result.verdict = Verdict::kError;
  Message user = message ? std::make_shared<const std::string>(std::move(*message)) : nullptr;
  Message log = log_message ? std::make_shared<const std::string>(std::move(*log_message)) : user;
  result.user_message = user;
  result.log_message = log;
  result.temp_details = rc == detail::Rc::kDefer;
  fill_refusal(result, where, rc, user, log, result.temp_details, impl_->smtp_return_error_details, env, nullptr);
  return result;
}

AclResult AclSet::run(std::string_view acl, Where where, RunEnv& env) const {
  AclResult result;
  if (where == Where::kRcpt) env.state.controls.local_part_case = Controls::LocalPartCase::kDefault;
  detail::Rc rc;
  std::optional<SenderVerifyFailure> failure;
  Message user, log;
  bool temp;
  {
    detail::Evaluator ev(*impl_, env, where, result);
    rc = ev.check(acl);
    result.log_reject_target = ev.log_reject_target();
    user = ev.user_message();
    log = ev.log_message();
    temp = ev.temp_details();
    failure = ev.sender_verify_failure();
  }
  result.user_message = user;
  result.log_message = log;
  result.temp_details = temp;
  switch (rc) {
    case detail::Rc::kOk:
      result.verdict = Verdict::kAccept;
      break;
    case detail::Rc::kDiscard:
      result.verdict = Verdict::kDiscard;
      break;
    case detail::Rc::kFail:
      result.verdict = Verdict::kDeny;
      break;
    case detail::Rc::kFailDrop:
      result.verdict = Verdict::kDrop;
      break;
    case detail::Rc::kDefer:
      result.verdict = Verdict::kDefer;
      break;
    case detail::Rc::kError:
      result.verdict = Verdict::kError;
      break;
  }
  if (rc != detail::Rc::kOk && rc != detail::Rc::kDiscard)
    fill_refusal(result, where, rc, user, log, temp, impl_->smtp_return_error_details, env, &failure);
  if (failure && failure->told) env.state.memory.senders_told.insert(failure->address);
  result.sender_verify_failure = std::move(failure);
  return result;
}

bool AclSet::may_block(std::string_view acl) const {
  std::string_view s = acl;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  if (s.find_first_of("$\\") != std::string_view::npos) return true;  // known only once expanded
  if (s.find(' ') == std::string_view::npos) {
    if (auto it = impl_->named_may_block.find(s); it != impl_->named_may_block.end())
      return it->second;
    if (!s.empty() && s.front() == '/') return true;  // a file: read when it runs
  }
  detail::ParseError err;
  auto parsed =
      detail::parse_statements(detail::split_acl_text(s, impl_->runtime_location), impl_->cc, &err);
  if (!parsed) return false;  // it will fail at once
  std::set<std::string> visiting;
  return impl_->statements_may_block(*parsed, visiting);
}

bool AclSet::has(std::string_view name) const { return impl_->named.count(name) != 0; }

// ---------------------------------------------------------------- may_block

bool AclSet::Impl::name_may_block(std::string_view name, std::set<std::string>& visiting) const {
  auto it = named.find(name);
  if (it == named.end()) return true;  // a file or text known at run time
  if (!visiting.insert(std::string(name)).second)
    return false;  // a loop: it fails, it does not block
  return statements_may_block(it->second.statements, visiting);
}

bool AclSet::Impl::host_list_may_block(std::string_view list, int depth) const {
  // Addresses, networks, `*`, `@[]` and net-lookups are matched without
  // the DNS; names, wildcards and lookups keyed by the name need it.
  text::ListReader items(list);
  std::string item;
  while (items.next(item)) {
    std::string_view it = item;
    while (!it.empty() &&
           (it.front() == '!' || std::isspace(static_cast<unsigned char>(it.front()))))
      it.remove_prefix(1);
    if (it.empty() || it == "*" || it == "@[]") continue;
    if (it.front() == '+') {
      auto named_list =
          host_lists.find(it.substr(1));  // +include_unknown and friends are not found
      if (named_list != host_lists.end() &&
          (depth > 20 || host_list_may_block(named_list->second, depth + 1)))
        return true;
      continue;
    }
    if (text::parse_ip_address(it, true)) continue;
    size_t semi = it.find(';');
    if (it.substr(0, 3) == "net" && semi != std::string_view::npos && it.find('-') < semi) continue;
    return true;
  }
  return false;
}

bool AclSet::Impl::statements_may_block(const std::vector<detail::Statement>& statements,
                                        std::set<std::string>& visiting) const {
  for (const auto& st : statements) {
    for (const auto& c : st.conditions) {
      for (const auto& w : c.words)
        if (detail::expansion_may_block(w, lookups)) return true;
      if (c.def->id != CondId::kAcl && detail::expansion_may_block(c.value, lookups)) return true;
      const bool literal = c.value.is_literal();
      const std::string_view value =
          literal ? std::string_view(c.value.literal()) : std::string_view();
      switch (c.def->id) {
        case CondId::kDelay:
          if (!literal || value.find_first_not_of("0smhdw") != std::string_view::npos) return true;
          break;
        case CondId::kDnslists:
        case CondId::kUdpsend:
          return true;
        case CondId::kVerify: {
          if (!literal) return true;
          std::string_view item = value.substr(0, value.find('/'));
          if (item == "helo" || item == "reverse_host_lookup" || item == "csa" ||
              item == "header_sender")
            return true;
          // Routing runs the routers' lookups, DNS and module hooks: always off the I/O thread.
          if (item == "recipient" || item.substr(0, 6) == "sender") return true;
          break;
        }
        case CondId::kHosts:
          if (!literal || host_list_may_block(value, 0)) return true;
          break;
        case CondId::kAcl: {
          if (c.words.empty() || !c.words[0].is_literal()) return true;
          const std::string& name = c.words[0].literal();
          if (named.find(name) == named.end()) return true;
          if (name_may_block(name, visiting)) return true;
          break;
        }
        case CondId::kModule:
          if (c.module->flags & TERN_MAY_BLOCK) return true;
          break;
        case CondId::kControl: {
          if (!literal) return true;
          const module_host::AclCondition* m =
              cc.modules ? cc.modules->find_control(value.substr(0, value.find('/'))) : nullptr;
          if (m && (m->flags & TERN_MAY_BLOCK)) return true;
          break;
        }
        default:
          break;
      }
    }
  }
  return false;
}

// ---------------------------------------------------------------- ${acl}

expand::AclHook make_acl_hook(const AclSet& acls, Where where, std::function<RunEnv&()> env,
                              std::function<void(const LogLine&)> log) {
  // Nested ${acl} calls come back here (the hook in use is not replaced),
  // so the depth is counted here: Exim's limit of 20 levels.
  auto depth = std::make_shared<int>(0);
  return [&acls, where, env = std::move(env), log = std::move(log), depth](
             std::string_view name, const std::vector<std::string>&) -> Result<expand::AclOutcome> {
    RunEnv& run_env = env();
    AclResult result;
    Message user;
    detail::Rc rc;
    {
      detail::Evaluator ev(acls.impl(), run_env, where, result, false, *depth);
      ++*depth;
      rc = ev.eval(name, &user);
      --*depth;
    }
    if (log)
      for (const auto& l : result.logs) log(l);
    return detail::outcome_of(rc, user);
  };
}

}  // namespace tern::acl

namespace tern::acl::detail {

bool expansion_may_block(const expand::Expansion& e, const lookup::Registry* lookups) {
  // The source is scanned, not the tree: a list condition's literal text
  // holds lookups too ("hosts = mysql;select ..."). Any word naming a
  // lookup type that blocks counts, which errs on the side of blocking.
  std::string_view s = e.source();
  if (s.find("readsocket") != std::string_view::npos || s.find("${run") != std::string_view::npos)
    return true;
  if (!lookups) return false;
  auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t i = 0; i < s.size();) {
    while (i < s.size() && !word_char(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && word_char(s[i])) ++i;
    if (i == start) continue;
    const lookup::LookupType* t = lookups->find(s.substr(start, i - start));
    if (t && t->may_block()) return true;
  }
  return false;
}

}  // namespace tern::acl::detail
