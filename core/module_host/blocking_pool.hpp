// core/module_host/blocking_pool.hpp: a few threads for module calls that may block.
//
// A call flagged TERN_MAY_BLOCK (a Redis or SQL lookup, a spam scan) runs
// here so that one slow server never stalls the thread that serves
// sessions. Threads start on the first submission (a configuration without
// such calls costs no thread). The destructor waits for the calls still
// running, overrunning ones included: the Generation destroys its pool
// before it calls the modules' fini and dlclose, so no module code can run
// after its library is unmapped.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tern::module_host {

class BlockingPool {
 public:
  explicit BlockingPool(size_t threads = 4) : max_threads_(threads) {}
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  void submit(std::function<void()> job);

 private:
  void work();

  size_t max_threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace tern::module_host
