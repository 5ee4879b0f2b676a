// core/module_host/blocking_pool.cpp: the threads behind TERN_MAY_BLOCK calls.
#include "core/module_host/blocking_pool.hpp"

namespace tern::module_host {

BlockingPool::~BlockingPool() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void BlockingPool::submit(std::function<void()> job) {
  {
    std::lock_guard lk(mu_);
    jobs_.push_back(std::move(job));
    // A new thread when none is idle, up to the limit; beyond it jobs wait
    // (their callers' deadlines still hold).
    if (idle_ == 0 && threads_.size() < max_threads_) threads_.emplace_back([this] { work(); });
  }
  cv_.notify_one();
}

void BlockingPool::work() {
  std::unique_lock lk(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lk, [this] { return stopping_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) return;  // stopping, nothing left
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lk.unlock();
    job();
    lk.lock();
  }
}

}  // namespace tern::module_host
