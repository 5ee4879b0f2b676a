// core/main/main.cpp: tern's entry point.
//
// Parses the command line and hands it to the mode that runs it; every
// failure that reaches here is one line on stderr and exit status 1. Called as
// `sendmail` (a link to tern) it is tern; as `mailq` or `rmail` the name adds
// the options Exim's does (core/main/command_line.hpp).
#include <cstdio>
#include <string>
#include <vector>

#include "core/deliver/modes.hpp"
#include "core/deliver/queue_control.hpp"
#include "core/deliver/submission.hpp"
#include "core/main/command_line.hpp"
#include "core/main/modes.hpp"
#include "core/server/modes.hpp"

int main(int argc, char** argv) {
  if (argc < 1) return 1;  // not even a program name
  std::vector<std::string> args = tern::cli::arguments_for_program_name(argv[0], {argv + 1, argv + argc});
  using tern::cli::Mode;
  return tern::cli::run(args, {{Mode::kDaemon, tern::server::run_daemon},
                               {Mode::kSmtpWorker, tern::server::run_worker},
                               {Mode::kSmtpStdin, tern::server::run_smtp_stdin},
                               {Mode::kFakeSession, tern::server::run_fake_session},
                               {Mode::kAddressTest, tern::deliver::run_address_test},
                               {Mode::kMessageAction, tern::deliver::run_message_action},
                               {Mode::kQueueRun, tern::deliver::run_queue},
                               {Mode::kRetryTest, tern::deliver::run_retry_test},
                               {Mode::kListQueue, tern::deliver::run_list_queue},
                               {Mode::kSubmit, tern::deliver::run_submission}});
}
