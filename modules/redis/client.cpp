// modules/redis/client.cpp: server order, sessions, redirections (see the header).
#include "client.hpp"

#include <algorithm>

namespace tern::redis {

struct Client::Attempt {
  const std::vector<std::string>& names;
  const std::optional<std::string>& main_list;
  std::string list_id;            // the server list: names its cluster
  Argv argv;                      // the command
  std::optional<uint16_t> slot;   // of its key, when it has one
  Timeouts timeouts;
  Deadline budget;                // the whole lookup ends here

  // The deadline of one step limited by `limit` (0: none) and the budget.
  Deadline step(std::chrono::seconds limit) const {
    if (limit.count() <= 0) return budget;
    return std::min(budget, Clock::now() + limit);
  }
  // Why a step failed, in words.
  std::string describe(const IoError& e, bool connecting) const {
    if (e.kind != IoError::Kind::kTimeout) return e.text;
    if (Clock::now() >= budget)
      return "lookup time limit (" + std::to_string(kLookupBudget.count() / 1000) + "s) reached";
    if (connecting) return e.text;  // "Connection timed out"
    return "no reply within " + std::to_string(timeouts.reply.count()) + "s";
  }
};

namespace {

// Exim reports a failure to reach a server at the first step it would have
// taken there: AUTH when there is a password, else SELECT when there is a
// database, else the command. Its texts of this family end in a newline
// (so does -be's output: an empty line follows "Failed: ..."); so do ours.
std::string first_step_failed(const std::string& db, const std::string& password) {
  if (!password.empty()) return "REDIS Authentication failed: ";
  if (!db.empty()) return "REDIS: Selecting database=" + db + " failed: ";
  return "REDIS: query failed: ";
}

// Redis 6+ refuses AUTH when no password is configured; Exim ignores AUTH's
// reply, so such a configuration works there and must work here.
bool no_password_configured(const redisReply& r) {
  return error_text(r).find("without any password configured") != std::string_view::npos;
}

LookupResult defer(std::string why) {
  LookupResult r;
  r.status = LookupResult::Status::kDefer;
  r.error = std::move(why);
  return r;
}

}  // namespace

std::string Client::pool_key(const Endpoint& to, const Credentials& cred) {
  std::string k = to.where();
  k.append(1, '\n').append(cred.db).append(1, '\n').append(cred.user).append(1, '\n').append(cred.password);
  return k;
}

std::unique_ptr<Connection> Client::open_session(Attempt& a, const Endpoint& to, const Credentials& cred,
                                                 Failure& failure) {
  IoError err;
  auto conn = Connection::open(to, a.step(a.timeouts.connect), err);
  if (!conn) {
    failure = {first_step_failed(cred.db, cred.password) + a.describe(err, true) + "\n", true};
    return nullptr;
  }
  size_t n = 0;
  if (!cred.password.empty()) {
    conn->append(cred.user.empty() ? Argv{"AUTH", cred.password} : Argv{"AUTH", cred.user, cred.password});
    ++n;
  }
  if (!cred.db.empty()) {
    conn->append({"SELECT", cred.db});
    ++n;
  }
  if (n == 0) return conn;
  std::vector<ReplyPtr> replies;
  if (!conn->roundtrip(n, replies, a.step(a.timeouts.reply), err)) {
    failure = {first_step_failed(cred.db, cred.password) + a.describe(err, false) + "\n", true};
    return nullptr;
  }
  size_t i = 0;
  if (!cred.password.empty()) {
    const redisReply& r = *replies[i++];
    if (r.type == REDIS_REPLY_ERROR && !no_password_configured(r)) {
      failure = {"REDIS Authentication failed: " + std::string(error_text(r)) + "\n", false};
      return nullptr;
    }
  }
  if (!cred.db.empty()) {
    const redisReply& r = *replies[i];
    if (r.type == REDIS_REPLY_ERROR) {
      failure = {"REDIS: Selecting database=" + cred.db + " failed: " + std::string(error_text(r)) + "\n", false};
      return nullptr;
    }
  }
  return conn;
}

bool Client::exchange(Attempt& a, const Endpoint& to, const Credentials& cred,
                      const std::vector<const Argv*>& commands, std::vector<ReplyPtr>& replies,
                      Failure& failure) {
  const std::string key = pool_key(to, cred);
  std::unique_ptr<Connection> conn = pool_.take(key);
  bool reused = conn != nullptr;
  for (;;) {
    if (!conn && !(conn = open_session(a, to, cred, failure))) return false;
    for (const Argv* c : commands) conn->append(*c);
    IoError err;
    if (conn->roundtrip(commands.size(), replies, a.step(a.timeouts.reply), err)) break;
    conn.reset();
    // A kept connection that the server had closed (it restarted) before
    // answering anything: the command never ran; once more, on a new one.
    if (reused && err.nothing_read && (err.kind == IoError::Kind::kClosed || err.kind == IoError::Kind::kIo)) {
      reused = false;
      continue;
    }
    failure = {"REDIS: query failed: " + a.describe(err, false) + "\n", true};
    return false;
  }
  if (!changes_connection_state(*commands.back())) pool_.give_back(key, std::move(conn));
  return true;
}

Client::Answer Client::run_on(Attempt& a, Endpoint to, const Credentials& cred) {
  const Argv asking_command{"ASKING"};
  bool asking = false;
  std::string last;
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    std::vector<const Argv*> commands;
    if (asking) commands.push_back(&asking_command);
    commands.push_back(&a.argv);
    std::vector<ReplyPtr> replies;
    Answer ans;
    if (!exchange(a, to, cred, commands, replies, ans.failure)) return ans;  // kUnreachable
    ans.kind = Answer::Kind::kReply;
    ans.reply = std::move(replies.back());
    if (ans.reply->type != REDIS_REPLY_ERROR) return ans;
    auto redirect = parse_redirect(error_text(*ans.reply), to);
    if (!redirect) return ans;
    last = std::string(error_text(*ans.reply));
    if (!redirect->ask) learn_moved(a, to, cred, *redirect);
    to = redirect->to;
    asking = redirect->ask;
  }
  Answer ans;
  ans.kind = Answer::Kind::kFailed;
  ans.failure = {"REDIS: too many cluster redirections (last: " + last + ")\n", false};
  return ans;
}

