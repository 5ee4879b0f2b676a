// modules/redis/server_list.cpp: Exim's list and server-item syntax for Redis.
#include "server_list.hpp"

#include <cctype>

namespace tern::redis {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// Exim's string_nextinlist over the whole list. `may_change`: a leading
// "<c" sets the separator (Exim allows it when the caller gives none).
std::vector<std::string> exim_list(std::string_view s, char sep, bool may_change) {
  std::vector<std::string> items;
  size_t i = 0;
  const size_t n = s.size();
  auto skip_space = [&] {
    while (i < n && is_space(s[i]) && s[i] != sep) ++i;
  };
  skip_space();
  if (may_change && i + 1 < n && s[i] == '<' &&
      (std::ispunct(static_cast<unsigned char>(s[i + 1])) || std::iscntrl(static_cast<unsigned char>(s[i + 1])))) {
    sep = s[i + 1];
    i += 2;
  }
  const bool special = std::iscntrl(static_cast<unsigned char>(sep)) != 0;
  for (;;) {
    skip_space();
    if (i >= n) break;
    if (s[i] == sep) {
      ++i;
      if (i >= n || s[i] != sep || special) {
        items.emplace_back();  // an empty item
        continue;
      }
    }
    // s[i] is data (possibly a separator written twice).
    std::string item;
    for (;;) {
      size_t j = i + 1;
      while (j < n && s[j] != sep) ++j;
      item.append(s.substr(i, j - i));
      i = j;
      if (i >= n || ++i >= n || s[i] != sep || special) break;
    }
    while (!item.empty() && is_space(item.back()) && (item.size() == 1 || item[item.size() - 2] != '\\'))
      item.pop_back();
    items.push_back(std::move(item));
  }
  return items;
}

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

// An option element "servers=<list>" among the comma-separated options.
std::optional<std::string> servers_option(std::string_view opts) {
  for (auto& o : exim_list(opts, ',', false))
    if (o.rfind("servers=", 0) == 0) return o.substr(8);
  return std::nullopt;
}

// The full item for `name`: itself when it has a slash, else the item of
// the main list that starts with "name/"; nullopt when there is none.
std::optional<std::string> resolve(const std::string& name, const std::optional<std::string>& main_list) {
  if (name.find('/') != std::string::npos) return name;
  if (main_list)
    for (auto& e : split_list(*main_list))
      if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '/') return e;
  return std::nullopt;
}

}  // namespace

std::vector<std::string> split_list(std::string_view list, char separator) {
  return exim_list(list, separator, true);
}

std::string ServerSpec::where() const { return socket.empty() ? host + ":" + std::to_string(port) : socket; }

std::variant<ServerSpec, std::string> parse_server(std::string_view item) {
  // From the right: the password, then the database (Exim's Ustrrchr).
  size_t last = item.rfind('/');
  if (last == std::string_view::npos) return "incomplete Redis server data: " + std::string(item);
  std::string_view rest = item.substr(0, last);
  size_t mid = rest.rfind('/');
  if (mid == std::string_view::npos) return "incomplete Redis server data: " + std::string(rest);
  ServerSpec spec;
  std::string password(item.substr(last + 1));
  spec.db = std::string(rest.substr(mid + 1));
  std::string host(rest.substr(0, mid));
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

std::variant<Selection, std::string> select_servers(std::string_view query, std::string_view opts,
                                                    const std::optional<std::string>& main_list) {
  Selection sel;
  std::vector<std::string> names;
  if (query.rfind("servers", 0) == 0) {
    // Exim's older "servers=<list>;<query>", kept for old configurations.
    size_t i = 7;
    while (i < query.size() && is_space(query[i])) ++i;
    if (i >= query.size() || query[i] != '=') return std::string("missing = after \"servers\" in Redis lookup");
    ++i;
    while (i < query.size() && is_space(query[i])) ++i;
    size_t semi = query.find(';', i);
    if (semi == std::string_view::npos) return std::string("missing ; after \"servers=\" in Redis lookup");
    if (semi == i) return "\"servers=\" defines no servers in \"" + std::string(query) + "\"";
    names = split_list(query.substr(i, semi - i));
    sel.query = std::string(query.substr(semi + 1));
    sel.old_syntax = true;
  } else {
    sel.query = std::string(query);
    if (auto o = servers_option(opts)) names = split_list(*o);
    else if (main_list) names = split_list(*main_list);
    else return std::string("no Redis servers defined (redis_servers option)");
  }
  for (auto& name : names) {
    auto item = resolve(name, main_list);
    if (!item) return "Redis server \"" + name + "\" not found in redis_servers";
    sel.items.push_back(std::move(*item));
  }
  if (sel.items.empty()) return std::string("no Redis servers defined (redis_servers option)");
  return sel;
}

}  // namespace tern::redis
