// modules/redis/command.cpp: splitting and quoting as Exim's redis lookup does,
// and where a command keeps its key.
#include "command.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace tern::redis {
namespace {

// isspace() in the C locale, as Exim uses it.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

bool is_one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// A non-negative decimal number, or nullopt.
std::optional<long> number(const std::string& s) {
  if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return std::strtol(s.c_str(), nullptr, 10);
}

// The index of the first key given "numkeys" at index n, or nullopt.
std::optional<size_t> after_numkeys(const Argv& argv, size_t n) {
  if (argv.size() <= n + 1) return std::nullopt;
  auto k = number(argv[n]);
  if (!k || *k == 0) return std::nullopt;
  return n + 1;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

}  // namespace

Argv split_command(std::string_view query) {
  Argv argv;
  size_t i = 0;
  const size_t n = query.size();
  while (i < n && is_space(query[i])) ++i;
  while (i < n) {
    std::string arg;
    while (i < n && !is_space(query[i])) {
      if (query[i] == '\\') {
        if (++i == n) break;  // a final lone backslash protects nothing
      }
      arg += query[i++];
    }
    argv.push_back(std::move(arg));
    while (i < n && is_space(query[i])) ++i;
  }
  return argv;
}

std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (is_space(c) || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string command_name(const Argv& argv) { return argv.empty() ? std::string() : upper(argv[0]); }

std::optional<size_t> key_index(const Argv& argv) {
  if (argv.size() < 2) return std::nullopt;
  const std::string name = command_name(argv);
  if (is_one_of(name, {"PING", "ECHO", "INFO", "DBSIZE", "TIME", "KEYS", "SCAN", "RANDOMKEY", "CLUSTER",
                       "CONFIG", "CLIENT", "COMMAND", "AUTH", "SELECT", "HELLO", "RESET", "FLUSHDB",
                       "FLUSHALL", "LASTSAVE", "SAVE", "BGSAVE", "BGREWRITEAOF", "MULTI", "EXEC",
                       "DISCARD", "UNWATCH", "WAIT", "WAITAOF", "PUBLISH", "PUBSUB", "SCRIPT", "FUNCTION",
                       "ACL", "LATENCY", "SLOWLOG", "ROLE", "LOLWUT", "DEBUG", "MONITOR", "SHUTDOWN",
                       "SWAPDB", "READONLY", "READWRITE", "ASKING", "QUIT", "REPLICAOF", "SLAVEOF",
                       "SYNC", "PSYNC", "MODULE", "FAILOVER", "SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE",
                       "PUNSUBSCRIBE"}))
    return std::nullopt;
  if (is_one_of(name, {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"}))
    return after_numkeys(argv, 2);
  if (is_one_of(name, {"ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD", "SINTERCARD", "LMPOP", "ZMPOP"}))
    return after_numkeys(argv, 1);
  if (is_one_of(name, {"BLMPOP", "BZMPOP"})) return after_numkeys(argv, 2);
  if (is_one_of(name, {"XREAD", "XREADGROUP"})) {
    for (size_t i = 1; i + 1 < argv.size(); ++i)
      if (upper(argv[i]) == "STREAMS") return i + 1;
    return std::nullopt;
  }
  if (is_one_of(name, {"OBJECT", "MEMORY", "XINFO", "BITOP"})) {
    if (argv.size() < 3) return std::nullopt;
    return 2;
  }
  if (name == "MIGRATE") {
    if (argv.size() < 4 || argv[3].empty()) return std::nullopt;
    return 3;
  }
  return 1;
}

bool changes_connection_state(const Argv& argv) {
  return is_one_of(command_name(argv),
                   {"SELECT", "AUTH", "HELLO", "RESET", "MULTI", "WATCH", "SUBSCRIBE", "PSUBSCRIBE",
                    "SSUBSCRIBE", "MONITOR", "CLIENT", "READONLY", "READWRITE", "ASKING", "SWAPDB",
                    "QUIT", "SYNC", "PSYNC", "REPLICAOF", "SLAVEOF"});
}

}  // namespace tern::redis
