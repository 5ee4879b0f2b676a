// core/deliver/periodic_runs.cpp: the daemon's periodic queue runs (see periodic_runs.hpp).
#include "core/deliver/periodic_runs.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/config/options.hpp"
#include "core/deliver/spawn.hpp"

extern char** environ;

namespace tern::deliver {

Result<PeriodicRuns> PeriodicRuns::from_command_line(const cli::CommandLine& cl, const std::string& queue_run_max) {
  PeriodicRuns p;
  if (cl.queue_interval.empty()) return p;
  auto t = config::parse_time(cl.queue_interval);
  if (!t || *t <= 0) return Error::failed("bad time value " + cl.queue_interval + " for -q");
  p.interval_ = std::chrono::seconds(*t);
  p.text_ = "-q" + cl.queue_flags + cl.queue_interval;
  p.max_ = queue_run_max.empty() ? 5 : std::atoi(queue_run_max.c_str());
  p.argv_ = {"tern"};
  for (auto& a : cli::configuration_arguments(cl)) p.argv_.push_back(std::move(a));
  p.argv_.push_back("-q" + cl.queue_flags);
  p.next_ = std::chrono::steady_clock::now();  // Exim's daemon runs the queue at once
  return p;
}

std::string PeriodicRuns::describe() const { return text_; }

int PeriodicRuns::timeout_ms() const {
  if (!enabled()) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_ - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count()) + 1;
}

std::string PeriodicRuns::start_due() {
  if (!enabled() || std::chrono::steady_clock::now() < next_) return {};
  while (next_ <= std::chrono::steady_clock::now()) next_ += interval_;
  if (max_ > 0 && runners_.size() >= static_cast<std::size_t>(max_)) return {};
  pid_t pid = spawn_tern(argv_);
  if (pid < 0) return std::string("fork for a queue runner: ") + std::strerror(errno);
  runners_.insert(pid);
  return {};
}

bool PeriodicRuns::reaped(pid_t pid) { return runners_.erase(pid) > 0; }

}  // namespace tern::deliver
