// core/log/smtp_lines.cpp: reception-side log lines, as Exim 4.96's smtp_in.c, receive.c,
// daemon.c, host.c and acl handling write them.
#include "core/log/smtp_lines.hpp"

#include "core/log/timestamp.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::log {
namespace {

Line main_line(std::string text, Selectors gate = {}) {
  Line l;
  l.text = std::move(text);
  l.targets = kToMain;
  l.gate = gate;
  return l;
}

Line main_and_reject(std::string text, Selectors gate = {}) {
  Line l = main_line(std::move(text), gate);
  l.targets = kToMain | kToReject;
  return l;
}

std::string read_error_suffix(std::string_view read_error) {
  return read_error.empty() ? std::string() : " (error: " + std::string(read_error) + ")";
}

// What follows "rejected " (smtp_handle_acl_fail's `what`).
std::string acl_what(AclWhere where, std::string_view argument) {
  auto with_arg = [&](std::string_view name) {
    return std::string(name) + " " + std::string(argument);
  };
  switch (where) {
    case AclWhere::kConnect:
      return "connection in \"connect\" ACL";
    case AclWhere::kPredata:
      return "DATA";
    case AclWhere::kData:
      return "after DATA";
    case AclWhere::kMime:
      return "during MIME ACL checks";
    case AclWhere::kPrdr:
      return "after DATA PRDR";
    case AclWhere::kHelo:
      return with_arg("EHLO or HELO");
    case AclWhere::kMail:
      return with_arg("MAIL");
    case AclWhere::kRcpt:
      return with_arg("RCPT");
    case AclWhere::kAuth:
      return with_arg("AUTH");
    case AclWhere::kStartTls:
      return with_arg("STARTTLS");
    case AclWhere::kVrfy:
      return with_arg("VRFY");
    case AclWhere::kExpn:
      return with_arg("EXPN");
    case AclWhere::kEtrn:
      return with_arg("ETRN");
    case AclWhere::kMailAuth:
      return with_arg("MAILAUTH");
    case AclWhere::kQuit:
      return with_arg("QUIT");
    case AclWhere::kNotQuit:
      return with_arg("NOTQUIT");
  }
  return "unknown";
}

// Room Exim's 8 KiB log buffer leaves for the " from <>" and " for ..." additions, assuming
// a prefix (timestamp, pid, message id) of at most 64 bytes.
constexpr size_t kAssumedPrefix = 64;

}  // namespace

Line smtp_connection(const Peer& peer, int count, const Selectors& sel) {
  Peer bare = peer;  // at accept() nothing but the address is known
  bare.name.clear();
  bare.helo.clear();
  std::string s = connection_info(bare, sel);
  if (!peer.address.empty()) s += " (TCP/IP connection count = " + std::to_string(count) + ")";
  return main_line(std::move(s), Selectors::of({Selector::kSmtpConnection}));
}

Line connection_closed(const Peer& peer, std::string_view how, const Selectors& sel) {
  return main_line(connection_info(peer, sel) + " closed by " + std::string(how),
                   Selectors::of({Selector::kSmtpConnection}));
}

Line connection_lost(const Peer& peer, bool in_transaction, std::string_view read_error,
                     int64_t duration_us, const Selectors& sel) {
  std::string d = " D=" + format_duration_us(duration_us, sel);
  if (in_transaction)
    return main_line(std::string("unexpected ") + (peer.address.empty() ? "EOF" : "disconnection") +
                         " while reading SMTP command from " + host_and_ident(peer, sel, false) +
                         read_error_suffix(read_error) + d,
                     Selectors::of({Selector::kLostIncomingConnection}));
  return main_line(connection_info(peer, sel) + " lost" + read_error_suffix(read_error) + d,
                   Selectors::of({Selector::kSmtpConnection}));
}

