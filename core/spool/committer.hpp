// core/spool/committer.hpp: make accepted messages durable in batches (group commit).
//
// Sessions that finish DATA hand their IncomingMessage here, from any thread. One thread
// takes everything pending as a batch and, for the whole batch: fdatasync()s every -D and
// -H temporary file, renames each -D then its -H into place, fsyncs each directory
// involved once, and only then completes each message. A message submitted while a batch
// is being synced waits for the next batch, never longer; completions never wait for a
// message submitted later. The 250 is sent from the completion, never before it.
//
// On failure (a full disk, an fsync error) the batch's messages that are not yet durable
// have their files removed and complete with the error: answer 451.
//
// Completion runs on the committer thread: keep it short. An event-loop session passes a
// `post` function that moves it to its own loop (asio::post(executor, f)).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/base/result.hpp"
#include "core/spool/incoming.hpp"
#include "core/spool/sync_pool.hpp"

namespace tern::spool {

struct CommitStats {
  std::uint64_t rounds = 0;      // batches synced
  std::uint64_t messages = 0;    // messages completed (either way)
  std::uint64_t file_syncs = 0;  // fdatasync calls on message files
  std::uint64_t dir_syncs = 0;   // fsync calls on directories
};

struct CommitOptions {
  // Called on the committer thread after a batch's last directory fsync returned and
  // before any of its completions run, with the batch's ids. For tests and metrics.
  std::function<void(const std::vector<std::string>& ids)> after_sync;
  // Upper bound on messages in one batch (the rest wait for the next round).
  std::size_t max_batch = 4096;
  // Threads that run a round's fdatasync calls side by side (sync_pool.hpp).
  std::size_t sync_threads = 16;
};

class Committer {
 public:
  using Done = std::function<void(Status)>;
  using Post = std::function<void(std::function<void()>)>;

  explicit Committer(CommitOptions options = {});
  // Completes everything already submitted, then stops the thread.
  ~Committer();
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  // The message must be finish()ed. `done` runs once, on the committer thread.
  void submit(IncomingMessage msg, Done done);
  // As above, with `done` handed to `post` (the session's event loop) instead.
  void submit(IncomingMessage msg, Post post, Done done);
  std::future<Status> submit(IncomingMessage msg);
  // Blocks until the message is durable (or failed).
  Status commit(IncomingMessage msg);

  CommitStats stats() const;

 private:
  struct Item {
    IncomingMessage msg;
    Done done;
  };
  void run();
  void sync_batch(std::vector<Item>& batch);

  CommitOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Item> pending_;
  bool stopping_ = false;
  CommitStats stats_;
  SyncPool pool_;
  std::thread thread_;
};

}  // namespace tern::spool
