// modules/lookup_servers/lookup_servers_test.cpp: what the server-list lookups
// share, on its own: Exim's list syntax, the choice of servers
// (lf_sqlperform), the server item split, the idle-connection pool and the
// hold-down of failed servers.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "exim_list.hpp"
#include "server_choice.hpp"
#include "server_pool.hpp"

namespace tern::lookup_servers {
namespace {

using Items = std::vector<std::string>;

TEST(EximList, ColonsSpacesAndDoubledSeparators) {
  struct Case {
    const char* list;
    Items want;
  } cases[] = {
      {"a : b:c", {"a", "b", "c"}},
      {"127.0.0.1::5432/db/u/p : (/run/pg/.s.PGSQL.5432)/db/u/p",
       {"127.0.0.1:5432/db/u/p", "(/run/pg/.s.PGSQL.5432)/db/u/p"}},
      {"", {}},
      {"   ", {}},
      {"a:", {"a"}},             // an empty last item is no item
      {"a: :b", {"a", "", "b"}},  // an empty item in the middle is one
      {"::a", {":a"}},            // a doubled separator first is data
      {":a", {"", "a"}},
      {"<; a:1 ; b ;; c", {"a:1", "b ; c"}},  // another separator
      {"<", {"<"}},
      {"a\\ : b", {"a\\ ", "b"}},  // a space after a backslash stays
      {" x  y  ", {"x  y"}},
  };
  for (const auto& c : cases) EXPECT_EQ(split_list(c.list), c.want) << c.list;
}

TEST(EximList, FixedSeparatorHasNoChangeForm) {
  EXPECT_EQ(split_list_fixed("servers=a:b,cache=no_rd", ','), (Items{"servers=a:b", "cache=no_rd"}));
  EXPECT_EQ(split_list_fixed("<;x,y", ','), (Items{"<;x", "y"}));
  EXPECT_EQ(split_list_fixed("a,,b", ','), (Items{"a,b"}));
}

TEST(EximList, ServerItemsWithPortsAndSockets) {
  EXPECT_EQ(split_list("127.0.0.1::6379//"), Items{"127.0.0.1:6379//"});
  EXPECT_EQ(split_list("a//:b/1/p"), (Items{"a//", "b/1/p"}));
  EXPECT_EQ(split_list("<; 127.0.0.1:6379// ; [::1]:6380//"), (Items{"127.0.0.1:6379//", "[::1]:6380//"}));
  EXPECT_EQ(split_list("h/0/pa::ss"), Items{"h/0/pa:ss"});
  EXPECT_EQ(split_list("<\x01" "a\x01\x01" "b"), (Items{"a", "", "b"}));  // a control separator is never doubled
}

const Flavor kRedis{"Redis", "redis_servers"};
const Flavor kPg{"PostgreSQL", "pgsql_servers"};

Selection selected(const std::variant<Selection, std::string>& v) {
  EXPECT_EQ(v.index(), 0u) << (v.index() == 1 ? std::get<1>(v) : "");
  return v.index() == 0 ? std::get<0>(v) : Selection{};
}

TEST(ServerChoice, MainListOptionAndOldSyntax) {
  const std::optional<std::string> main = "127.0.0.1::6379/0/pw : 127.0.0.2::6379//";
  Selection s = selected(select_servers(kRedis, "GET k", "", main));
  EXPECT_EQ(s.names, (Items{"127.0.0.1:6379/0/pw", "127.0.0.2:6379//"}));
  EXPECT_EQ(s.query, "GET k");
  EXPECT_FALSE(s.old_syntax);
  // The option replaces the main list; the first servers= counts.
  s = selected(select_servers(kRedis, "GET k", "cache=no_rd,servers=10.1.1.1::1//,servers=x//", main));
  EXPECT_EQ(s.names, Items{"10.1.1.1:1//"});
  s = selected(select_servers(kRedis, "GET k", "servers=", main));
  EXPECT_EQ(s.names, Items{});  // an empty list: the module decides
  // Exim's older syntax, in the query.
  s = selected(select_servers(kRedis, "servers = 127.0.0.2::6379 ;GET k", "", main));
  EXPECT_TRUE(s.old_syntax);
  EXPECT_EQ(s.names, Items{"127.0.0.2:6379"});
  EXPECT_EQ(s.query, "GET k");
}

TEST(ServerChoice, ReasonsInEximsWords) {
  auto why = [](const Flavor& f, std::string_view q, std::string_view opts, std::optional<std::string> main) {
    auto v = select_servers(f, q, opts, main);
    return v.index() == 1 ? std::get<1>(v) : std::string("(selected)");
  };
  EXPECT_EQ(why(kRedis, "GET k", "", std::nullopt), "no Redis servers defined (redis_servers option)");
  EXPECT_EQ(why(kPg, "q", "cache=no_rd", std::nullopt), "no PostgreSQL servers defined (pgsql_servers option)");
  EXPECT_EQ(why(kRedis, "servers x;GET k", "", "a//"), "missing = after \"servers\" in Redis lookup");
  EXPECT_EQ(why(kPg, "servers=a//", "", "a//"), "missing ; after \"servers=\" in PostgreSQL lookup");
  EXPECT_EQ(why(kRedis, "servers=;GET k", "", "a//"), "\"servers=\" defines no servers in \"servers=;GET k\"");
}

TEST(ServerChoice, ANameIsTheMainListsItem) {
  const std::optional<std::string> main = "h::5432/d/u/p : hx/d/u/p : other/d/u/p";
  auto resolved = [&](const std::string& name, const std::optional<std::string>& m) {
    auto v = resolve_server(kPg, name, m);
    return v.index() == 0 ? std::get<0>(v) : "error: " + std::get<1>(v);
  };
  EXPECT_EQ(resolved("h:5432", main), "h:5432/d/u/p");
  EXPECT_EQ(resolved("hx", main), "hx/d/u/p");  // "name/", not a prefix of the host
  EXPECT_EQ(resolved("full/d/u/p", std::nullopt), "full/d/u/p");
  EXPECT_EQ(resolved("h", main), "error: PostgreSQL server \"h\" not found in pgsql_servers");
  EXPECT_EQ(resolved("h", std::nullopt), "error: PostgreSQL server \"h\" not found in pgsql_servers");
}

TEST(ServerItem, CutAtTheLastSlashes) {
  std::string error;
  auto f = split_item("(/run/redis.sock)/0/user:pw", 2, "Redis", error);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->host, "(/run/redis.sock)");
  EXPECT_EQ(f->fields, (Items{"0", "user:pw"}));
  EXPECT_EQ(f->sans_password, "(/run/redis.sock)/0");
  f = split_item("a/b/c/d/e", 3, "pgSQL", error);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->host, "a/b");
  EXPECT_EQ(f->fields, (Items{"c", "d", "e"}));
  EXPECT_FALSE(split_item("h:6379/secret", 2, "Redis", error));
  EXPECT_EQ(error, "incomplete Redis server data: h:6379");  // never the password
  EXPECT_FALSE(split_item("x/y/z", 3, "pgSQL", error));
  EXPECT_EQ(error, "incomplete pgSQL server data: x/y");
  EXPECT_FALSE(split_item("host", 2, "Redis", error));
  EXPECT_EQ(error, "incomplete Redis server data: host");
}

