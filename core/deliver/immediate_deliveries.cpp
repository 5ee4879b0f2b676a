// core/deliver/immediate_deliveries.cpp: batched immediate deliveries (see the header).
#include "core/deliver/immediate_deliveries.hpp"

#include <cerrno>
#include <cstring>

#include "core/deliver/spawn.hpp"

namespace tern::deliver {

std::string ImmediateDeliveries::request(std::string id) {
  waiting_.push_back(std::move(id));
  if (running_.size() >= max_running_) return {};
  return start_batch();
}

bool ImmediateDeliveries::reaped(pid_t pid, std::string& error) {
  if (running_.erase(pid) == 0) return false;
  error = waiting_.empty() ? std::string() : start_batch();
  return true;
}

std::string ImmediateDeliveries::start_batch() {
  std::vector<std::string> args{"tern"};
  args.insert(args.end(), config_args_.begin(), config_args_.end());
  args.push_back("-Mc");
  std::size_t taken = 0;
  for (; taken < waiting_.size() && taken < kBatch; ++taken) args.push_back(waiting_[taken]);
  pid_t pid = spawn_tern(args);
  if (pid < 0) return std::string("fork for a delivery: ") + std::strerror(errno);
  waiting_.erase(waiting_.begin(), waiting_.begin() + static_cast<std::ptrdiff_t>(taken));
  running_.insert(pid);
  return {};
}

}  // namespace tern::deliver
