// core/spool/message_id.cpp: base 62, the two id formats, and the per-process tick counter.
//
// The tick counter is the only shared state: one atomic holding the last tick (in units of
// the id's resolution) given out by this process. next() takes max(now, last + 1).
#include "core/spool/message_id.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace tern::spool {
namespace {

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  if (c >= 'a' && c <= 'z') return c - 'a' + 36;
  return -1;
}

// Microseconds since the epoch of the last id made by this process. Both resolutions
// are kept in microseconds so that generators with and without localhost_number agree.
std::atomic<std::int64_t> g_last_us{0};

std::int64_t now_us() {
  timeval tv;
  gettimeofday(&tv, nullptr);
  return std::int64_t(tv.tv_sec) * 1000000 + tv.tv_usec;
}

}  // namespace

std::string base62(std::uint64_t value, std::size_t width) {
  std::string out(width, '0');
  for (std::size_t i = width; i > 0 && value; --i) {
    out[i - 1] = kBase62[value % 62];
    value /= 62;
  }
  return out;
}

std::optional<std::uint64_t> base62_value(std::string_view digits) {
  std::uint64_t v = 0;
  for (char c : digits) {
    int d = digit_value(c);
    if (d < 0) return std::nullopt;
    v = v * 62 + std::uint64_t(d);
  }
  return v;
}

std::string MessageId::text() const {
  std::string s = base62(std::uint64_t(seconds), kIdTimeLen);
  s += '-';
  s += base62(pid, old_format ? kIdPidLenOld : kIdPidLen);
  s += '-';
  s += base62(fraction, old_format ? kIdFracLenOld : kIdFracLen);
  return s;
}

std::uint32_t MessageId::microseconds(std::optional<unsigned> localhost_number) const {
  if (old_format)
    return localhost_number ? (fraction % 200) * 5000 : fraction * 500;
  return localhost_number ? (fraction % 500000) * 2 : fraction;
}

std::optional<unsigned> MessageId::host_number(std::optional<unsigned> localhost_number) const {
  if (!localhost_number) return std::nullopt;
  return old_format ? fraction / 200 : fraction / 500000;
}

bool MessageId::looks_like(std::string_view t) {
  std::size_t pid_len;
  if (t.size() == kIdLen)
    pid_len = kIdPidLen;
  else if (t.size() == kIdLenOld)
    pid_len = kIdPidLenOld;
  else
    return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    bool hyphen = i == kIdTimeLen || i == kIdTimeLen + 1 + pid_len;
    if (hyphen ? t[i] != '-' : digit_value(t[i]) < 0) return false;
  }
  return true;
}

Result<MessageId> MessageId::parse(std::string_view t) {
  if (!looks_like(t)) return Error::failed("malformed message id \"" + std::string(t) + "\"");
  MessageId id;
  id.old_format = t.size() == kIdLenOld;
  std::size_t pid_len = id.old_format ? kIdPidLenOld : kIdPidLen;
  id.seconds = std::int64_t(*base62_value(t.substr(0, kIdTimeLen)));
  id.pid = *base62_value(t.substr(kIdTimeLen + 1, pid_len));
  id.fraction = std::uint32_t(*base62_value(t.substr(kIdTimeLen + 2 + pid_len)));
  return id;
}

MessageId MessageId::make(std::int64_t seconds, std::uint32_t usec, std::uint64_t pid,
                          std::optional<unsigned> localhost_number) {
  MessageId id;
  id.seconds = seconds;
  id.pid = pid;
  id.fraction = localhost_number ? *localhost_number * 500000 + usec / 2 : usec;
  return id;
}

IdGenerator::IdGenerator(std::optional<unsigned> localhost_number)
    : localhost_number_(localhost_number) {}

MessageId IdGenerator::next() {
  // With localhost_number the id only resolves 2 us: take ticks on even microseconds.
  const std::int64_t step = localhost_number_ ? 2 : 1;
  std::int64_t last = g_last_us.load(std::memory_order_relaxed);
  std::int64_t mine;
  do {
    mine = std::max(now_us(), last + 1);
    mine = (mine + step - 1) / step * step;
  } while (!g_last_us.compare_exchange_weak(last, mine, std::memory_order_relaxed));
  return MessageId::make(mine / 1000000, std::uint32_t(mine % 1000000), std::uint64_t(getpid()),
                         localhost_number_);
}

void IdGenerator::wait_for_clock() {
  while (now_us() <= g_last_us.load(std::memory_order_relaxed))
    std::this_thread::sleep_for(std::chrono::microseconds(50));
}

}  // namespace tern::spool
