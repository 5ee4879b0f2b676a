// core/server/session.hpp: one SMTP conversation, from banner to close.
//
// A coroutine on the worker's io_context that reads top to bottom the way
// Exim's smtp_setup_msg() does: banner (with the greeting sync check), then
// commands until QUIT or a drop. The protocol pieces are core/smtp's
// (command parsing, state and counters, DATA/BDAT reading with the
// smuggling rules, reply texts); this file adds I/O, timeouts, ACL calls,
// the spool (250 only once the message is durable) and the logs.
//
// Replies are collected and written when the session is about to wait for
// input, so a pipelined batch gets its answers in one write, as Exim does.
#pragma once

#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/auth/authenticator.hpp"
#include "core/dns/failure_events.hpp"
#include "core/expand/expand.hpp"
#include "core/log/fields.hpp"
#include "core/log/smtp_lines.hpp"
#include "core/lookup/lookup.hpp"
#include "core/server/acl_gate.hpp"
#include "core/server/server_context.hpp"
#include "core/server/session_vars.hpp"
#include "core/server/session_verifier.hpp"
#include "core/server/stream.hpp"
#include "core/module_host/call_env.hpp"
#include "core/module_host/session_data.hpp"
#include "core/tls/stream.hpp"
#include "core/smtp/command.hpp"
#include "core/smtp/data_reader.hpp"
#include "core/smtp/state.hpp"
#include "core/spool/envelope.hpp"

namespace tern::server {

// Who is on the other end.
struct Peer {
  std::string address;  // empty for a local caller (-bs)
  uint16_t port = 0;
  std::string local_address;
  uint16_t local_port = 0;
  std::string login;  // the local caller's login (-bs)
  bool fake = false;  // -bh: nothing is written to the spool
  bool tls_on_connect = false;  // the port is in tls_on_connect_ports
};

class Session {
 public:
  Session(ServerContext& server, std::unique_ptr<Stream> stream, Peer peer);
  ~Session();

  // The whole conversation; returns when the connection is closed.
  boost::asio::awaitable<void> run();

 private:
  struct Message;  // the transaction being built: sender, recipients, data

  // I/O
  boost::asio::awaitable<bool> fill();  // read more input; false: none will come
  boost::asio::awaitable<bool> flush();
  void send(const smtp::Reply& r);
  bool input_pending();
  // Exim's check_sync() applies to real TCP clients only (not -bs, not -bh).
  bool sync_checks() const { return settings_.enforce_sync && !peer_.address.empty() && !peer_.fake; }
  std::string_view buffered() const { return std::string_view(in_).substr(in_pos_); }
  void consume(size_t n);

  // Before the banner: the pre-banner hook point (a module may read the raw
  // connection and replace the addresses: the PROXY protocol).
  boost::asio::awaitable<void> pre_banner();
  // What follows from the client's address: its variables and the host
  // lists the session state depends on (again when a module replaced it).
  void client_known();

  // Commands
  boost::asio::awaitable<bool> banner();
  boost::asio::awaitable<void> on_helo(const smtp::Command& c);
  boost::asio::awaitable<void> on_mail(const smtp::Command& c);
  boost::asio::awaitable<void> on_rcpt(const smtp::Command& c);
  boost::asio::awaitable<bool> on_data(const smtp::Command& c);
  boost::asio::awaitable<bool> on_bdat(const smtp::Command& c);
  boost::asio::awaitable<void> on_vrfy_expn(const smtp::Command& c);
  boost::asio::awaitable<void> on_etrn(const smtp::Command& c);
  boost::asio::awaitable<void> on_quit();
  boost::asio::awaitable<bool> on_starttls();
  // AUTH (session_auth.cpp): the exchange, EHLO's AUTH line, MAIL's AUTH=.
  boost::asio::awaitable<bool> on_auth(const smtp::Command& c);
  boost::asio::awaitable<std::optional<std::string>> read_auth_line();
  std::vector<std::string> advertise_auth();
  boost::asio::awaitable<bool> check_mail_auth(const smtp::MailCommand& mail, std::string_view argument);
  void forget_authentication();  // STARTTLS: a new AUTH is allowed
  log::AuthInfo auth_info() const;
  void auth_to_envelope(spool::Envelope& e) const;
  // -bh: a line of Exim's debug output on stderr (">>> ...").
  static void bh_trace(std::string_view line);
  // Set up TLS on the socket and run the handshake (STARTTLS or on connect).
  boost::asio::awaitable<bool> start_tls();
  void reset_transaction();

