// modules/mysql/mysql.cpp: the `mysql` lookup type and ${quote_mysql:}, on
// MariaDB's client library (the libmysqlclient API).
//
// Exim 4.96's lookups/mysql.c, as a tern module: a server item is
// `host:port(socket)[group]/db/user/password`, every part of the first
// field optional; [group] names the option group read from the MySQL option
// files (default `exim`). Results are streamed (mysql_use_result) and the
// connection asks for multiple results (CLIENT_MULTI_RESULTS, for stored
// procedures), of which the first counts, as in Exim. On top of Exim:
// connections are reused across lookups and threads, connecting and queries
// have timeouts (mysql_connect_timeout; mysql_query_timeout bounds each wait
// for the server), and a server that failed is held down (mysql_hold_down).
// See README.md.
#include <errmsg.h>
#include <mysql.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "../sqllookup/result_text.hpp"
#include "../sqllookup/sql_module.hpp"
#include "../sqllookup/sql_quote.hpp"

namespace {

// The SQL lookups' shared parts: Answer, Opened, Outcome, RowsText, ...
using namespace tern::sqllookup;  // NOLINT(google-build-using-namespace)

int mysql_socket(MYSQL* m) { return static_cast<int>(mysql_get_socket(m)); }

using MyConnection = LibraryConnection<MYSQL, mysql_close, mysql_socket>;

// Where a server item connects, after Exim's parsing of its first field.
struct Target {
  std::string host;
  unsigned port = 0;  // 0: the default
  std::string socket;
  bool has_socket = false;
  std::string group = "exim";
};

class Mysql final : public SqlModule {
 public:
  Mysql() : SqlModule({"mysql", "MySQL", "MySQL"}) {}

 protected:
  void prepare() override {
    // The library's global set-up is not thread-safe: done here rather than
    // by the first mysql_init on some pool thread. It is never undone
    // (another generation of this module may still use it); the module is
    // linked -z nodelete so that the library stays loaded with it.
    mysql_library_init(0, nullptr, nullptr);
  }

  Opened open(const ServerFields& f, const Settings& s) override {
    Target t;
    std::string host = f.host;
    // host:port(socket)[group], every part optional, taken apart from the end.
    if (size_t bracket = host.find('['); bracket != std::string::npos) {
      size_t close = host.find(']', bracket);
      t.group = host.substr(bracket + 1, close == std::string::npos ? close : close - bracket - 1);
      host.resize(bracket);
    }
    if (size_t paren = host.find('('); paren != std::string::npos) {
      size_t close = host.find(')', paren);
      t.socket = host.substr(paren + 1, close == std::string::npos ? close : close - paren - 1);
      t.has_socket = true;
      host.resize(paren);
    }
    // One colon: a port. Several (IPv6): the port follows the last dot.
    if (size_t colon = host.rfind(':'); colon != std::string::npos) {
      size_t cut = host.find(':') == colon ? colon : host.rfind('.');
      if (cut != std::string::npos) {
        t.port = static_cast<unsigned>(std::atoi(host.c_str() + cut + 1));
        host.resize(cut);
      }
    }
    if (host.find('/') != std::string::npos)
      return {nullptr, "unexpected slash in MySQL server hostname: " + host, true};
    t.host = host;
    return connect(t, f, s);
  }