Line lost_in_data(const Peer& peer, DataPhase phase, const Selectors& sel) {
  const char* where = phase == DataPhase::kHeader            ? " (header)"
                      : phase == DataPhase::kAfterHeaderLine ? " (after header)"
                                                             : "";
  return main_line(connection_info(peer, sel) + " lost while reading message data" + where,
                   Selectors::of({Selector::kLostIncomingConnection, Selector::kSmtpConnection}));
}

Line command_timeout(const Peer& peer, bool tls, const Selectors& sel) {
  return main_line(std::string("SMTP command timeout on") + (tls ? " TLS" : "") +
                       " connection from " + host_and_ident(peer, sel, false),
                   Selectors::of({Selector::kLostIncomingConnection}));
}

Line data_timeout(const Peer& peer, std::string_view sender, std::string_view message_id,
                  const Selectors& sel) {
  std::string host = sender_fullhost(peer, sel);
  Line l = main_line("SMTP data timeout (message abandoned) on connection from " +
                         (host.empty() ? std::string("local process") : host) + " F=<" +
                         std::string(sender) + ">",
                     Selectors::of({Selector::kLostIncomingConnection}));
  l.message_id = std::string(message_id);
  return l;
}

Line tls_error(const Peer& peer, std::string_view where, std::string_view detail,
               const Selectors& sel) {
  return main_line("TLS error on connection from " + host_and_ident(peer, sel, false) + " (" +
                   std::string(where) + "): " + std::string(detail));
}

Line host_lookup_failed(std::string_view address) {
  return main_line("no host name found for IP address " + std::string(address),
                   Selectors::of({Selector::kHostLookupFailed}));
}

Line sync_error_at_greeting(const Peer& peer, std::string_view pending, const Selectors& sel) {
  return main_and_reject(
      "SMTP protocol synchronization error (input sent without waiting for greeting): "
      "rejected connection from " +
      host_and_ident(peer, sel, true) + " input=\"" +
      text::string_printing(pending.substr(0, 128)) + "\"");
}

Line sync_error_pipelining(const Peer& peer, bool pipelining_advertised,
                           std::string_view command_line, std::string_view pending,
                           const Selectors& sel) {
  return main_and_reject(std::string("SMTP protocol synchronization error (next input sent too "
                                     "soon: pipelining was") +
                         (pipelining_advertised ? "" : " not") + " advertised): rejected \"" +
                         std::string(command_line) + "\" " + host_and_ident(peer, sel, true) +
                         " next input=\"" + text::string_printing(pending.substr(0, 150)) + "\"");
}

Line syntax_error(const Peer& peer, std::string_view command_line, std::string_view message,
                  const Selectors& sel) {
  return main_line("SMTP syntax error in \"" + text::string_printing(command_line) + "\" " +
                       host_and_ident(peer, sel, true) + " " + std::string(message),
                   Selectors::of({Selector::kSmtpSyntaxError}));
}

Line protocol_error(const Peer& peer, std::string_view command_line, std::string_view message,
                    const Selectors& sel) {
  return main_line("SMTP protocol error in \"" + text::string_printing(command_line) + "\" " +
                       host_and_ident(peer, sel, true) + " " + std::string(message),
                   Selectors::of({Selector::kSmtpProtocolError}));
}

Line too_many_errors(const Peer& peer, std::string_view last_command_line,
                     const CommandHistory& history, const Selectors& sel) {
  return main_and_reject("SMTP call from " + host_and_ident(peer, sel, false) +
                         " dropped: too many syntax or protocol errors (last command was \"" +
                         text::string_printing(last_command_line) + "\", " + history.field() + ")");
}

Line too_many_unrecognized(const Peer& peer, std::string_view last_command_line,
                           const Selectors& sel) {
  return main_and_reject("SMTP call from " + host_and_ident(peer, sel, false) +
                         " dropped: too many unrecognized commands (last was \"" +
                         text::string_printing(last_command_line) + "\")");
}

Line too_many_nonmail(const Peer& peer, std::string_view last_command_line, const Selectors& sel) {
  std::string_view word = last_command_line.substr(0, last_command_line.find(' '));
  return main_and_reject("SMTP call from " + host_and_ident(peer, sel, false) +
                         " dropped: too many nonmail commands (last was \"" + std::string(word) +
                         "\")");
}

