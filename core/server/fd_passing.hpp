// core/server/fd_passing.hpp: the master's control channel to a worker.
//
// A SOCK_SEQPACKET pair per worker. The master sends each accepted
// connection as one packet {connection id} with the descriptor attached
// (SCM_RIGHTS); the worker answers {connection id} when that session has
// ended, so the master's connection counts (smtp_accept_max, per host)
// stay exact. Closing the master's end tells the worker to stop.
//
// A worker also asks the master to start the immediate delivery of a
// message it accepted ({deliver = message id}): the master runs as root and
// the delivery must be able to become the local users it delivers to, which
// a worker running as exim_user cannot (Exim re-execs its setuid binary).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tern::server {

struct ControlPacket {
  uint64_t connection = 0;
  char deliver[32] = {};  // a message id (NUL-terminated), or empty
};

// All return false on error (errno set). send_connection sends `fd` too.
bool send_connection(int channel, ControlPacket p, int fd);
bool send_closed(int channel, ControlPacket p);
// False also when `id` does not fit (it never does not: ids are 23 bytes).
bool send_delivery_request(int channel, std::string_view id);

struct Received {
  ControlPacket packet;
  int fd = -1;  // the attached descriptor, or -1
};
// One packet; nullopt at end of stream or error (errno 0 at end).
std::optional<Received> receive_packet(int channel);

}  // namespace tern::server
