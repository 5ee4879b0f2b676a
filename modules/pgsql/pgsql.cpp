// modules/pgsql/pgsql.cpp: the `pgsql` lookup type and ${quote_pgsql:}, on libpq.
//
// Exim 4.96's lookups/pgsql.c, as a tern module: a server item is
// `host[:port]/db/user/password` or `(/dir/.s.PGSQL.port)/db/user/password`
// (a Unix socket); the connection uses client encoding SQL_ASCII and drops
// notices, as Exim's does. On top of Exim: connections are reused across
// lookups and threads (lookup_servers/server_pool.hpp), connecting and queries
// have timeouts (pgsql_connect_timeout, pgsql_query_timeout; the server also
// enforces the latter as statement_timeout), and a server that failed is
// held down (pgsql_hold_down). See README.md.
#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "../sqllookup/result_text.hpp"
#include "../sqllookup/sql_module.hpp"
#include "../sqllookup/sql_quote.hpp"

namespace {

// The SQL lookups' shared parts: Answer, Opened, Outcome, RowsText, ...
using namespace tern::sqllookup;  // NOLINT(google-build-using-namespace)
using Clock = std::chrono::steady_clock;

// Waits until `fd` is ready for `events` or `deadline` passes (no deadline
// when it is Clock::time_point::max()). False on timeout.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
  if (fd < 0) return true;  // no socket: libpq's next call says why
  for (;;) {
    int ms = -1;
    if (deadline != Clock::time_point::max()) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      ms = left > 60000 ? 60000 : static_cast<int>(left);
    }
    pollfd p{fd, events, 0};
    int r = poll(&p, 1, ms);
    if (r > 0) return true;  // ready, or an error/hang-up the next libpq call reports
    if (r < 0 && errno != EINTR) return true;
  }
}

Clock::time_point deadline_after(std::chrono::seconds s) {
  return s.count() > 0 ? Clock::now() + s : Clock::time_point::max();
}

void ignore_notice(void*, const char*) {}

// libpq's socket, or -1 when the connection is not good.
int pg_socket(PGconn* c) { return PQstatus(c) == CONNECTION_OK ? PQsocket(c) : -1; }

using PgConnection = LibraryConnection<PGconn, PQfinish, pg_socket>;

// Where a server item connects: libpq's host and port.
struct Target {
  std::string host;  // a host name, an address, or a socket directory
  std::string port;  // empty: the default
};

class Pgsql final : public SqlModule {
 public:
  Pgsql() : SqlModule({"pgsql", "PostgreSQL", "pgSQL"}) {}

 protected:
  Opened open(const ServerFields& f, const Settings& s) override {
    Target t;
    std::string host = f.host;
    if (!host.empty() && host.front() == '(') {
      // (/var/run/postgresql/.s.PGSQL.5432): the directory and the port.
      size_t close = host.find(')');
      std::string path = host.substr(1, close == std::string::npos ? close : close - 1);
      size_t slash = path.rfind('/');
      size_t dot = path.rfind('.');
      if (slash == std::string::npos || dot == std::string::npos)
        return {nullptr, "PGSQL invalid filename for socket: " + path, true};
      // As Exim: the port runs from the last dot to the end of the directory
      // part when the dot comes before the last slash.
      t.host = path.substr(0, slash);
      t.port = dot < slash ? path.substr(dot + 1, slash - dot - 1) : path.substr(dot + 1);
    } else {
      size_t colon = host.find(':');
      t.host = host.substr(0, colon);
      if (colon != std::string::npos) t.port = host.substr(colon + 1);
      if (t.host.find('/') != std::string::npos)
        return {nullptr, "unexpected slash in pgSQL server hostname: " + t.host, true};
    }
    return connect(t, f, s);
  }

