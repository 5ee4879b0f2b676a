// modules/lookup_servers/server_choice.cpp: Exim's lf_sqlperform() server choice and item split.
#include "server_choice.hpp"

#include <cctype>

#include "exim_list.hpp"

namespace tern::lookup_servers {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

}  // namespace

std::variant<Selection, std::string> select_servers(const Flavor& flavor, std::string_view query,
                                                    std::string_view opts,
                                                    const std::optional<std::string>& main_list) {
  const std::string name(flavor.display);
  Selection sel;
  if (query.starts_with("servers")) {
    // The older form: "servers=a:b;<query>" (the list ends at the first ';').
    size_t i = 7;
    while (i < query.size() && is_space(query[i])) ++i;
    if (i >= query.size() || query[i++] != '=') return "missing = after \"servers\" in " + name + " lookup";
    while (i < query.size() && is_space(query[i])) ++i;
    size_t semicolon = query.find(';', i);
    if (semicolon == std::string_view::npos) return "missing ; after \"servers=\" in " + name + " lookup";
    if (semicolon == i) return "\"servers=\" defines no servers in \"" + std::string(query) + "\"";
    sel.names = split_list(query.substr(i, semicolon - i));
    sel.query = std::string(query.substr(semicolon + 1));
    sel.old_syntax = true;
    return sel;
  }
  sel.query = std::string(query);
  for (const std::string& opt : split_list_fixed(opts, ','))
    if (opt.starts_with("servers=")) {
      sel.names = split_list(std::string_view(opt).substr(8));
      return sel;
    }
  if (!main_list) return "no " + name + " servers defined (" + std::string(flavor.option) + " option)";
  sel.names = split_list(*main_list);
  return sel;
}

std::variant<std::string, std::string> resolve_server(const Flavor& flavor, const std::string& name,
                                                      const std::optional<std::string>& main_list) {
  using Result = std::variant<std::string, std::string>;
  if (name.find('/') != std::string::npos) return Result(std::in_place_index<0>, name);
  if (main_list)
    for (std::string& full : split_list(*main_list))
      if (full.size() > name.size() && full.compare(0, name.size(), name) == 0 && full[name.size()] == '/')
        return Result(std::in_place_index<0>, std::move(full));
  return Result(std::in_place_index<1>, std::string(flavor.display) + " server \"" + name + "\" not found in " +
                                            std::string(flavor.option));
}

std::optional<ItemFields> split_item(std::string_view item, size_t count, std::string_view what,
                                     std::string& error) {
  // Exim cuts at the last slash `count` times; its message shows what is
  // left without the password (or the whole item when there is no slash).
  ItemFields f;
  f.fields.resize(count);
  std::string rest(item);
  for (size_t i = count; i-- > 0;) {
    size_t slash = rest.rfind('/');
    if (slash == std::string::npos) {
      error = "incomplete " + std::string(what) + " server data: " + (i + 1 == count ? rest : f.sans_password);
      return std::nullopt;
    }
    f.fields[i] = rest.substr(slash + 1);
    rest.resize(slash);
    if (i + 1 == count) f.sans_password = rest;
  }
  f.host = std::move(rest);
  return f;
}

}  // namespace tern::lookup_servers
