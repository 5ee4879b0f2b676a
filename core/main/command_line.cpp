// core/main/command_line.cpp: Exim's command line, parsed into one request.
//
// As in Exim, options come first: the first argument that is not an option
// (or `--`) ends them, and it and everything after it are the mode's
// arguments (strings for -be, option names for -bP, addresses for -bt).
// Options are recognised by exact spelling, then by the prefixed forms Exim
// accepts (-DNAME=value, -q30m, -fsender, -FName). With no mode option the
// mode is the sendmail interface (-bm), and the arguments are recipients.
#include "core/main/command_line.hpp"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace tern::cli {
namespace {

Error malformed(std::string_view option) {
  return Error::failed("unknown, malformed, or incomplete option " + std::string(option));
}

bool valid_macro_name(std::string_view name) {
  if (name.empty() || name[0] < 'A' || name[0] > 'Z') return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// -D NAME=value, -DNAME=value or -DNAME (value empty).
Status add_macro(CommandLine& cl, std::string_view spec) {
  auto eq = spec.find('=');
  std::string name(spec.substr(0, eq));
  while (!name.empty() && name.back() == ' ') name.pop_back();
  if (!valid_macro_name(name)) {
    return Error::failed("-D: bad macro name \"" + name +
                         "\": a macro name starts with an upper-case letter and has only letters, digits and underscores");
  }
  std::string value;
  if (eq != std::string_view::npos) {
    value = std::string(spec.substr(eq + 1));
    value.erase(0, value.find_first_not_of(' '));
  }
  cl.macros.emplace_back(std::move(name), std::move(value));
  return {};
}

struct ModeOption {
  std::string_view flag;
  Mode mode;
};

constexpr ModeOption kModeOptions[] = {
    {"-bV", Mode::kVersion},        {"-be", Mode::kExpand},
    {"-bP", Mode::kPrintOptions},   {"-bd", Mode::kDaemon},
    {"-bdf", Mode::kDaemon},        {"-bs", Mode::kSmtpStdin},
    {"-bt", Mode::kAddressTest},    {"-bv", Mode::kAddressTest},
    {"-bvs", Mode::kAddressTest},
    {"-bp", Mode::kListQueue},
    {"-bpc", Mode::kListQueue},     {"-bpu", Mode::kListQueue},
    {"-M", Mode::kMessageAction},   {"-Mrm", Mode::kMessageAction},
    {"-Mf", Mode::kMessageAction},  {"-Mt", Mode::kMessageAction},
    {"-Mc", Mode::kMessageAction},  {"-Mg", Mode::kMessageAction},
    {"-Mar", Mode::kMessageAction}, {"-Mmd", Mode::kMessageAction},
    {"-brt", Mode::kRetryTest},     {"-bm", Mode::kSubmit},
};

// Options of the sendmail interface that Exim accepts and ignores (sendmail's -om "me
// too", -oo, -n "no aliasing", -v, -x for AIX, -U "initial submission", -Ac/-Am), and
// prefixes whose value is ignored (-B7BIT / -B8BITMIME).
constexpr std::string_view kIgnoredOptions[] = {"-om", "-oo", "-n", "-v", "-x", "-U", "-Ac", "-Am", "-m"};

// -od...: how the submitted message is delivered.
bool set_delivery_mode(Submission& s, std::string_view arg) {
  if (arg == "-odb") s.delivery = DeliveryMode::kBackground;
  else if (arg == "-odi" || arg == "-odf") s.delivery = DeliveryMode::kForeground;
  else if (arg == "-odq") s.delivery = DeliveryMode::kQueue;
  else return false;
  return true;
}

// -oe<x> and its obsolete spelling -e<x>: where reception errors go.
bool set_error_handling(Submission& s, std::string_view arg) {
  std::string_view x = arg.starts_with("-oe") ? arg.substr(3) : arg.starts_with("-e") ? arg.substr(2) : "";
  if (x == "p" || x == "q") s.errors_to_stderr = true;       // print / quiet: standard error
  else if (x == "m" || x == "e" || x == "w") s.errors_to_stderr = false;  // mail / mail and exit 0 / write
  else return false;
  return true;
}

}  // namespace

Result<CommandLine> parse_command_line(const std::vector<std::string>& argv) {
  CommandLine cl;
  auto set_mode = [&](Mode mode, std::string_view flag) -> Status {
    if (cl.mode != Mode::kNone && cl.mode_flag != flag) {
      return Error::failed("conflicting options " + cl.mode_flag + " and " + std::string(flag));
    }
    cl.mode = mode;
    cl.mode_flag = std::string(flag);
    return {};
  };

  for (size_t i = 0; i < argv.size(); ++i) {
    std::string_view arg = argv[i];
    auto next_value = [&]() -> Result<std::string> {
      if (i + 1 >= argv.size()) return malformed(arg);
      return argv[++i];
    };
    // "-fvalue" or "-f value" (options of two letters).
    auto attached_or_next = [&]() -> Result<std::string> {
      if (arg.size() > 2) return std::string(arg.substr(2));
      return next_value();
    };

    if (arg == "--" || arg.size() < 2 || arg[0] != '-') {
      size_t first = arg == "--" ? i + 1 : i;
      cl.args.insert(cl.args.end(), argv.begin() + static_cast<long>(first), argv.end());
      break;
    }

    const ModeOption* mode_option = nullptr;
    for (const auto& m : kModeOptions) {
      if (arg == m.flag) mode_option = &m;
    }
    if (mode_option) {
      // -q<time> before -bd: the daemon runs the queue.
      if (mode_option->mode == Mode::kDaemon && cl.mode == Mode::kQueueRun && !cl.queue_interval.empty())
        cl.mode = Mode::kNone;
      if (auto s = set_mode(mode_option->mode, arg); !s) return s.take_error();
      if (arg == "-bdf") cl.foreground = true;
      continue;
    }

    if (arg == "-C") {
      auto v = next_value();
      if (!v) return v.take_error();
      cl.config_file = *v;
    } else if (arg == "-D") {
      auto v = next_value();
      if (!v) return v.take_error();
      if (auto s = add_macro(cl, *v); !s) return s.take_error();
    } else if (arg.starts_with("-D")) {
      if (auto s = add_macro(cl, arg.substr(2)); !s) return s.take_error();
    } else if (arg == "-f" || arg == "-r" || arg.starts_with("-f")) {
      // -f sender, -fsender (-r is sendmail's old name for it).
      auto v = attached_or_next();
      if (!v) return v.take_error();
      cl.submission.sender_given = true;
      cl.submission.sender = *v;
    } else if (arg.starts_with("-F")) {
      auto v = attached_or_next();
      if (!v) return v.take_error();
      cl.submission.name_given = true;
      cl.submission.full_name = *v;
    } else if (arg == "-t") {
      cl.submission.extract_recipients = true;
    } else if (arg == "-i" || arg == "-oi") {
      cl.submission.dot_ends = false;
    } else if (set_delivery_mode(cl.submission, arg) || set_error_handling(cl.submission, arg)) {
      // recorded
    } else if (arg == "-h") {
      if (auto v = next_value(); !v) return v.take_error();  // sendmail's hop count: ignored
    } else if (arg.starts_with("-B") ||
               std::find(std::begin(kIgnoredOptions), std::end(kIgnoredOptions), arg) != std::end(kIgnoredOptions)) {
      // accepted and ignored, as Exim does
    } else if (arg == "-oX") {
      auto v = next_value();
      if (!v) return v.take_error();
      cl.listen = *v;
    } else if (arg == "-bh") {
      if (auto s = set_mode(Mode::kFakeSession, arg); !s) return s.take_error();
      auto v = next_value();
      if (!v) return v.take_error();
      cl.args.push_back(*v);
    } else if (arg == "--tern-smtp-worker") {
      // Internal: the daemon master execs its workers with this and the
      // descriptor of their control socket.
      if (auto s = set_mode(Mode::kSmtpWorker, arg); !s) return s.take_error();
      auto v = next_value();
      if (!v) return v.take_error();
      cl.args.push_back(*v);
    } else if (arg.starts_with("-q")) {
      // -q, -qf, -qff: one queue run; -q<time> (-qf<time>, ...): a runner every interval,
      // with -bd in the daemon.
      std::string_view rest = arg.substr(2);
      std::size_t f = 0;
      while (f < rest.size() && f < 2 && rest[f] == 'f') ++f;
      if (f < rest.size() && rest[f] >= '0' && rest[f] <= '9') {
        cl.queue_flags = std::string(rest.substr(0, f));
        cl.queue_interval = std::string(rest.substr(f));
        if (cl.mode == Mode::kNone) {
          cl.mode = Mode::kQueueRun;
          cl.mode_flag = "-q";
        }
        continue;
      }
      if (cl.mode == Mode::kDaemon) return malformed(arg);
      if (auto s = set_mode(Mode::kQueueRun, "-q"); !s) return s.take_error();
      cl.args.emplace_back(rest);
    } else {
      return malformed(arg);
    }
  }
  if (cl.mode == Mode::kNone) cl.mode = Mode::kSubmit;  // mode_flag stays "": no -bm written
  return cl;
}

std::vector<std::string> arguments_for_program_name(std::string_view argv0, std::vector<std::string> args) {
  std::string_view name = argv0.substr(argv0.rfind('/') == std::string_view::npos ? 0 : argv0.rfind('/') + 1);
  std::vector<std::string> implied;
  if (name == "mailq") implied = {"-bp"};
  else if (name == "rmail") implied = {"-i", "-oee"};
  implied.insert(implied.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
  return implied;
}

std::vector<std::string> configuration_arguments(const CommandLine& cl) {
  std::vector<std::string> args;
  if (!cl.config_file.empty()) args.insert(args.end(), {"-C", cl.config_file});
  for (const auto& [name, value] : cl.macros) args.push_back("-D" + name + "=" + value);
  return args;
}

}  // namespace tern::cli
