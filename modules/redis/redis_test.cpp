// modules/redis/redis_test.cpp: unit tests of the redis module without a server:
// slots, command splitting and quoting, the server-list parser, Exim's reply
// formatting (replies built by hiredis's own reader from RESP text), the
// cluster map, and the module through the SDK's fake host. One test runs
// the client from many threads at once against a redis-server of its own
// on a Unix socket (skipped when redis-server is not installed).
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <tern/module.hpp>
#include <tern/testing.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "client.hpp"
#include "cluster.hpp"
#include "command.hpp"
#include "reply_format.hpp"
#include "server_list.hpp"
#include "slot.hpp"

extern "C" const tern_module* tern_module_v1(void);

namespace tern::redis {
namespace {

// A reply as hiredis parses `resp` off the wire.
ReplyPtr parse_resp(std::string_view resp) {
  redisReader* r = redisReaderCreate();
  redisReaderFeed(r, resp.data(), resp.size());
  void* out = nullptr;
  int rc = redisReaderGetReply(r, &out);
  redisReaderFree(r);
  EXPECT_EQ(rc, REDIS_OK) << resp;
  EXPECT_NE(out, nullptr) << resp;
  return ReplyPtr(static_cast<redisReply*>(out));
}

// ---- slots -------------------------------------------------------------------

TEST(Slot, Crc16IsXmodem) {
  EXPECT_EQ(crc16("123456789"), 0x31C3);  // the CRC's check value
  EXPECT_EQ(crc16(""), 0);
}

TEST(Slot, KnownKeys) {
  // Values from `redis-cli CLUSTER KEYSLOT <key>` (Redis 7.0).
  struct {
    const char* key;
    uint16_t slot;
  } cases[] = {{"foo", 12182}, {"bar", 5061}, {"hello", 866}, {"key:1", 6657}, {"", 0}};
  for (auto& c : cases) EXPECT_EQ(key_slot(c.key), c.slot) << c.key;
}

TEST(Slot, HashTags) {
  struct {
    const char* key;
    const char* hashed;
  } cases[] = {
      {"{user1000}.following", "user1000"},
      {"{user1000}.followers", "user1000"},
      {"foo{}{bar}", "foo{}{bar}"},  // empty first tag: the whole key
      {"foo{{bar}}zap", "{bar"},     // from the first '{' to the first '}'
      {"foo{bar}{zap}", "bar"},      // only the first tag
      {"{", "{"},
      {"}{", "}{"},
      {"no tag", "no tag"},
  };
  for (auto& c : cases) EXPECT_EQ(hashed_part(c.key), c.hashed) << c.key;
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
  EXPECT_EQ(key_slot("a{foo}b"), key_slot("foo"));
}

// ---- commands ----------------------------------------------------------------

TEST(Command, SplitsAsExim) {
  struct {
    const char* query;
    Argv want;
  } cases[] = {
      {"GET k", {"GET", "k"}},
      {"  HGET   h \t f  ", {"HGET", "h", "f"}},
      {"GET a\\ b", {"GET", "a b"}},
      {"GET a\\\\b", {"GET", "a\\b"}},
      {"GET \\x", {"GET", "x"}},
      {"SET k a\\\tb", {"SET", "k", "a\tb"}},
      {"GET k\\", {"GET", "k"}},  // a lone final backslash is dropped
      {"", {}},
      {" \t ", {}},
  };
  for (auto& c : cases) EXPECT_EQ(split_command(c.query), c.want) << c.query;
}

TEST(Command, QuoteIsTheInverseOfSplit) {
  EXPECT_EQ(quote("a b"), "a\\ b");
  EXPECT_EQ(quote("a\\b"), "a\\\\b");
  EXPECT_EQ(quote("t\tn\nr\rv\vf\f"), "t\\\tn\\\nr\\\rv\\\vf\\\f");
  EXPECT_EQ(quote("plain:{x}\"'$"), "plain:{x}\"'$");
  for (std::string hostile : {"a b", " lead", "x\\ y", "\\", "GET k", "a\\\\ \\b c\t"})
    EXPECT_EQ(split_command("GET " + quote(hostile)), (Argv{"GET", hostile})) << hostile;
}

TEST(Command, KeyIndex) {
  struct {
    const char* query;
    std::optional<size_t> want;
  } cases[] = {
      {"GET k", 1},
      {"get k", 1},
      {"HGET h f", 1},
      {"MGET a b", 1},
      {"SET k v", 1},
      {"PING", std::nullopt},
      {"PING x", std::nullopt},
      {"DBSIZE", std::nullopt},
      {"KEYS *", std::nullopt},
      {"INFO server", std::nullopt},
      {"CLUSTER SLOTS", std::nullopt},
      {"EVAL s 1 k a", 3},
      {"EVAL s 0", std::nullopt},
      {"EVALSHA abc 2 k1 k2", 3},
      {"FCALL f 1 k", 3},
      {"ZUNION 2 a b", 2},
      {"ZUNION 0", std::nullopt},
      {"LMPOP 1 l LEFT", 2},
      {"BLMPOP 0 1 l LEFT", 3},
      {"XREAD COUNT 2 STREAMS s 0", 4},
      {"xread streams s 0", 2},
      {"OBJECT ENCODING k", 2},
      {"MEMORY USAGE k", 2},
      {"BITOP AND d a b", 2},
      {"MIGRATE h 6379 k 0 100", 3},
      {"MIGRATE h 6379 \"\" 0 100 KEYS a", 3},
      {"GET", std::nullopt},
  };
  for (auto& c : cases) EXPECT_EQ(key_index(split_command(c.query)), c.want) << c.query;
}

TEST(Command, ConnectionState) {
  EXPECT_TRUE(changes_connection_state({"select", "2"}));
  EXPECT_TRUE(changes_connection_state({"AUTH", "x"}));
  EXPECT_TRUE(changes_connection_state({"MULTI"}));
  EXPECT_FALSE(changes_connection_state({"GET", "k"}));
}

// ---- server lists ----------------------------------------------------------------

TEST(ServerList, Items) {
  struct {
    const char* item;
    ServerSpec want;
  } cases[] = {
      {"127.0.0.1:6379//", {"127.0.0.1", 6379, "", "", "", ""}},
      {"localhost//", {"localhost", 6379, "", "", "", ""}},
      {"10.0.0.1:7000/3/secret", {"10.0.0.1", 7000, "", "3", "", "secret"}},
      {"h:1/0/alice:s3cr:et", {"h", 1, "", "0", "alice", "s3cr:et"}},
      {"h//:pw", {"h", 6379, "", "", "", "pw"}},
      {"(/run/redis.sock)/2/pw", {"", 6379, "/run/redis.sock", "2", "", "pw"}},
      {"[::1]:6380/1/", {"::1", 6380, "", "1", "", ""}},
      {"[::1]//", {"::1", 6379, "", "", "", ""}},
  };
  for (auto& c : cases) {
    auto r = parse_server(c.item);
    ASSERT_EQ(r.index(), 0u) << c.item << ": " << (r.index() ? std::get<1>(r) : "");
    EXPECT_EQ(std::get<0>(r), c.want) << c.item;
  }
}

TEST(ServerList, BadItems) {
  struct {
    const char* item;
    const char* error;
  } cases[] = {
      {"127.0.0.1:6379", "incomplete Redis server data: 127.0.0.1:6379"},
      // The password is not shown: Exim names what is left without it.
      {"127.0.0.1:6379/secret", "incomplete Redis server data: 127.0.0.1:6379"},
      {"a/b/0/pw", "unexpected slash in Redis server hostname: a/b"},
      {"h:x/0/", "bad port in Redis server data: h:x"},
      {"h:0//", "bad port in Redis server data: h:0"},
      {"h:70000//", "bad port in Redis server data: h:70000"},
      {"[::1//", "unterminated [ in Redis server hostname: [::1"},
      {"//", "no host in Redis server data: /"},
      {"h/x/", "bad database number in Redis server data: h/x"},
      {"()/0/", "empty socket path in Redis server data: ()/0"},
  };
  for (auto& c : cases) {
    auto r = parse_server(c.item);
    ASSERT_EQ(r.index(), 1u) << c.item;
    EXPECT_EQ(std::get<1>(r), c.error) << c.item;
  }
}

TEST(ServerList, NamesResolvedInTheMainList) {
  const std::optional<std::string> main = "127.0.0.1::6379/0/pw : 127.0.0.2::6380//";
  auto spec = server_spec("127.0.0.2:6380", main);
  ASSERT_EQ(spec.index(), 0u);
  EXPECT_EQ(std::get<0>(spec), (ServerSpec{"127.0.0.2", 6380, "", "", "", ""}));
  spec = server_spec("127.0.0.1:6379", main);
  ASSERT_EQ(spec.index(), 0u);
  EXPECT_EQ(std::get<0>(spec).password, "pw");
  spec = server_spec("10.1.1.1:1/2/", std::nullopt);  // a full item needs no main list
  ASSERT_EQ(spec.index(), 0u);
  EXPECT_EQ(std::get<0>(spec).db, "2");
  spec = server_spec("127.0.0.9", main);
  ASSERT_EQ(spec.index(), 1u);
  EXPECT_EQ(std::get<1>(spec), "Redis server \"127.0.0.9\" not found in redis_servers");
}

// ---- replies -----------------------------------------------------------------

TEST(Reply, FormatsAsExim) {
  using K = Formatted::Kind;
  struct {
    const char* resp;
    K kind;
    const char* text;
  } cases[] = {
      {"$5\r\nhello\r\n", K::kValue, "hello"},
      {"$0\r\n\r\n", K::kValue, ""},  // an empty string is found (and cached)
      {"$-1\r\n", K::kNil, ""},
      {"+OK\r\n", K::kValue, "OK"},
      {":1\r\n", K::kValue, "true"},
      {":0\r\n", K::kValue, "false"},
      {":-5\r\n", K::kValue, "true"},
      {":42\r\n", K::kValue, "true"},
      {"-NOAUTH Authentication required.\r\n", K::kError,
       "REDIS: lookup result failed: NOAUTH Authentication required.\n"},
      {"*2\r\n$1\r\na\r\n$1\r\nb\r\n", K::kValue, "a\nb"},
      {"*3\r\n:1\r\n:0\r\n:-7\r\n", K::kValue, "1\n0\n-7"},  // integers in arrays: numbers
      {"*0\r\n", K::kNotFound, ""},
      {"*2\r\n$-1\r\n$-1\r\n", K::kNotFound, ""},
      // A nil element writes nothing, but the newline before it is written
      // once something was: Exim's MGET of (a, missing, b) is "a\n\nb".
      {"*3\r\n$1\r\na\r\n$-1\r\n$1\r\nb\r\n", K::kValue, "a\n\nb"},
      {"*2\r\n$-1\r\n$1\r\na\r\n", K::kValue, "a"},
      {"*2\r\n$1\r\na\r\n$-1\r\n", K::kValue, "a\n"},
      {"*2\r\n$0\r\n\r\n$1\r\na\r\n", K::kValue, "\na"},
      {"*2\r\n+OK\r\n$1\r\na\r\n", K::kValue, "a"},  // status elements are skipped
      {"*2\r\n$1\r\na\r\n-ERR x\r\n", K::kValue, "a\n"},
      // One level of nesting: a newline for the array, then one before each
      // of its elements; deeper arrays give nothing.
      {"*2\r\n$1\r\na\r\n*2\r\n$1\r\nb\r\n:3\r\n", K::kValue, "a\n\nb\n3"},
      {"*1\r\n*2\r\n$1\r\nb\r\n$1\r\nc\r\n", K::kValue, "b\nc"},
      {"*2\r\n*1\r\n*1\r\n$1\r\nx\r\n$1\r\ny\r\n", K::kValue, "y"},
      {"*1\r\n*1\r\n*1\r\n$1\r\nx\r\n", K::kNotFound, ""},
      {"*3\r\n*1\r\n*1\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n", K::kValue, "y\nz"},
  };
  for (auto& c : cases) {
    Formatted f = format_reply(*parse_resp(c.resp));
    EXPECT_EQ(f.kind, c.kind) << c.resp;
    EXPECT_EQ(f.text, c.text) << c.resp;
  }
}

TEST(Reply, BinarySafe) {
  Formatted f = format_reply(*parse_resp(std::string_view("$3\r\na\0b\r\n", 9)));
  EXPECT_EQ(f.text, std::string("a\0b", 3));
}

// ---- cluster ---------------------------------------------------------------------

TEST(Cluster, Redirects) {
  Endpoint from{"127.0.0.5", 7000, ""};
  auto m = parse_redirect("MOVED 3999 127.0.0.1:6381", from);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->ask);
  EXPECT_EQ(m->slot, 3999);
  EXPECT_EQ(m->to, (Endpoint{"127.0.0.1", 6381, ""}));
  auto a = parse_redirect("ASK 1 ::1:7002", from);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->ask);
  EXPECT_EQ(a->to, (Endpoint{"::1", 7002, ""}));
  auto e = parse_redirect("MOVED 12 :7003", from);  // a node that does not know its address
  ASSERT_TRUE(e);
  EXPECT_EQ(e->to, (Endpoint{"127.0.0.5", 7003, ""}));
  EXPECT_FALSE(parse_redirect("MOVED x 127.0.0.1:1", from));
  EXPECT_FALSE(parse_redirect("MOVED 16384 127.0.0.1:1", from));
  EXPECT_FALSE(parse_redirect("MOVED 1 127.0.0.1", from));
  EXPECT_FALSE(parse_redirect("ERR MOVED 1 h:1", from));
  EXPECT_FALSE(parse_redirect("NOAUTH Authentication required.", from));
}

