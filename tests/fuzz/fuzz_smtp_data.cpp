// tests/fuzz/fuzz_smtp_data.cpp: the DATA and BDAT readers under libFuzzer.
//
// The input is fed in pieces whose sizes come from the input itself, so
// state carried across feed() calls is exercised. Invariants: feeding in
// pieces gives the same output as feeding at once; the stored form never
// contains a CR; in a CRLF message the end is only ever CR LF . CR LF; the
// size counters agree with the output.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/smtp/data_reader.hpp"
#include "core/smtp/input.hpp"

using namespace tern::smtp;

static std::string run_whole(MessageReader::Framing f, std::string_view in, size_t* used) {
  MessageReader m(f);
  *used = m.feed(in);
  if (f == MessageReader::Framing::kBdat) m.finish();
  return m.take();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool bdat = data[0] & 1;
  const size_t step = 1 + (data[0] >> 1) % 17;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto framing = bdat ? MessageReader::Framing::kBdat : MessageReader::Framing::kData;

  MessageReader m(framing);
  std::string out;
  size_t used = 0;
  if (bdat) {
    // Chunks of `step` bytes, as BDAT commands would announce them.
    while (used < in.size()) {
      BdatChunk chunk(BdatCommand{static_cast<uint32_t>(step), false});
      std::string_view part = chunk.take(in.substr(used));
      if (m.feed(part) != part.size()) abort();
      used += part.size();
      out += m.take();
    }
    m.finish();
  } else {
    while (used < in.size() && !m.done()) {
      used += m.feed(in.substr(used, step));
      out += m.take();
    }
  }
  out += m.take();

  size_t whole_used = 0;
  std::string whole = run_whole(framing, in, &whole_used);
  if (whole != out || whole_used != used) abort();
  if (out.find('\r') != std::string::npos) abort();
  if (m.stats().message_size != out.size()) abort();
  if (!bdat && m.done() && m.stats().crlf_mode && used >= 3) {
    // In a CRLF message only ".\r\n" after a line start can have ended it.
    if (in.substr(used - 3, 3) != ".\r\n") abort();
  }
  return 0;
}
