// core/server/listen.cpp: listening addresses and sockets (see listen.hpp).
#include "core/server/listen.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/text/ipaddr.hpp"
#include "core/text/list.hpp"

namespace tern::server {

Result<uint16_t> parse_port(std::string_view s) {
  unsigned value = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc() && p == s.data() + s.size()) {
    if (value == 0 || value > 65535) return Error::failed("invalid port number " + std::string(s));
    return static_cast<uint16_t>(value);
  }
  std::string name(s);
  if (struct servent* se = getservbyname(name.c_str(), "tcp")) return static_cast<uint16_t>(ntohs(se->s_port));
  if (name == "smtp") return uint16_t{25};
  if (name == "submission") return uint16_t{587};
  if (name == "smtps" || name == "submissions") return uint16_t{465};
  return Error::failed("invalid port \"" + name + "\"");
}

namespace {

// "addr.port" -> (addr, port); "addr" -> (addr, nullopt).
Result<std::pair<std::string, std::optional<uint16_t>>> split_address(const std::string& item) {
  if (text::ip_version(item) != 0) return std::make_pair(item, std::optional<uint16_t>());
  size_t dot = item.rfind('.');
  if (dot != std::string::npos && text::ip_version(item.substr(0, dot)) != 0) {
    auto port = parse_port(item.substr(dot + 1));
    if (!port) return port.take_error();
    return std::make_pair(item.substr(0, dot), std::optional<uint16_t>(*port));
  }
  return Error::failed("malformed IP address \"" + item + "\" in local_interfaces or -oX");
}

bool has_address(const std::vector<std::string>& items) {
  for (const auto& i : items)
    if (i.find_first_of(".:") != std::string::npos && !parse_port(i)) return true;
  return false;
}

}  // namespace

Result<std::vector<ListenAddress>> listen_addresses(std::string_view local_interfaces,
                                                     std::string_view daemon_smtp_ports,
                                                     std::string_view minus_oX) {
  std::vector<std::string> interfaces = text::list_items(local_interfaces);
  std::vector<std::string> ports = text::list_items(daemon_smtp_ports);
  if (!minus_oX.empty()) {
    std::vector<std::string> items = text::list_items(minus_oX);
    if (has_address(items))
      interfaces = items;
    else
      ports = items;
  }
  std::vector<uint16_t> port_numbers;
  for (const auto& p : ports) {
    auto n = parse_port(p);
    if (!n) return n.take_error();
    port_numbers.push_back(*n);
  }
  if (port_numbers.empty()) port_numbers.push_back(25);
  std::vector<ListenAddress> out;
  auto add = [&](ListenAddress a) {
    for (const auto& o : out)
      if (o == a) return;
    out.push_back(std::move(a));
  };
  for (const auto& item : interfaces) {
    auto split = split_address(item);
    if (!split) return split.take_error();
    std::string addr = split->first;
    if (addr == "::0") addr = "::";
    if (split->second)
      add({addr, *split->second});
    else
      for (uint16_t p : port_numbers) add({addr, p});
  }
  if (out.empty()) return Error::failed("no addresses to listen on (local_interfaces is empty)");
  return out;
}

Result<int> bind_listener(const ListenAddress& a, int backlog) {
  const bool v6 = a.address.find(':') != std::string::npos;
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(a.port);
    if (inet_pton(AF_INET6, a.address.c_str(), &s6->sin6_addr) != 1)
      return Error::failed("invalid IPv6 address " + a.address);
    len = sizeof *s6;
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(a.port);
    if (inet_pton(AF_INET, a.address.c_str(), &s4->sin_addr) != 1)
      return Error::failed("invalid IPv4 address " + a.address);
    len = sizeof *s4;
  }
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::failed(std::string("socket: ") + std::strerror(errno));
  int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (v6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  std::string where = (v6 ? "[" + a.address + "]" : a.address) + ":" + std::to_string(a.port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int e = errno;
    ::close(fd);
    return Error::failed("socket bind() to port " + std::to_string(a.port) + " for address " + a.address +
                         " failed: " + std::strerror(e));
  }
  if (::listen(fd, backlog > 0 ? backlog : 20) != 0) {
    int e = errno;
    ::close(fd);
    return Error::failed("listen() on " + where + " failed: " + std::strerror(e));
  }
  return fd;
}

}  // namespace tern::server