TEST(Cluster, SlotMapFromClusterSlots) {
  Endpoint from{"127.0.0.9", 7000, ""};
  auto reply = parse_resp(
      "*2\r\n"
      "*4\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$2\r\nid\r\n*3\r\n$9\r\n127.0.0.1\r\n:7003\r\n$1\r\nr\r\n"
      "*3\r\n:5461\r\n:16383\r\n*2\r\n$0\r\n\r\n:7001\r\n");
  auto map = SlotMap::from_cluster_slots(*reply, from);
  ASSERT_TRUE(map);
  EXPECT_EQ(map->owner(0), (Endpoint{"127.0.0.1", 7000, ""}));
  EXPECT_EQ(map->owner(5460), (Endpoint{"127.0.0.1", 7000, ""}));
  EXPECT_EQ(map->owner(5461), (Endpoint{"127.0.0.9", 7001, ""}));  // empty host: the node asked
  EXPECT_EQ(map->owner(16383), (Endpoint{"127.0.0.9", 7001, ""}));
  EXPECT_EQ(map->nodes().size(), 2u);
  map->assign(5461, {"127.0.0.1", 7000, ""});
  EXPECT_EQ(map->owner(5461), (Endpoint{"127.0.0.1", 7000, ""}));
  EXPECT_EQ(map->nodes().size(), 2u);

  EXPECT_FALSE(SlotMap::from_cluster_slots(*parse_resp("-ERR This instance has cluster support disabled\r\n"), from));
  EXPECT_FALSE(SlotMap::from_cluster_slots(*parse_resp("*1\r\n*3\r\n:5\r\n:2\r\n*2\r\n$1\r\nh\r\n:1\r\n"), from));
  SlotMap empty;
  EXPECT_FALSE(empty.owner(100));
}