  // The message
  boost::asio::awaitable<std::optional<bool>> open_message(smtp::Verb verb);
  bool start_message(smtp::MessageReader::Framing framing);
  void take_message_output();
  boost::asio::awaitable<bool> finish_message(bool bdat, uint64_t last_chunk);
  // The modules' after-DATA hooks (off the I/O thread, with their deadline):
  // nullopt accepts (their per-recipient data kept for the -H), else the refusal.
  boost::asio::awaitable<std::optional<AclDecision>> after_data_hooks();
  spool::Envelope make_envelope();
  std::string received_header();

  // Policy and facts
  boost::asio::awaitable<AclDecision> acl(AclWhere where, const std::string& name, const AclRequest& req);
  void write_acl_logs(const AclDecision& d);
  bool host_in(const std::string& list);
  // The connection is dropped after `o`'s reply to `c`: Exim's log line for why.
  void dropped(const smtp::Command& c, const smtp::Outcome& o);
  SessionVerifier::Env verifier_env();
  // $sender_fullhost and $sender_rcvhost from what is known of the client (address, HELO,
  // verified host name).
  void set_host_variables();
  void set_var(std::string_view name, std::string value) { vars_.set(name, std::move(value)); }
  std::string host_for_log() const;
  log::Peer log_peer() const;
  log::Reception reception_facts(int64_t size) const;  // "H=(helo) [ip]" / "U=login"
  bool refuse(const AclDecision& d, const std::string& message_id = {});  // true: drop

  // Events: raise one on the bus (listeners run on the ACL threads, never on
  // the I/O thread; nothing at all happens when nobody listens) and answer
  // the first non-empty verdict. report_errors() logs and raises the
  // syntax and protocol errors the SMTP state counted.
  boost::asio::awaitable<std::string> raise_event(std::string_view name, std::string data);
  boost::asio::awaitable<void> report_errors();
  boost::asio::awaitable<void> tls_failed(const std::string& error);

  ServerContext& server_;
  module_host::SessionData module_data_;
  module_host::CallEnv env_;
  const ServerSettings& settings_;
  std::unique_ptr<Stream> stream_;
  Peer peer_;
  SessionVariables vars_;
  std::unique_ptr<lookup::Searcher> searcher_;
  expand::Context ctx_;
  smtp::SessionState state_;
  // The process's resolver, raising dns:fail for this session's failed lookups (dnslists,
  // address verification, host names).
  std::unique_ptr<dns::FailureEvents> dns_;
  std::unique_ptr<SessionVerifier> verifier_;
  AclGate gate_;
  std::unique_ptr<acl::RunEnv> expansion_acl_env_;  // ${acl} outside the ACLs
  boost::asio::steady_timer timer_;
  bool timed_out_ = false;

  std::string in_;
  size_t in_pos_ = 0;
  std::string out_;
  bool closed_ = false;   // the peer went away or we dropped: the conversation ends
  bool output_broken_ = false;  // nothing more can be written (a failed write, a failed TLS handshake)
  // A failed pre-banner negotiation: every command but QUIT gets this reply.
  std::optional<smtp::Reply> negotiation_refusal_;
  // The address the connection came from, when a pre-banner module replaced
  // it with the real client's (PRX= in the log).
  std::string connected_from_;
  bool quit_ = false;

  std::string helo_name_;
  log::CommandHistory history_;  // for C= in the log lines that end a connection
  std::string host_name_;  // verified by a reverse lookup (ACLs that ask for it)
  bool esmtp_ = false;
  bool tls_active_ = false;
  bool pipelining_offered_ = false, chunking_offered_ = false, tls_offered_ = false;
  log::TlsInfo tls_info_;  // for the log lines' X= and CV=
  std::vector<const auth::Authenticator*> auth_advertised_;  // by the last EHLO
  const auth::Authenticator* authenticated_by_ = nullptr;
  std::string authenticated_id_, authenticated_sender_;
  std::unique_ptr<Message> msg_;
  int messages_accepted_ = 0;
};

}  // namespace tern::server
