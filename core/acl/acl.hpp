// core/acl/acl.hpp: Exim 4.96's access control lists, compiled once per configuration and run by
// the SMTP session.
//
// Design. AclSet::compile() reads every `begin acl` statement of a
// configuration with acl.c's rules (verbs, `!` negation, `name = value` and
// `name=value`, `set acl_c*`/`acl_m*`, endpass only on accept/discard),
// resolves each condition or modifier to the core's table or to a module's
// (module_host::AclRegistry), and compiles every expanded argument once.
// Errors are Exim's texts with the `file:line:` of the offending line; a
// condition of a module that is not loaded names the module, as options do.
// As in Exim, whether a condition is allowed in the ACL it runs in is only
// known when it runs (`cannot test domains condition in connection ACL`).
//
// AclSet::run() is synchronous and does no I/O of its own: everything it
// consults comes through a RunEnv the caller fills: the expansion Context
// (the session keeps $sender_host_address, $domain, ... current in its
// VariableSource), a Verifier the session implements (verify = recipient,
// sender, helo, the client's host name), a DNS resolver (dnslists), the
// process-wide ratelimit store, the CallEnv for module conditions and an
// optional trace sink that receives the lines `exim -bh` shows for ACL
// processing (without the ">>> " prefix). What an ACL changes beyond one
// run (controls, added headers, $dnslist_*, $sender_rate, the per-message
// caches) lives in a SessionState the session owns and resets per message.
// The result carries the verdict, the messages, the ready-to-send reply
// built by smtp_handle_acl_fail's rules and the reject log text.
//
// Blocking: may_block(name) says whether an ACL (or one it calls) can wait
// on the network or sleep (delay, dnslists, verify that routes or calls
// out, host lists that need the client's name, module conditions flagged
// TERN_MAY_BLOCK, ${readsocket}, ${run}, lookups of may-block types). The
// session runs those on a worker thread, the others inline. run() touches
// no mutable state but the RunEnv's and the ratelimit store (mutex), and an
// internal cache of ACLs read from files or inline text (mutex), so runs of
// different sessions may proceed on different threads at once.
//
// Lifetime: an AclSet keeps pointers into the configuration's extensions and
// module registry (its compiled expansions do): it belongs to one
// configuration generation, like them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/config/config.hpp"
#include "core/expand/expand.hpp"
#include "core/module_host/acl_conditions.hpp"
#include "core/module_host/call_env.hpp"
#include "core/smtp/reply.hpp"

