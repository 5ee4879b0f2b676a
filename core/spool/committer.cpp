// core/spool/committer.cpp: make accepted messages durable in batches.
//
// Sessions that finish DATA together hand their files here; one round of fsyncs of the
// files and one of each directory covers them all. No completion runs before the
// directory fsync that covers its renames has returned.
//
// Within a round, writeback of every file is started first (sync_file_range), then the
// fdatasync calls run side by side on a small pool (sync_pool.hpp), so the file system
// folds them into one journal commit instead of one per file.
#include "core/spool/committer.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <set>

namespace tern::spool {

Committer::Committer(CommitOptions options)
    : options_(std::move(options)),
      pool_(options_.sync_threads > 0 ? options_.sync_threads - 1 : 0),
      thread_([this] { run(); }) {}

Committer::~Committer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Committer::submit(IncomingMessage msg, Done done) {
  if (!msg.finished()) {
    done(Error::failed("message " + msg.id() + " submitted before finish()"));
    return;
  }
  {
    std::lock_guard lock(mu_);
    pending_.push_back(Item{std::move(msg), std::move(done)});
  }
  cv_.notify_one();
}

void Committer::submit(IncomingMessage msg, Post post, Done done) {
  submit(std::move(msg), [post = std::move(post), done = std::move(done)](Status s) mutable {
    post([done = std::move(done), s = std::move(s)]() mutable { done(std::move(s)); });
  });
}

std::future<Status> Committer::submit(IncomingMessage msg) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto fut = promise->get_future();
  submit(std::move(msg), [promise](Status s) { promise->set_value(std::move(s)); });
  return fut;
}

Status Committer::commit(IncomingMessage msg) { return submit(std::move(msg)).get(); }

CommitStats Committer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Committer::run() {
  std::vector<Item> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, and nothing left
      if (pending_.size() <= options_.max_batch) {
        batch.swap(pending_);
      } else {
        auto mid = pending_.begin() + std::ptrdiff_t(options_.max_batch);
        batch.assign(std::make_move_iterator(pending_.begin()), std::make_move_iterator(mid));
        pending_.erase(pending_.begin(), mid);
      }
    }
    sync_batch(batch);
    batch.clear();
  }
}

void Committer::sync_batch(std::vector<Item>& batch) {
  std::vector<Status> result(batch.size());
  std::uint64_t file_syncs = 0, dir_syncs = 0;

  // 1. the file contents, all at once (the committer thread syncs too)
  std::vector<int> fds, errs;
  fds.reserve(2 * batch.size());
  for (auto& it : batch) {
    fds.push_back(it.msg.data_fd_.get());
    fds.push_back(it.msg.header_fd_.get());
  }
  for (int fd : fds) ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  pool_.sync_all(fds, errs);
  file_syncs = fds.size();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    IncomingMessage& m = batch[i].msg;
    if (errs[2 * i]) result[i] = sys_error("fsync", m.data_tmp_, errs[2 * i]);
    else if (errs[2 * i + 1]) result[i] = sys_error("fsync", m.header_tmp_, errs[2 * i + 1]);
  }
  // 2. the names: -D before -H, so a -H never names a missing -D
  std::set<std::string> dirs;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    IncomingMessage& m = batch[i].msg;
    if (!result[i]) continue;
    std::string d = m.dir_ + "/" + m.id_ + "-D", h = m.dir_ + "/" + m.id_ + "-H";
    if (::rename(m.data_tmp_.c_str(), d.c_str()) < 0) {
      result[i] = sys_error("rename", m.data_tmp_, errno);
      continue;
    }
    if (::rename(m.header_tmp_.c_str(), h.c_str()) < 0) {
      result[i] = sys_error("rename", m.header_tmp_, errno);
      ::unlink(d.c_str());
      continue;
    }
    m.committed_ = true;
    dirs.insert(m.dir_);
  }
  // 3. the directories, once each
  for (const auto& d : dirs) {
    ++dir_syncs;
    Status s = fsync_dir(d);
    if (s) continue;
    // The renames in this directory may not survive a crash: refuse those messages.
    for (std::size_t i = 0; i < batch.size(); ++i) {
      IncomingMessage& m = batch[i].msg;
      if (!result[i] || m.dir_ != d) continue;
      result[i] = s;
      ::unlink((m.dir_ + "/" + m.id_ + "-H").c_str());
      ::unlink((m.dir_ + "/" + m.id_ + "-D").c_str());
    }
  }
  for (auto& it : batch) {
    it.msg.data_fd_ = Fd();
    it.msg.header_fd_ = Fd();
  }
  if (options_.after_sync) {
    std::vector<std::string> ids;
    for (auto& it : batch) ids.push_back(it.msg.id_);
    options_.after_sync(ids);
  }
  {
    std::lock_guard lock(mu_);
    stats_.rounds += 1;
    stats_.messages += batch.size();
    stats_.file_syncs += file_syncs;
    stats_.dir_syncs += dir_syncs;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(result[i]));
}

}  // namespace tern::spool
