// core/server/worker.cpp: one SMTP worker of the daemon.
//
// Started by the master with fork+exec (`--tern-smtp-worker FD`), so it
// loads the configuration and its modules fresh from disk. It then switches
// to exim_user, and runs one event loop: connections arrive from the master
// over the control channel, each becomes a Session coroutine, and the
// master hears when each one ends. When the master closes the channel (stop
// or reload), the worker takes no more connections, lets its sessions
// finish, and exits.
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>

#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <exception>

#include "core/deliver/spawn.hpp"
#include "core/main/runtime.hpp"
#include "core/server/fd_passing.hpp"
#include "core/server/server_log.hpp"
#include "core/server/modes.hpp"
#include "core/server/privileges.hpp"
#include "core/server/session.hpp"

namespace tern::server {

namespace {

namespace asio = boost::asio;

struct WorkerState {
  ServerContext* server = nullptr;
  int channel = -1;
  size_t active = 0;
  bool stopping = false;
};

// "1.2.3.4" / "::1" and the port of a socket address.
std::pair<std::string, uint16_t> endpoint_text(const asio::ip::tcp::endpoint& e) {
  asio::ip::address a = e.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return {a.to_string(), e.port()};
}

asio::awaitable<void> serve(std::unique_ptr<Session> session, WorkerState* w, uint64_t id) {
  co_await session->run();
  session.reset();
  send_closed(w->channel, ControlPacket{id});
  if (--w->active == 0 && w->stopping) w->server->io.stop();
}

void start_session(WorkerState& w, int fd, uint64_t id) {
  asio::io_context& io = w.server->io;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    ::close(fd);
    send_closed(w.channel, ControlPacket{id});
    return;
  }
  asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  socket.assign(ss.ss_family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), fd, ec);
  if (ec) {
    ::close(fd);
    send_closed(w.channel, ControlPacket{id});
    return;
  }
  Peer peer;
  auto remote = socket.remote_endpoint(ec);
  auto local = socket.local_endpoint(ec);
  if (ec) {
    send_closed(w.channel, ControlPacket{id});
    return;  // the client has gone already; the socket closes here
  }
  std::tie(peer.address, peer.port) = endpoint_text(remote);
  std::tie(peer.local_address, peer.local_port) = endpoint_text(local);
  for (uint16_t port : w.server->settings.tls_on_connect_ports) peer.tls_on_connect |= port == peer.local_port;
  auto session = std::make_unique<Session>(*w.server, std::make_unique<SocketStream>(std::move(socket)),
                                           std::move(peer));
  ++w.active;
  ServerLog* log = &w.server->log;
  asio::co_spawn(io, serve(std::move(session), &w, id), [log](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log->panic(std::string("SMTP session ended by an internal error: ") + ex.what());
    }
  });
}

asio::awaitable<void> read_control(WorkerState& w) {
  asio::posix::stream_descriptor channel(w.server->io, ::dup(w.channel));
  for (;;) {
    boost::system::error_code ec;
    co_await channel.async_wait(asio::posix::stream_descriptor::wait_read,
                                asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    auto packet = receive_packet(w.channel);
    if (!packet) {
      if (errno == EAGAIN || errno == EINTR) continue;
      break;  // the master closed the channel: stop
    }
    if (packet->fd >= 0) start_session(w, packet->fd, packet->packet.connection);
  }
  w.stopping = true;
  if (w.active == 0) w.server->io.stop();
}

}  // namespace

int run_worker(const cli::CommandLine& cl) {
  if (cl.args.empty()) {
    std::fprintf(stderr, "tern: --tern-smtp-worker needs the control descriptor\n");
    return 1;
  }
  WorkerState w;
  w.channel = std::atoi(cl.args[0].c_str());
  ::fcntl(w.channel, F_SETFL, ::fcntl(w.channel, F_GETFL) | O_NONBLOCK);
  ::fcntl(w.channel, F_SETFD, FD_CLOEXEC);
  const bool log_to_stderr = cl.args.size() > 1 && cl.args[1] == "stderr";

  auto setup = ServerSetup::load(cl);
  if (!setup) {
    std::fprintf(stderr, "%s\n", setup.error().message.c_str());
    return kWorkerCannotStart;
  }
  const config::OptionSet& main = setup->runtime->config().main;
  if (log_to_stderr) setup->log_options.mirror_fd = 2;
  FileLog log(std::move(setup->log_options));
  if (::getuid() == 0) {
    auto who = resolve_run_as(main.get_string("exim_user"), main.get_string("exim_group"));
    if (!who) {
      log.panic(who.error().message);
      return kWorkerCannotStart;
    }
    if (Status s = drop_privileges(*who); !s) {
      log.panic("SMTP worker: " + s.error().message);
      return kWorkerCannotStart;
    }
  }
  asio::io_context io(1);
  ServerContext server(*setup, io, log);
  // The master starts deliveries (as root); spawning one from here (as
  // exim_user) is the fallback when the request cannot be sent.
  server.start_delivery = [&server, channel = w.channel](std::string_view id) {
    if (!send_delivery_request(channel, id)) deliver::spawn_delivery(server.runtime, id);
  };
  w.server = &server;
  asio::co_spawn(io, read_control(w), asio::detached);
  io.run();
  return 0;
}

}  // namespace tern::server
