// modules/sqllookup/servers.cpp: Exim's lf_sqlperform() and server item split.
#include "servers.hpp"

#include <cctype>
#include <vector>

#include "exim_list.hpp"

namespace tern::sqllookup {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// A server item as written: a full item (with a slash) as is, a bare name
// replaced by the first item of the main option that starts with "name/".
std::optional<std::string> resolve(const Flavor& flavor, const std::optional<std::string>& main_list,
                                   const std::string& item, std::string& error) {
  if (item.find('/') != std::string::npos) return item;
  if (main_list) {
    for (const std::string& full : split_list(*main_list))
      if (full.size() > item.size() && full.compare(0, item.size(), item) == 0 &&
          full[item.size()] == '/')
        return full;
  }
  error = std::string(flavor.display) + " server \"" + item + "\" not found in " +
          std::string(flavor.option);
  return std::nullopt;
}

// Tries each item of `servers` in turn; the last deferral is the result.
Outcome try_each(const Flavor& flavor, const std::optional<std::string>& main_list,
                 const std::vector<std::string>& servers, std::string_view query,
                 const PerformFn& perform) {
  Outcome last = Outcome::defer("");
  bool no_cache = false;
  for (const std::string& item : servers) {
    std::string error;
    std::optional<std::string> server = resolve(flavor, main_list, item, error);
    if (!server) return Outcome::defer(error, true);
    last = perform(query, *server);
    no_cache = no_cache || last.no_cache;
    last.no_cache = no_cache;
    if (last.kind != Outcome::Kind::kDefer || last.stop) return last;
  }
  return last;
}

}  // namespace

Outcome perform_on_servers(const Flavor& flavor, const std::optional<std::string>& main_list,
                           std::string_view query, std::string_view opts,
                           const PerformFn& perform) {
  const std::string name(flavor.display);
  if (query.starts_with("servers")) {
    // The older form: "servers=a:b;select ..." (the list ends at the first ';').
    size_t i = 7;
    while (i < query.size() && is_space(query[i])) ++i;
    if (i >= query.size() || query[i++] != '=')
      return Outcome::defer("missing = after \"servers\" in " + name + " lookup");
    while (i < query.size() && is_space(query[i])) ++i;
    size_t semicolon = query.find(';', i);
    if (semicolon == std::string_view::npos)
      return Outcome::defer("missing ; after \"servers=\" in " + name + " lookup");
    if (semicolon == i)
      return Outcome::defer("\"servers=\" defines no servers in \"" + std::string(query) + "\"");
    return try_each(flavor, main_list, split_list(query.substr(i, semicolon - i)),
                    query.substr(semicolon + 1), perform);
  }
  std::optional<std::string> servers;
  for (const std::string& opt : split_list_fixed(opts, ','))
    if (opt.starts_with("servers=")) {
      servers = opt.substr(8);
      break;
    }
  if (!servers) servers = main_list;
  if (!servers)
    return Outcome::defer("no " + name + " servers defined (" + std::string(flavor.option) +
                          " option)");
  return try_each(flavor, main_list, split_list(*servers), query, perform);
}

std::optional<ServerFields> split_server(std::string_view server, std::string_view what,
                                         std::string& error) {
  // Exim cuts at the last slash three times; its message shows what is left
  // without the password (or the whole item when there is no slash at all).
  std::string rest(server);
  std::string fields[3];
  std::string sans_password;
  for (int i = 2; i >= 0; --i) {
    size_t slash = rest.rfind('/');
    if (slash == std::string::npos) {
      error = "incomplete " + std::string(what) + " server data: " + (i == 2 ? rest : sans_password);
      return std::nullopt;
    }
    fields[i] = rest.substr(slash + 1);
    rest.resize(slash);
    if (i == 2) sans_password = rest;
  }
  return ServerFields{rest, fields[0], fields[1], fields[2], sans_password};
}

}  // namespace tern::sqllookup