// ---- the module through the fake host ------------------------------------------

class Module : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(host_.init().status, TERN_OK); }
  tern::testing::FakeHost host_{tern_module_v1()};
};

TEST_F(Module, Registers) {
  EXPECT_STREQ(tern_module_v1()->name, "redis");
  ASSERT_EQ(host_.lookups().size(), 1u);
  EXPECT_EQ(host_.lookups()[0].name, "redis");
  const tern_lookup_def& d = host_.lookups()[0].def;
  EXPECT_TRUE(d.flags & TERN_LOOKUP_QUERY);
  EXPECT_TRUE(d.flags & TERN_MAY_BLOCK);
  EXPECT_EQ(d.timeout_ms, 30000u);
  std::map<std::string, std::optional<std::string>> options;
  for (auto& o : host_.options()) options[o.name] = o.default_value;
  EXPECT_EQ(options.size(), 4u);
  EXPECT_EQ(options["redis_servers"], std::nullopt);
  EXPECT_EQ(options["redis_connect_timeout"], "2s");
  EXPECT_EQ(options["redis_timeout"], "5s");
  EXPECT_EQ(options["redis_hold_down"], "10s");
}

TEST_F(Module, Quote) {
  EXPECT_EQ(host_.quote("redis", "a b\\c").out, "a\\ b\\\\c");
  auto r = host_.quote("redis", "a", "x");
  EXPECT_NE(r.status, TERN_OK);
}

