// core/main/command_line.hpp: Exim's command line, parsed into one request.
//
// tern takes Exim's options with Exim's meanings (see INTERFACE.md). The
// parser only reads argv: it decides the mode and collects its arguments;
// core/main/main.cpp runs the mode. Later modes (-bd, -bs, -bh, -bt, -q,
// the sendmail interface) plug in by adding a Mode and its arguments here.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/base/result.hpp"

namespace tern::cli {

enum class Mode {
  kNone,          // no mode option: Exim's default is a sendmail-style submission
  kVersion,       // -bV
  kExpand,        // -be
  kPrintOptions,  // -bP
  kDaemon,        // -bd / -bdf
  kSmtpStdin,     // -bs
  kFakeSession,   // -bh ip
  kAddressTest,   // -bt / -bv
  kListQueue,     // -bp / -bpc / -bpu
  kQueueRun,      // -q...
  kMessageAction, // -M / -Mc / -Mrm / -Mf / -Mt / -Mg / -Mar / -Mmd
  kRetryTest,     // -brt
  kSmtpWorker,    // --tern-smtp-worker FD: a daemon's SMTP worker (started by the master only)
};

struct CommandLine {
  Mode mode = Mode::kNone;
  std::string mode_flag;  // the option that chose the mode, as written ("-bdf")
  std::string config_file;                                 // -C
  std::vector<std::pair<std::string, std::string>> macros;  // -D, in order
  std::string listen;       // -oX
  bool foreground = false;  // -bdf
  std::string queue_interval;  // -q30m (with -bd): a queue runner every interval; "" none
  std::string queue_flags;     // its flags: "", "f" or "ff" (-qf30m)
  std::vector<std::string> args;  // the mode's arguments (strings, options, addresses, ids)
};

// -C and -D as given, for a process that starts tern again with the same
// configuration (a daemon's workers, queue runners, deliveries).
std::vector<std::string> configuration_arguments(const CommandLine& cl);

// Parse argv (argv[0] excluded). Errors are one line without the program
// name, e.g. `unknown, malformed, or incomplete option -x`.
Result<CommandLine> parse_command_line(const std::vector<std::string>& argv);

}  // namespace tern::cli
