// modules/redis/connection.hpp: one connection to a Redis server, with deadlines.
//
// hiredis does the protocol (redisFormatCommandArgv for requests, a
// redisReader for replies); the socket is this class's own, non-blocking,
// so that every connect, write and read waits no longer than the deadline
// the caller gives (one reply, not one read(), is what a timeout bounds).
// A connection is used by one thread at a time (the pool hands it out);
// after any error it is unusable and the caller drops it.
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "reply_format.hpp"

namespace tern::redis {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// Where a connection goes: TCP host and port, or a Unix socket.
struct Endpoint {
  std::string host;
  int port = 0;
  std::string socket;
  std::string where() const { return socket.empty() ? host + ":" + std::to_string(port) : socket; }
  bool operator==(const Endpoint&) const = default;
};

// Why an exchange failed.
struct IoError {
  enum class Kind {
    kConnect,   // could not connect (text: strerror or the resolver's)
    kTimeout,   // the deadline passed
    kClosed,    // the server closed the connection
    kIo,        // another socket error
    kProtocol,  // the reply did not parse
  };
  Kind kind = Kind::kIo;
  std::string text;
  bool nothing_read = true;  // no byte of any reply had arrived
};

class Connection {
 public:
  // Connects (resolving a host name) before `deadline`; nullptr and `err`
  // on failure.
  static std::unique_ptr<Connection> open(const Endpoint& to, Deadline deadline, IoError& err);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Queues a command; roundtrip() sends everything queued at once.
  void append(const Argv& argv);
  // Sends what is queued and reads `count` replies into `replies` (cleared
  // first), all before `deadline`.
  bool roundtrip(size_t count, std::vector<ReplyPtr>& replies, Deadline deadline, IoError& err);
  // False when the server has closed the connection or sent something that
  // nobody asked for: such an idle connection is not reused (the pool asks).
  bool alive() const;

 private:
  explicit Connection(int fd);
  bool write_all(Deadline deadline, IoError& err);
  bool read_reply(ReplyPtr& reply, Deadline deadline, IoError& err);

  int fd_;
  redisReader* reader_;
  std::string out_;        // queued requests
  bool got_bytes_ = false;  // some reply byte arrived in this roundtrip
};

}  // namespace tern::redis
