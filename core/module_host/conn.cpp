// core/module_host/conn.cpp: bounded reads of the raw connection and address replacement.
#include "core/module_host/conn.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/text/ipaddr.hpp"

namespace tern::module_host {

tern_conn make_conn(int fd, std::chrono::milliseconds timeout, std::string client_ip, uint16_t client_port,
                    std::string local_ip, uint16_t local_port) {
  tern_conn c;
  c.fd = fd;
  c.deadline = std::chrono::steady_clock::now() + timeout;
  c.core_deadline = c.deadline;
  c.client_ip = std::move(client_ip);
  c.client_port = client_port;
  c.local_ip = std::move(local_ip);
  c.local_port = local_port;
  return c;
}

tern_status conn_read(tern_conn* conn, void* dst, size_t len, size_t* got) {
  if (got) *got = 0;
  if (conn == nullptr || got == nullptr || (dst == nullptr && len > 0)) return TERN_ERROR;
  if (len == 0) return TERN_OK;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(conn->deadline -
                                                                      std::chrono::steady_clock::now());
    if (left.count() <= 0) return TERN_DEFER;
    pollfd p{conn->fd, POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return TERN_ERROR;
    }
    if (n == 0) return TERN_DEFER;
    ssize_t r = read(conn->fd, dst, len);  // at most len: nothing is read ahead
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return TERN_ERROR;
    }
    *got = static_cast<size_t>(r);
    return TERN_OK;
  }
}

tern_status conn_set_addresses(tern_conn* conn, tern_str client_ip, uint16_t client_port, tern_str local_ip,
                               uint16_t local_port) {
  if (conn == nullptr || client_ip.ptr == nullptr || local_ip.ptr == nullptr) return TERN_ERROR;
  std::string_view c(client_ip.ptr, client_ip.len), l(local_ip.ptr, local_ip.len);
  if (!text::parse_ip_address(c, false) || !text::parse_ip_address(l, false)) return TERN_ERROR;
  conn->client_ip = c;
  conn->client_port = client_port;
  conn->local_ip = l;
  conn->local_port = local_port;
  conn->addresses_replaced = true;
  return TERN_OK;
}

}  // namespace tern::module_host

namespace tern::module_host {

tern_status conn_set_timeout(tern_conn* conn, uint32_t ms) {
  if (conn == nullptr) return TERN_ERROR;
  conn->deadline = std::min(conn->core_deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(ms));
  return TERN_OK;
}

}  // namespace tern::module_host
