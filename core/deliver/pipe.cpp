// core/deliver/pipe.cpp: the pipe transport: the message on a command's standard input.
//
// As Exim's transports/pipe.c. The command is the transport's `command`, or the address's
// own for a "|command" made by a redirect router (then not expanded, unless force_command
// uses the transport's). Without use_shell it is split into arguments and expanded as
// Exim's transport_set_up_command() does (command.hpp); a command name that is
// not absolute is looked up in `path` (restrict_to_path refuses a "/", allow_commands
// lists what may run). With use_shell the whole string is expanded and given to
// /bin/sh -c.
//
// The command runs in a process group of its own with Exim's environment (LOCAL_PART,
// DOMAIN, HOME, MESSAGE_ID, PATH, RECIPIENT, SENDER, ... then `environment`), `umask`,
// standard output and error on one pipe. The message is written with message_prefix
// (the "From " line), check_string/escape_string, use_crlf and message_suffix while the
// output is read (so a command that writes before it reads cannot deadlock), up to
// max_output bytes: beyond that the command is killed. `timeout` bounds everything; on
// expiry the group is killed ("pipe delivery process timed out"; a failure, a defer
// with timeout_defer). An exit status in temp_errors defers, any other non-zero status
// fails, with Exim's "Child process of ... returned N (could mean ...) from command:"
// texts; ignore_status delivers whatever the status.
//
// Output: log_output (and log_fail_output, log_defer_output) put its first line in the
// main log; return_output turns any output into a failure ("return message generated")
// whose bounce carries it, return_fail_output only when the delivery failed anyway.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/deliver/command.hpp"
#include "core/deliver/message_writer.hpp"
#include "core/deliver/transport.hpp"
#include "core/text/list.hpp"

namespace tern::deliver {

namespace {

using Clock = std::chrono::steady_clock;

// Exim's os_strexit(): what a sysexits.h status could mean, for the log ("" if nothing).
std::string_view exit_status_meaning(int status) {
  switch (status) {
    case 64: return "(could mean usage or syntax error)";
    case 65: return "(could mean error in input data)";
    case 66: return "(could mean input data missing)";
    case 67: return "(could mean user nonexistent)";
    case 68: return "(could mean host nonexistent)";
    case 69: return "(could mean service or program unavailable)";
    case 70: return "(could mean internal software error)";
    case 71: return "(could mean internal operating system error)";
    case 72: return "(could mean system file missing)";
    case 73: return "(could mean can't create output file)";
    case 74: return "(could mean input/output error)";
    case 75: return "(could mean temporary error)";
    case 76: return "(could mean protocol error)";
    case 77: return "(could mean permission denied)";
    case 78: return "(could mean configuration error)";
    case 127: return "(could mean unable to exec or command does not exist)";
    default: return "";
  }
}

// How the command ended.
struct CommandRun {
  bool timed_out = false;
  std::string write_problem;  // "timeout while writing to pipe" (then waited 1s more)
  int status = 0;             // waitpid status when !timed_out
  std::string output;         // standard output and error, at most max_output bytes
};

// The running command: its process group, the two pipes, the deadline and the output.
class RunningCommand {
 public:
  RunningCommand(pid_t pid, int to_child, int from_child, Clock::time_point deadline, std::int64_t max_output)
      : pid_(pid), to_child_(to_child), from_child_(from_child), deadline_(deadline), max_output_(max_output) {}

  // Writes `data` to the command's input, reading its output meanwhile. An Error with
  // ETIMEDOUT when the deadline passes; a command that stopped reading (EPIPE) is not
  // an error here: its exit status will tell.
  Status write(std::string_view data) {
    while (!data.empty() && to_child_ >= 0) {
      struct pollfd fds[2] = {{to_child_, POLLOUT, 0}, {from_child_, POLLIN, 0}};
      int n = ::poll(fds, from_child_ >= 0 ? 2 : 1, remaining_ms());
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return Error::failed("timeout while writing to pipe");
      if (from_child_ >= 0 && (fds[1].revents & (POLLIN | POLLHUP))) read_output();
      if (fds[0].revents & (POLLERR | POLLHUP)) {
        close_input();  // the command has gone: EPIPE, ignored as Exim does
        break;
      }
      if (fds[0].revents & POLLOUT) {
        ssize_t w = ::write(to_child_, data.data(), data.size());
        if (w < 0 && errno == EPIPE) {
          close_input();
          break;
        }
        if (w > 0) data.remove_prefix(static_cast<std::size_t>(w));
      }
    }
    return {};
  }

