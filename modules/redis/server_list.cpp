// modules/redis/server_list.cpp: Redis server items (host, port, socket, database, ACL user).
#include "server_list.hpp"

#include <cctype>

namespace tern::redis {
namespace {

// A port number, 1..65535.
std::optional<int> port_number(std::string_view digits) {
  if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  int p = std::stoi(std::string(digits));
  if (p < 1 || p > 65535) return std::nullopt;
  return p;
}

// Splits "host:port" or "[v6]:port" (the port optional) in place; the
// reason when the form is wrong.
std::optional<std::string> take_port(std::string& host, int& port) {
  std::string name = host;
  std::optional<std::string> port_text;
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    if (close == std::string::npos) return "unterminated [ in Redis server hostname: " + host;
    name = host.substr(1, close - 1);
    std::string rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return "bad port in Redis server data: " + host;
      port_text = rest.substr(1);
    }
  } else if (size_t colon = host.find(':'); colon != std::string::npos) {
    name = host.substr(0, colon);
    port_text = host.substr(colon + 1);
  }
  if (port_text) {
    auto p = port_number(*port_text);
    if (!p) return "bad port in Redis server data: " + host;
    port = *p;
  }
  host = std::move(name);
  return std::nullopt;
}

}  // namespace

std::string ServerSpec::where() const { return socket.empty() ? host + ":" + std::to_string(port) : socket; }

std::variant<ServerSpec, std::string> parse_server(std::string_view item) {
  // From the right: the password, then the database (Exim's Ustrrchr).
  std::string error;
  auto fields = lookup_servers::split_item(item, 2, kFlavor.display, error);
  if (!fields) return error;
  const std::string& rest = fields->sans_password;  // for messages
  ServerSpec spec;
  std::string password = std::move(fields->fields[1]);
  spec.db = std::move(fields->fields[0]);
  std::string host = std::move(fields->host);
  // "(socket)": the path runs to the ')' (or the end); text before it is
  // the (unused) host part, as in Exim.
  size_t paren = host.find('(');
  if (paren != std::string::npos) {
    size_t close = host.find(')', paren);
    spec.socket = host.substr(paren + 1, close == std::string::npos ? std::string::npos : close - paren - 1);
    host.erase(paren);
    if (spec.socket.empty()) return "empty socket path in Redis server data: " + std::string(rest);
  }
  if (host.find('/') != std::string::npos) return "unexpected slash in Redis server hostname: " + host;
  if (spec.socket.empty()) {
    if (auto why = take_port(host, spec.port)) return *why;
    if (host.empty()) return "no host in Redis server data: " + std::string(rest);
    spec.host = host;
  }
  if (!spec.db.empty() && spec.db.find_first_not_of("0123456789") != std::string::npos)
    return "bad database number in Redis server data: " + std::string(rest);
  size_t colon = password.find(':');
  if (colon != std::string::npos) {
    spec.user = password.substr(0, colon);
    password.erase(0, colon + 1);
  }
  spec.password = std::move(password);
  return spec;
}

std::variant<ServerSpec, std::string> server_spec(const std::string& name,
                                                  const std::optional<std::string>& main_list) {
  auto item = lookup_servers::resolve_server(kFlavor, name, main_list);
  if (item.index() == 1) return std::get<1>(std::move(item));
  return parse_server(std::get<0>(item));
}

}  // namespace tern::redis
