// core/spool/message_id_test.cpp: id format, parsing both formats, uniqueness.
#include "core/spool/message_id.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <set>
#include <thread>

namespace tern::spool {
namespace {

TEST(Base62, EximAlphabetAndWidth) {
  EXPECT_EQ(base62(0, 6), "000000");
  EXPECT_EQ(base62(61, 2), "0z");
  EXPECT_EQ(base62(62, 2), "10");
  EXPECT_EQ(base62(3843, 2), "zz");
  EXPECT_EQ(*base62_value("zz"), 3843u);
  EXPECT_FALSE(base62_value("a-").has_value());
}

TEST(MessageId, CurrentFormatLayout) {
  // 1700000000 s, 123456 us, pid 4242.
  MessageId id = MessageId::make(1700000000, 123456, 4242);
  std::string t = id.text();
  ASSERT_EQ(t.size(), kIdLen);
  EXPECT_EQ(t, base62(1700000000, 6) + "-" + base62(4242, 11) + "-" + base62(123456, 4));
  EXPECT_EQ(t.substr(7, 11), "0000000016Q");  // 4242 = 1*62^2 + 6*62 + 26(Q)
  EXPECT_EQ(id.microseconds(), 123456u);
  auto back = MessageId::parse(t);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, id);
  EXPECT_EQ(id.subdir(), t[5]);
}

TEST(MessageId, LocalhostNumber) {
  MessageId id = MessageId::make(1700000000, 999999, 1, 16);
  EXPECT_EQ(id.fraction, 16u * 500000 + 499999);
  EXPECT_EQ(id.text().size(), kIdLen);  // 8,499,999 < 62^4
  auto back = MessageId::parse(id.text());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->host_number(16u), 16u);
  EXPECT_EQ(back->microseconds(16u), 999998u);
}

TEST(MessageId, ParsesExim496Ids) {
  // From the reference Exim 4.96 (core/spool/testdata): 1xXbgc-0002Wd-2P.
  auto id = MessageId::parse("1xXbgc-0002Wd-2P");
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(id->old_format);
  EXPECT_EQ(id->seconds, 1795946350);
  EXPECT_EQ(id->pid, 2u * 62 * 62 + 32 * 62 + 39);  // "2Wd"
  EXPECT_EQ(id->microseconds(), (2u * 62 + 25) * 500);
  EXPECT_EQ(id->text(), "1xXbgc-0002Wd-2P");
}

TEST(MessageId, RefusesMalformed) {
  for (const char* bad : {"", "1xXbgc-0002Wd-2", "1xXbgc_0002Wd-2P", "1xXbgc-0002Wd-2P!",
                          "1xXbgc-00000000000-2P", "1xX.gc-0000000002W-2Pab"}) {
    EXPECT_FALSE(MessageId::parse(bad).ok()) << bad;
    EXPECT_FALSE(MessageId::looks_like(bad)) << bad;
  }
  EXPECT_EQ(MessageId::parse("x").error().message, "malformed message id \"x\"");
}

TEST(IdGenerator, UniqueAcrossThreads) {
  std::mutex mu;
  std::set<std::string> all;
  std::vector<std::thread> threads;
  constexpr int kThreads = 8, kEach = 10000;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      IdGenerator gen;
      std::vector<std::string> mine;
      for (int i = 0; i < kEach; ++i) mine.push_back(gen.next().text());
      std::lock_guard lock(mu);
      all.insert(mine.begin(), mine.end());
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(all.size(), std::size_t(kThreads * kEach));
  for (const auto& id : all) EXPECT_EQ(id.substr(7, 11), base62(std::uint64_t(getpid()), 11));
}

TEST(IdGenerator, UniqueAcrossForkedProcesses) {
  constexpr int kProcs = 4, kEach = 5000;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  IdGenerator parent_gen;
  (void)parent_gen.next();  // the children inherit a non-zero counter
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      IdGenerator gen;
      std::string out;
      for (int i = 0; i < kEach; ++i) out += gen.next().text() + "\n";
      for (std::size_t off = 0; off < out.size();) {
        ssize_t n = write(fds[1], out.data() + off, out.size() - off);
        if (n <= 0) _exit(1);
        off += std::size_t(n);
      }
      _exit(0);
    }
  }
  close(fds[1]);
  std::string all;
  char buf[65536];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) all.append(buf, std::size_t(n));
  close(fds[0]);
  for (int p = 0; p < kProcs; ++p) {
    int st;
    wait(&st);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  std::set<std::string> ids;
  std::size_t lines = 0;
  for (std::size_t pos = 0, nl; (nl = all.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    ids.insert(all.substr(pos, nl - pos));
    ++lines;
  }
  EXPECT_EQ(lines, std::size_t(kProcs * kEach));
  EXPECT_EQ(ids.size(), lines);
}

TEST(IdGenerator, MonotonicAndWaitForClock) {
  IdGenerator gen(3);
  MessageId a = gen.next(), b = gen.next();
  EXPECT_LT(std::pair(a.seconds, a.microseconds(3u)), std::pair(b.seconds, b.microseconds(3u)));
  EXPECT_EQ(b.host_number(3u), 3u);
  IdGenerator::wait_for_clock();  // returns once the clock has passed b
}

}  // namespace
}  // namespace tern::spool
