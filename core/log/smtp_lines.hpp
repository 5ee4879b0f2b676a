// core/log/smtp_lines.hpp: the lines Exim 4.96 logs while receiving mail.
//
// Pure functions: facts in, a Line out (text, which logs, which selector gates it), so the
// session decides nothing about format and every text is tested against lines the reference
// Exim wrote (smtp_lines_test.cpp; how they were produced: testdata/exim_capture/README.md).
// Fields that depend on log_selector (ports, interfaces, TLS details, times...) follow the
// Selectors passed in: give the Logger's (logger.selectors()).
//
// Typical session use:
//
//   logger.write(log::smtp_connection(peer, count, sel));          // accept()
//   logger.write(log::acl_rejection(r, sel));                      // an ACL said deny
//   logger.write(log::reception(facts, sel));                      // 250 OK id=...
//   logger.write(log::connection_closed(peer, "QUIT", sel));       // QUIT
//   logger.write(log::no_mail(peer, tls, auth, history, d, sel));  // end, no MAIL given
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/log/fields.hpp"
#include "core/log/logger.hpp"
#include "core/log/selector.hpp"

namespace tern::log {

// ---- connections -----------------------------------------------------------------------

// "SMTP connection from [ip]:port I=[ip]:port (TCP/IP connection count = N)"  [smtp_connection]
// `count` includes this connection. For SMTP on stdin (-bs): "SMTP connection from root".
Line smtp_connection(const Peer& peer, int count, const Selectors& sel);

// "SMTP connection from (helo) [ip] closed by QUIT"  [smtp_connection]
// how: "QUIT", "EOF" (after a TLS failure), "DROP in ACL".
Line connection_closed(const Peer& peer, std::string_view how, const Selectors& sel);

// The client went away between commands. Exim logs it two ways:
//   outside a transaction:  "SMTP connection from (h) [ip] lost[ (error: E)] D=3s"
//                                                                    [smtp_connection]
//   in one (MAIL given):    "unexpected disconnection while reading SMTP command from
//                            (h) [ip][ (error: E)] D=3s"              [lost_incoming_connection]
// read_error: strerror() of a failed read ("Connection reset by peer"), "" for EOF.
Line connection_lost(const Peer& peer, bool in_transaction, std::string_view read_error,
                     int64_t duration_us, const Selectors& sel);

// Where the data phase was when the connection went: Exim 4.96 says " (header)" for the
// header section (before its first byte, or in a line), " (after header)" when a header line
// was complete and the next byte (a continuation?) never came, nothing in the body.
enum class DataPhase { kBody, kHeader, kAfterHeaderLine };

// "SMTP connection from (h) [ip] lost while reading message data[ (header)|(after header)]"
//                                              [lost_incoming_connection or smtp_connection]
Line lost_in_data(const Peer& peer, DataPhase phase, const Selectors& sel);

// "SMTP command timeout on[ TLS] connection from (h) [ip]"  [lost_incoming_connection]
Line command_timeout(const Peer& peer, bool tls, const Selectors& sel);

// "<id> SMTP data timeout (message abandoned) on connection from (h) [ip] F=<sender>"
//                                                                [lost_incoming_connection]
// (no I=, no port unless +incoming_port: Exim uses $sender_fullhost here)
Line data_timeout(const Peer& peer, std::string_view sender, std::string_view message_id,
                  const Selectors& sel);

// "TLS error on connection from (h) [ip] (SSL_accept): <detail>"
Line tls_error(const Peer& peer, std::string_view where, std::string_view detail,
               const Selectors& sel);

// "no host name found for IP address 192.0.2.1"  [host_lookup_failed]
Line host_lookup_failed(std::string_view address);

// ---- protocol problems (main and reject log unless said) -------------------------------

// Input before the banner: "SMTP protocol synchronization error (input sent without waiting
// for greeting): rejected connection from H=[ip] input="EHLO x\r\n"" (the first 128 bytes
// of what was waiting, escaped).
Line sync_error_at_greeting(const Peer& peer, std::string_view pending, const Selectors& sel);

// A command sent before the previous reply where that is not allowed: "SMTP protocol
// synchronization error (next input sent too soon: pipelining was not advertised): rejected
// "MAIL FROM:<a@b>" H=(h) [ip] next input="RCPT TO:<c@d>\r\n"" (150 bytes of the rest).
// Exim also logs incomplete_transaction(..., "sync failure", ...) first.
Line sync_error_pipelining(const Peer& peer, bool pipelining_advertised,
                           std::string_view command_line, std::string_view pending,
                           const Selectors& sel);

// "SMTP syntax error in "MAIL FROM:<x" H=(h) [ip] "@" or "." expected after "x""
//                                              [smtp_syntax_error], main log only
// "SMTP protocol error in "RCPT TO:<a@b>" H=(h) [ip] sender not yet given"
//                                              [smtp_protocol_error], main log only
Line syntax_error(const Peer& peer, std::string_view command_line, std::string_view message,
                  const Selectors& sel);
Line protocol_error(const Peer& peer, std::string_view command_line, std::string_view message,
                    const Selectors& sel);

// "SMTP call from (h) [ip] dropped: too many syntax or protocol errors (last command was
// "BAZ",  C=EHLO,MAIL)" (the two spaces are Exim's)
Line too_many_errors(const Peer& peer, std::string_view last_command_line,
                     const CommandHistory& history, const Selectors& sel);

// "SMTP call from root dropped: too many unrecognized commands (last was "body")"
// (more than smtp_max_unknown_commands)
Line too_many_unrecognized(const Peer& peer, std::string_view last_command_line,
                           const Selectors& sel);

// "SMTP call from (h) [ip] dropped: too many nonmail commands (last was "EHLO")"
// (the command word of the last line)
Line too_many_nonmail(const Peer& peer, std::string_view last_command_line, const Selectors& sel);

// "no MAIL in SMTP connection from (h) [ip] D=0s[ A=..][ X=.. CV=..][ C=EHLO,QUIT]"
//                                                           [smtp_no_mail], main log only
// Call at the end of a connection in which no MAIL command was accepted.
Line no_mail(const Peer& peer, const TlsInfo& tls, const AuthInfo& auth,
             const CommandHistory& history, int64_t duration_us, const Selectors& sel);

// A transaction abandoned (by RSET, QUIT, a lost connection, a sync failure):
// "H=(h) [ip] incomplete transaction (RSET) from <a@b>[ for r1 r2]"
//                                          [smtp_incomplete_transaction], main log only
// what: "RSET", "QUIT", "connection lost", "sync failure". Only while MAIL was accepted.
Line incomplete_transaction(const Peer& peer, std::string_view what, std::string_view sender,
                            const std::vector<std::string>& recipients, const Selectors& sel);

// "plain authenticator failed for (h) [ip]: 535 Incorrect authentication data (set_id=u1)"
Line auth_failed(const Peer& peer, std::string_view authenticator, std::string_view reply,
                 std::string_view set_id, const Selectors& sel);

// "ETRN other.example received from (h) [ip]"  [etrn], main log only
Line etrn_received(const Peer& peer, std::string_view argument, const Selectors& sel);

// "<id> rejected from <a@b> H=(h) [ip]: message too big: read=28503 max=20480"
// [size_reject gates the main copy; the reject log always has it]. Pass a RejectContext to
// the Logger with it: the reject log then shows the envelope and headers.
Line message_too_big(const Peer& peer, std::string_view sender, int64_t read, int64_t max,
                     std::string_view message_id, const Selectors& sel);

// "H=(h) [ip] sender verify fail for <a@b>: <message>" (defer: "verify defer")
// [sender_verify_fail gates failures; a defer is always logged]
Line sender_verify_failure(const Peer& peer, bool defer, std::string_view address,
                           std::string_view message, const Selectors& sel);

// ---- ACL rejections ---------------------------------------------------------------------

// Where the ACL ran, as Exim names it in "rejected <what>".
enum class AclWhere {
  kConnect,   // "connection in \"connect\" ACL"
  kHelo,      // "EHLO or HELO <arg>"
  kMail,      // "MAIL <arg>"
  kRcpt,      // "RCPT <arg>"          F=<sender> shown
  kPredata,   // "DATA"
  kData,      // "after DATA"          F=<sender> shown
  kMime,      // "during MIME ACL checks"  F=<sender> shown
  kPrdr,      // "after DATA PRDR"
  kAuth,      // "AUTH <arg>"
  kStartTls,  // "STARTTLS <arg>"
  kVrfy,      // "VRFY <arg>"
  kExpn,      // "EXPN <arg>"
  kEtrn,      // "ETRN <arg>"
  kMailAuth,  // "MAILAUTH <arg>"
  kQuit,      // "QUIT <arg>"
  kNotQuit,   // "NOTQUIT <arg>"
};

struct AclRejection {
  Peer peer;
  TlsInfo tls;
  AuthInfo auth;  // A=auth[:id] after F= (RCPT, DATA, MIME)
  AclWhere where = AclWhere::kRcpt;
  std::string argument;     // the command's argument as Exim keeps it: "<a@b>" for RCPT/MAIL
                            // (the address part, without ESMTP options), "" for none
  std::string sender;       // the envelope sender as given (before rewriting), for F=<>
  bool temporary = false;   // defer: "temporarily rejected"
  std::string log_message;  // the ACL's log_message (or message); first line used; ""
                            // for none
  std::string message_id;   // set after DATA
};

// "H=(h) [ip][ X=.. CV=..] F=<a@b>[ A=..] [temporarily ]rejected RCPT <c@d>: <message>"
// Main and reject log; a connect-ACL rejection is gated by connection_reject. Give the
// Logger a RejectContext after DATA: the reject log copy then lists envelope and headers.
Line acl_rejection(const AclRejection& r, const Selectors& sel);

// ---- messages ---------------------------------------------------------------------------

// Exim's $received_protocol: "smtp", "esmtp", "esmtps", "esmtpa", "esmtpsa" ("smtps" for
// HELO over TLS), with "local-" for SMTP on stdin (-bs); "local" for a message not read
// by SMTP is the caller's to give.
std::string received_protocol(bool local, bool ehlo, bool tls, bool authenticated);

struct Reception {
  std::string message_id;
  std::string sender;                     // envelope sender (after rewriting); "" is shown as <>
  std::optional<std::string> raw_sender;  // as the client gave it, for " from <...>"; unset:
                                          // the same as `sender`
  bool fake_reject = false;               // control = fakereject: "(=" instead of "<="
  std::string reference;                  // R=: the message a local bounce is about
  Peer peer;                              // address empty: local input (U=login, no H=)
  std::string protocol;                   // P=: received_protocol(), or "local"
  bool pipelining_advertised = false;
  bool pipelining_used = false;  // a command arrived before the previous reply
  bool early_pipe_advertised = false;
  bool early_pipe_used = false;
  TlsInfo tls;
  AuthInfo auth;
  bool prdr = false;
  std::string proxy_local_address;      // PRX= with +proxy; "" when not proxied
  bool chunking = false;                // the message came by BDAT: " K"
  int64_t size = 0;                     // S=: Exim's message_size
  int body_8bitmime = 0;                // M8S=: 0 none, 7 BODY=7BIT, 8 BODY=8BITMIME
  int64_t receive_time_us = 0;          // RT=: from MAIL to the end of data
  std::string queue_name;               // Q=
  std::string header_message_id;        // the addr-spec of Message-ID: (no <>); "" if none
  bool message_id_created = false;      // the Message-ID: was added here (id*= with
                                        // +msg_id_created, not logged otherwise)
  std::optional<std::string> subject;   // $h_subject: (decoded), when there is a Subject:
  std::vector<std::string> recipients;  // as received (before rewriting), for " for ..."
                                        // (list cut where Exim's 8 KiB buffer would end)
};

// "<id> <= a@b H=(h) [ip] P=esmtps X=.. CV=no A=plain:u S=327 id=m@h" and, as selectors
// say, I= L K M8S= RT= T="..." from <a@b> for r1 r2.
Line reception(const Reception& m, const Selectors& sel);

// "<id> Completed[ QT=1s]" (QT= with +queue_time_overall, the time since reception began).
Line completed(std::string_view message_id, int64_t queue_time_us, const Selectors& sel);

}  // namespace tern::log
