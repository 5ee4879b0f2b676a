// core/smtp/reply.hpp: SMTP replies as Exim 4.96 words them, and their wire form.
//
// A Reply is what the session sends: a code, an optional enhanced status code
// and one or more lines of text. Exim's built-in protocol replies carry no
// enhanced status code ("501 invalid data for BODY"), so `esc` is empty for
// them; ACL messages may set one later. Nothing here does I/O: format() gives
// the bytes and the session writes them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tern::smtp {

struct Reply {
  int code = 250;
  std::string esc;                 // "5.5.1" or empty: Exim sends none of its own
  std::vector<std::string> lines;  // at least one; no CR or LF inside

  static Reply make(int code, std::string text) { return {code, {}, {std::move(text)}}; }
  // The first line, for tests and logs.
  const std::string& text() const { return lines.front(); }
  bool operator==(const Reply&) const = default;
};

// The wire form: "250-first\r\n250 last\r\n"; with an esc, each line is
// "code-esc text" as RFC 2034 asks. A CR or LF inside a line is cut there
// (Exim refuses to send a newline inside a reply line).
std::string format(const Reply& r);

// What the EHLO response advertises, in Exim 4.96's order: SIZE, 8BITMIME,
// DSN, ETRN, VRFY, EXPN, PIPELINING, PIPECONNECT, AUTH, CHUNKING, STARTTLS,
// PRDR, SMTPUTF8, HELP. Each flag mirrors the Exim option that controls it.
struct EhloFeatures {
  long long size_limit = 52428800;  // message_size_limit; 0: bare "SIZE"
  bool accept_8bitmime = true;      // 8BITMIME (and the precondition of SMTPUTF8)
  bool dsn = false;                 // dsn_advertise_hosts matched
  bool etrn = false;                // acl_smtp_etrn set
  bool vrfy = false;                // acl_smtp_vrfy set
  bool expn = false;                // acl_smtp_expn set
  bool pipelining = true;           // pipelining_advertise_hosts matched
  bool pipe_connect = false;        // pipelining_connect_advertise_hosts matched
  std::vector<std::string> auth;    // public names of advertised authenticators
  bool chunking = true;             // chunking_advertise_hosts matched
  bool starttls = false;            // tls_advertise_hosts matched, not yet in TLS
  bool prdr = false;                // prdr_enable
  bool smtputf8 = true;             // smtputf8_advertise_hosts matched
};

// "test.example Hello x [1.2.3.4]": Exim's default greeting line. `ident` is
// the RFC 1413 user (empty if none), `name` the looked-up host name or else
// the HELO argument, `address` the peer's IP (empty for a local -bs caller).
std::string hello_text(std::string_view hostname, std::string_view ident, std::string_view name,
                       std::string_view address);

// The HELO reply (one line) or the EHLO reply (the greeting then the
// features, AUTH names upper-cased as Exim does).
Reply helo_reply(std::string greeting);
Reply ehlo_reply(std::string greeting, const EhloFeatures& f);

// smtp_banner's default expansion, "$smtp_active_hostname ESMTP Exim
// $version_number $tod_full"; `version` is what tern reports as Exim's.
Reply banner(std::string_view hostname, std::string_view version, std::string_view tod_full);

// HELP: "214-Commands supported:" then the list as Exim builds it.
Reply help_reply(bool starttls, bool etrn, bool expn, bool vrfy);

// Fixed replies of the protocol layer, with Exim's exact texts.
namespace replies {
Reply ok();                                // 250 OK (NOOP, MAIL)
Reply accepted();                          // 250 Accepted (RCPT)
Reply reset_ok();                          // 250 Reset OK
Reply closing(std::string_view hostname);  // 221 <host> closing connection
Reply start_data();                        // 354 Enter message, ending with "." on a line by itself
Reply chunk_received(unsigned long long bytes);  // 250 <n> byte chunk received
Reply sync_error();                              // 554 SMTP synchronization error
Reply unrecognized();                            // 500 unrecognized command
Reply too_many_unrecognized();                   // 500 Too many unrecognized commands (then drop)
Reply nul_in_command();       // 501 NUL characters are not allowed in SMTP commands
Reply unexpected_argument();  // 501 unexpected argument data
Reply too_many_nonmail();     // 554 Too many nonmail commands (then drop)
Reply size_exceeded();        // 552 Message size exceeds maximum permitted
Reply ready_for_tls();        // 220 TLS go ahead
Reply auth_not_advertised();  // 503 AUTH command used when not advertised
Reply lost_connection(std::string_view hostname);  // 421 <host> lost input connection
}  // namespace replies

}  // namespace tern::smtp
