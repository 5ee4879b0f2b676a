// core/log/logger_test.cpp: the Logger on real files: prefixes, routing, the reject log's
// envelope and headers, syslog, creation modes, rotation, datestamps, the panic fallback,
// and many processes appending at once. Expected texts are Exim 4.96's where Exim has them
// (testdata/exim_capture/out/: syslog.out, syslog-rejectlog, cannot-open.txt, default.txt).
#include "core/log/logger.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "core/log/smtp_lines.hpp"

namespace tern::log {
namespace {

namespace fs = std::filesystem;

const std::string kCaptures = std::string(TERN_SOURCE_DIR) + "/core/log/testdata/exim_capture/out";

class LoggerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
    char tmpl[] = "/tmp/tern-log-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    now_.tv_sec = 1795952304;  // 2026-11-29 11:38:24 UTC
    now_.tv_usec = 123456;
  }
  void TearDown() override { fs::remove_all(dir_); }

  LoggerOptions options(const std::string& tmpl = "") {
    LoggerOptions o;
    o.destinations.files = true;
    o.destinations.file_template = tmpl.empty() ? dir_ + "/%slog" : tmpl;
    o.stderr_fd = -1;
    o.clock = [this] { return now_; };
    return o;
  }
  static std::string read(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  std::string dir_;
  struct timeval now_ {};
};

std::string pipe_read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST_F(LoggerTest, PrefixAsExim) {
  for (auto [setting, zone, want] : {
           std::tuple{"", false, "2026-11-29 11:38:24 text\n"},
           std::tuple{"+millisec", false, "2026-11-29 11:38:24.123 text\n"},
           std::tuple{"", true, "2026-11-29 11:38:24 +0000 text\n"},
           std::tuple{"+millisec", true, "2026-11-29 11:38:24.123 +0000 text\n"},
       }) {
    fs::remove(dir_ + "/mainlog");
    LoggerOptions o = options();
    o.selectors = *parse_log_selector(setting);
    o.log_timezone = zone;
    Logger log(o);
    ASSERT_TRUE(log.main("text"));
    EXPECT_EQ(read(dir_ + "/mainlog"), want);
  }
  fs::remove(dir_ + "/mainlog");
  LoggerOptions o = options();
  o.selectors = *parse_log_selector("+pid");
  Logger log(o);
  ASSERT_TRUE(log.main("Completed", "1xXdOJ-0003ck-33"));
  EXPECT_EQ(read(dir_ + "/mainlog"),
            "2026-11-29 11:38:24 [" + std::to_string(getpid()) + "] 1xXdOJ-0003ck-33 Completed\n");
}

TEST_F(LoggerTest, TimezoneOffsetFollowsTz) {
  setenv("TZ", "EST5EDT", 1);
  tzset();
  LoggerOptions o = options();
  o.log_timezone = true;
  Logger log(o);
  ASSERT_TRUE(log.main("x"));
  EXPECT_EQ(read(dir_ + "/mainlog"), "2026-11-29 06:38:24 -0500 x\n");
}

TEST_F(LoggerTest, RoutingMainRejectPanicAndStderr) {
  int err[2];
  ASSERT_EQ(pipe(err), 0);
  LoggerOptions o = options();
  o.stderr_fd = err[1];
  {
    Logger log(o);
    EXPECT_TRUE(log.main("one"));
    EXPECT_TRUE(log.reject("two"));
    EXPECT_TRUE(log.panic("three"));
    Line only_reject{"four", kToReject, {}, {}};
    EXPECT_TRUE(log.write(only_reject));
  }
  close(err[1]);
  EXPECT_EQ(read(dir_ + "/mainlog"),
            "2026-11-29 11:38:24 one\n2026-11-29 11:38:24 two\n2026-11-29 11:38:24 three\n");
  EXPECT_EQ(read(dir_ + "/rejectlog"), "2026-11-29 11:38:24 two\n2026-11-29 11:38:24 four\n");
  EXPECT_EQ(read(dir_ + "/paniclog"), "2026-11-29 11:38:24 three\n");
  EXPECT_EQ(pipe_read_all(err[0]), "2026-11-29 11:38:24 three\n");  // panic lines only
  close(err[0]);
}

TEST_F(LoggerTest, MirrorGetsEveryLineOnce) {
  int m[2];
  ASSERT_EQ(pipe(m), 0);
  LoggerOptions o = options();
  o.mirror_fd = m[1];
  o.stderr_fd = m[1];  // `make run`: the terminal is both
  {
    Logger log(o);
    log.main("a");
    log.reject("b");
    log.panic("c");
  }
  close(m[1]);
  EXPECT_EQ(pipe_read_all(m[0]),
            "2026-11-29 11:38:24 a\n2026-11-29 11:38:24 b\n2026-11-29 11:38:24 c\n");
  close(m[0]);
}

TEST_F(LoggerTest, SelectorGatesTheMainCopyOnly) {
  Peer p;
  p.address = "127.0.0.3";
  p.helo = "client.example";
  {
    Logger log(options());  // default selectors: smtp_connection off, size_reject on
    EXPECT_TRUE(log.write(smtp_connection(p, 1, log.selectors())));
    EXPECT_FALSE(fs::exists(dir_ + "/mainlog"));
    LoggerOptions o = options();
    o.selectors = *parse_log_selector("-size_reject");
    Logger quiet(o);
    EXPECT_TRUE(quiet.write(message_too_big(p, "a@b", 2, 1, "1xXdPX-0004Be-2R", o.selectors)));
  }
  EXPECT_FALSE(fs::exists(dir_ + "/mainlog"));
  EXPECT_EQ(read(dir_ + "/rejectlog"),
            "2026-11-29 11:38:24 1xXdPX-0004Be-2R rejected from <a@b> H=(client.example) "
            "[127.0.0.3]: message too big: read=2 max=1\n");
  LoggerOptions o = options();
  o.selectors = *parse_log_selector("+smtp_connection");
  Logger log(o);
  EXPECT_TRUE(log.write(smtp_connection(p, 1, log.selectors())));
  EXPECT_EQ(read(dir_ + "/mainlog"),
            "2026-11-29 11:38:24 SMTP connection from [127.0.0.3] (TCP/IP connection count = 1)\n");
}

TEST_F(LoggerTest, WriteRejectlogFalse) {
  LoggerOptions o = options();
  o.write_rejectlog = false;
  Logger log(o);
  EXPECT_TRUE(log.reject("no reject log"));
  EXPECT_TRUE(fs::exists(dir_ + "/mainlog"));
  EXPECT_FALSE(fs::exists(dir_ + "/rejectlog"));
}

// The reject log after DATA, from Exim 4.96's run (default.txt, scenario data_rejected):
// six recipients (five listed, then "..."), then every header with its flag.
TEST_F(LoggerTest, RejectLogEnvelopeAndHeaders) {
  std::vector<std::string> rcpts;
  for (int i = 1; i <= 6; ++i) rcpts.push_back("r" + std::to_string(i) + "@local.example");
  std::vector<spool::Header> headers = {
      {'P',
       "Received: from [127.0.0.3] (helo=client.example)\n\tby ref.example with esmtp (Exim "
       "4.96)\n\t(envelope-from <alice@sender.example>)\n\tid 1xXdOt-00040v-0r;\n\tSun, 29 Nov "
       "2026 11:48:59 +0000\n"},
      {'F', "From: Alice <alice@sender.example>\n"},
      {'T', "To: bob@local.example\n"},
      {' ', "Subject: please reject-me\n"},
      {'I', "Message-ID: <m1@sender.example>\n"},
      {' ', "X-Extra: one\n  folded\n"},
  };
  RejectContext ctx{"alice@sender.example", &rcpts, &headers};
  now_.tv_sec = 1795952939;  // 11:48:59
  AclRejection r;
  r.peer.address = "127.0.0.3";
  r.peer.helo = "client.example";
  r.where = AclWhere::kData;
  r.sender = "alice@sender.example";
  r.log_message = "content refused";
  r.message_id = "1xXdOt-00040v-0r";
  {
    Logger log(options());
    ASSERT_TRUE(log.write(acl_rejection(r, log.selectors()), &ctx));
  }
  const std::string line =
      "2026-11-29 11:48:59 1xXdOt-00040v-0r H=(client.example) [127.0.0.3] "
      "F=<alice@sender.example> rejected after DATA: content refused\n";
  EXPECT_EQ(read(dir_ + "/mainlog"), line);
  EXPECT_EQ(read(dir_ + "/rejectlog"), line +
                                           "Envelope-from: <alice@sender.example>\n"
                                           "Envelope-to: <r1@local.example>\n"
                                           "    <r2@local.example>\n"
                                           "    <r3@local.example>\n"
                                           "    <r4@local.example>\n"
                                           "    <r5@local.example>\n"
                                           "    ...\n"
                                           "P Received: from [127.0.0.3] (helo=client.example)\n"
                                           "\tby ref.example with esmtp (Exim 4.96)\n"
                                           "\t(envelope-from <alice@sender.example>)\n"
                                           "\tid 1xXdOt-00040v-0r;\n"
                                           "\tSun, 29 Nov 2026 11:48:59 +0000\n"
                                           "F From: Alice <alice@sender.example>\n"
                                           "T To: bob@local.example\n"
                                           "  Subject: please reject-me\n"
                                           "I Message-ID: <m1@sender.example>\n"
                                           "  X-Extra: one\n"
                                           "  folded\n");

  // -rejected_header: the line only.
  fs::remove(dir_ + "/rejectlog");
  LoggerOptions o = options();
  o.selectors = *parse_log_selector("-rejected_header");
  Logger plain(o);
  ASSERT_TRUE(plain.write(acl_rejection(r, plain.selectors()), &ctx));
  EXPECT_EQ(read(dir_ + "/rejectlog"), line);
}

TEST_F(LoggerTest, RejectLogTruncatesAtEximsBuffer) {
  std::vector<std::string> rcpts = {"r@x"};
  std::vector<spool::Header> headers = {{' ', "Subject: short\n"},
                                        {' ', "X-Big: " + std::string(9000, 'b') + "\n"},
                                        {' ', "X-After: never\n"}};
  RejectContext ctx{"s@x", &rcpts, &headers};
  {
    Logger log(options());
    ASSERT_TRUE(log.reject("rejected", "", &ctx));
  }
  std::string got = read(dir_ + "/rejectlog");
  EXPECT_EQ(got.substr(got.size() - 19), "\n*** truncated ***\n");
  EXPECT_EQ(got.find("X-After"), std::string::npos);
  EXPECT_LT(got.size(), kLogBufferSize);
}

TEST_F(LoggerTest, OverlongLineIsReplacedAsExim) {
  {
    Logger log(options());
    ASSERT_TRUE(log.main(std::string(9000, 'z')));
  }
  EXPECT_EQ(read(dir_ + "/mainlog"),
            "2026-11-29 11:38:24 **** log string overflowed log buffer ****\n\n");
}

TEST_F(LoggerTest, CreatesFilesAndDirectoriesWithEximsModes) {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (geteuid() == 0) {
    struct passwd* nobody = getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    uid = nobody->pw_uid;
    gid = nobody->pw_gid;
  }
  LoggerOptions o = options(dir_ + "/a/b/%slog");
  o.owner_uid = uid;
  o.owner_gid = gid;
  mode_t old = umask(077);  // Exim's modes whatever the umask
  {
    Logger log(o);
    ASSERT_TRUE(log.main("x"));
  }
  umask(old);
  struct stat st {};
  ASSERT_EQ(stat((dir_ + "/a/b/mainlog").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  if (geteuid() == 0) {
    EXPECT_EQ(st.st_uid, uid);
    EXPECT_EQ(st.st_gid, gid);
  }
  ASSERT_EQ(stat((dir_ + "/a/b").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  if (geteuid() == 0) {
    EXPECT_EQ(st.st_uid, uid);
  }
}

TEST_F(LoggerTest, ReopensAfterRotationWithinASecond) {
  Logger log(options());
  ASSERT_TRUE(log.main("first"));
  fs::rename(dir_ + "/mainlog", dir_ + "/mainlog.0");
  ASSERT_TRUE(log.main("same second: still the open file"));
  now_.tv_sec += 1;
  ASSERT_TRUE(log.main("after the check"));
  EXPECT_EQ(read(dir_ + "/mainlog.0"),
            "2026-11-29 11:38:24 first\n2026-11-29 11:38:24 same second: still the open file\n");
  EXPECT_EQ(read(dir_ + "/mainlog"), "2026-11-29 11:38:25 after the check\n");
  // Removed (not renamed): a new file as well.
  fs::remove(dir_ + "/mainlog");
  now_.tv_sec += 5;
  ASSERT_TRUE(log.main("recreated"));
  EXPECT_EQ(read(dir_ + "/mainlog"), "2026-11-29 11:38:30 recreated\n");
}

TEST_F(LoggerTest, DatestampedNamesSwitchAtMidnight) {
  LoggerOptions o = options(dir_ + "/exim-%s-%D.log");
  Logger log(o);
  now_.tv_sec = 1795996799;  // 2026-11-29 23:59:59
  ASSERT_TRUE(log.main("late"));
  ASSERT_TRUE(log.panic("panic"));
  now_.tv_sec += 2;  // 2026-11-30 00:00:01
  ASSERT_TRUE(log.main("early"));
  EXPECT_EQ(read(dir_ + "/exim-main-20261129.log"),
            "2026-11-29 23:59:59 late\n2026-11-29 23:59:59 panic\n");
  EXPECT_EQ(read(dir_ + "/exim-main-20261130.log"), "2026-11-30 00:00:01 early\n");
  EXPECT_EQ(read(dir_ + "/exim-panic.log"), "2026-11-29 23:59:59 panic\n");
}

// Exim 4.96 when its main log cannot be opened (cannot-open.txt): stderr gets
//   "2026-11-29 12:17:54 1xXdqs-0004nz-0Z Cannot open main log file "/.../log/mainlog":
//    Permission denied: euid=999 egid=995"
// and the panic log the line it could not write, then the same text.
TEST_F(LoggerTest, MainLogCannotBeOpened) {
  ASSERT_TRUE(std::ofstream(dir_ + "/main").good());  // a file where the directory should be
  int err[2];
  ASSERT_EQ(pipe(err), 0);
  LoggerOptions o = options(dir_ + "/%s/log");
  o.stderr_fd = err[1];
  {
    Logger log(o);
    EXPECT_FALSE(log.main("<= s@x.example U=root P=local S=282", "1xXdqs-0004nz-0Z"));
  }
  close(err[1]);
  std::string cannot = "2026-11-29 11:38:24 1xXdqs-0004nz-0Z Cannot open main log file \"" + dir_ +
                       "/main/log\": Not a directory: euid=" + std::to_string(geteuid()) +
                       " egid=" + std::to_string(getegid()) + "\n";
  EXPECT_EQ(pipe_read_all(err[0]), cannot);
  close(err[0]);
  EXPECT_EQ(read(dir_ + "/panic/log"),
            "2026-11-29 11:38:24 1xXdqs-0004nz-0Z <= s@x.example U=root P=local S=282\n" + cannot);
}

TEST_F(LoggerTest, PanicLogCannotBeOpenedEither) {
  ASSERT_TRUE(std::ofstream(dir_ + "/file").good());
  int err[2];
  ASSERT_EQ(pipe(err), 0);
  std::vector<std::pair<int, std::string>> syslogged;
  LoggerOptions o = options(dir_ + "/file/%slog");
  o.stderr_fd = err[1];
  o.syslog_sink = [&](int pri, std::string_view s) { syslogged.emplace_back(pri, std::string(s)); };
  {
    Logger log(o);
    EXPECT_FALSE(log.panic("disaster"));
  }
  close(err[1]);
  std::string out = pipe_read_all(err[0]);
  close(err[0]);
  EXPECT_NE(out.find("2026-11-29 11:38:24 Cannot open main log file"), std::string::npos) << out;
  EXPECT_NE(out.find("exim: could not open panic log - aborting: see message(s) above\n"),
            std::string::npos)
      << out;
  ASSERT_FALSE(syslogged.empty());
  EXPECT_EQ(syslogged.back(),
            std::make_pair(
                LOG_CRIT,
                std::string("exim: could not open panic log - aborting: see message(s) above")));
}

TEST(SyslogPieces, SplitsAsExim) {
  EXPECT_EQ(syslog_pieces("one line\n"), std::vector<std::string>{"one line"});
  EXPECT_EQ(syslog_pieces("a\nb\n"), (std::vector<std::string>{"[1\\2] a", "[2/2] b"}));
  std::string long_line(900, 'x');
  auto p = syslog_pieces(long_line + "\n");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], "[1/2] " + std::string(870, 'x'));
  EXPECT_EQ(p[1], "[2/2] " + std::string(30, 'x'));
}

// Exim 4.96 with log_file_path = syslog : <dir>/%slog, +pid +millisec, log_timezone,
// syslog_pid, syslog_timestamp and syslog_duplication false: its reject log entry (with
// envelope and headers) and what it sent to syslog (syslog.out: "<21>... exim[pid]: piece").
TEST_F(LoggerTest, SyslogAsExim) {
  std::string rejectlog = read(kCaptures + "/syslog-rejectlog");
  std::string mainlog = read(kCaptures + "/syslog-mainlog");
  std::string datagrams = read(kCaptures + "/syslog.out");
  ASSERT_FALSE(rejectlog.empty());
  ASSERT_FALSE(datagrams.empty());

  // The capture's reject entry: "<ts 30> [pid] id text\n" + detail.
  size_t pid_end = rejectlog.find("] ") + 2;
  size_t first_nl = rejectlog.find('\n');
  std::string id_and_text = rejectlog.substr(pid_end, first_nl - pid_end);
  std::string id = id_and_text.substr(0, id_and_text.find(' '));
  std::string text = id_and_text.substr(id.size() + 1);
  std::string detail = rejectlog.substr(first_nl + 1);
  // Rebuild the context from the detail: envelope lines, then "<flag> header" blocks.
  std::istringstream in(detail);
  std::string l, sender;
  std::vector<std::string> rcpts;
  std::vector<spool::Header> headers;
  while (std::getline(in, l)) {
    if (l.rfind("Envelope-from: <", 0) == 0) {
      sender = l.substr(16, l.size() - 17);
    } else if (l.rfind("Envelope-to: <", 0) == 0) {
      rcpts.push_back(l.substr(14, l.size() - 15));
    } else if (!l.empty() && l[0] == '\t') {
      headers.back().text += l + "\n";  // a continuation line
    } else {
      headers.push_back({l[0], l.substr(2) + "\n"});  // "<flag> <header>"
    }
  }
  ASSERT_EQ(rcpts.size(), 1u);
  ASSERT_EQ(headers.size(), 6u);  // Received, Subject, X-Two, Message-Id, From, Date
  RejectContext ctx{sender, &rcpts, &headers};

  std::vector<std::pair<int, std::string>> got;
  LoggerOptions o = options();
  o.destinations.syslog = true;
  o.selectors = *parse_log_selector("+pid +millisec");
  o.log_timezone = true;
  o.syslog_pid = o.syslog_timestamp = o.syslog_duplication = false;
  o.syslog_sink = [&](int pri, std::string_view s) { got.emplace_back(pri, std::string(s)); };
  now_.tv_sec = 1795954671;  // 2026-11-29 12:17:51
  now_.tv_usec = 786000;
  Logger log(o);
  // The first capture line: a reception, to the main log only (LOG_INFO).
  std::string main_first = mainlog.substr(0, mainlog.find('\n'));
  std::string main_text = main_first.substr(main_first.find("] ") + 2);
  ASSERT_TRUE(log.main(main_text.substr(main_text.find(' ') + 1), main_text.substr(0, 16)));
  ASSERT_TRUE(log.reject(text, id, &ctx));

  std::vector<std::pair<int, std::string>> want;
  std::istringstream dg(datagrams);
  while (std::getline(dg, l)) {
    int pri = std::atoi(l.c_str() + 1) & 7;  // facility mail (16) + priority
    want.emplace_back(pri, l.substr(l.find("]: ") + 3));
  }
  EXPECT_EQ(got, want);

  // The reject log file itself: Exim's, but for the pid.
  std::string ours = read(dir_ + "/rejectlog");
  std::string theirs = rejectlog;
  theirs.replace(theirs.find('[') + 1, theirs.find(']') - theirs.find('[') - 1,
                 std::to_string(getpid()));
  EXPECT_EQ(ours, theirs);
}

TEST_F(LoggerTest, SyslogDuplicationAndPriorities) {
  std::vector<std::pair<int, std::string>> got;
  LoggerOptions o = options();
  o.destinations.files = false;
  o.destinations.syslog = true;
  o.syslog_sink = [&](int pri, std::string_view s) { got.emplace_back(pri, std::string(s)); };
  Logger log(o);
  log.main("m");
  log.reject("r");
  log.panic("p");
  EXPECT_EQ(got, (std::vector<std::pair<int, std::string>>{{LOG_INFO, "2026-11-29 11:38:24 m"},
                                                           {LOG_INFO, "2026-11-29 11:38:24 r"},
                                                           {LOG_NOTICE, "2026-11-29 11:38:24 r"},
                                                           {LOG_INFO, "2026-11-29 11:38:24 p"},
                                                           {LOG_ALERT, "2026-11-29 11:38:24 p"}}));
}

TEST_F(LoggerTest, MoreThanOnePathIsWarnedOnce) {
  auto d = parse_log_file_path(dir_ + "/%slog : " + dir_ + "/other/%s", "/spool");
  ASSERT_TRUE(d.ok());
  LoggerOptions o = options();
  o.destinations = *d;
  {
    Logger log(o);
    log.main("a");
    log.main("b");
  }
  std::string w =
      "2026-11-29 11:38:24 More than one path given in log_file_path: using " + dir_ + "/%slog\n";
  EXPECT_EQ(read(dir_ + "/mainlog"), w + "2026-11-29 11:38:24 a\n2026-11-29 11:38:24 b\n");
  EXPECT_EQ(read(dir_ + "/paniclog"), w);
}

// Several processes (and threads in each) appending to the same files: every line arrives
// whole, none lost. Lines are long (up to ~6 KiB) so a torn write would show.
TEST_F(LoggerTest, ConcurrentWritersNeverInterleave) {
  constexpr int kProcs = 6, kThreads = 3, kLines = 300;
  auto payload = [](int p, int t, int i) {
    size_t len = 10 + static_cast<size_t>((p * 7919 + t * 104729 + i * 31) % 6000);
    return std::string(len, static_cast<char>('a' + (p * kThreads + t + i) % 26));
  };
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      Logger log(options());
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
          for (int i = 0; i < kLines; ++i) {
            std::string text = "p" + std::to_string(p) + " t" + std::to_string(t) + " i" +
                               std::to_string(i) + " " + payload(p, t, i);
            log.reject(text);
          }
        });
      for (auto& th : threads) th.join();
      _exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int status = 0;
    ASSERT_EQ(waitpid(k, &status, 0), k);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  for (const char* name : {"/mainlog", "/rejectlog"}) {
    std::ifstream f(dir_ + name);
    std::string line;
    std::set<std::string> seen;
    int count = 0;
    while (std::getline(f, line)) {
      ++count;
      ASSERT_EQ(line.rfind("2026-11-29 11:38:24 p", 0), 0u) << "torn line " << count;
      int p = 0, t = 0, i = 0;
      char rest[16];
      ASSERT_EQ(std::sscanf(line.c_str() + 20, "p%d t%d i%d %1s", &p, &t, &i, rest), 4);
      std::string key = std::to_string(p) + "/" + std::to_string(t) + "/" + std::to_string(i);
      std::string want_prefix =
          "p" + std::to_string(p) + " t" + std::to_string(t) + " i" + std::to_string(i) + " ";
      ASSERT_EQ(line.substr(20), want_prefix + payload(p, t, i)) << "line " << count;
      EXPECT_TRUE(seen.insert(key).second) << "duplicate " << key;
    }
    EXPECT_EQ(count, kProcs * kThreads * kLines) << name;
  }
}

TEST(LoggerOptions, FromConfiguration) {
  char tmpl[] = "/tmp/tern-log-conf.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  config::OptionRegistry reg;
  ASSERT_TRUE(config::register_exim_options(reg).ok());
  auto load = [&](const std::string& text) {
    std::ofstream(dir + "/c.conf") << text;
    config::LoadRequest req;
    req.path = dir + "/c.conf";
    req.registry = &reg;
    return config::load(req);
  };
  auto c = load(
      "log_file_path = syslog : /var/log/tern/%slog-%D\n"
      "log_selector = +smtp_connection -retry_defer\n"
      "log_timezone = true\nwrite_rejectlog = false\nsyslog_facility = LOG_LOCAL3\n"
      "syslog_processname = tern\nsyslog_pid = false\nsyslog_timestamp = false\n"
      "syslog_duplication = false\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto o = options_from_config(c->main, "/var/spool/tern");
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_TRUE(o->destinations.files);
  EXPECT_TRUE(o->destinations.syslog);
  EXPECT_EQ(o->destinations.file_template, "/var/log/tern/%slog-%D");
  EXPECT_TRUE(o->selectors.on(Selector::kSmtpConnection));
  EXPECT_FALSE(o->selectors.on(Selector::kRetryDefer));
  EXPECT_TRUE(o->log_timezone);
  EXPECT_FALSE(o->write_rejectlog);
  EXPECT_EQ(o->syslog_facility, LOG_LOCAL3);
  EXPECT_EQ(o->syslog_processname, "tern");
  EXPECT_FALSE(o->syslog_pid || o->syslog_timestamp || o->syslog_duplication);

  auto d = load("spool_directory = /x\n");
  ASSERT_TRUE(d.ok());
  auto od = options_from_config(d->main, "/var/spool/tern");
  ASSERT_TRUE(od.ok());
  EXPECT_EQ(od->destinations.file_template, "/var/spool/tern/log/%slog");  // Exim's default
  EXPECT_FALSE(od->destinations.syslog);
  EXPECT_EQ(od->syslog_facility, LOG_MAIL);
  EXPECT_EQ(od->selectors, Selectors::defaults());

  // Expanded once, as Exim's readconf does.
  auto e = load("log_file_path = $primary_hostname/%slog\n");
  ASSERT_TRUE(e.ok());
  ExpandFn expand = [](std::string_view s) -> Result<std::string> {
    std::string out(s);
    out.replace(out.find("$primary_hostname"), 17, "/logs/mx.example");
    return out;
  };
  auto oe = options_from_config(e->main, "/spool", expand);
  ASSERT_TRUE(oe.ok());
  EXPECT_EQ(oe->destinations.file_template, "/logs/mx.example/%slog");
  ExpandFn failing = [](std::string_view) -> Result<std::string> {
    return Error::failed("syntax error in \"if\" item - \"fail\" expected");
  };
  auto bad = load("log_file_path = ${if eq{1}{2}{x}\n");
  ASSERT_TRUE(bad.ok());
  auto ob = options_from_config(bad->main, "/spool", failing);
  ASSERT_FALSE(ob.ok());
  // Exim 4.96: failed to expand log_file_path "${if eq{1}{2}{x}": syntax error in "if" item -
  // "fail" expected
  EXPECT_EQ(ob.error().message,
            "failed to expand log_file_path \"${if eq{1}{2}{x}\": syntax error in \"if\" item - "
            "\"fail\" expected");

  for (auto [text, error] : {
           std::pair{"log_selector = +bogus\n", "unknown log_selector setting: +bogus"},
           std::pair{"syslog_facility = auth\n", "failed to interpret syslog_facility \"auth\""},
           std::pair{"log_file_path = /tmp/x/mainlog\n",
                     "log_file_path \"/tmp/x/mainlog\" does not contain \"%s\""},
       }) {
    auto cc = load(text);
    ASSERT_TRUE(cc.ok()) << cc.error().message;
    auto oo = options_from_config(cc->main, "/spool");
    ASSERT_FALSE(oo.ok()) << text;
    EXPECT_EQ(oo.error().message, error);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tern::log