  Answer run(Connection& base, std::string_view query,
             const Settings& s) override {
    MYSQL* m = static_cast<MyConnection&>(base).raw();
    const auto start = std::chrono::steady_clock::now();
    auto failed = [&](const char* what) {
      std::string why = std::string(what) + mysql_error(m);
      // The library's words for a read that timed out do not say so.
      if (mysql_errno(m) == CR_SERVER_LOST && s.query_timeout.count() > 0 &&
          std::chrono::steady_clock::now() - start >= s.query_timeout)
        why += " (mysql_query_timeout is " + std::to_string(s.query_timeout.count()) + "s)";
      return Answer{Outcome::defer(why + "\n"), false};
    };
    if (mysql_real_query(m, query.data(), query.size()) != 0) return failed("MYSQL: query failed: ");
    MYSQL_RES* res = mysql_use_result(m);
    if (res == nullptr) {
      if (mysql_field_count(m) != 0) return failed("MYSQL: lookup result failed: ");
      // INSERT, UPDATE, DELETE...: the number of rows affected, never cached.
      std::string count = std::to_string(static_cast<long long>(mysql_affected_rows(m)));
      return finish(m, Outcome::found(std::move(count), true));
    }
    const unsigned nfields = mysql_num_fields(res);
    const MYSQL_FIELD* fields = mysql_fetch_fields(res);
    std::vector<std::string_view> names;
    for (unsigned j = 0; j < nfields; ++j) names.emplace_back(fields[j].name);
    std::vector<Cell> cells(nfields);
    RowsText rows(SingleNull::kNothing);
    while (MYSQL_ROW row = mysql_fetch_row(res)) {
      const unsigned long* lengths = mysql_fetch_lengths(res);
      for (unsigned j = 0; j < nfields; ++j) cells[j] = Cell{row[j], row[j] ? lengths[j] : 0};
      rows.add_row(names, cells);
    }
    // A row that could not be read (lost connection, read timeout) would
    // otherwise end the result early without a word.
    if (mysql_errno(m) != 0) {
      Answer a = failed("MYSQL: lookup result failed: ");
      mysql_free_result(res);
      return a;
    }
    mysql_free_result(res);
    return finish(m, rows.found() ? Outcome::found(rows.take()) : Outcome::not_found());
  }

  // Exim's mysql_quote: a single quote after a backslash (sqllookup/sql_quote.hpp).
  std::string quote(std::string_view in) const override {
    return sql_quote(in, "\\'");
  }

 private:
  Opened connect(const Target& t, const ServerFields& f, const Settings& s) {
    MYSQL* m = mysql_init(nullptr);
    if (m == nullptr) return {nullptr, "MYSQL connection failed: out of memory", false};
    auto conn = std::make_unique<MyConnection>(m);
    mysql_options(m, MYSQL_READ_DEFAULT_GROUP, t.group.c_str());
    // Seconds, as the library counts them; 0 leaves the library's default.
    if (unsigned v = static_cast<unsigned>(s.connect_timeout.count()); v > 0)
      mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &v);
    if (unsigned v = static_cast<unsigned>(s.query_timeout.count()); v > 0) {
      mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &v);
      mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &v);
    }
    // An empty database: none (the query names it), as Exim.
    if (mysql_real_connect(m, t.host.c_str(), f.user.c_str(), f.password.c_str(),
                           f.database.empty() ? nullptr : f.database.c_str(), t.port,
                           t.has_socket ? t.socket.c_str() : nullptr, CLIENT_MULTI_RESULTS) == nullptr)
      return {nullptr, std::string("MYSQL connection failed: ") + mysql_error(m), false};
    return {std::move(conn), {}, false};
  }

  // After the first result: Exim reads no further results (a stored
  // procedure's status) but asks for them; an error there is reported, and
  // defers the lookup only when it found nothing.
  static Answer finish(MYSQL* m, Outcome outcome) {
    for (;;) {
      int more = mysql_next_result(m);
      if (more < 0) return Answer{std::move(outcome), true};
      if (more > 0) {
        std::string why =
            "MYSQL: lookup result error when checking for more results: " + std::string(mysql_error(m)) + "\n";
        if (outcome.kind == Outcome::Kind::kFound) return Answer{std::move(outcome), false};
        return Answer{Outcome::defer(std::move(why)), false};
      }
      if (MYSQL_RES* extra = mysql_use_result(m)) {
        while (mysql_fetch_row(extra)) {
        }
        mysql_free_result(extra);
      }
    }
  }
};

}  // namespace

TERN_MODULE(Mysql, "mysql", "1.0.0")
