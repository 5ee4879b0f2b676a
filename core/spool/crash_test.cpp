// core/spool/crash_test.cpp: kill -9 at random moments; recover(); nothing acknowledged is
// lost or doubled, nothing half-written stays.
//
// A child process receives messages in a loop on several threads through the Committer and
// writes each id to a pipe once its completion said "durable" (the moment tern would send
// 250). The parent kills it with SIGKILL after a random delay, runs recover() and checks
// the spool. The spool is kept across rounds, so a later round also checks that recovery
// never disturbs what earlier rounds left.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <dirent.h>
#include <poll.h>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "core/spool/committer.hpp"
#include "core/spool/header_file.hpp"
#include "core/spool/journal.hpp"
#include "core/spool/recover.hpp"
#include "core/spool/test_util.hpp"

namespace tern::spool {
namespace {

std::string body_for(const std::string& id) {
  std::string b;
  for (int i = 0; i < 40; ++i) b += "line " + std::to_string(i) + " of message " + id + "\n";
  return b;
}

[[noreturn]] void child_writer(const Spool& spool, int ack_fd) {
  Committer committer;
  IdGenerator ids;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (;;) {
        auto m = IncomingMessage::create(spool, ids.next().text());
        if (!m) _exit(2);
        std::string id = m->id();
        std::string body = body_for(id);
        // Written in pieces, as a session would while DATA arrives.
        for (std::size_t off = 0; off < body.size(); off += 300)
          if (!m->write_body(std::string_view(body).substr(off, 300))) _exit(3);
        if (!m->finish(testing::sample_envelope(id))) _exit(4);
        if (!committer.commit(std::move(*m))) _exit(5);
        std::string line = id + "\n";
        std::lock_guard lock(mu);
        if (write(ack_fd, line.data(), line.size()) != ssize_t(line.size())) _exit(6);
      }
    });
  for (auto& t : threads) t.join();
  _exit(0);
}

std::set<std::string> read_lines(int fd) {
  std::string all;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) all.append(buf, std::size_t(n));
  std::set<std::string> out;
  for (std::size_t pos = 0, nl; (nl = all.find('\n', pos)) != std::string::npos; pos = nl + 1)
    out.insert(all.substr(pos, nl - pos));
  return out;
}

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') out.emplace_back(e->d_name);
  closedir(d);
  return out;
}

TEST(Crash, KillNineThenRecoverKeepsEveryAcknowledgedMessageOnce) {
  testing::ScratchSpool s;
  std::mt19937 rng(std::random_device{}());
  std::set<std::string> acked_total;
  std::size_t removed_total = 0;
  constexpr int kRounds = 30;
  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      child_writer(s.spool(), fds[1]);
    }
    close(fds[1]);
    // Odd rounds kill at a random moment, perhaps before anything is acknowledged; even
    // rounds once acknowledgements flow (however slow a sanitized build on a loaded
    // machine is to get there), a random moment later.
    if (round % 2 == 0) {
      struct pollfd first_ack = {fds[0], POLLIN, 0};
      poll(&first_ack, 1, 60000);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(5000, 150000)(rng)));
    kill(pid, SIGKILL);
    std::set<std::string> acked = read_lines(fds[0]);
    close(fds[0]);
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited by itself: " << status;

    auto rep = recover(s.spool());
    ASSERT_TRUE(rep.ok()) << rep.error().message;
    removed_total += rep->removed.size();
    acked_total.insert(acked.begin(), acked.end());

    // Nothing half-written: only complete pairs of -H and -D remain.
    std::set<std::string> h, d;
    for (const auto& n : dir_entries(s.spool().input_root())) {
      ASSERT_FALSE(n.starts_with("hdr.") || n.starts_with("dat.")) << n;
      ASSERT_GT(n.size(), 2u);
      std::string id = n.substr(0, n.size() - 2);
      (n.back() == 'H' ? h : d).insert(id);
    }
    ASSERT_EQ(h, d);
    ASSERT_EQ(rep->messages, h.size());
    // Every acknowledged id is there, complete, exactly once (one -H per id by name,
    // and list() reports it once).
    auto listed = s.spool().list();
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(std::set<std::string>(listed->begin(), listed->end()).size(), listed->size());
    ASSERT_EQ(listed->size(), h.size());
    for (const auto& id : h) {  // every message kept, acknowledged or not, is whole
      auto env = s.spool().read_header(id);
      ASSERT_TRUE(env.ok()) << env.error().message;
      ASSERT_EQ(*s.spool().read_body(id), body_for(id)) << id;
    }
    for (const auto& id : acked_total) ASSERT_TRUE(h.count(id)) << "acknowledged " << id << " lost";
  }
  std::printf("%d kills: %zu acknowledged messages kept, %zu half-written files removed\n", kRounds,
              acked_total.size(), removed_total);
  EXPECT_GT(acked_total.size(), 0u);
}

// The delivery journal under kill -9: every address reported done before the kill is a
// non-recipient on the next load, and none of the others is.
TEST(Crash, JournalKeepsDoneAddressesAcrossKillNine) {
  testing::ScratchSpool s;
  IdGenerator ids;
  Envelope env = testing::sample_envelope(ids.next().text());
  env.recipients.clear();
  for (int i = 0; i < 5000; ++i) env.recipients.push_back({"r" + std::to_string(i) + "@x", "", 0, "", -1});
  {
    Committer c;
    auto m = IncomingMessage::create(s.spool(), env.id);
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(m->finish(env).ok());
    ASSERT_TRUE(c.commit(std::move(*m)).ok());
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    auto j = DeliveryJournal::open(s.spool(), env.id);
    if (!j) _exit(2);
    for (const auto& r : env.recipients) {
      if (!j->mark_done(r.address)) _exit(3);
      std::string line = r.address + "\n";
      if (write(fds[1], line.data(), line.size()) != ssize_t(line.size())) _exit(4);
    }
    _exit(0);
  }
  close(fds[1]);
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  kill(pid, SIGKILL);
  std::set<std::string> acked = read_lines(fds[0]);
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  auto loaded = load_for_delivery(s.spool(), env.id);
  ASSERT_TRUE(loaded.ok());
  for (const auto& a : acked) EXPECT_TRUE(loaded->nonrecipients.count(a)) << a;
  EXPECT_LE(loaded->nonrecipients.size(), acked.size() + 1);  // at most one not yet reported
  ASSERT_TRUE(rewrite_header(s.spool(), *loaded).ok());
  struct stat st;
  EXPECT_NE(stat(s.spool().journal_path(env.id).c_str(), &st), 0);
  auto again = load_for_delivery(s.spool(), env.id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->nonrecipients, loaded->nonrecipients);
  std::printf("journal: %zu of %zu addresses done before the kill\n", acked.size(),
              env.recipients.size());
}

}  // namespace
}  // namespace tern::spool
