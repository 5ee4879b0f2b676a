// tests/fuzz/fuzz_proxy_header.cpp: the proxy module's PROXY header reader under libFuzzer.
//
// The input is what a balancer (or an attacker in hosts_proxy) sends first;
// its first byte picks the piece size the bytes arrive in (1 to 32, or as
// much as the reader asks for). Nothing may crash or read out of bounds,
// and the reader's promises are checked: it never asks for more than it
// is then given back, it ends (done or failed) or waits for more, a done
// header took exactly header.length bytes (at most 107 for v1, 16 + 4096
// for v2), and the same bytes in other piece sizes give the same answer.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "modules/proxy/header.hpp"

using tern::proxy::HeaderReader;
using tern::proxy::parse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = data[0] % 33;  // 0: whatever the reader wants
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);

  HeaderReader r;
  size_t pos = 0;
  while (r.state() == HeaderReader::State::kReading && pos < in.size()) {
    size_t want = r.wanted();
    if (want == 0) abort();
    size_t n = std::min(want, in.size() - pos);
    if (step) n = std::min(n, step);
    r.feed(in.substr(pos, n));
    pos += n;
  }
  if (r.state() != HeaderReader::State::kReading && r.wanted() != 0) abort();
  if (r.state() == HeaderReader::State::kDone) {
    const auto& h = r.header();
    if (h.length != pos) abort();
    if (h.version == 1 && h.length > HeaderReader::kMaxV1) abort();
    if (h.version == 2 && h.length > HeaderReader::kV2Fixed + HeaderReader::kMaxV2Body) abort();
  }
  if (r.state() == HeaderReader::State::kFailed && r.error().empty()) abort();
  // Another piece size, the same answer.
  auto whole = parse(in, 0), bytes = parse(in, 1);
  if (whole.state != bytes.state) abort();
  if (whole.state == HeaderReader::State::kDone &&
      (whole.consumed != bytes.consumed || whole.header.source.address != bytes.header.source.address ||
       whole.header.authority != bytes.header.authority))
    abort();
  if (r.state() == HeaderReader::State::kReading) {
    if (r.feed({}) != HeaderReader::State::kFailed) abort();  // end of input fails
  }
  return 0;
}
