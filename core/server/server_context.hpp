// core/server/server_context.hpp: what every SMTP session of a process shares.
//
// One per worker (or per -bs / -bh process): the loaded configuration and
// modules (cli::Runtime), the main options a session reads on every
// command (parsed once here), the spool with its group-commit thread, the
// message id generator, the logs, and the io_context the sessions run on.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/auth/authenticator.hpp"
#include "core/deliver/router.hpp"
#include "core/base/result.hpp"
#include "core/expand/expand.hpp"
#include "core/main/runtime.hpp"
#include "core/module_host/log_sink.hpp"
#include "core/server/acl_gate.hpp"
#include "core/server/server_log.hpp"
#include "core/spool/committer.hpp"
#include "core/spool/message_id.hpp"
#include "core/spool/spool.hpp"
#include "core/tls/server.hpp"

namespace tern::server {

// Main options of the SMTP side, read once per configuration.
struct ServerSettings {
  int64_t message_size_limit = 50 * 1024 * 1024;  // expanded once; 0: none
  int recipients_max = 50000;
  bool recipients_max_reject = false;
  std::chrono::seconds receive_timeout{300};  // smtp_receive_timeout
  bool enforce_sync = true;                   // smtp_enforce_sync
  bool accept_8bitmime = true;
  bool queue_only = false;
  int max_unknown_commands = 3;
  int max_synprot_errors = 3;
  int max_nonmail = 10;
  std::string primary_hostname;
  std::string qualify_domain, qualify_recipient;
  // Host lists, matched against each client (unexpanded text).
  std::string pipelining_advertise_hosts, chunking_advertise_hosts, tls_advertise_hosts,
      smtputf8_advertise_hosts, dsn_advertise_hosts, tls_verify_hosts, tls_try_verify_hosts, pipelining_connect_advertise_hosts,
      helo_accept_junk_hosts, helo_verify_hosts, sender_unqualified_hosts,
      recipient_unqualified_hosts, smtp_accept_max_nonmail_hosts;
  std::string helo_allow_chars;
  bool tls_available = false;  // a server certificate is configured
  bool prdr_enable = false;
  expand::Expansion smtp_banner, received_header_text;
  std::vector<uint16_t> tls_on_connect_ports;
  std::string acl_connect, acl_helo, acl_mail, acl_rcpt, acl_predata, acl_data, acl_quit,
      acl_notquit, acl_vrfy, acl_expn, acl_etrn, acl_starttls, acl_auth, acl_mailauth;
  // `begin authenticators`, and the hosts AUTH is advertised to.
  auth::AuthenticatorSet authenticators;
  std::string auth_advertise_hosts;

  static Result<ServerSettings> from(cli::Runtime& rt);
};

// What the SMTP side makes of a configuration, loaded and checked as a
// whole (the daemon's configuration check loads it too): the runtime
// (configuration and modules), the settings, the TLS server and the log
// options (log_file_path expanded, log_selector, syslog_*; files given to
// exim_user when running as root). Errors are one line, as for the rest of
// the configuration.
struct ServerSetup {
  std::unique_ptr<cli::Runtime> runtime;
  ServerSettings settings;
  std::shared_ptr<tls::ServerTls> tls;
  log::LoggerOptions log_options;
  std::shared_ptr<const deliver::RouterSet> routers;  // for verify = recipient / sender
  static Result<ServerSetup> load(const cli::CommandLine& cl);
};

class ServerContext {
 public:
  // Takes the settings and the TLS server of `setup`, whose runtime must
  // outlive the context.
  ServerContext(ServerSetup& setup, boost::asio::io_context& io, ServerLog& log);
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  cli::Runtime& runtime;
  boost::asio::io_context& io;
  ServerLog& log;
  const ServerSettings settings;
  spool::Spool spool;
  spool::Committer committer;
  spool::IdGenerator ids;
  // The threads ACLs that may block run on, and what every AclGate uses.
  boost::asio::thread_pool acl_threads{2};
  AclServices acl_services;
  // STARTTLS and tls_on_connect_ports; null when TLS cannot be offered.
  std::shared_ptr<tls::ServerTls> tls;
  // The routers, for the ACLs' address verification.
  std::shared_ptr<const deliver::RouterSet> routers;
  // What modules log goes to `log` while the context lives.
  module_host::ScopedLogSink module_log;
  // Starts the immediate delivery of a message just accepted: by default a
  // `tern -Mc id` of this process's own (-bs); a daemon's worker asks its
  // master instead (fd_passing.hpp says why).
  std::function<void(std::string_view id)> start_delivery;
};


}  // namespace tern::server