  Answer run(Connection& base, std::string_view query,
             const Settings& s) override {
    PGconn* c = static_cast<PgConnection&>(base).raw();
    const std::string q(query);
    if (!PQsendQuery(c, q.c_str()))
      return query_failed(std::string(PQerrorMessage(c)) + " (PGRES_FATAL_ERROR)", q);
    // The server cancels a query after pgsql_query_timeout (statement_timeout);
    // this deadline, a second later, covers a server that no longer answers.
    const Clock::time_point deadline =
        s.query_timeout.count() > 0 ? Clock::now() + s.query_timeout + std::chrono::seconds(1)
                                    : Clock::time_point::max();
    // As PQexec: the last result of the statements in the query.
    PGresult* last = nullptr;
    for (;;) {
      while (PQisBusy(c)) {
        if (!wait_fd(PQsocket(c), POLLIN, deadline)) {
          PQclear(last);
          return query_failed("no answer within " + std::to_string(s.query_timeout.count() + 1) +
                                  "s (pgsql_query_timeout is " +
                                  std::to_string(s.query_timeout.count()) + "s)",
                              q);
        }
        if (!PQconsumeInput(c)) break;  // the connection is lost: PQgetResult says so
      }
      PGresult* r = PQgetResult(c);
      if (!r) break;
      PQclear(last);
      last = r;
      ExecStatusType st = PQresultStatus(r);
      if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH ||
          PQstatus(c) == CONNECTION_BAD)
        break;
    }
    Answer a = answer(last, q);
    a.reusable = a.reusable && PQstatus(c) == CONNECTION_OK && PQisBusy(c) == 0;
    PQclear(last);
    return a;
  }

  // Exim's pgsql_quote: a single quote doubled (sqllookup/sql_quote.hpp).
  std::string quote(std::string_view in) const override {
    return sql_quote(in, "''");
  }

 private:
  Opened connect(const Target& t, const ServerFields& f, const Settings& s) {
    const std::string timeout =
        s.query_timeout.count() > 0
            ? "-c statement_timeout=" + std::to_string(s.query_timeout.count() * 1000)
            : std::string();
    // Empty values take libpq's defaults (and environment), as
    // PQsetdbLogin does for Exim; an empty database is the user's default.
    const char* keys[] = {"host",     "port",            "dbname",  "user",
                          "password", "client_encoding", "options", nullptr};
    const char* values[] = {t.host.c_str(),
                            t.port.c_str(),
                            f.database.empty() ? nullptr : f.database.c_str(),
                            f.user.c_str(),
                            f.password.c_str(),
                            "SQL_ASCII",
                            timeout.empty() ? nullptr : timeout.c_str(),
                            nullptr};
    PGconn* c = PQconnectStartParams(keys, values, 0);
    if (c == nullptr) return {nullptr, "PGSQL connection failed: out of memory", false};
    auto conn = std::make_unique<PgConnection>(c);
    const Clock::time_point deadline = deadline_after(s.connect_timeout);
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (PQstatus(c) != CONNECTION_BAD && st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
      short events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
      if (!wait_fd(PQsocket(c), events, deadline))
        return {nullptr, "PGSQL connection failed: " + describe(t) + " failed: timeout expired after " +
                             std::to_string(s.connect_timeout.count()) + "s\n",
                false};
      st = PQconnectPoll(c);
    }
    if (PQstatus(c) != CONNECTION_OK)
      return {nullptr, std::string("PGSQL connection failed: ") + PQerrorMessage(c), false};
    PQsetNoticeProcessor(c, ignore_notice, nullptr);
    return {std::move(conn), {}, false};
  }

  // libpq's words for the server in its messages.
  static std::string describe(const Target& t) {
    std::string port = t.port.empty() ? "5432" : t.port;
    if (t.host.empty() || t.host.front() == '/')
      return "connection to server on socket \"" +
             (t.host.empty() ? std::string("/var/run/postgresql") : t.host) + "/.s.PGSQL." + port +
             "\"";
    return "connection to server at \"" + t.host + "\", port " + port;
  }

  // Exim's text for a query that failed: "PGSQL: query failed: <why> (<query>)".
  static Answer query_failed(const std::string& why, const std::string& q) {
    return Answer{Outcome::defer("PGSQL: query failed: " + why + " (" + q + ")\n"), false};
  }

  // Exim's reading of a result: data, not found, or a deferral.
  static Answer answer(PGresult* r, const std::string& q) {
    if (r == nullptr) return query_failed(" (PGRES_FATAL_ERROR)", q);
    RowsText rows(SingleNull::kEmptyRow);
    bool write = false;
    switch (PQresultStatus(r)) {
      case PGRES_EMPTY_QUERY:
      case PGRES_COMMAND_OK:
        // Not a SELECT: the number of rows affected (empty for other
        // commands, which makes the lookup fail), never cached.
        rows.add_count(PQcmdTuples(r));
        write = true;
        break;
      case PGRES_TUPLES_OK: break;
      default:
        return query_failed(std::string(PQresultErrorMessage(r)) + " (" +
                                PQresStatus(PQresultStatus(r)) + ")",
                            q);
    }
    const int nfields = PQnfields(r);
    std::vector<std::string_view> names;
    for (int j = 0; j < nfields; ++j) names.emplace_back(PQfname(r, j));
    std::vector<Cell> cells(static_cast<size_t>(nfields));
    for (int i = 0, n = PQntuples(r); i < n; ++i) {
      for (int j = 0; j < nfields; ++j)
        cells[static_cast<size_t>(j)] =
            PQgetisnull(r, i, j) ? Cell{}
                                 : Cell{PQgetvalue(r, i, j), static_cast<size_t>(PQgetlength(r, i, j))};
      rows.add_row(names, cells);
    }
    if (!rows.found()) return Answer{Outcome::not_found(write), true};
    return Answer{Outcome::found(rows.take(), write), true};
  }
};

}  // namespace

TERN_MODULE(Pgsql, "pgsql", "1.0.0")