TEST_F(Module, DefersWithEximsTexts) {
  auto r = host_.lookup("redis", "GET k");
  EXPECT_EQ(r.status, TERN_DEFER);
  EXPECT_EQ(r.error, "no Redis servers defined (redis_servers option)");

  // Exim: an item without a slash names another item of redis_servers;
  // with one slash it is incomplete (shown without what follows the slash).
  host_.set_option("redis_servers", "127.0.0.1::6379");
  r = host_.lookup("redis", "GET k");
  EXPECT_EQ(r.status, TERN_DEFER);
  EXPECT_EQ(r.error, "Redis server \"127.0.0.1:6379\" not found in redis_servers");
  host_.set_option("redis_servers", "127.0.0.1::6379/secret");
  EXPECT_EQ(host_.lookup("redis", "GET k").error, "incomplete Redis server data: 127.0.0.1:6379");

  // A socket that does not exist: the failure of the first step (each
  // time: no hold-down).
  host_.set_option_int("redis_hold_down", 0);
  host_.set_option("redis_servers", "(/nonexistent/redis.sock)//");
  r = host_.lookup("redis", "GET k");
  EXPECT_EQ(r.error, "REDIS: query failed: No such file or directory\n");
  host_.set_option("redis_servers", "(/nonexistent/redis.sock)/3/");
  EXPECT_EQ(host_.lookup("redis", "GET k").error,
            "REDIS: Selecting database=3 failed: No such file or directory\n");
  host_.set_option("redis_servers", "(/nonexistent/redis.sock)/3/pw");
  EXPECT_EQ(host_.lookup("redis", "GET k").error, "REDIS Authentication failed: No such file or directory\n");
  // Held down (redis_hold_down): skipped, with the reason.
  host_.set_option_int("redis_hold_down", 60);
  EXPECT_EQ(host_.lookup("redis", "GET k").error, "REDIS Authentication failed: No such file or directory\n");
  EXPECT_EQ(host_.lookup("redis", "GET k").error,
            "Redis server \"/nonexistent/redis.sock\" held down for 60s after: "
            "REDIS Authentication failed: No such file or directory\n");

  r = host_.lookup("redis", "   ");
  EXPECT_EQ(r.error, "REDIS: query failed: empty command\n");
  r = host_.lookup("redis", "GET k", "", "servers=nothere");
  EXPECT_EQ(r.error, "Redis server \"nothere\" not found in redis_servers");
}