namespace tern::acl {

// Where an ACL runs: Exim's ACL_WHERE_* in Exim's order (the tables of
// names, reply codes and forbidden conditions depend on it). kExpansion is
// Exim's "unknown": ${acl} outside any ACL (`exim -be`).
enum class Where : uint8_t {
  kRcpt,
  kMail,
  kPredata,
  kMime,
  kDkim,
  kData,
  kPrdr,
  kNotSmtp,
  kAuth,
  kConnect,
  kEtrn,
  kExpn,
  kHelo,
  kMailAuth,
  kNotSmtpStart,
  kNotQuit,
  kQuit,
  kStartTls,
  kVrfy,
  kDelivery,
  kExpansion,
};
// Exim's acl_wherenames: "RCPT", "connection", "EHLO or HELO", "unknown", ...
std::string_view where_name(Where w);

enum class Verdict { kAccept, kDeny, kDefer, kDiscard, kDrop, kError };
std::string_view verdict_name(Verdict v);  // "accept", "deny", ...

// A header line an ACL added (add_header, or `message` on warn): the text
// ends in "\n" and may hold continuation lines.
struct AddedHeader {
  enum class Position { kBottom, kAfterReceived, kTopRfc, kTop };
  Position position = Position::kBottom;
  std::string text;
};

// The `control =` settings in force. Exim keeps them in globals; here they
// live in the SessionState: the session applies them and resets the
// per-message ones (new_message()).
struct Controls {
  bool allow_auth_unadvertised = false;
  bool no_pipelining = false;
  bool no_multiline_responses = false;
  bool no_delay_flush = false;
  bool no_callout_flush = false;
  std::optional<bool> enforce_sync;  // enforce_sync / no_enforce_sync
  std::string dscp;                  // control = dscp/<value>
  // Per message:
  bool queue_only = false;
  bool freeze = false;
  bool freeze_no_tell = false;
  bool submission = false;
  bool submission_sender_retain = false;
  std::optional<std::string> submission_domain;  // /domain=
  std::optional<std::string> submission_name;    // /name=
  bool suppress_local_fixups = false;
  bool cutthrough_delivery = false;
  bool cutthrough_defer_pass = false;
  int utf8_downconvert = 0;  // 1, 0 or -1 when set; see utf8_downconvert_set
  bool utf8_downconvert_set = false;
  enum class Fake { kNone, kDefer, kReject } fake = Fake::kNone;  // fakedefer/fakereject
  std::string fake_text;
  std::string queue;  // `queue =` modifier
  // Per recipient (RCPT ACL only): caseful_local_part / caselower_local_part.
  enum class LocalPartCase { kDefault, kCaseful, kLower } local_part_case = LocalPartCase::kDefault;
  // Controls of modules (`control = bmi_run`), by name, in the order set.
  std::vector<std::string> module_controls;
};

// A log line an ACL asked for, in order. `targets`: kLogMain, kLogReject,
// kLogPanic bits. Warning lines start with RunEnv::host_ident, as Exim's.
inline constexpr unsigned kLogMain = 1, kLogReject = 2, kLogPanic = 4;
struct LogLine {
  unsigned targets = kLogMain;
  std::string text;
};

// A message shared the way Exim shares its char pointers: the log message
// defaults to the very same string as the user message, which the reply
// rules can tell (a wrong code digit in it is then fixed in both).
using Message = std::shared_ptr<const std::string>;

// What the session must know about a sender that failed verification (for
// the "Verification failed for <x>" lines and the "sender verify fail" log).
struct SenderVerifyFailure {
  std::string address;
  std::string message;                      // why (log)
  std::optional<std::string> user_message;  // what the reply may say
  bool deferred = false;
  bool postmaster_failed = false;      // af_verify_pmfail
  bool callback_setup_failed = false;  // af_verify_nsfail
  bool told = false;                   // the preliminary reply lines have been sent (or no_details)
};

class RateLimitStore;

// What persists between runs in one SMTP session, owned by the session.
// (ACL variables are not here: `set` writes the Context's acl_vars, whose
// acl_m* the session clears for each message, as Exim does.)
class SessionState {
 public:
  // Exim's reset for a new message (after RSET, after a message, at MAIL):
  // per-message controls, added and removed headers, the warn log memory,
  // the per-message ratelimit and sender-verify memories.
  void new_message();

  Controls controls;
  std::vector<AddedHeader> added_headers;  // Exim's acl_added_headers
  std::string removed_headers;             // colon list (remove_header)

  // Variables the ACLs set and later expansions read ($dnslist_domain,
  // $sender_rate, $host_data, $headers_added, ...): append the value of
  // `name` and return true when it is one of them. The session's own
  // VariableSource may ask here too, for expansions outside ACLs.
  bool append_variable(std::string_view name, std::string& out) const;
  void set_variable(std::string_view name, std::string value);
  void clear_variable(std::string_view name);

  // The engine's memory between runs (the session only resets it, through
  // new_message()): "Warning:" lines logged, senders whose verify failure
  // was explained, ratelimit results per connection and per message, and
  // dnslists answers (query name -> result, until their TTL runs out).
  struct DnsCacheEntry;
  struct Memory {
    std::set<std::string> warned;
    std::set<std::string> senders_told;
    std::map<std::string, double, std::less<>> rates_conn, rates_mail;
    // Named lists already matched: host lists for the connection, sender
    // address and domain lists for the message.
    std::map<std::string, bool, std::less<>> host_lists, sender_lists, sender_domain_lists;
    std::map<std::string, std::shared_ptr<DnsCacheEntry>, std::less<>> dnsbl_cache;
  } memory;

