// core/deliver/immediate_deliveries.hpp: the daemon's immediate deliveries, in batches.
//
// Exim starts one `exim -Mc <id>` per message accepted. The daemon's master does the same
// while few deliveries run, so a message leaves at once; when `max_running` delivery
// processes are already at work, the ids asked for wait, and the next process started
// (when one ends) takes up to kBatch of them in one `tern -Mc id id ...`: its messages
// share its start-up and the SMTP connections its transports keep from one message to the
// next (Postfix's way of relaying at the rate it accepts). A waiting id is on the spool
// already: if the daemon stops first, a queue run delivers it.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <deque>
#include <set>
#include <string>
#include <vector>

namespace tern::deliver {

class ImmediateDeliveries {
 public:
  static constexpr std::size_t kBatch = 100;
  // `config_args`: the daemon's -C and -D options, passed on.
  ImmediateDeliveries(std::vector<std::string> config_args, std::size_t max_running)
      : config_args_(std::move(config_args)), max_running_(max_running == 0 ? 1 : max_running) {}

  // Delivers `id` now, or as soon as a delivery process ends. An error text when fork failed.
  std::string request(std::string id);
  // True when `pid` was one of ours; the next batch starts (`error`: fork's failure, if any).
  bool reaped(pid_t pid, std::string& error);

  std::size_t running() const { return running_.size(); }
  std::size_t waiting() const { return waiting_.size(); }

 private:
  std::string start_batch();
  std::vector<std::string> config_args_;
  std::size_t max_running_;
  std::set<pid_t> running_;
  std::deque<std::string> waiting_;
};

}  // namespace tern::deliver
