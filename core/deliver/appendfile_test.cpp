// core/deliver/appendfile_test.cpp: the appendfile transport's Maildir and mbox writing.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/deliver/test_support.hpp"
#include "core/deliver/transport.hpp"

namespace tern::deliver {
namespace {

using testing::Lab;

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (auto* e = readdir(d))
      if (e->d_name[0] != '.') out.emplace_back(e->d_name);
    closedir(d);
  }
  return out;
}

class Appendfile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tern-appendfile-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir).c_str()); }

  // Delivers the sample message to local_part@test.example through transport `t` of `conf`.
  AddressResult deliver(const std::string& transport_options, const std::string& local_part = "bob") {
    lab = std::make_unique<Lab>("begin transports\nt:\n  driver = appendfile\n" + transport_options);
    EXPECT_EQ(lab->error, "");
    const config::DriverInstance* inst = lab->config().find_transport("t");
    TransportEnv env;
    env.primary_hostname = "test.example";
    auto t = builtin_transports().find("appendfile")->make(*inst, env);
    EXPECT_TRUE(t.ok());
    spool::Envelope e;
    e.sender = "sender@client.example";
    message.envelope = &e;
    message.headers = {"Subject: hi\n", "From: a@b\n"};
    message.body = "line 1\nFrom me\n.dot\n";
    message.return_path = e.sender;
    std::vector<RoutedAddress> batch(1);
    batch[0].address = local_part + "@test.example";
    batch[0].local_part = local_part;
    batch[0].domain = "test.example";
    lab->vars().set("local_part", local_part);
    lab->vars().set("domain", "test.example");
    lab->vars().set("return_path", e.sender);
    TransportCall call;
    call.message = &message;
    call.addresses = &batch;
    call.expand = &lab->ctx;
    call.set_variable = [this](std::string_view name, std::string value) { lab->vars().set(name, std::move(value)); };
    call.instance = inst;
    std::vector<AddressResult> results;
    (*t)->deliver(call, results);
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? AddressResult{} : results[0];
  }

  std::string dir;
  std::unique_ptr<Lab> lab;
  Message message;
};

TEST_F(Appendfile, MaildirWritesNewFileAsExim) {
  auto r = deliver("  directory = " + dir + "/mail/$local_part\n  maildir_format\n  maildir_tag = ,S=$message_size\n");
  ASSERT_EQ(r.outcome, Outcome::kDelivered) << r.message;
  for (const char* sub : {"cur", "new", "tmp"}) {
    struct stat st;
    ASSERT_EQ(stat((dir + "/mail/bob/" + sub).c_str(), &st), 0) << sub;
    EXPECT_EQ(st.st_mode & 0777, 0700u);
  }
  EXPECT_TRUE(names_in(dir + "/mail/bob/tmp").empty());
  auto files = names_in(dir + "/mail/bob/new");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(files[0].find(".test.example,S=") != std::string::npos) << files[0];
  std::string path = dir + "/mail/bob/new/" + files[0];
  // No "From " line, no escaping, no suffix in a Maildir.
  EXPECT_EQ(slurp(path), "Subject: hi\nFrom: a@b\n\nline 1\nFrom me\n.dot\n");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(r.bytes_written, st.st_size);
}

TEST_F(Appendfile, MboxAppendsWithFromLineEscapeAndSuffix) {
  std::string opts = "  file = " + dir + "/mbox/$local_part\n";
  ASSERT_EQ(deliver(opts).outcome, Outcome::kDelivered);
  ASSERT_EQ(deliver(opts).outcome, Outcome::kDelivered);
  std::string box = slurp(dir + "/mbox/bob");
  std::string one = "Subject: hi\nFrom: a@b\n\nline 1\n>From me\n.dot\n\n";
  ASSERT_GT(box.size(), 2 * one.size());
  // "From sender@client.example Sun Nov 29 15:33:50 2026\n" before each copy.
  std::size_t first_nl = box.find('\n');
  EXPECT_EQ(box.substr(0, 27), "From sender@client.example ");
  EXPECT_EQ(first_nl, 27u + 24u);
  EXPECT_EQ(box.substr(first_nl + 1, one.size()), one);
  EXPECT_EQ(box.find("From sender@client.example ", first_nl), first_nl + 1 + one.size());
  EXPECT_FALSE(access((dir + "/mbox/bob.lock").c_str(), F_OK) == 0);  // lock file removed
  struct stat st;
  ASSERT_EQ(stat((dir + "/mbox/bob").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(Appendfile, QuotaDefersWithEximsText) {
  auto r = deliver("  file = " + dir + "/mbox/$local_part\n  quota = 10\n");
  EXPECT_EQ(r.outcome, Outcome::kDeferred);
  EXPECT_EQ(r.basic_errno, kErrQuota);
  EXPECT_EQ(r.message, "mailbox is full (MTA-imposed quota exceeded while writing to " + dir + "/mbox/bob)");
  auto ok = deliver("  file = " + dir + "/mbox/$local_part\n  quota = 1K\n");
  EXPECT_EQ(ok.outcome, Outcome::kDelivered);
  auto m = deliver("  directory = " + dir + "/md\n  maildir_format\n  quota = 10\n");
  EXPECT_EQ(m.outcome, Outcome::kDeferred);
  EXPECT_EQ(m.basic_errno, kErrQuota);
}

TEST_F(Appendfile, LockedMailboxDefers) {
  mkdir((dir + "/mbox").c_str(), 0755);
  std::ofstream(dir + "/mbox/bob.lock") << "";
  auto r = deliver("  file = " + dir + "/mbox/$local_part\n  lock_retries = 0\n");
  EXPECT_EQ(r.outcome, Outcome::kDeferred);
  EXPECT_EQ(r.basic_errno, kErrLockFailed);
  EXPECT_TRUE(access((dir + "/mbox/bob").c_str(), F_OK) != 0);
}

TEST_F(Appendfile, BadPathsDefer) {
  auto r = deliver("  file = relative/$local_part\n");
  EXPECT_EQ(r.outcome, Outcome::kDeferred);
  EXPECT_EQ(r.message, "\"relative/bob\" is not absolute (t transport)");
  auto e = deliver("  file = ${lookup{x}lsearch{/nonexistent}}\n");
  EXPECT_EQ(e.outcome, Outcome::kDeferred);
  EXPECT_EQ(e.basic_errno, kErrExpandFail);
}

}  // namespace
}  // namespace tern::deliver