void Client::learn_moved(Attempt& a, const Endpoint& from, const Credentials& cred, const Redirect& r) {
  // The whole map, fresh: a MOVED seldom comes alone (resharding moves
  // many slots; the first MOVED of a list makes it a cluster).
  const Argv cluster_slots{"CLUSTER", "SLOTS"};
  std::optional<SlotMap> fresh;
  for (const Endpoint& node : {r.to, from}) {
    std::vector<ReplyPtr> replies;
    Failure failure;
    if (exchange(a, node, cred, {&cluster_slots}, replies, failure) &&
        (fresh = SlotMap::from_cluster_slots(*replies[0], node)))
      break;
  }
  std::lock_guard lk(mu_);
  if (clusters_.size() >= kMaxClusters && !clusters_.count(a.list_id)) clusters_.clear();
  auto [it, created] = clusters_.try_emplace(a.list_id);
  if (created) it->second.credentials = cred;
  if (fresh) it->second.map = std::move(*fresh);
  it->second.map.assign(r.slot, r.to);
}

bool Client::refresh_cluster(Attempt& a, const std::vector<Endpoint>& candidates, const Credentials& cred) {
  const Argv cluster_slots{"CLUSTER", "SLOTS"};
  for (const Endpoint& node : candidates) {
    if (Clock::now() >= a.budget) break;
    std::vector<ReplyPtr> replies;
    Failure failure;
    if (!exchange(a, node, cred, {&cluster_slots}, replies, failure)) continue;
    auto fresh = SlotMap::from_cluster_slots(*replies[0], node);
    if (!fresh) continue;
    std::lock_guard lk(mu_);
    auto it = clusters_.find(a.list_id);
    if (it == clusters_.end()) return false;  // dropped meanwhile (kMaxClusters)
    it->second.map = std::move(*fresh);
    return true;
  }
  return false;
}

