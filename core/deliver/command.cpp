// core/deliver/command.cpp: splitting, expanding and starting local transports' commands.
#include "core/deliver/command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace tern::deliver {

namespace {

// One argument as written: its text and whether it was quoted.
struct RawArgument {
  std::string text;
  bool quoted = false;
};

Result<std::vector<RawArgument>> split_command(std::string_view cmd, const std::string& transport) {
  std::vector<RawArgument> out;
  std::size_t i = 0;
  while (true) {
    while (i < cmd.size() && std::isspace(static_cast<unsigned char>(cmd[i]))) ++i;
    if (i >= cmd.size()) break;
    RawArgument arg;
    if (cmd[i] == '"' || cmd[i] == '\'') {
      char quote = cmd[i++];
      arg.quoted = true;
      while (i < cmd.size() && cmd[i] != quote) {
        if (quote == '"' && cmd[i] == '\\' && i + 1 < cmd.size()) ++i;
        arg.text += cmd[i++];
      }
      if (i >= cmd.size())
        return Error::failed("missing quote in command \"" + std::string(cmd) + "\" for " + transport + " transport");
      ++i;
    } else {
      while (i < cmd.size() && !std::isspace(static_cast<unsigned char>(cmd[i]))) arg.text += cmd[i++];
    }
    out.push_back(std::move(arg));
  }
  if (out.empty()) return Error::failed("no command specified for " + transport + " transport");
  return out;
}

bool is_pipe_addresses(const RawArgument& arg) {
  return !arg.quoted && (arg.text == "$pipe_addresses" || arg.text == "${pipe_addresses}");
}

}  // namespace

Result<std::vector<std::string>> command_arguments(std::string_view cmd, bool expand_it, const TransportCall& call,
                                                   const std::string& transport) {
  auto raw = split_command(cmd, transport);
  if (!raw) return raw.take_error();
  std::vector<std::string> argv;
  for (const RawArgument& arg : *raw) {
    if (!expand_it) {
      argv.push_back(arg.text);
    } else if (is_pipe_addresses(arg)) {
      for (const auto& a : *call.addresses) argv.push_back(a.address);
    } else {
      auto e = expand::expand(arg.text, *call.expand);
      if (!e) return Error::failed("Expansion of \"" + arg.text + "\" from command \"" + std::string(cmd) + "\" in " +
                                   transport + " transport failed: " + e.error().message);
      argv.push_back(*e);
    }
  }
  return argv;
}

Result<StartedCommand> start_command(const std::vector<std::string>& argv, const std::vector<std::string>* env,
                                     mode_t mask, const std::string& cwd, const std::string& transport) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return Error::failed(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return Error::failed(std::string("pipe: ") + std::strerror(errno));
  }
  // Built before the fork: the child only calls async-signal-safe functions.
  std::vector<char*> cargv, cenv;
  for (const auto& s : argv) cargv.push_back(const_cast<char*>(s.c_str()));
  cargv.push_back(nullptr);
  if (env) {
    for (const auto& s : *env) cenv.push_back(const_cast<char*>(s.c_str()));
    cenv.push_back(nullptr);
  }
  char* const* envp = env ? cenv.data() : environ;
  const std::string dir = cwd.empty() ? "/" : cwd;
  pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
    return Error::failed("Failed to create child process for " + transport + " transport: " + std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::umask(mask);
    if (::chdir(dir.c_str()) != 0) (void)!::chdir("/");
    ::execve(cargv[0], cargv.data(), envp);
    ::_exit(127);  // Exim's EX_EXECFAILED: "(could mean unable to exec or command does not exist)"
  }
  ::close(in[0]);
  ::close(out[1]);
  ::fcntl(in[1], F_SETFL, ::fcntl(in[1], F_GETFL) | O_NONBLOCK);
  ::fcntl(out[0], F_SETFL, ::fcntl(out[0], F_GETFL) | O_NONBLOCK);
  return StartedCommand{pid, in[1], out[0]};
}

}  // namespace tern::deliver
