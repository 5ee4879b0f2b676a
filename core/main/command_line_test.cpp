// core/main/command_line_test.cpp: the command line parser, table-driven.
#include "core/main/command_line.hpp"

#include <gtest/gtest.h>

namespace tern::cli {
namespace {

struct Case {
  const char* name;
  std::vector<std::string> argv;
  Mode mode;
  std::vector<std::string> args;
};

TEST(CommandLine, Modes) {
  const Case cases[] = {
      {"version", {"-bV"}, Mode::kVersion, {}},
      {"expand_args", {"-be", "a", "$b"}, Mode::kExpand, {"a", "$b"}},
      {"expand_options_after", {"-be", "-C", "x.conf", "s"}, Mode::kExpand, {"s"}},
      {"expand_dash_string", {"-be", "x", "-y"}, Mode::kExpand, {"x", "-y"}},
      {"double_dash", {"-be", "--", "-y"}, Mode::kExpand, {"-y"}},
      {"print_all", {"-bP", "all"}, Mode::kPrintOptions, {"all"}},
      {"daemon_fg", {"-bdf", "-oX", "2525"}, Mode::kDaemon, {}},
      {"fake_session", {"-bh", "10.0.0.1"}, Mode::kFakeSession, {"10.0.0.1"}},
      {"queue_once", {"-qff"}, Mode::kQueueRun, {"ff"}},
      {"queue_interval", {"-q30m"}, Mode::kQueueRun, {}},
      {"give_up", {"-Mg", "id"}, Mode::kMessageAction, {"id"}},
      {"add_recipient", {"-Mar", "id", "a@b"}, Mode::kMessageAction, {"id", "a@b"}},
      {"retry_test", {"-brt", "x.example", "refused"}, Mode::kRetryTest, {"x.example", "refused"}},
  };
  for (const auto& c : cases) {
    auto r = parse_command_line(c.argv);
    ASSERT_TRUE(r.ok()) << c.name << ": " << r.error().message;
    EXPECT_EQ(r->mode, c.mode) << c.name;
    EXPECT_EQ(r->args, c.args) << c.name;
  }
}

TEST(CommandLine, ConfigAndMacros) {
  auto r = parse_command_line({"-C", "/etc/t.conf", "-D", "A=1", "-DB=two words", "-DC", "-be"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->config_file, "/etc/t.conf");
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(r->macros, (std::vector<P>{{"A", "1"}, {"B", "two words"}, {"C", ""}}));
  EXPECT_TRUE(parse_command_line({"-bdf"})->foreground);
}

TEST(CommandLine, DaemonQueueInterval) {
  for (const auto& argv : {std::vector<std::string>{"-bd", "-qf30m"}, std::vector<std::string>{"-qf30m", "-bd"}}) {
    auto r = parse_command_line(argv);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->mode, Mode::kDaemon);
    EXPECT_EQ(r->queue_interval, "30m");
    EXPECT_EQ(r->queue_flags, "f");
  }
  auto once = parse_command_line({"-bd", "-qf"});
  ASSERT_FALSE(once.ok());
  EXPECT_EQ(once.error().message, "unknown, malformed, or incomplete option -qf");
}

TEST(CommandLine, Errors) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"-Z"}, "unknown, malformed, or incomplete option -Z"},
      {{"-f"}, "unknown, malformed, or incomplete option -f"},
      {{"-od"}, "unknown, malformed, or incomplete option -od"},
      {{"-C"}, "unknown, malformed, or incomplete option -C"},
      {{"-bh"}, "unknown, malformed, or incomplete option -bh"},
      {{"-be", "-bV"}, "conflicting options -be and -bV"},
      {{"-Dlower=1"},
       "-D: bad macro name \"lower\": a macro name starts with an upper-case letter and has only "
       "letters, digits and underscores"},
  };
  for (const auto& [argv, want] : cases) {
    auto r = parse_command_line(argv);
    ASSERT_FALSE(r.ok()) << want;
    EXPECT_EQ(r.error().message, want);
  }
}

// The sendmail interface: no mode option (or -bm), its options, the names tern answers to.
TEST(CommandLine, Submission) {
  auto r = parse_command_line({"-f", "a@b", "-FJo Smith", "-t", "-oi", "-odi", "-oep", "--", "-c@d", "e"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->mode, Mode::kSubmit);
  EXPECT_EQ(r->mode_flag, "");
  EXPECT_EQ(r->args, (std::vector<std::string>{"-c@d", "e"}));
  const Submission& s = r->submission;
  EXPECT_TRUE(s.sender_given);
  EXPECT_EQ(s.sender, "a@b");
  EXPECT_TRUE(s.name_given);
  EXPECT_EQ(s.full_name, "Jo Smith");
  EXPECT_TRUE(s.extract_recipients);
  EXPECT_FALSE(s.dot_ends);
  EXPECT_EQ(s.delivery, DeliveryMode::kForeground);
  EXPECT_TRUE(s.errors_to_stderr);

  auto d = parse_command_line({"-bm", "-fx@y", "-F", "N", "-odq", "-i", "u"});
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->mode, Mode::kSubmit);
  EXPECT_EQ(d->submission.sender, "x@y");
  EXPECT_EQ(d->submission.full_name, "N");
  EXPECT_EQ(d->submission.delivery, DeliveryMode::kQueue);
  EXPECT_TRUE(parse_command_line({"u"})->submission.dot_ends);
  EXPECT_EQ(parse_command_line({"u"})->submission.delivery, DeliveryMode::kDefault);
  EXPECT_FALSE(parse_command_line({"-oem", "u"})->submission.errors_to_stderr);

  // Options sendmail clients pass that Exim accepts and ignores.
  auto ignored = parse_command_line({"-oem", "-om", "-oo", "-v", "-x", "-U", "-B8BITMIME", "-h", "5", "-n", "u"});
  ASSERT_TRUE(ignored.ok()) << ignored.error().message;
  EXPECT_EQ(ignored->args, std::vector<std::string>{"u"});

  EXPECT_EQ(arguments_for_program_name("/usr/sbin/sendmail", {"-t"}), std::vector<std::string>{"-t"});
  EXPECT_EQ(arguments_for_program_name("mailq", {}), std::vector<std::string>{"-bp"});
  EXPECT_EQ(arguments_for_program_name("/usr/bin/rmail", {"u"}), (std::vector<std::string>{"-i", "-oee", "u"}));
}

}  // namespace
}  // namespace tern::cli
