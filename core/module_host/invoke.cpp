// core/module_host/invoke.cpp: direct calls, and pool calls with a deadline.
#include "core/module_host/invoke.hpp"

#include <chrono>
#include <condition_variable>

#include "core/module_host/boundary.hpp"

namespace tern::module_host {
namespace {

// Shared by the caller and the pool thread; the later of the two frees it.
struct Job {
  explicit Job(const CallEnv& env) : call(env) {}
  tern_call call;
  tern_buf buf;
  ModuleCall fn;
  std::shared_ptr<void> keep_alive;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  tern_status status = TERN_ERROR;
};

}  // namespace

Outcome invoke(const CallEnv& env, const Blocking& blocking, ModuleCall fn) {
  if (!blocking.may_block || blocking.pool == nullptr) {
    tern_call call(env);
    tern_buf buf;
    tern_status st = fn(&call, &buf);
    return {st, std::move(buf.data), std::move(call.error)};
  }
  const uint32_t ms = blocking.timeout_ms ? blocking.timeout_ms : kDefaultTimeoutMs;
  auto job = std::make_shared<Job>(env);
  job->fn = std::move(fn);
  job->keep_alive = blocking.keep_alive;
  blocking.pool->submit([job] {
    tern_status st = job->fn(&job->call, &job->buf);
    std::lock_guard lk(job->mu);
    job->status = st;
    job->done = true;
    job->cv.notify_all();
  });
  std::unique_lock lk(job->mu);
  if (!job->cv.wait_for(lk, std::chrono::milliseconds(ms), [&] { return job->done; })) {
    // Too late: cut the call off from the caller's state and move on.
    std::lock_guard call_lock(job->call.mu);
    job->call.abandoned = true;
    return {TERN_DEFER, "", "timeout after " + std::to_string(ms) + " ms"};
  }
  return {job->status, std::move(job->buf.data), std::move(job->call.error)};
}

}  // namespace tern::module_host
