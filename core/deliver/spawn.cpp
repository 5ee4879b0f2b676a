// core/deliver/spawn.cpp: spawn_tern() and spawn_delivery() (see spawn.hpp).
#include "core/deliver/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace tern::deliver {

namespace {

// What the child of a fork does: becomes tern with `argv`. Never returns.
[[noreturn]] void become_tern(char* const* argv, int devnull) {
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
  }
  ::close_range(3, ~0U, 0);
  // A daemon's master blocks the signals it waits for and ignores SIGPIPE:
  // the child starts with neither (an ignored signal stays so across exec).
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGPIPE, SIGCHLD, SIGTERM, SIGHUP, SIGINT}) ::signal(sig, SIG_DFL);
  ::execv("/proc/self/exe", argv);
  ::_exit(127);
}

// Everything the children need, made before fork.
struct Prepared {
  std::vector<std::string> args;
  std::vector<char*> argv;
  int devnull = -1;
  explicit Prepared(std::vector<std::string> a) : args(std::move(a)) {
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  }
  ~Prepared() {
    if (devnull >= 0) ::close(devnull);
  }
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;
};

std::vector<std::string> delivery_args(const std::vector<std::string>& config_args, std::string_view id) {
  std::vector<std::string> args{"tern"};
  args.insert(args.end(), config_args.begin(), config_args.end());
  args.push_back("-Mc");
  args.emplace_back(id);
  return args;
}

}  // namespace

pid_t spawn_tern(const std::vector<std::string>& args) {
  Prepared p(args);
  pid_t child = ::fork();
  if (child == 0) {
    ::setsid();
    become_tern(p.argv.data(), p.devnull);
  }
  return child;
}

bool spawn_delivery(const cli::Runtime& rt, std::string_view id) {
  std::vector<std::string> config_args{"-C", rt.config().file};
  for (const auto& m : rt.config().macros)
    if (m.command_line) config_args.push_back("-D" + m.name + "=" + m.value);
  return spawn_delivery(config_args, id);
}

bool spawn_delivery(const std::vector<std::string>& config_args, std::string_view id) {
  Prepared p(delivery_args(config_args, id));
  pid_t child = ::fork();
  if (child < 0) return false;
  if (child == 0) {
    ::setsid();
    if (::fork() != 0) ::_exit(0);  // the grandchild is adopted by init
    become_tern(p.argv.data(), p.devnull);
  }
  int status;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return true;
}

}  // namespace tern::deliver
