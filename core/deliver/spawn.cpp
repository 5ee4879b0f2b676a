// core/deliver/spawn.cpp: spawn_delivery() (see spawn.hpp).
#include "core/deliver/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace tern::deliver {

bool spawn_delivery(const cli::Runtime& rt, std::string_view id) {
  std::vector<std::string> config_args{"-C", rt.config().file};
  for (const auto& m : rt.config().macros)
    if (m.command_line) config_args.push_back("-D" + m.name + "=" + m.value);
  return spawn_delivery(config_args, id);
}

bool spawn_delivery(const std::vector<std::string>& config_args, std::string_view id) {
  // Everything the children need is made before fork.
  std::vector<std::string> args{"tern"};
  args.insert(args.end(), config_args.begin(), config_args.end());
  args.push_back("-Mc");
  args.emplace_back(id);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);

  pid_t child = ::fork();
  if (child < 0) {
    int e = errno;
    if (devnull >= 0) ::close(devnull);
    errno = e;
    return false;
  }
  if (child == 0) {
    ::setsid();
    if (::fork() != 0) ::_exit(0);  // the grandchild is adopted by init
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
    }
    ::close_range(3, ~0U, 0);
    // A daemon's master blocks the signals it waits for and ignores SIGPIPE:
    // the delivery starts with neither (an ignored signal stays so across exec).
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGCHLD, SIGTERM, SIGHUP, SIGINT}) ::signal(sig, SIG_DFL);
    ::execv("/proc/self/exe", argv.data());
    ::_exit(127);
  }
  if (devnull >= 0) ::close(devnull);
  int status;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return true;
}

}  // namespace tern::deliver
