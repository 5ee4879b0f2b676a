// core/spool/committer_test.cpp: group commit: batching, ordering of fsync and completion.
#include "core/spool/committer.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "core/spool/test_util.hpp"

namespace tern::spool {
namespace {

IncomingMessage make_message(const Spool& spool, IdGenerator& ids, const std::string& body) {
  auto m = IncomingMessage::create(spool, ids.next().text());
  EXPECT_TRUE(m.ok());
  EXPECT_TRUE(m->write_body(body).ok());
  EXPECT_TRUE(m->finish(testing::sample_envelope(m->id())).ok());
  return std::move(*m);
}

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

TEST(Committer, OneMessageBlocking) {
  testing::ScratchSpool s;
  IdGenerator ids;
  Committer c;
  IncomingMessage m = make_message(s.spool(), ids, "hello\n");
  std::string id = m.id();
  EXPECT_FALSE(exists(s.spool().header_path(id)));  // nothing visible before the commit
  ASSERT_TRUE(s.spool().list()->empty());
  ASSERT_TRUE(c.commit(std::move(m)).ok());
  EXPECT_EQ(*s.spool().list(), std::vector<std::string>{id});
  EXPECT_EQ(*s.spool().read_body(id), "hello\n");
  EXPECT_EQ(s.spool().read_header(id)->recipients.size(), 2u);
  EXPECT_FALSE(exists(s.spool().input_root() + "/dat." + id));
  EXPECT_FALSE(exists(s.spool().input_root() + "/hdr." + id));
  CommitStats st = c.stats();
  EXPECT_EQ(st.rounds, 1u);
  EXPECT_EQ(st.file_syncs, 2u);
  EXPECT_EQ(st.dir_syncs, 1u);
}

TEST(Committer, AbandonedMessageLeavesNothing) {
  testing::ScratchSpool s;
  IdGenerator ids;
  std::string id;
  {
    IncomingMessage m = make_message(s.spool(), ids, "x\n");
    id = m.id();
    EXPECT_TRUE(exists(s.spool().input_root() + "/dat." + id));
  }
  EXPECT_FALSE(exists(s.spool().input_root() + "/dat." + id));
  EXPECT_FALSE(exists(s.spool().input_root() + "/hdr." + id));
}

TEST(Committer, UnfinishedMessageIsRefused) {
  testing::ScratchSpool s;
  IdGenerator ids;
  Committer c;
  auto m = IncomingMessage::create(s.spool(), ids.next().text());
  ASSERT_TRUE(m.ok());
  Status st = c.commit(std::move(*m));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("before finish()"), std::string::npos);
}

// N threads submit at once. Every completion must come after the directory fsync of its
// own batch (the after_sync hook marks the ids synced; completion checks its mark), the
// batches must be fewer than the messages, and every message is on the spool.
TEST(Committer, ConcurrentSubmittersShareFsyncs) {
  testing::ScratchSpool s(/*split=*/true);
  std::mutex mu;
  std::map<std::string, int> synced_in_round;  // id -> round of its fsyncs
  int round = 0;
  std::atomic<int> early{0};
  CommitOptions opt;
  opt.after_sync = [&](const std::vector<std::string>& ids) {
    std::lock_guard lock(mu);
    ++round;
    for (const auto& id : ids) synced_in_round[id] = round;
  };
  Committer c(opt);
  IdGenerator ids;
  constexpr int kThreads = 20, kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        IncomingMessage m = make_message(s.spool(), ids, "body " + std::to_string(i) + "\n");
        std::string id = m.id();
        Status st = c.submit(std::move(m)).get();
        {
          std::lock_guard lock(mu);
          if (!synced_in_round.count(id)) ++early;
        }
        if (st.ok()) ++ok;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kEach);
  EXPECT_EQ(early.load(), 0);
  CommitStats st = c.stats();
  EXPECT_EQ(st.messages, std::uint64_t(kThreads * kEach));
  EXPECT_LT(st.rounds, st.messages);
  EXPECT_EQ(st.file_syncs, 2 * st.messages);
  EXPECT_EQ(s.spool().list()->size(), std::size_t(kThreads * kEach));
  std::printf("group commit: %llu messages in %llu rounds (%.2f rounds/message)\n",
              (unsigned long long)st.messages, (unsigned long long)st.rounds,
              double(st.rounds) / double(st.messages));
}

// A message submitted while a batch is syncing waits for exactly the next batch, and
// a batch never holds back for later submissions.
TEST(Committer, LateArrivalGoesInNextBatchOnly) {
  testing::ScratchSpool s;
  IdGenerator ids;
  std::mutex mu;
  std::vector<std::vector<std::string>> batches;
  std::promise<void> in_first_sync;
  std::promise<void> release_first;
  std::shared_future<void> release = release_first.get_future().share();
  CommitOptions opt;
  opt.after_sync = [&](const std::vector<std::string>& b) {
    bool first;
    {
      std::lock_guard lock(mu);
      batches.push_back(b);
      first = batches.size() == 1;
    }
    if (first) {
      in_first_sync.set_value();
      release.wait();
    }
  };
  Committer c(opt);
  IncomingMessage a = make_message(s.spool(), ids, "a\n");
  std::string a_id = a.id();
  auto fa = c.submit(std::move(a));
  in_first_sync.get_future().wait();  // batch 1 = {a} is synced, its completion held
  IncomingMessage b = make_message(s.spool(), ids, "b\n");
  std::string b_id = b.id();
  auto fb = c.submit(std::move(b));
  release_first.set_value();
  EXPECT_TRUE(fa.get().ok());
  EXPECT_TRUE(fb.get().ok());
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0], std::vector<std::string>{a_id});
  EXPECT_EQ(batches[1], std::vector<std::string>{b_id});
}

TEST(Committer, PostedCompletionAndDrainOnDestruction) {
  testing::ScratchSpool s;
  IdGenerator ids;
  std::atomic<int> posted{0}, done{0};
  {
    Committer c;
    for (int i = 0; i < 10; ++i)
      c.submit(make_message(s.spool(), ids, "x\n"),
               [&](std::function<void()> f) { ++posted; f(); },
               [&](Status st) { done += st.ok(); });
  }  // the destructor completes what was submitted
  EXPECT_EQ(posted.load(), 10);
  EXPECT_EQ(done.load(), 10);
  EXPECT_EQ(s.spool().list()->size(), 10u);
}

TEST(Committer, FailureRemovesFilesAndReportsError) {
  testing::ScratchSpool s;
  IdGenerator ids;
  Committer c;
  IncomingMessage m = make_message(s.spool(), ids, "x\n");
  std::string id = m.id();
  // Take the temporary -H away: the rename fails, the message is refused.
  ::unlink((s.spool().input_root() + "/hdr." + id).c_str());
  Status st = c.commit(std::move(m));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("rename"), std::string::npos);
  EXPECT_FALSE(exists(s.spool().data_path(id)));
  EXPECT_FALSE(exists(s.spool().input_root() + "/dat." + id));
  EXPECT_TRUE(s.spool().list()->empty());
}

}  // namespace
}  // namespace tern::spool