  // Closes the input, reads the output to its end and waits for the command, all within
  // the deadline (or `grace` from now after a write timeout).
  CommandRun finish(std::string write_problem) {
    CommandRun run;
    run.write_problem = std::move(write_problem);
    if (!run.write_problem.empty()) deadline_ = Clock::now() + std::chrono::seconds(1);
    close_input();
    while (from_child_ >= 0) {
      struct pollfd fd = {from_child_, POLLIN, 0};
      int n = ::poll(&fd, 1, remaining_ms());
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) break;
      read_output();
    }
    while (true) {
      pid_t w = ::waitpid(pid_, &run.status, WNOHANG);
      if (w == pid_) break;
      if (w < 0 && errno != EINTR) break;
      if (Clock::now() >= deadline_) {
        ::killpg(pid_, SIGKILL);
        while (::waitpid(pid_, &run.status, 0) < 0 && errno == EINTR) {
        }
        run.timed_out = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (from_child_ >= 0) ::close(from_child_);
    from_child_ = -1;
    run.output = std::move(output_);
    return run;
  }

 private:
  int remaining_ms() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
  }

  void close_input() {
    if (to_child_ >= 0) ::close(to_child_);
    to_child_ = -1;
  }

  // Reads what is there; past max_output the command's group is killed (Exim's output
  // process does the same) and the rest discarded.
  void read_output() {
    char buf[8192];
    ssize_t n = ::read(from_child_, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      ::close(from_child_);
      from_child_ = -1;
      return;
    }
    std::size_t room = output_.size() < static_cast<std::size_t>(max_output_)
                           ? static_cast<std::size_t>(max_output_) - output_.size() : 0;
    output_.append(buf, std::min(room, static_cast<std::size_t>(n)));
    if (static_cast<std::int64_t>(output_.size()) >= max_output_ && static_cast<std::size_t>(n) > room) {
      output_ += "\n\n*** Too much output - remainder discarded ***\n";
      ::killpg(pid_, SIGKILL);
      ::close(from_child_);
      from_child_ = -1;
    }
  }

  pid_t pid_;
  int to_child_, from_child_;
  Clock::time_point deadline_;
  std::int64_t max_output_;
  std::string output_;
};

class Pipe final : public Transport {
 public:
  Pipe(const config::DriverInstance& t, const TransportEnv& env)
      : t_(t), timezone_(env.config ? env.config->main.get_string("timezone") : "") {}

  void deliver(const TransportCall& call, std::vector<AddressResult>& results) override {
    AddressResult r = deliver_batch(call);
    results.assign(call.addresses->size(), r);
  }

 private:
  static AddressResult result(Outcome outcome, std::string message, int err = 0) {
    AddressResult r;
    r.outcome = outcome;
    r.message = std::move(message);
    r.basic_errno = err;
    return r;
  }

  // The command and whether to expand it: the transport's, or the "|command" address's.
  std::pair<std::string, bool> command_for(const RoutedAddress& first) const {
    if (first.is_pipe && !t_.options.get_bool("force_command")) {
      std::string cmd = first.address.substr(first.address.starts_with("|") ? 1 : 0);
      cmd.erase(0, cmd.find_first_not_of(" \t"));
      return {cmd, false};
    }
    return {t_.options.get_string("command"), true};
  }

  Result<std::vector<std::string>> shell_argv(const std::string& cmd, bool expand_it, const TransportCall& call) const {
    std::string text = cmd;
    if (expand_it) {
      // $pipe_addresses is not a variable: it is replaced before expansion (Exim does it so).
      for (std::string_view name : {"${pipe_addresses}", "$pipe_addresses"}) {
        if (auto at = text.find(name); at != std::string::npos) {
          std::string all;
          for (const auto& a : *call.addresses) all += (all.empty() ? "" : " ") + a.address;
          text.replace(at, name.size(), all);
          break;
        }
      }
      auto e = expand::expand(text, *call.expand);
      if (!e) return Error::failed("Expansion of command \"" + cmd + "\" in " + t_.name + " transport failed: " +
                                   e.error().message);
      text = *e;
    }
    return std::vector<std::string>{"/bin/sh", "-c", text};
  }

