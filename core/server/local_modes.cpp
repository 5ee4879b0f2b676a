// core/server/local_modes.cpp: -bs and -bh, one session on stdin/stdout.
//
// -bs is a local caller submitting by SMTP (Exim's "local-esmtp"): the
// message is spooled as from the daemon. -bh is Exim's test session: the
// named host talks, ACLs run and what would be logged is shown as
// "LOG: ..." on stderr; nothing reaches the spool.
#include <pwd.h>
#include <unistd.h>

#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>

#include "core/main/runtime.hpp"
#include "core/server/server_log.hpp"
#include "core/server/modes.hpp"
#include "core/server/session.hpp"
#include "core/text/ipaddr.hpp"

namespace tern::server {

namespace {

std::string caller_login() {
  if (struct passwd* pw = getpwuid(getuid())) return pw->pw_name;
  return std::to_string(getuid());
}

int run_local(const cli::CommandLine& cl, Peer peer, ServerLog* log_override) {
  auto setup = ServerSetup::load(cl);
  if (!setup) {
    std::fprintf(stderr, "%s\n", setup.error().message.c_str());
    return 1;
  }
  std::unique_ptr<ServerLog> file_log;
  if (!log_override) file_log = std::make_unique<FileLog>(std::move(setup->log_options));
  ServerLog& log = log_override ? *log_override : *file_log;
  boost::asio::io_context io;
  ServerContext server(*setup, io, log);
  if (!peer.fake) {
    if (Status s = server.spool.create_dirs(); !s) {
      std::fprintf(stderr, "tern: spool directory: %s\n", s.error().message.c_str());
      return 1;
    }
  }
  auto session = std::make_unique<Session>(server, std::make_unique<StdioStream>(0, 1), std::move(peer));
  boost::asio::co_spawn(io, session->run(), boost::asio::detached);
  io.run();
  return 0;
}

}  // namespace

int run_smtp_stdin(const cli::CommandLine& cl) {
  Peer peer;
  peer.login = caller_login();
  return run_local(cl, std::move(peer), nullptr);
}

int run_fake_session(const cli::CommandLine& cl) {
  std::string host = cl.args.empty() ? "" : cl.args.front();
  Peer peer;
  peer.fake = true;
  peer.login = caller_login();
  // "ip" or "ip.port" (Exim's -bh accepts a port after a dot).
  std::string address = host;
  uint16_t port = 0;
  if (text::ip_version(address) == 0) {
    size_t dot = host.rfind('.');
    if (dot != std::string::npos && (text::ip_version(host.substr(0, dot)) != 0)) {
      address = host.substr(0, dot);
      port = static_cast<uint16_t>(std::atoi(host.c_str() + dot + 1));
    } else {
      std::fprintf(stderr, "tern: \"%s\" is not a valid IP address\n", host.c_str());
      return 1;
    }
  }
  peer.address = address;
  peer.port = port;
  peer.local_address = address.find(':') != std::string::npos ? "::1" : "127.0.0.1";
  peer.local_port = 25;
  std::printf("\n**** SMTP testing session as if from host %s\n"
              "**** but without any ident (RFC 1413) callback.\n"
              "**** This is not for real!\n\n",
              address.c_str());
  std::fflush(stdout);
  TestingLog log(log::Selectors::defaults());
  return run_local(cl, std::move(peer), &log);
}

}  // namespace tern::server
