// core/acl/evaluator.hpp: one run of the engine (acl.c's acl_check, acl_check_internal,
// acl_check_condition).
//
// An Evaluator lives for one AclSet::run() (or one ${acl} outside a run)
// and keeps what Exim keeps in globals while ACLs run: the nesting level,
// the user and log messages (shared by nested ACLs, as Exim's pointers
// are), $acl_verify_message, the temp-details flag and the per-command
// ratelimit results. While it runs, the Context's variables are overlaid
// with the ACL's own ($dnslist_*, $sender_rate, ...) and its ${acl} hook
// runs nested ACLs in this evaluator. The condition checkers live in
// several files (evaluate.cpp, conditions.cpp, verify.cpp, dnslists.cpp,
// controls.cpp); this header is what they share.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/acl/internal.hpp"
#include "core/lookup/match.hpp"

namespace tern::acl {

struct AclSet::Impl {
  std::map<std::string, detail::CompiledAcl, std::less<>> named;
  detail::CompileContext cc;
  const lookup::Registry* lookups = nullptr;  // may_block: lookup types that block
  // Where ACLs read at run time (files, inline text) say they come from:
  // Exim shows the configuration file and its last line for them.
  config::Location runtime_location;
  bool smtp_return_error_details = false;
  std::map<std::string, bool, std::less<>> named_may_block;
  std::map<std::string, std::string, std::less<>> host_lists;  // hostlist name -> text (may_block)

  // ACLs read from files or given as text, compiled on first use.
  mutable std::mutex dynamic_mu;
  mutable std::map<std::string, std::shared_ptr<const detail::CompiledAcl>, std::less<>> dynamic;

  bool statements_may_block(const std::vector<detail::Statement>& statements,
                            std::set<std::string>& visiting) const;
  bool name_may_block(std::string_view name, std::set<std::string>& visiting) const;
  bool host_list_may_block(std::string_view list, int depth) const;
};

namespace detail {

// Exim's return codes inside the engine.
enum class Rc { kOk, kFail, kDefer, kError, kDiscard, kFailDrop };

// The address an RCPT (VRFY, PRDR) ACL checks, split as deliver_split_address does.
struct Address {
  std::string address;
  std::string local_part;  // as given (Exim's cc_local_part)
  std::string domain;      // lower-cased
};

class Evaluator {
 public:
  // `install_hook`: make ${acl} in these ACLs run here (false when this
  // evaluator itself serves a ${acl} call: the hook in use must not be
  // replaced while it runs). `level` is the nesting level it starts at.
  Evaluator(const AclSet::Impl& set, RunEnv& env, Where where, AclResult& result,
            bool install_hook = true, int level = 0);
  ~Evaluator();
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  // acl_check: the value of an ACL option (expanded here), at level 0.
  Rc check(std::string_view acl);
  // acl_eval: ${acl{name}} (the Context's acl_args set), one level deeper;
  // the messages are this call's own.
  Rc eval(std::string_view name, Message* user_message);

  const Message& user_message() const { return user_msg_; }
  const Message& log_message() const { return log_msg_; }
  bool temp_details() const { return temp_details_; }
  unsigned log_reject_target() const { return log_reject_target_; }
  const std::optional<SenderVerifyFailure>& sender_verify_failure() const {
    return sender_failure_;
  }

  // What the overlay variable source asks.
  bool append_variable(std::string_view name, std::string& out) const;

 private:
  Rc check_internal(std::string_view s);
  Rc run_statements(const std::vector<Statement>& statements, const std::string& acl_name);
  Rc check_conditions(const Statement& st, bool& endpass);
  Rc check_wargs(const Condition& c);
  Rc run_condition(const Statement& st, const Condition& c, std::string_view arg);

  // Conditions whose checkers have their own file.
  Rc verify(std::string_view arg);
  Rc dnslists(std::string_view arg);
  Rc control(std::string_view arg);
  Rc ratelimit(std::string_view arg);
  Rc udpsend(std::string_view arg);
  Rc module_condition(const Condition& c, std::string_view arg);

