// core/spool/sync_pool.cpp: a few threads that take fds from a shared list and sync them.
#include "core/spool/sync_pool.hpp"

#include <unistd.h>

#include <cerrno>

namespace tern::spool {

SyncPool::SyncPool(std::size_t threads) {
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

SyncPool::~SyncPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

// Takes fds from the list until it is empty; syncs with the lock released.
void SyncPool::drain(std::unique_lock<std::mutex>& lock) {
  while (fds_ && next_ < fds_->size()) {
    std::size_t i = next_++;
    int fd = (*fds_)[i];
    lock.unlock();
    int err = ::fdatasync(fd) < 0 ? errno : 0;
    lock.lock();
    (*errs_)[i] = err;
    if (++finished_ == fds_->size()) done_cv_.notify_all();
  }
}

void SyncPool::work() {
  std::unique_lock lock(mu_);
  std::size_t seen = generation_;
  for (;;) {
    start_cv_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    drain(lock);
  }
}

void SyncPool::sync_all(const std::vector<int>& fds, std::vector<int>& errs) {
  errs.assign(fds.size(), 0);
  if (fds.empty()) return;
  std::unique_lock lock(mu_);
  fds_ = &fds;
  errs_ = &errs;
  next_ = finished_ = 0;
  ++generation_;
  if (fds.size() > 1) start_cv_.notify_all();
  drain(lock);  // the caller works too
  done_cv_.wait(lock, [&] { return finished_ == fds.size(); });
  fds_ = nullptr;
  errs_ = nullptr;
}

}  // namespace tern::spool
