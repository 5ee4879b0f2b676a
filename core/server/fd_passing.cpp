// core/server/fd_passing.cpp: packets and descriptors over the control channel.
#include "core/server/fd_passing.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tern::server {

namespace {

// One packet with room for one descriptor, as sendmsg and recvmsg want it.
// Not copyable: msg points into the object.
struct PacketMessage {
  explicit PacketMessage(ControlPacket* p) : iov{p, sizeof *p} {
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
  PacketMessage(const PacketMessage&) = delete;
  PacketMessage& operator=(const PacketMessage&) = delete;

  struct iovec iov;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg {};
};

}  // namespace

bool send_connection(int channel, ControlPacket p, int fd) {
  PacketMessage pm(&p);
  struct msghdr& msg = pm.msg;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t n;
  do n = ::sendmsg(channel, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof p);
}

bool send_closed(int channel, ControlPacket p) {
  ssize_t n;
  do n = ::send(channel, &p, sizeof p, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof p);
}

bool send_delivery_request(int channel, std::string_view id) {
  ControlPacket p;
  if (id.empty() || id.size() >= sizeof p.deliver) {
    errno = EINVAL;
    return false;
  }
  std::memcpy(p.deliver, id.data(), id.size());
  return send_closed(channel, p);
}

std::optional<Received> receive_packet(int channel) {
  Received r;
  PacketMessage pm(&r.packet);
  struct msghdr& msg = pm.msg;
  ssize_t n;
  do n = ::recvmsg(channel, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    if (n == 0) errno = 0;
    return std::nullopt;
  }
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) std::memcpy(&r.fd, CMSG_DATA(c), sizeof r.fd);
  if (n != static_cast<ssize_t>(sizeof r.packet)) {
    if (r.fd >= 0) ::close(r.fd);
    errno = EPROTO;
    return std::nullopt;
  }
  return r;
}

}  // namespace tern::server