 private:
  std::map<std::string, std::string, std::less<>> vars_;
};

// verify = sender / recipient with its options (only the basic forms are
// acted on by today's sessions; the callout options are parsed for later).
struct VerifyRequest {
  std::string address;
  bool no_details = false;
  bool success_on_redirect = false;
  bool fake_sender = false;  // verify = sender=<other address>
  struct Callout {
    int timeout = -1;  // seconds; -1: no callout
    int overall = -1;  // maxwait
    int connect = -1;
    bool defer_ok = false, no_cache = false, random = false, use_sender = false,
         use_postmaster = false, postmaster = false, fullpostmaster = false, hold = false;
    std::optional<std::string> mailfrom, postmaster_mailfrom;
  } callout;
  // The engine's trace sink at the current nesting level (may be empty):
  // the verifier's routing lines go there.
  std::function<void(std::string_view)> trace;
};

struct VerifyOutcome {
  enum class Rc { kOk, kFail, kDefer } rc = Rc::kOk;
  std::string message;                      // for the log ("Unrouteable address")
  std::optional<std::string> user_message;  // for the reply, when it differs
  bool callout_defer = false;               // Exim's ERRNO_CALLOUTDEFER
  bool pass_message = false;                // af_pass_message: a defer may show the message
  bool postmaster_failed = false, callback_setup_failed = false;
  std::optional<std::string> address_data;  // $address_data / $sender_address_data
};

// What verification needs from the session (routing, callouts, DNS).
class Verifier {
 public:
  virtual ~Verifier() = default;
  virtual VerifyOutcome verify_recipient(const VerifyRequest& r) = 0;
  // The session may answer from its per-message cache (Exim's
  // sender_verified_list) when no callout is asked for.
  virtual VerifyOutcome verify_sender(const VerifyRequest& r) = 0;
  // verify = helo: Exim's smtp_verify_helo (done now if not done yet).
  virtual bool verify_helo() = 0;
  // The client's host name, looked up (and forward-confirmed) when not yet
  // known: verify = reverse_host_lookup and host lists with name patterns.
  // kFail with Exim's reason (" (...)" text of host_lookup_msg) or kDefer.
  struct HostName {
    VerifyOutcome::Rc rc = VerifyOutcome::Rc::kFail;
    std::string name;
    std::string message;  // host_lookup_msg: "" or " (failed to find host name from IP address)"
  };
  virtual HostName host_name() = 0;
};

// Everything one run may consult or change. The references must stay valid
// for the run; nothing is kept after it.
struct RunEnv {
  RunEnv(expand::Context& c, SessionState& s) : ctx(c), state(s) {}
  expand::Context& ctx;
  SessionState& state;
  Verifier* verifier = nullptr;             // none: verify = sender/recipient/helo are errors
  module_host::DnsResolver* dns = nullptr;  // none: dnslists lookups fail as on a DNS timeout
  RateLimitStore* ratelimits = nullptr;     // none: ratelimit defers ("not available")
  const module_host::CallEnv* call_env = nullptr;  // module conditions
  std::function<void(std::string_view)> trace;     // one line per call, no ">>> "
  // When set, each log line as it is written (AclResult::logs has them
  // all as well): `exim -bh` shows them among the trace lines.
  std::function<void(const LogLine&)> log;

