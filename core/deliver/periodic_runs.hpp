// core/deliver/periodic_runs.hpp: the daemon's periodic queue runs (`-bd -q30m`).
//
// Exim's daemon starts a queue runner at once and then every interval, never more than
// queue_run_max at a time (0: no limit). The daemon's master owns one PeriodicRuns and asks
// it, from its poll loop, how long it may sleep (timeout_ms) and to start what is due
// (start_due); a runner is a new process that execs `tern -q` (with the daemon's -C and -D
// and the interval's f flags), so the master never runs delivery or module code itself.
// The master's SIGCHLD reaping hands each ended child to reaped().
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "core/main/command_line.hpp"

namespace tern::deliver {

class PeriodicRuns {
 public:
  // From the daemon's command line (-q<time>, -qf<time>); disabled when it has none.
  // `queue_run_max`: the option's text ("5"). Errors: a malformed interval.
  static Result<PeriodicRuns> from_command_line(const cli::CommandLine& cl, const std::string& queue_run_max);

  bool enabled() const { return interval_.count() > 0; }
  std::string describe() const;  // "-q30m" as given, "" when disabled
  // Milliseconds until the next run is due (0: now), or -1 when disabled.
  int timeout_ms() const;
  // Starts a runner if one is due and fewer than queue_run_max are running. Returns an
  // error text when the fork failed ("" otherwise).
  std::string start_due();
  // True when `pid` was one of our runners (now forgotten).
  bool reaped(pid_t pid);
  std::size_t running() const { return runners_.size(); }

 private:
  std::vector<std::string> argv_;
  std::string text_;
  std::chrono::seconds interval_{0};
  int max_ = 5;
  std::chrono::steady_clock::time_point next_;
  std::set<pid_t> runners_;
};

}  // namespace tern::deliver
