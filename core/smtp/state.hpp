// core/smtp/state.hpp: which command may come when, and the error counters,
// as Exim's smtp_setup_msg() keeps them.
//
// The session asks before acting (check_mail(), check_data(), ...) and
// reports what happened (mail_accepted(), rcpt_response(), ...). Each check
// returns an Outcome: go on, or send this reply (and maybe drop the
// connection). Counters: smtp_max_unknown_commands (3),
// smtp_max_synprot_errors (3) and smtp_accept_max_nonmail (10), with
// Exim's replies when a limit is passed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/smtp/command.hpp"
#include "core/smtp/reply.hpp"

namespace tern::smtp {

struct SessionLimits {
  int max_unknown_commands = 3;  // smtp_max_unknown_commands
  int max_synprot_errors = 3;    // smtp_max_synprot_errors
  int max_nonmail = 10;          // smtp_accept_max_nonmail
  bool count_nonmail = true;     // the host matches smtp_accept_max_nonmail_hosts
  bool helo_required = false;    // the host matches helo_verify_hosts
};

// A syntax or protocol error as Exim's synprot_error() counts it. The
// session logs it (log selectors smtp_syntax_error, smtp_protocol_error)
// and raises smtp:fail:syntax or smtp:fail:protocol with `message`.
struct SynprotError {
  bool protocol = false;     // out of sequence (503 and the like); else syntax (500, 501)
  std::string command_line;  // the command it answers
  std::string message;       // Exim's errmess: the reply's text without the echoed data
};

struct Outcome {
  bool proceed = true;         // false: `reply` is the answer and the command is done
  std::optional<Reply> reply;  // what to send
  bool drop = false;           // close the connection after sending
  static Outcome go() { return {}; }
};

class SessionState {
 public:
  explicit SessionState(SessionLimits limits = {}) : limits_(limits) {}

  // First call for every command line (after the sync check): answers
  // unrecognised, NUL and unexpected-argument lines and counts non-mail
  // commands (one RSET, HELO/EHLO and STARTTLS per message are free).
  Outcome on_command(const Command& c);

  // A syntax or protocol error: "<code> <text>"; past smtp_max_synprot_errors
  // the reply gets a second line "Too many syntax or protocol errors" and
  // the connection is dropped.
  // `detail` is the error for logs and events when the reply's text echoes
  // the command's data in front of it ("<x>: detail").
  Outcome synprot_error(Reply r, std::string detail = {});
  // A parser's rejection: counted or not as it says.
  Outcome reject(const Rejection& r);

  // HELO/EHLO with a bad argument: counted, but Exim drops without the
  // extra line.
  Outcome helo_error(Reply r);
  void helo_accepted(bool esmtp, bool pipelining_advertised, bool chunking_advertised);

  Outcome check_mail();  // 503 HELO or EHLO required / 503 sender already given
  void mail_accepted();
  void mail_rejected();  // the ACL (or a parse error) refused it

  Outcome check_rcpt();  // 503 sender not yet given
  // Every RCPT reply, as Exim captures it for the DATA error: the ACL's text
  // for ACL replies, the whole line ("501 <x>: ...") for built-in ones.
  void rcpt_response(std::string_view captured, bool accepted);

  // DATA or BDAT: "503 valid RCPT command must precede DATA" and its
  // variants ("All RCPT commands were rejected with this error:").
  // `discarded`: a MAIL/RCPT ACL discarded the recipients (then it proceeds).
  Outcome check_data(Verb verb, bool discarded = false);
  Outcome check_bdat_allowed();  // 503 BDAT command used when CHUNKING not advertised

  // Between non-LAST BDAT chunks only BDAT, NOOP, RSET and QUIT may come;
  // after a refusal only RSET or QUIT. Returns go() for those.
  Outcome in_chunking(const Command& c);
  void chunk_started(bool last);

  void message_done();  // the message was accepted or refused after its data
  void rset();          // RSET (or a new EHLO): the transaction is forgotten
  void tls_started();   // a new EHLO is needed, AUTH is free again

  // The syntax and protocol errors counted since the last call, oldest first.
  std::vector<SynprotError> take_errors() { return std::exchange(errors_, {}); }

  bool helo_seen() const { return helo_seen_; }
  bool esmtp() const { return esmtp_; }
  bool sender_given() const { return sender_given_; }
  int recipients() const { return recipients_; }
  bool pipelining_advertised() const { return pipelining_; }
  bool chunking_active() const {
    return chunking_ != Chunking::kOff && chunking_ != Chunking::kOffered;
  }

 private:
  enum class Chunking { kOff, kOffered, kActive, kRefused };
  void new_message();
  // Counts a syntax or protocol error and notes it for take_errors(); true
  // past smtp_max_synprot_errors.
  bool count_synprot(const Reply& r, std::string detail);

  SessionLimits limits_;
  int unknown_ = 0, synprot_ = 0, nonmail_ = 0;
  bool helo_seen_ = false, esmtp_ = false, pipelining_ = false;
  bool sender_given_ = false;
  int recipients_ = 0;
  bool was_rej_mail_ = false, last_was_rej_mail_ = false;
  bool was_rcpt_ = false, last_was_rcpt_ = false;
  std::optional<std::string> rcpt_first_;  // Exim's rcpt_smtp_response
  bool rcpt_same_ = true;
  bool free_rset_ = true, free_helo_ = true, free_starttls_ = true, free_auth_ = true;
  Chunking chunking_ = Chunking::kOff;
  std::string line_;  // the command being answered
  std::vector<SynprotError> errors_;
};

}  // namespace tern::smtp