TEST(HoldDowns, TheirText) {
  HoldDowns::Down down{"REDIS: query failed: Connection refused\n", std::chrono::milliseconds(6200)};
  EXPECT_EQ(held_down_text("Redis", "127.0.0.1:6379", down),
            "Redis server \"127.0.0.1:6379\" held down for 7s after: REDIS: query failed: Connection refused\n");
}

class FakeConnection {
 public:
  explicit FakeConnection(int id, bool* alive = nullptr) : id_(id), alive_(alive) {}
  bool alive() { return alive_ == nullptr || *alive_; }
  int id() const { return id_; }

 private:
  int id_;
  bool* alive_;
};

int id_of(const std::unique_ptr<FakeConnection>& c) { return c ? c->id() : -1; }

using Pool = IdlePool<FakeConnection>;

TEST(IdlePool, ReusesLiveConnectionsPerServer) {
  Pool pool(8);
  EXPECT_EQ(pool.take("a"), nullptr);
  bool dead = false;
  pool.give_back("a", std::make_unique<FakeConnection>(1));
  pool.give_back("a", std::make_unique<FakeConnection>(2, &dead));
  pool.give_back("b", std::make_unique<FakeConnection>(3));
  EXPECT_EQ(id_of(pool.take("a")), 1);  // 2 was dead: dropped
  EXPECT_EQ(pool.take("a"), nullptr);
  EXPECT_EQ(id_of(pool.take("b")), 3);
  for (int i = 0; i < 20; ++i) pool.give_back("c", std::make_unique<FakeConnection>(i));
  size_t kept = 0;
  while (pool.take("c")) ++kept;
  EXPECT_EQ(kept, 8u);
}

TEST(HoldDowns, Expire) {
  HoldDowns pool;
  const auto t0 = HoldDowns::Clock::now();
  pool.mark_down("a", "refused", std::chrono::seconds(10), t0);
  pool.mark_down("b", "refused", std::chrono::seconds(0), t0);  // 0: no hold-down
  auto down = pool.held_down("a", t0 + std::chrono::seconds(4));
  ASSERT_TRUE(down);
  EXPECT_EQ(down->error, "refused");
  EXPECT_EQ(down->left, std::chrono::seconds(6));
  EXPECT_FALSE(pool.held_down("b", t0));
  EXPECT_FALSE(pool.held_down("a", t0 + std::chrono::seconds(10)));
  EXPECT_FALSE(pool.held_down("a", t0 + std::chrono::seconds(1)));  // forgotten once expired
}

TEST(IdlePool, ThreadsNeverShareAConnection) {
  Pool pool(8);
  std::atomic<int> in_use[4] = {};
  std::atomic<bool> shared{false};
  std::atomic<int> next_id{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        std::unique_ptr<FakeConnection> c = pool.take("s");
        if (!c) {
          int id = next_id++;
          if (id >= 4) continue;  // at most four connections exist
          c = std::make_unique<FakeConnection>(id);
        }
        int id = id_of(c);
        if (in_use[id]++ != 0) shared = true;
        in_use[id]--;
        pool.give_back("s", std::move(c));
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_FALSE(shared);
}

}  // namespace
}  // namespace tern::lookup_servers
