// modules/redis/connection.cpp: non-blocking socket I/O under deadlines, RESP by hiredis.
#include "connection.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server_pool.hpp"

namespace tern::redis {
namespace {

// Milliseconds left before `deadline` (0 when it has passed), for poll().
int remaining_ms(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return left > 3600000 ? 3600000 : static_cast<int>(left) + 1;  // round up: never wake early
}

// Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1 error.
int wait_for(int fd, short events, Deadline deadline) {
  for (;;) {
    int ms = remaining_ms(deadline);
    if (ms == 0) return 0;
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, ms);
    if (r > 0) return 1;
    if (r == 0) {
      if (Clock::now() >= deadline) return 0;
      continue;
    }
    if (errno != EINTR) return -1;
  }
}

IoError error_of(IoError::Kind kind, int errnum) { return {kind, std::strerror(errnum), true}; }

// A connected non-blocking socket to `addr`, or -1 with `err` set.
int connect_to(const sockaddr* addr, socklen_t len, Deadline deadline, IoError& err) {
  int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = error_of(IoError::Kind::kConnect, errno);
    return -1;
  }
  if (::connect(fd, addr, len) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN) {
      err = error_of(IoError::Kind::kConnect, errno);
      ::close(fd);
      return -1;
    }
    int w = wait_for(fd, POLLOUT, deadline);
    int so_error = 0;
    socklen_t sl = sizeof so_error;
    if (w == 0) so_error = ETIMEDOUT;
    else if (w < 0) so_error = errno;
    else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &sl) != 0) so_error = errno;
    if (so_error != 0) {
      err = error_of(so_error == ETIMEDOUT ? IoError::Kind::kTimeout : IoError::Kind::kConnect, so_error);
      ::close(fd);
      return -1;
    }
  }
  if (addr->sa_family != AF_UNIX) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

int connect_unix(const std::string& path, Deadline deadline, IoError& err) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) {
    err = {IoError::Kind::kConnect, "socket path too long", true};
    return -1;
  }
  std::memcpy(sa.sun_path, path.data(), path.size());
  return connect_to(reinterpret_cast<const sockaddr*>(&sa), sizeof sa, deadline, err);
}

int connect_tcp(const std::string& host, int port, Deadline deadline, IoError& err) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
  if (rc != 0) {
    err = {IoError::Kind::kConnect, rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc), true};
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = list; a && fd < 0; a = a->ai_next)
    fd = connect_to(a->ai_addr, a->ai_addrlen, deadline, err);
  ::freeaddrinfo(list);
  return fd;
}

}  // namespace

std::unique_ptr<Connection> Connection::open(const Endpoint& to, Deadline deadline, IoError& err) {
  int fd = to.socket.empty() ? connect_tcp(to.host, to.port, deadline, err) : connect_unix(to.socket, deadline, err);
  if (fd < 0) return nullptr;
  return std::unique_ptr<Connection>(new Connection(fd));
}

Connection::Connection(int fd) : fd_(fd), reader_(redisReaderCreate()) {}

Connection::~Connection() {
  if (reader_) redisReaderFree(reader_);
  ::close(fd_);
}

void Connection::append(const Argv& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  char* cmd = nullptr;
  int len = redisFormatCommandArgv(&cmd, static_cast<int>(argv.size()), ptrs.data(), lens.data());
  if (len > 0 && cmd) out_.append(cmd, static_cast<size_t>(len));
  redisFreeCommand(cmd);
}

bool Connection::write_all(Deadline deadline, IoError& err) {
  size_t done = 0;
  while (done < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + done, out_.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int w = wait_for(fd_, POLLOUT, deadline);
      if (w == 0) {
        err = {IoError::Kind::kTimeout, "timed out", true};
        return false;
      }
      if (w > 0) continue;
    }
    err = error_of(errno == EPIPE || errno == ECONNRESET ? IoError::Kind::kClosed : IoError::Kind::kIo, errno);
    return false;
  }
  out_.clear();
  return true;
}

bool Connection::read_reply(ReplyPtr& reply, Deadline deadline, IoError& err) {
  for (;;) {
    void* r = nullptr;
    if (redisReaderGetReply(reader_, &r) != REDIS_OK) {
      err = {IoError::Kind::kProtocol, reader_->errstr[0] ? reader_->errstr : "protocol error", false};
      return false;
    }
    if (r) {
      reply.reset(static_cast<redisReply*>(r));
      return true;
    }
    // Wait first: right after a request the reply is never there yet, and
    // a recv() would only say so.
    int w = wait_for(fd_, POLLIN, deadline);
    if (w == 0) {
      err = {IoError::Kind::kTimeout, "timed out", true};
      return false;
    }
    char buf[16384];
    ssize_t n = w < 0 ? -1 : ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      got_bytes_ = true;
      redisReaderFeed(reader_, buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      err = {IoError::Kind::kClosed, "Server closed the connection", true};
      return false;
    }
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
    err = error_of(errno == ECONNRESET ? IoError::Kind::kClosed : IoError::Kind::kIo, errno);
    return false;
  }
}

bool Connection::roundtrip(size_t count, std::vector<ReplyPtr>& replies, Deadline deadline, IoError& err) {
  replies.clear();
  got_bytes_ = false;
  if (!write_all(deadline, err)) return false;
  for (size_t i = 0; i < count; ++i) {
    ReplyPtr r;
    if (!read_reply(r, deadline, err)) {
      err.nothing_read = !got_bytes_;
      return false;
    }
    replies.push_back(std::move(r));
  }
  return true;
}

bool Connection::alive() const { return lookup_servers::socket_is_quiet(fd_); }

}  // namespace tern::redis
