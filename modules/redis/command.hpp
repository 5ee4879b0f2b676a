// modules/redis/command.hpp: a lookup's query as a Redis command.
//
// Exim splits the query on white space into the command's arguments; a
// backslash makes the next character part of the argument (so "a\ b" is one
// argument "a b", and "a\\b" is "a\b"). ${quote_redis:} is the inverse: a
// backslash before every white-space character and every backslash.
//
// For Redis Cluster the module must know which argument is the key that
// decides the slot (key_index). The rule, from the key positions Redis
// declares (COMMAND INFO):
//   - commands without a key (PING, INFO, DBSIZE, KEYS, SCAN, CLUSTER, ...)
//     have none: they go to the first server of the list that answers;
//   - EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, FCALL, FCALL_RO: the first key
//     after numkeys (argument 3), none when numkeys is 0;
//   - ZUNION, ZINTER, ZDIFF, ZINTERCARD, SINTERCARD, LMPOP, ZMPOP: argument 2
//     (after numkeys); BLMPOP, BZMPOP: argument 3 (after timeout, numkeys);
//   - XREAD, XREADGROUP: the first argument after STREAMS;
//   - OBJECT, MEMORY, XINFO (a subcommand first), BITOP (an operation
//     first): argument 2; MIGRATE: argument 3;
//   - every other command: argument 1, the first after the command name.
// A command with several keys must keep them in one slot (a hash tag);
// otherwise Redis answers CROSSSLOT and the lookup defers with that text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::redis {

using Argv = std::vector<std::string>;

// The arguments of `query`, split as Exim does (white space separates,
// backslash protects the next character; a final lone backslash is
// dropped). Empty when the query holds nothing but white space.
Argv split_command(std::string_view query);

// ${quote_redis:s}: a backslash before each white-space character and each
// backslash (Exim's redis_quote).
std::string quote(std::string_view s);

// The index in `argv` of the argument that decides the cluster slot, or
// nullopt when the command has no key (see the rule above).
std::optional<size_t> key_index(const Argv& argv);

// True for commands that change the connection's state (SELECT, AUTH,
// HELLO, RESET, MULTI, WATCH, SUBSCRIBE, MONITOR, CLIENT, READONLY, ...):
// the connection is closed after them, so that the next lookup starts with
// the server item's own database and credentials.
bool changes_connection_state(const Argv& argv);

// The command name in upper case ("get" -> "GET").
std::string command_name(const Argv& argv);

}  // namespace tern::redis