std::optional<Client::Answer> Client::run_in_cluster(Attempt& a) {
  if (!a.slot) return std::nullopt;
  Endpoint node;
  Credentials cred;
  std::vector<Endpoint> known;
  {
    std::lock_guard lk(mu_);
    auto it = clusters_.find(a.list_id);
    if (it == clusters_.end()) return std::nullopt;
    auto owner = it->second.map.owner(*a.slot);
    if (!owner) return std::nullopt;
    node = *owner;
    cred = it->second.credentials;
    known = it->second.map.nodes();
  }
  Answer ans = run_on(a, node, cred);
  if (ans.kind != Answer::Kind::kUnreachable) return ans;
  // The node is down or hangs: ask the others (listed servers first) who
  // serves the slot now; after a failover that is the promoted replica.
  std::vector<Endpoint> candidates;
  for (const auto& name : a.names)
    if (auto spec = server_spec(name, a.main_list); spec.index() == 0) {
      const auto& s = std::get<0>(spec);
      candidates.push_back({s.host, s.port, s.socket});
    }
  candidates.insert(candidates.end(), known.begin(), known.end());
  std::vector<Endpoint> unique;
  for (auto& c : candidates)
    if (!(c == node) && std::find(unique.begin(), unique.end(), c) == unique.end()) unique.push_back(c);
  if (!refresh_cluster(a, unique, cred)) return ans;
  std::optional<Endpoint> now;
  {
    std::lock_guard lk(mu_);
    if (auto it = clusters_.find(a.list_id); it != clusters_.end()) now = it->second.map.owner(*a.slot);
  }
  if (!now || *now == node) return ans;
  return run_on(a, *now, cred);
}

LookupResult Client::result_of(const redisReply& reply) {
  Formatted f = format_reply(reply);
  LookupResult r;
  switch (f.kind) {
    case Formatted::Kind::kValue: r.status = LookupResult::Status::kFound; break;
    case Formatted::Kind::kNil:
      r.status = LookupResult::Status::kFound;
      r.cacheable = false;
      break;
    case Formatted::Kind::kNotFound: r.status = LookupResult::Status::kNotFound; break;
    case Formatted::Kind::kError: return defer(std::move(f.text));
  }
  r.data = std::move(f.text);
  return r;
}

LookupResult Client::run(const std::vector<std::string>& names, const std::optional<std::string>& main_list,
                         std::string_view query, const Timeouts& timeouts) {
  Attempt a{names, main_list, {}, split_command(query), std::nullopt, timeouts, Clock::now() + kLookupBudget};
  if (a.argv.empty()) return defer("REDIS: query failed: empty command\n");
  if (auto k = key_index(a.argv)) a.slot = key_slot(a.argv[*k]);
  for (const auto& name : names) a.list_id.append(name).append(1, '\n');

  auto outcome = [](Answer& ans) {
    return ans.kind == Answer::Kind::kReply ? result_of(*ans.reply) : defer(std::move(ans.failure.text));
  };
  if (auto ans = run_in_cluster(a)) return outcome(*ans);
  std::string last = "no Redis servers defined (redis_servers option)";
  for (const auto& name : names) {
    if (Clock::now() >= a.budget) break;
    // Resolved and checked when its turn comes, as Exim does: a bad item
    // ends the search (defer_break), a later one is never looked at.
    auto parsed = server_spec(name, main_list);
    if (parsed.index() == 1) return defer(std::get<1>(parsed));
    const ServerSpec& spec = std::get<0>(parsed);
    const Endpoint to{spec.host, spec.port, spec.socket};
    if (auto down = down_.held_down(to.where())) {
      last = lookup_servers::held_down_text(kFlavor.display, to.where(), *down);
      continue;
    }
    Answer ans = run_on(a, to, {spec.db, spec.user, spec.password});
    if (ans.kind == Answer::Kind::kUnreachable) {
      if (ans.failure.io) down_.mark_down(to.where(), ans.failure.text, timeouts.hold_down);
      last = std::move(ans.failure.text);
      continue;
    }
    return outcome(ans);
  }
  return defer(last);
}

}  // namespace tern::redis