  Result<std::vector<std::string>> direct_argv(const std::string& cmd, bool expand_it, const TransportCall& call,
                                               Outcome* refusal) const {
    *refusal = Outcome::kDeferred;
    auto args = command_arguments(cmd, expand_it, call, t_.name);
    if (!args) return args.take_error();
    std::vector<std::string> argv = std::move(*args);
    bool permitted = false;
    if (std::string allow = t_.options.get_string("allow_commands"); !allow.empty()) {
      auto list = expand::expand(allow, *call.expand);
      if (!list) return Error::failed("failed to expand string \"" + allow + "\" for " + t_.name + " transport: " +
                                      list.error().message);
      for (const auto& item : text::list_items(*list)) permitted = permitted || item == argv[0];
    }
    *refusal = Outcome::kFailed;
    if (!permitted && t_.options.get_bool("restrict_to_path") && argv[0].find('/') != std::string::npos)
      return Error::failed("\"/\" found in \"" + cmd + "\" (command for " + t_.name +
                           " transport) - failed for security reasons");
    if (!permitted && !t_.options.get_bool("restrict_to_path") && !t_.options.get_string("allow_commands").empty())
      return Error::failed("\"" + argv[0] + "\" command not permitted by " + t_.name + " transport");
    if (argv[0].front() != '/') {
      auto dirs = expand::expand(t_.options.get_string("path"), *call.expand);
      std::string found;
      if (dirs) {
        for (const auto& dir : text::list_items(*dirs)) {
          struct stat st;
          std::string candidate = dir + "/" + argv[0];
          if (::stat(candidate.c_str(), &st) == 0) {
            found = candidate;
            break;
          }
        }
      }
      if (found.empty()) return Error::failed("\"" + argv[0] + "\" command not found for " + t_.name + " transport");
      argv[0] = found;
    }
    return argv;
  }

  Result<std::vector<std::string>> environment(const TransportCall& call) const {
    const RoutedAddress& a = call.addresses->front();
    auto var = [&](std::string_view name) {
      auto v = expand::expand("$" + std::string(name), *call.expand);
      return v ? *v : std::string();
    };
    auto path = expand::expand(t_.options.get_string("path"), *call.expand);
    std::vector<std::string> env = {
        "LOCAL_PART=" + a.local_part,
        "LOGNAME=" + a.local_part,
        "USER=" + a.local_part,
        "LOCAL_PART_PREFIX=" + a.local_part_prefix,
        "LOCAL_PART_SUFFIX=" + a.local_part_suffix,
        "DOMAIN=" + a.domain,
        "HOME=" + a.home_directory,
        "MESSAGE_ID=" + std::string(call.message->id),
        "PATH=" + (path ? *path : std::string()),
        "RECIPIENT=" + a.local_part_prefix + a.local_part + a.local_part_suffix + "@" + a.domain,
        "QUALIFY_DOMAIN=" + var("qualify_domain"),
        "SENDER=" + call.message->envelope->sender,
        "SHELL=/bin/sh",
    };
    if (!a.hosts.empty()) env.push_back("HOST=" + a.hosts.front().name);
    if (std::string tz = timezone_; !tz.empty()) env.push_back("TZ=" + tz);
    if (std::string extra = t_.options.get_string("environment"); !extra.empty()) {
      auto list = expand::expand(extra, *call.expand);
      if (!list) return Error::failed("failed to expand string \"" + extra + "\" for " + t_.name + " transport: " +
                                      list.error().message);
      for (auto& item : text::list_items(*list)) env.push_back(std::move(item));
    }
    return env;
  }

  Result<std::string> expanded(std::string_view option, const TransportCall& call, std::string_view what) const {
    std::string text = t_.options.get_string(option);
    if (text.empty()) return text;
    auto e = expand::expand(text, *call.expand);
    if (!e) return Error::failed("Expansion of \"" + text + "\" (" + std::string(what) + " for " + t_.name +
                                 " transport) failed: " + e.error().message);
    return e;
  }

  // Exim's verdict on a command that ended with `run`.
  AddressResult verdict(const CommandRun& run, const std::string& cmd, const std::string& argv0) const {
    std::string preceded = run.write_problem.empty() ? "" : " (preceded by " + run.write_problem + ")";
    if (run.timed_out)
      return result(t_.options.get_bool("timeout_defer") ? Outcome::kDeferred : Outcome::kFailed,
                    "pipe delivery process timed out" + preceded);
    if (WIFSIGNALED(run.status)) {
      int sig = WTERMSIG(run.status);
      std::string text = "Child process of " + t_.name + " transport (running command \"" + cmd +
                         "\") was terminated by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")" +
                         preceded;
      if (t_.options.get_bool("freeze_signal")) return result(Outcome::kDeferred, text);
      if (!t_.options.get_bool("ignore_status")) return result(Outcome::kFailed, text);
      return result(Outcome::kDelivered, "");
    }
    int status = WEXITSTATUS(run.status);
    if (status == 0) return result(Outcome::kDelivered, "");
    if (t_.options.get_bool("freeze_exec_fail") && status == 127)
      return result(Outcome::kDeferred, "pipe process failed to exec \"" + cmd + "\"" + preceded);
    if (t_.options.get_bool("ignore_status")) return result(Outcome::kDelivered, "");
    Outcome outcome = Outcome::kFailed;
    std::string temp = t_.options.get_string("temp_errors");
    if (!temp.empty() && temp.front() == '*') outcome = Outcome::kDeferred;
    for (const auto& code : text::list_items(temp))
      if (code == std::to_string(status)) outcome = Outcome::kDeferred;
    std::string meaning = status > 128 ? "(could mean shell command ended by signal " + std::to_string(status - 128) +
                                             " (" + ::strsignal(status - 128) + "))"
                                       : std::string(exit_status_meaning(status));
    std::string quoted0 = argv0.find_first_of(" \t") == std::string::npos ? argv0 : "\"" + argv0 + "\"";
    return result(outcome, "Child process of " + t_.name + " transport returned " + std::to_string(status) +
                               (meaning.empty() ? "" : " " + meaning) + " from command: " + quoted0 + preceded);
  }