Line no_mail(const Peer& peer, const TlsInfo& tls, const AuthInfo& auth,
             const CommandHistory& history, int64_t duration_us, const Selectors& sel) {
  std::string a;
  if (!auth.authenticator.empty()) {
    a = " A=" + auth.authenticator;
    if (!auth.id.empty()) a += ":" + auth.id;
  }
  return main_line("no MAIL in SMTP connection from " + host_and_ident(peer, sel, false) +
                       " D=" + format_duration_us(duration_us, sel) + a + tls_fields(tls, sel) +
                       history.field(),
                   Selectors::of({Selector::kSmtpNoMail}));
}

Line incomplete_transaction(const Peer& peer, std::string_view what, std::string_view sender,
                            const std::vector<std::string>& recipients, const Selectors& sel) {
  std::string s = host_and_ident(peer, sel, true) + " incomplete transaction (" +
                  std::string(what) + ") from <" + std::string(sender) + ">";
  if (!recipients.empty()) {
    s += " for";
    for (const std::string& r : recipients) {
      if (s.size() + kAssumedPrefix + r.size() + 3 > kLogBufferSize) break;
      s += " " + r;
    }
  }
  return main_line(std::move(s), Selectors::of({Selector::kSmtpIncompleteTransaction}));
}

Line auth_failed(const Peer& peer, std::string_view authenticator, std::string_view reply,
                 std::string_view set_id, const Selectors& sel) {
  std::string s = std::string(authenticator) + " authenticator failed for " +
                  host_and_ident(peer, sel, false) + ": " + std::string(reply);
  if (!set_id.empty()) s += " (set_id=" + std::string(set_id) + ")";
  return main_and_reject(std::move(s));
}

Line etrn_received(const Peer& peer, std::string_view argument, const Selectors& sel) {
  return main_line(
      "ETRN " + std::string(argument) + " received from " + host_and_ident(peer, sel, false),
      Selectors::of({Selector::kEtrn}));
}

Line message_too_big(const Peer& peer, std::string_view sender, int64_t read, int64_t max,
                     std::string_view message_id, const Selectors& sel) {
  std::string host = sender_fullhost(peer, sel);
  std::string s = "rejected from <" + std::string(sender) + ">";
  if (!host.empty()) s += " H=" + host;
  if (!peer.ident.empty()) s += " U=" + peer.ident;
  s += ": message too big: read=" + std::to_string(read) + " max=" + std::to_string(max);
  Line l = main_and_reject(std::move(s), Selectors::of({Selector::kSizeReject}));
  l.message_id = std::string(message_id);
  return l;
}

Line sender_verify_failure(const Peer& peer, bool defer, std::string_view address,
                           std::string_view message, const Selectors& sel) {
  std::string s = host_and_ident(peer, sel, true) + " sender verify " + (defer ? "defer" : "fail") +
                  " for <" + std::string(address) + ">";
  if (!message.empty()) s += ": " + std::string(message);
  return main_and_reject(std::move(s),
                         defer ? Selectors() : Selectors::of({Selector::kSenderVerifyFail}));
}

Line acl_rejection(const AclRejection& r, const Selectors& sel) {
  std::string s;
  if (sel.on(Selector::kDnssec) && r.peer.dnssec) s += " DS";
  s += host_and_ident(r.peer, sel, true);
  s += tls_fields(r.tls, sel);
  s += " ";
  if (r.where == AclWhere::kRcpt || r.where == AclWhere::kData || r.where == AclWhere::kMime) {
    s += "F=<" + r.sender + ">";
    if (!r.auth.authenticator.empty()) {
      s += " A=" + r.auth.authenticator;
      if (!r.auth.id.empty()) s += ":" + r.auth.id;
    }
    s += " ";
  }
  if (r.temporary) s += "temporarily ";
  s += "rejected " + acl_what(r.where, r.argument);
  if (!r.log_message.empty()) s += ": " + r.log_message.substr(0, r.log_message.find('\n'));
  Line l = main_and_reject(std::move(s), r.where == AclWhere::kConnect
                                             ? Selectors::of({Selector::kConnectionReject})
                                             : Selectors());
  l.message_id = r.message_id;
  return l;
}

