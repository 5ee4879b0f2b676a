// core/spool/recover_test.cpp: recover() on each kind of leftover, and the journal and lock.
#include "core/spool/recover.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/spool/committer.hpp"
#include "core/spool/journal.hpp"
#include "core/spool/test_util.hpp"

namespace tern::spool {
namespace {

void put(const std::string& path, const std::string& data) {
  ASSERT_TRUE(write_durably(path.substr(0, path.rfind('/')), path + ".tmp", path, data).ok());
}

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

std::string commit_one(const Spool& spool, Committer& c, IdGenerator& ids) {
  auto m = IncomingMessage::create(spool, ids.next().text());
  EXPECT_TRUE(m.ok());
  std::string id = m->id();
  EXPECT_TRUE(m->write_body("body\n").ok());
  EXPECT_TRUE(m->finish(testing::sample_envelope(id)).ok());
  EXPECT_TRUE(c.commit(std::move(*m)).ok());
  return id;
}

TEST(Recover, RemovesLeftoversKeepsCompleteMessages) {
  for (bool split : {false, true}) {
    testing::ScratchSpool s(split);
    IdGenerator ids;
    Committer c;
    std::string keep = commit_one(s.spool(), c, ids);
    std::string dir = *s.spool().input_dir_for_write(keep);
    std::string a = ids.next().text(), b = ids.next().text(), d = ids.next().text(), e = ids.next().text();
    put(dir + "/hdr." + a, "partial");
    put(dir + "/dat." + a, "partial");
    put(dir + "/" + b + "-D", b + "-D\nbody without header\n");
    put(dir + "/" + d + "-H", d + "-H\n");  // its -D already removed
    put(dir + "/" + e + "-J", "x@y\n");     // journal of a removed message
    put(dir + "/unrelated-file", "kept");
    auto rep = recover(s.spool());
    ASSERT_TRUE(rep.ok()) << rep.error().message;
    EXPECT_EQ(rep->messages, 1u);
    EXPECT_EQ(rep->removed.size(), 5u);
    EXPECT_EQ(*s.spool().list(), std::vector<std::string>{keep});
    EXPECT_TRUE(exists(dir + "/unrelated-file"));
    for (const auto& gone : {dir + "/hdr." + a, dir + "/dat." + a, dir + "/" + b + "-D",
                             dir + "/" + d + "-H", dir + "/" + e + "-J"})
      EXPECT_FALSE(exists(gone)) << gone;
    auto again = recover(s.spool());  // idempotent
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->removed.empty());
  }
}

TEST(Journal, MarkDoneThenRewriteHeader) {
  testing::ScratchSpool s;
  IdGenerator ids;
  Committer c;
  std::string id = commit_one(s.spool(), c, ids);
  {
    auto j = DeliveryJournal::open(s.spool(), id);
    ASSERT_TRUE(j.ok());
    ASSERT_TRUE(j->mark_done("alice@test.example").ok());
  }  // a crash here: the -J holds alice
  put(s.spool().journal_path(id), "alice@test.example\nbob@oth");  // and a torn last line
  auto env = load_for_delivery(s.spool(), id);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->nonrecipients, std::set<std::string>{"alice@test.example"});
  ASSERT_EQ(env->pending_recipients().size(), 1u);
  EXPECT_EQ(env->pending_recipients()[0]->address, "bob@other.example");
  ASSERT_TRUE(rewrite_header(s.spool(), *env).ok());
  EXPECT_FALSE(exists(s.spool().journal_path(id)));
  EXPECT_EQ(s.spool().read_header(id)->nonrecipients, std::set<std::string>{"alice@test.example"});
  ASSERT_TRUE(s.spool().remove(id).ok());
  EXPECT_TRUE(s.spool().list()->empty());
}

TEST(MessageLock, ExcludesASecondHolder) {
  testing::ScratchSpool s;
  IdGenerator ids;
  Committer c;
  std::string id = commit_one(s.spool(), c, ids);
  {
    auto first = MessageLock::acquire(s.spool(), id);
    ASSERT_TRUE(first.ok()) << first.error().message;
    auto second = MessageLock::acquire(s.spool(), id);
    ASSERT_FALSE(second.ok());
    EXPECT_TRUE(second.error().is_defer());
    EXPECT_EQ(second.error().message, "spool file " + id + "-D is locked");
  }
  EXPECT_TRUE(MessageLock::acquire(s.spool(), id).ok());
}

}  // namespace
}  // namespace tern::spool
