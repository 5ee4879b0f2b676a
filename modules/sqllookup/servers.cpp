// modules/sqllookup/servers.cpp: Exim's lf_sqlperform() loop and the SQL server item split.
#include "servers.hpp"

#include <variant>
#include <vector>

namespace tern::sqllookup {
namespace {

// Tries each server named in `names` in turn; the last deferral is the result.
Outcome try_each(const Flavor& flavor, const std::optional<std::string>& main_list,
                 const std::vector<std::string>& names, std::string_view query, const PerformFn& perform) {
  Outcome last = Outcome::defer("");
  bool no_cache = false;
  for (const std::string& name : names) {
    auto server = lookup_servers::resolve_server(flavor, name, main_list);
    if (server.index() == 1) return Outcome::defer(std::get<1>(server), true);
    last = perform(query, std::get<0>(server));
    no_cache = no_cache || last.no_cache;
    last.no_cache = no_cache;
    if (last.kind != Outcome::Kind::kDefer || last.stop) return last;
  }
  return last;
}

}  // namespace

Outcome perform_on_servers(const Flavor& flavor, const std::optional<std::string>& main_list,
                           std::string_view query, std::string_view opts, const PerformFn& perform) {
  auto selected = lookup_servers::select_servers(flavor, query, opts, main_list);
  if (selected.index() == 1) return Outcome::defer(std::get<1>(selected));
  const lookup_servers::Selection& sel = std::get<0>(selected);
  return try_each(flavor, main_list, sel.names, sel.query, perform);
}

std::optional<ServerFields> split_server(std::string_view server, std::string_view what, std::string& error) {
  auto f = lookup_servers::split_item(server, 3, what, error);
  if (!f) return std::nullopt;
  return ServerFields{std::move(f->host), std::move(f->fields[0]), std::move(f->fields[1]),
                      std::move(f->fields[2]), std::move(f->sans_password)};
}

}  // namespace tern::sqllookup
