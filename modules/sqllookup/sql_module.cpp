// modules/sqllookup/sql_module.cpp: options, server choice, connection reuse
// and hold-down for the SQL lookup modules.
#include "sql_module.hpp"

#include <utility>

namespace tern::sqllookup {
namespace {

constexpr const char* kDefaultConnectTimeout = "5s";
constexpr const char* kDefaultQueryTimeout = "10s";
constexpr const char* kDefaultHoldDown = "10s";

}  // namespace

SqlModule::SqlModule(Names names) : names_(names) {}

std::string SqlModule::option_name(const char* suffix) const {
  return std::string(names_.type) + "_" + suffix;
}

tern::Status SqlModule::init(tern::Registrar& r) {
  r.option(option_name("servers"), tern::OptionType::kString, tern::scope::kMain);
  r.option(option_name("connect_timeout"), tern::OptionType::kTime, tern::scope::kMain,
           kDefaultConnectTimeout);
  r.option(option_name("query_timeout"), tern::OptionType::kTime, tern::scope::kMain,
           kDefaultQueryTimeout);
  r.option(option_name("hold_down"), tern::OptionType::kTime, tern::scope::kMain, kDefaultHoldDown);
  r.lookup(names_.type,
           {.query = true,
            .blocking = tern::kMayBlock,
            .find = [this](tern::Call& c, tern::LookupRequest& q) { return find(c, q); },
            .quote = [this](std::string_view in, std::string_view options) {
              // Exim's SQL quote functions take no options:
              // ${quote_pgsql_x:...} is refused (the core words the error).
              if (!options.empty()) throw tern::Error("no options for this quote function");
              return quote(in);
            }});
  if (r.status() == tern::ok() && !r.discovery()) prepare();
  return r.status();
}

void SqlModule::fini() {
  idle_.clear();
  down_.clear();
}

Settings SqlModule::settings(tern::Call& call) const {
  // The core answers with the configured value or the default above; a
  // host without defaults (the unit tests' fake) leaves Settings' own.
  Settings s;
  auto read = [&](const char* suffix, std::chrono::seconds& into) {
    if (auto v = call.option_int(option_name(suffix)); v && *v >= 0) into = std::chrono::seconds(*v);
  };
  read("connect_timeout", s.connect_timeout);
  read("query_timeout", s.query_timeout);
  read("hold_down", s.hold_down);
  return s;
}

std::optional<std::string> SqlModule::find(tern::Call& call, tern::LookupRequest& req) {
  std::optional<std::string> servers;
  std::string text;
  if (call.option(option_name("servers"), text) == tern::ok()) servers = std::move(text);
  const Settings s = settings(call);
  const std::string option = option_name("servers");
  Outcome o = perform_on_servers(
      Flavor{names_.display, option}, servers, req.key, req.options,
      [&](std::string_view query, std::string_view server) { return perform(query, server, s); });
  req.no_cache = o.no_cache;
  switch (o.kind) {
    case Outcome::Kind::kFound: return std::move(o.data);
    case Outcome::Kind::kNotFound: return std::nullopt;
    case Outcome::Kind::kDefer: break;
  }
  throw tern::Defer(o.error);
}

Outcome SqlModule::perform(std::string_view query, std::string_view server, const Settings& s) {
  std::string error;
  std::optional<ServerFields> fields = split_server(server, names_.item_label, error);
  if (!fields) return Outcome::defer(error, true);
  // Connections are kept per complete item, password included: another
  // password never rides on a connection that was opened with the right one.
  const std::string key(server);
  if (auto down = down_.held_down(key))
    return Outcome::defer(lookup_servers::held_down_text(names_.display, fields->sans_password, *down));
  std::unique_ptr<Connection> conn = idle_.take(key);
  if (!conn) {
    Opened opened = open(*fields, s);
    if (!opened.conn) {
      if (!opened.stop) down_.mark_down(key, opened.error, s.hold_down);
      return Outcome::defer(std::move(opened.error), opened.stop);
    }
    conn = std::move(opened.conn);
  }
  Answer a = run(*conn, query, s);
  if (a.reusable) idle_.give_back(key, std::move(conn));
  return std::move(a.outcome);
}

}  // namespace tern::sqllookup