  AddressResult deliver_batch(const TransportCall& call) {
    const RoutedAddress& first = call.addresses->front();
    auto [cmd, expand_it] = command_for(first);
    if (cmd.empty()) return result(Outcome::kDeferred, "no command specified for " + t_.name + " transport");
    Outcome refusal = Outcome::kDeferred;
    auto argv = t_.options.get_bool("use_shell") ? shell_argv(cmd, expand_it, call)
                                                  : direct_argv(cmd, expand_it, call, &refusal);
    if (!argv) return result(refusal, argv.error().message);  // Exim: errno 0, "defer (0)"
    auto env = environment(call);
    if (!env) return result(Outcome::kDeferred, env.error().message, kErrExpandFail);
    auto prefix = expanded("message_prefix", call, "prefix");
    if (!prefix) return result(Outcome::kDeferred, prefix.error().message, kErrExpandFail);
    auto suffix = expanded("message_suffix", call, "suffix");
    if (!suffix) return result(Outcome::kDeferred, suffix.error().message, kErrExpandFail);
    if (call.verify_only) return result(Outcome::kDelivered, "");

    auto started = start_command(*argv, &*env, static_cast<mode_t>(t_.options.get_int("umask")),
                                 first.home_directory, t_.name);
    if (!started) return result(Outcome::kDeferred, started.error().message);
    std::int64_t timeout = t_.options.get_int("timeout");
    auto deadline = timeout > 0 ? Clock::now() + std::chrono::seconds(timeout) : Clock::time_point::max();
    RunningCommand running(started->pid, started->to_child, started->from_child, deadline,
                           std::max<std::int64_t>(t_.options.get_int("max_output"), 1));
    WriteOptions options;
    options.crlf = t_.options.get_bool("use_crlf");
    options.check_string = t_.options.get_string("check_string");
    options.escape_string = t_.options.get_string("escape_string");
    std::int64_t bytes = 0;
    auto sink = [&](std::string_view chunk) { return running.write(chunk); };
    Status written = sink(*prefix);
    if (written) written = write_message(*call.message, options, sink, &bytes);
    if (written) written = sink(*suffix);
    CommandRun run = running.finish(written ? "" : written.error().message);

    AddressResult r = verdict(run, cmd, (*argv)[0]);
    r.bytes_written = bytes + static_cast<std::int64_t>(prefix->size() + suffix->size());
    if (!run.output.empty()) {
      bool failed = r.outcome == Outcome::kFailed, deferred = r.outcome == Outcome::kDeferred;
      r.output = run.output;
      r.log_output = t_.options.get_bool("log_output") || (failed && t_.options.get_bool("log_fail_output")) ||
                     (deferred && t_.options.get_bool("log_defer_output"));
      bool someone_to_tell = !call.message->return_path.empty() || !first.errors_address.empty();
      if (someone_to_tell && t_.options.get_bool("return_output")) {
        r.outcome = Outcome::kFailed;
        if (r.basic_errno == 0 && r.message.empty()) r.message = "return message generated";
        r.return_output = true;
      } else if (someone_to_tell && failed && t_.options.get_bool("return_fail_output")) {
        r.return_output = true;
      }
    }
    return r;
  }

  const config::DriverInstance& t_;
  std::string timezone_;  // the main option: TZ for the command when set
};

}  // namespace

void add_pipe_transport(TransportRegistry& registry) {
  TransportDriver d;
  d.local = true;
  d.make = [](const config::DriverInstance& t, const TransportEnv& env) -> Result<std::unique_ptr<Transport>> {
    if (t.options.get_bool("use_shell") && t.options.get_bool("restrict_to_path"))
      return Error::failed("both restrict_to_path and use_shell set for " + t.name + " transport");
    if (t.options.get_bool("use_shell") && !t.options.get_string("allow_commands").empty())
      return Error::failed("both allow_commands and use_shell set for " + t.name + " transport");
    return std::unique_ptr<Transport>(new Pipe(t, env));
  };
  registry.add("pipe", std::move(d));
}

}  // namespace tern::deliver
