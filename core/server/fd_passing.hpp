// core/server/fd_passing.hpp: the master's control channel to a worker.
//
// A SOCK_SEQPACKET pair per worker. The master sends each accepted
// connection as one packet {connection id} with the descriptor attached
// (SCM_RIGHTS); the worker answers {connection id} when that session has
// ended, so the master's connection counts (smtp_accept_max, per host)
// stay exact. Closing the master's end tells the worker to stop.
#pragma once

#include <cstdint>
#include <optional>

namespace tern::server {

struct ControlPacket {
  uint64_t connection = 0;
};

// Both return false on error (errno set). send_connection sends `fd` too.
bool send_connection(int channel, ControlPacket p, int fd);
bool send_closed(int channel, ControlPacket p);

struct Received {
  ControlPacket packet;
  int fd = -1;  // the attached descriptor, or -1
};
// One packet; nullopt at end of stream or error (errno 0 at end).
std::optional<Received> receive_packet(int channel);

}  // namespace tern::server
