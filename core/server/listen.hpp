// core/server/listen.hpp: which addresses and ports the daemon listens on.
//
// Exim's rules: `local_interfaces` lists addresses, each optionally with
// ".port" (IPv6 in a "<;" list: "<; ::1.2525 ; 127.0.0.1"); addresses
// without a port get every port of `daemon_smtp_ports` (numbers or service
// names, "smtp" = 25). -oX replaces them: a list of ports replaces
// daemon_smtp_ports, a list with addresses ("127.0.0.1.2525") replaces
// local_interfaces.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"

namespace tern::server {

struct ListenAddress {
  std::string address;  // "0.0.0.0", "::", "127.0.0.1", ...
  uint16_t port = 0;
  bool operator==(const ListenAddress&) const = default;
};

Result<std::vector<ListenAddress>> listen_addresses(std::string_view local_interfaces,
                                                     std::string_view daemon_smtp_ports,
                                                     std::string_view minus_oX);

// A bound, listening, non-blocking, close-on-exec socket; IPv6 sockets are
// IPv6-only so "::" and "0.0.0.0" can both be bound. Errors name the address.
Result<int> bind_listener(const ListenAddress& a, int backlog);

// A port number or service name ("smtp", "submission", "smtps").
Result<uint16_t> parse_port(std::string_view s);

}  // namespace tern::server