  // List conditions: the list is expanded here (match_check_list).
  using ListCache = std::map<std::string, bool, std::less<>>;
  Rc match(std::string_view subject, const Condition& c, lookup::ListKind kind,
           const char* data_var, ListCache* cache, std::string_view host_name = {});
  lookup::MatchEnv match_env();

  // add_header / warn's message: Exim's setup_header (no duplicates).
  void add_headers(std::string_view text);
  void remove_headers(std::string_view names);

  std::string variable(std::string_view name) const;  // through the overlay
  // One trace line (more when it holds newlines), the first indented by
  // the nesting level unless `indented` is false.
  void trace(std::string_view line, bool indented = true) const;
  std::function<void(std::string_view)> tracer() const;
  void log(unsigned targets, std::string text);
  void set_var(std::string_view name, std::string value);
  bool expansion_defer(const Error& e) const { return e.is_defer(); }
  Message message(std::string s) const { return std::make_shared<const std::string>(std::move(s)); }

  const AclSet::Impl& set_;
  RunEnv& env_;
  const Where where_;
  AclResult& result_;

  int level_;
  Message user_msg_, log_msg_;  // Exim's *user_msgptr, *log_msgptr
  Message verify_message_;      // $acl_verify_message
  bool temp_details_ = false;   // f.acl_temp_details
  unsigned log_reject_target_ = kLogMain | kLogReject;
  bool callout_defer_ = false;               // basic_errno == ERRNO_CALLOUTDEFER
  std::optional<std::string> search_error_;  // search_error_message
  std::optional<Address> addr_;
  std::optional<SenderVerifyFailure> sender_failure_;     // sender_verified_failed
  std::map<std::string, double, std::less<>> rates_cmd_;  // ratelimiters_cmd
  ListCache domain_lists_, local_part_lists_;             // named lists matched for this address
  // Variables changed for the rest of this run only ($local_part after
  // control = caselower_local_part).
  std::map<std::string, std::string, std::less<>> run_vars_;

  // The Context as it was, restored when the evaluator ends.
  const expand::VariableSource* saved_variables_;
  bool hook_installed_;
  expand::AclHook saved_hook_;
  std::unique_ptr<expand::VariableSource> overlay_;
};

// What ${acl} and the acl expansion condition get back.
expand::AclOutcome outcome_of(Rc rc, const Message& user);

// The tern_acl_where bit of `w` for modules' conditions; 0 where the ABI
// has none (AUTH, ETRN, DKIM, PRDR, non-SMTP, ...).
uint32_t module_bit(Where w);

// Exim's smtp_handle_acl_fail and smtp_message_code: the reply for a
// refusal, the reject log text, and the logs the code check writes.
struct Refusal {
  smtp::Reply reply;
  std::string reject_log;
  std::vector<LogLine> logs;
};
struct RefusalInput {
  Where where;
  Rc rc;  // kFail, kFailDrop, kDefer, kError
  Message user_message, log_message;
  bool temp_details = false;
  bool smtp_return_error_details = false;
  bool no_multiline = false;
  std::optional<SenderVerifyFailure>* sender_failure = nullptr;  // told is set when used
  std::string command_data;
  std::string sender_info;  // "F=<a@b> A=plain:x" for RCPT, DATA, MIME; "" otherwise
  std::string host_ident;
};
Refusal build_refusal(const RefusalInput& in);

// Exim's string_split_message: lines longer than 75 characters broken at
// spaces (preferring one after a colon).
std::string split_message(std::string msg);

// smtp_message_code: a leading "ddd " (and one "d.d.d ") in `msg` replaces
// `code`/`esc` when its first digit is code's (or `check` is false);
// otherwise it is only cut off, and the panic text returned.
struct CodeOverride {
  int code;
  std::string esc;                             // "5.7.1" or ""
  std::string text;                            // the message without the code
  std::optional<std::string> wrong_digit_log;  // "configured error code starts with ..."
  bool overridden = false;
};
CodeOverride apply_message_code(int code, std::string_view msg, bool check);

// The message's lines as smtp_respond sends them ("\n" splits; white space
// after a newline is skipped; no_multiline keeps the first line only).
std::vector<std::string> reply_lines(std::string_view msg, bool no_multiline);

}  // namespace detail
}  // namespace tern::acl