// A redis-server on a Unix socket in a fresh directory, stopped at the end.
class SocketServer {
 public:
  SocketServer() {
    char tmpl[] = "/tmp/tern-redis-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl) ? tmpl : "";
    socket_ = dir_ + "/redis.sock";
    std::string sock_arg = socket_;
    const char* argv[] = {"redis-server", "--port", "0", "--unixsocket", sock_arg.c_str(), "--save", "",
                          "--appendonly", "no", "--dir", dir_.c_str(), "--logfile", "/dev/null", nullptr};
    if (::posix_spawnp(&pid_, "redis-server", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) pid_ = 0;
    // Ready when it answers PING: the socket file exists from bind(), a moment before
    // listen() (a connection then is refused, and the client holds the server down).
    for (int i = 0; pid_ && i < 200 && !answers_ping(); ++i) ::usleep(20000);
  }
  ~SocketServer() {
    if (pid_) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool up() const { return pid_ && answers_ping(); }
  const std::string& socket() const { return socket_; }

 private:
  bool answers_ping() const {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_.c_str());
    char reply[8] = {};
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
              ::write(fd, "PING\r\n", 6) == 6 && ::read(fd, reply, 7) == 7 && std::string(reply) == "+PONG\r\n";
    ::close(fd);
    return ok;
  }

  std::string dir_, socket_;
  pid_t pid_ = 0;
};

TEST(Client, ManyThreadsAtOnce) {
  SocketServer server;
  if (!server.up()) GTEST_SKIP() << "no redis-server to run";
  Client client;
  const std::vector<std::string> items{"(" + server.socket() + ")//"};
  constexpr int kThreads = 8, kEach = 200;
  for (int i = 0; i < kThreads * kEach; ++i)
    ASSERT_EQ(client.run(items, std::nullopt, "SET k" + std::to_string(i) + " v" + std::to_string(i), {}).data, "OK");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = t * kEach; i < (t + 1) * kEach; ++i) {
        LookupResult r = client.run(items, std::nullopt, "GET k" + std::to_string(i), {});
        if (r.status != LookupResult::Status::kFound || r.data != "v" + std::to_string(i)) ++wrong;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  LookupResult clients = client.run(items, std::nullopt, "INFO clients", {});
  EXPECT_EQ(clients.status, LookupResult::Status::kFound);
  // The connections are kept: at most one per thread (and the pool's cap).
  auto at = clients.data.find("connected_clients:");
  ASSERT_NE(at, std::string::npos);
  EXPECT_LE(std::atoi(clients.data.c_str() + at + 18), kThreads);
}

TEST(Client, AFailedServerIsHeldDown) {
  const std::string dead = ::testing::TempDir() + "tern-redis-nowhere.sock";
  const std::vector<std::string> items{"(" + dead + ")//"};
  const std::string refused = "REDIS: query failed: No such file or directory\n";
  Client client;
  Timeouts t;
  t.hold_down = std::chrono::seconds(0);  // retried at every lookup
  EXPECT_EQ(client.run(items, std::nullopt, "GET k", t).error, refused);
  EXPECT_EQ(client.run(items, std::nullopt, "GET k", t).error, refused);
  t.hold_down = std::chrono::seconds(30);
  EXPECT_EQ(client.run(items, std::nullopt, "GET k", t).error, refused);
  // Skipped now, with the reason it was held down for.
  EXPECT_EQ(client.run(items, std::nullopt, "GET k", t).error,
            "Redis server \"" + dead + "\" held down for 30s after: " + refused);
  client.close_all();  // a new generation of the module starts afresh
  EXPECT_EQ(client.run(items, std::nullopt, "GET k", t).error, refused);
}

TEST(ModuleDiscovery, RegistersOnly) {
  tern::testing::FakeHost host(tern_module_v1(), {.discovery = true});
  ASSERT_EQ(host.init().status, TERN_OK);
  EXPECT_EQ(host.lookups().size(), 1u);
}

}  // namespace
}  // namespace tern::redis