std::string received_protocol(bool local, bool ehlo, bool tls, bool authenticated) {
  std::string p = local ? "local-" : "";
  p += ehlo ? "esmtp" : "smtp";
  if (tls) p += "s";
  if (ehlo && authenticated) p += "a";
  return p;
}

Line reception(const Reception& m, const Selectors& sel) {
  std::string s = m.fake_reject ? "(= " : "<= ";
  s += m.sender.empty() ? "<>" : m.sender;
  if (!m.reference.empty()) s += " R=" + m.reference;
  // add_host_info_for_log()
  std::string host = sender_fullhost(m.peer, sel);
  if (!host.empty()) {
    if (sel.on(Selector::kDnssec) && m.peer.dnssec) s += " DS";
    s += " H=" + host;
    if (sel.on(Selector::kIncomingInterface) && !m.peer.local_address.empty())
      s += " I=[" + m.peer.local_address + "]:" + std::to_string(m.peer.local_port);
  }
  if (!m.peer.ident.empty()) s += " U=" + m.peer.ident;
  if (!m.protocol.empty()) s += " P=" + m.protocol;
  if (sel.on(Selector::kPipelining) && m.pipelining_advertised) {
    s += " L";
    if (m.early_pipe_used)
      s += "*";
    else if (m.early_pipe_advertised)
      s += ".";
    if (!m.pipelining_used) s += "-";
  }
  s += tls_fields(m.tls, sel);
  s += auth_field(m.auth, sel);
  if (m.prdr) s += " PRDR";
  if (sel.on(Selector::kProxy) && !m.proxy_local_address.empty())
    s += " PRX=" + m.proxy_local_address;
  if (m.chunking) s += " K";
  s += " S=" + std::to_string(m.size);
  if (sel.on(Selector::k8bitmime)) s += " M8S=" + std::to_string(m.body_8bitmime);
  if (sel.on(Selector::kReceiveTime)) s += " RT=" + format_duration_us(m.receive_time_us, sel);
  if (!m.queue_name.empty()) s += " Q=" + m.queue_name;
  if (sel.on(Selector::kMsgId) && !m.header_message_id.empty() &&
      (!m.message_id_created || sel.on(Selector::kMsgIdCreated)))
    s += (m.message_id_created ? " id*=" : " id=") + text::string_printing(m.header_message_id);
  if (sel.on(Selector::kSubject) && m.subject) {
    // A C-like string of at most 100 characters of $h_subject:, then non-printing ones
    // escaped.
    std::string q = "\"";
    const std::string& subj = *m.subject;
    for (size_t i = 0; i < 100 && i < subj.size() && subj[i] != '\0'; ++i) {
      if (subj[i] == '"' || subj[i] == '\\') q += '\\';
      q += subj[i];
    }
    q += '"';
    s += " T=" + text::string_printing(q);
  }
  if (sel.on(Selector::kReceivedSender)) s += " from <" + m.raw_sender.value_or(m.sender) + ">";
  if (sel.on(Selector::kReceivedRecipients) && !m.recipients.empty()) {
    s += " for";
    for (const std::string& r : m.recipients) {
      if (s.size() + kAssumedPrefix + r.size() + 3 > kLogBufferSize) break;
      s += " " + r;
    }
  }
  Line l = main_line(std::move(s));
  l.message_id = m.message_id;
  return l;
}

Line completed(std::string_view message_id, int64_t queue_time_us, const Selectors& sel) {
  std::string s = "Completed";
  if (sel.on(Selector::kQueueTimeOverall)) s += " QT=" + format_duration_us(queue_time_us, sel);
  Line l = main_line(std::move(s));
  l.message_id = std::string(message_id);
  return l;
}

}  // namespace tern::log