  // The command being checked.
  std::string recipient;     // RCPT, VRFY, PRDR: the address
  std::string command_data;  // the command's argument, for the reject log ("<a@b>")
  // "H=(helo) [1.2.3.4]" (Exim's host_and_ident), starts Warning: log lines.
  std::string host_ident;
  // DATA, MIME, not-SMTP: the message's header lines, each "Name: value\n"
  // (continuations included), and its envelope recipients.
  const std::vector<std::string>* header_lines = nullptr;
  const std::vector<std::string>* recipients = nullptr;
  long long message_size = -1;  // per_byte ratelimits: SIZE= or the received size
  bool allow_unqualified_sender = false, allow_unqualified_recipient = false;
  bool host_checking = false;  // -bh: delays are skipped, as Exim does
  // Called before `delay` sleeps (unless control = no_delay_flush): the
  // session sends the replies it has queued, as Exim flushes its output.
  std::function<void()> flush;
};

struct AclResult {
  Verdict verdict = Verdict::kDeny;
  Message user_message;       // for the reply (message =, or a condition's)
  Message log_message;        // for the log
  bool temp_details = false;  // a defer may show user_message (Exim's acl_temp_details)
  // deny, defer, drop and error: the reply to send (smtp_handle_acl_fail),
  // including the sender-verify lines; for drop the session then closes
  // the connection (Exim 4.96 sends no 421). Empty for accept and discard
  // (see accepted_reply()).
  smtp::Reply reply;
  // deny, defer, drop and error: the reject log line after the host part:
  // "F=<a@b> rejected RCPT <x@y>: reason" (written to `log_reject_target`).
  std::string reject_log;
  // Where reject_log goes (`log_reject_target =`; 0: nowhere).
  unsigned log_reject_target = kLogMain | kLogReject;
  std::vector<LogLine> logs;              // logwrite, Warning:, panics, in order
  std::vector<std::string> controls_set;  // `control =` values this run obeyed
  std::chrono::milliseconds delay{0};     // total `delay =` slept
  // A sender verification that failed in this run (Exim's
  // sender_verified_failed); the reply already explains it when needed.
  std::optional<SenderVerifyFailure> sender_verify_failure;
};

// The reply for an accepting ACL (accept, discard): `fallback` (e.g.
// "250 Accepted") unless the ACL gave a message, whose leading code Exim
// honours when its first digit is the fallback's (smtp_user_msg). A
// message with a wrong digit is logged through `logs`.
smtp::Reply accepted_reply(const AclResult& r, const smtp::Reply& fallback,
                           std::vector<LogLine>* logs = nullptr);

class AclSet {
 public:
  AclSet();
  ~AclSet();
  AclSet(AclSet&&) noexcept;
  AclSet& operator=(AclSet&&) noexcept;

  // Compile every ACL of `config`. `modules` and `extensions` may be null
  // (no modules). Errors: `file:line: error in ACL: ...` as Exim words
  // them, or `file:line: condition "x" belongs to module "m", which is not
  // loaded: add it to "modules"`.
  // `lookups` (may be null) says which lookup types block (may_block()).
  static Result<AclSet> compile(const config::Config& config,
                                const module_host::AclRegistry* modules,
                                const expand::Extensions* extensions,
                                const lookup::Registry* lookups = nullptr);

  // Run `acl`: the value of an acl_smtp_* option, expanded first as Exim
  // does (a forced failure accepts). After expansion, a word without spaces
  // names an ACL of the configuration or, starting with '/', a file;
  // anything else is the text of an ACL.
  AclResult run(std::string_view acl, Where where, RunEnv& env) const;

  // The reply and reject log of an ACL that refuses at `where` with
  // `verdict` (kDeny: `deny message = M log_message = L`; kDefer: `defer`,
  // whose message may be shown; anything else: an ACL error), for a module
  // verdict that stands where an ACL would (the after-DATA hook).
  AclResult refusal(Where where, Verdict verdict, std::optional<std::string> message,
                    std::optional<std::string> log_message, RunEnv& env) const;

  // Whether running `acl` (as for run()) may wait on the network or sleep.
  // Conservative: true when that cannot be known before running it.
  bool may_block(std::string_view acl) const;

  bool has(std::string_view name) const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// The hook ${acl{name}{args}} and the acl expansion condition call outside
// ACL runs (during a run, run() installs its own): runs ACL `name` as
// Exim's acl_eval does, where is `where` (kExpansion for -be), the
// arguments already in the Context's acl_args. `env` gives the RunEnv of
// the Context the hook is installed in; `log` (may be empty) gets the log
// lines the ACL writes. The AclSet and whatever the functions capture must
// outlive the hook.
expand::AclHook make_acl_hook(const AclSet& acls, Where where, std::function<RunEnv&()> env,
                              std::function<void(const LogLine&)> log = {});

}  // namespace tern::acl
