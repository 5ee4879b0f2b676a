// core/module_host/conn.hpp: the raw connection a pre-banner hook reads.
//
// make_conn() wraps a session's accepted socket before the banner; the
// hook reads with host->conn_read (never more than asked, so the SMTP
// session later sees every byte the module left) until the deadline, and
// may replace the addresses (PROXY protocol). The session reads the
// addresses back from the tern_conn after the hook point ran.
#pragma once

#include <chrono>
#include <string>

#include "core/module_host/boundary.hpp"

namespace tern::module_host {

tern_conn make_conn(int fd, std::chrono::milliseconds timeout, std::string client_ip, uint16_t client_port,
                    std::string local_ip, uint16_t local_port);

// The host entries (also in the host table).
tern_status conn_read(tern_conn* conn, void* dst, size_t len, size_t* got);
tern_status conn_set_addresses(tern_conn* conn, tern_str client_ip, uint16_t client_port, tern_str local_ip,
                               uint16_t local_port);
tern_status conn_set_timeout(tern_conn* conn, uint32_t ms);

}  // namespace tern::module_host
