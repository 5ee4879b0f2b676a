// core/spool/sync_pool.hpp: run a round's fdatasync calls side by side.
//
// On ext4 (and most journalling file systems) an fdatasync waits for a journal commit;
// calls made one after another each wait for their own, while calls made at the same time
// share one. The Committer gives each round's files to this pool so that a round costs
// about one commit, not one per file.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

namespace tern::spool {

class SyncPool {
 public:
  explicit SyncPool(std::size_t threads);
  ~SyncPool();
  SyncPool(const SyncPool&) = delete;
  SyncPool& operator=(const SyncPool&) = delete;

  // fdatasync()s every fd; errs[i] gets 0 or the errno of fds[i]. Returns when all did.
  // One caller at a time (the Committer's thread).
  void sync_all(const std::vector<int>& fds, std::vector<int>& errs);

 private:
  void work();
  void drain(std::unique_lock<std::mutex>& lock);

  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::vector<int>* fds_ = nullptr;
  std::vector<int>* errs_ = nullptr;
  std::size_t next_ = 0, finished_ = 0;
  std::size_t generation_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tern::spool
