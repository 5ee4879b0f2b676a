// core/main/command_line.hpp: Exim's command line, parsed into one request.
//
// tern takes Exim's options with Exim's meanings (see INTERFACE.md). The
// parser only reads argv: it decides the mode and collects its arguments;
// core/main/main.cpp runs the mode. A new mode plugs in by adding a Mode and
// its arguments here.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/result.hpp"

namespace tern::cli {

enum class Mode {
  kNone,          // no mode option yet (the parser ends it as kSubmit)
  kSubmit,        // -bm, or no mode option: the sendmail interface, a message on stdin
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

// How a submitted message is delivered (-od...).
enum class DeliveryMode {
  kDefault,     // none given: -odb, unless queue_only
  kBackground,  // -odb: a delivery process of its own, the caller does not wait
  kForeground,  // -odi / -odf: delivered before tern exits
  kQueue,       // -odq: left for a queue run
};

// The sendmail interface's options (Exim's -f, -F, -t, -i, -od..., -oe...).
struct Submission {
  bool sender_given = false;  // -f
  std::string sender;         // as given ("<>" and "" are the empty sender)
  bool name_given = false;    // -F
  std::string full_name;
  bool extract_recipients = false;  // -t
  bool dot_ends = true;             // false with -i / -oi
  DeliveryMode delivery = DeliveryMode::kDefault;
  bool errors_to_stderr = false;  // -oep / -oeq (Exim's ERRORS_STDERR); else errors go to the sender
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
  Submission submission;          // kSubmit's options
};

// -C and -D as given, for a process that starts tern again with the same
// configuration (a daemon's workers, queue runners, deliveries).
std::vector<std::string> configuration_arguments(const CommandLine& cl);

// Parse argv (argv[0] excluded). Errors are one line without the program
// name, e.g. `unknown, malformed, or incomplete option -x`.
Result<CommandLine> parse_command_line(const std::vector<std::string>& argv);

// The arguments a program name implies, as Exim reads its argv[0]: `mailq` is
// -bp, `rmail` is -i -oee; `sendmail` (and anything else) is tern itself.
std::vector<std::string> arguments_for_program_name(std::string_view argv0, std::vector<std::string> args);

}  // namespace tern::cli
