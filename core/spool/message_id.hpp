// core/spool/message_id.hpp: Exim's message ids ($message_exim_id), made and parsed.
//
// Exim 4.97 and later (the current format, what tern makes) write 23 characters:
//
//   TTTTTT-PPPPPPPPPPP-FFFF      e.g. 1xXbgc-0000000002W-2Pab
//
//   TTTTTT       seconds since the epoch, base 62, 6 digits (good until about year 3700)
//   PPPPPPPPPPP  the pid of the receiving process, base 62, 11 digits (64 bits)
//   FFFF         the sub-second part, base 62, 4 digits (the low 4 of a 6-digit encoding):
//                without localhost_number: microseconds (0..999999);
//                with localhost_number N (0..16): N * 500000 + microseconds / 2.
//
// Exim 4.96 and earlier wrote 16 characters, TTTTTT-PPPPPP-FF, with FF in units of
// 500 us (N * 200 + 1/200 s with localhost_number). Both are parsed, so spools written
// by an older Exim still read. The base-62 alphabet is 0-9A-Za-z (Exim's base62_chars);
// the 6th character (the last of the time) names the split_spool_directory subdirectory.
//
// Uniqueness: the pid separates processes; within a process every id takes a distinct
// tick (1 us, or 2 us with localhost_number) from one process-wide counter, so threads
// never collide. Ids handed out faster than the clock runs ahead of it; a process that
// exits and whose pid is reused at once could repeat an id, which Exim prevents by
// waiting for its clock to pass the last id: call IdGenerator::wait_for_clock() before exit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/result.hpp"

namespace tern::spool {

inline constexpr std::size_t kIdTimeLen = 6;
inline constexpr std::size_t kIdPidLen = 11;
inline constexpr std::size_t kIdFracLen = 4;
inline constexpr std::size_t kIdLen = kIdTimeLen + 1 + kIdPidLen + 1 + kIdFracLen;  // 23
inline constexpr std::size_t kIdPidLenOld = 6;
inline constexpr std::size_t kIdFracLenOld = 2;
inline constexpr std::size_t kIdLenOld = kIdTimeLen + 1 + kIdPidLenOld + 1 + kIdFracLenOld;  // 16
inline constexpr unsigned kLocalhostNumberMax = 16;  // Exim's limit for base 62

// Base 62 with Exim's alphabet, fixed width, most significant digit first. Values that do
// not fit keep their low digits (as Exim's string_base62_32 does).
std::string base62(std::uint64_t value, std::size_t width);
// The value of a base-62 string; nullopt if a character is outside the alphabet.
std::optional<std::uint64_t> base62_value(std::string_view digits);

struct MessageId {
  std::int64_t seconds = 0;    // first part
  std::uint64_t pid = 0;       // second part
  std::uint32_t fraction = 0;  // third part, raw value (see the header comment)
  bool old_format = false;     // a 4.96-style 16-character id

  std::string text() const;
  // The split_spool_directory subdirectory: the 6th character.
  char subdir() const { return text()[kIdTimeLen - 1]; }
  // Microseconds after `seconds`, decoded for the given localhost_number setting.
  std::uint32_t microseconds(std::optional<unsigned> localhost_number = {}) const;
  std::optional<unsigned> host_number(std::optional<unsigned> localhost_number) const;

  // Parses either format. Anything else (wrong length, hyphens, alphabet) is an error.
  static Result<MessageId> parse(std::string_view text);
  // True if `text` is shaped like an id of either format (cheap; for directory scans).
  static bool looks_like(std::string_view text);
  // Makes the current-format id for a time and pid.
  static MessageId make(std::int64_t seconds, std::uint32_t usec, std::uint64_t pid,
                        std::optional<unsigned> localhost_number = {});

  friend bool operator==(const MessageId&, const MessageId&) = default;
};

// Makes ids for this process. Cheap and thread-safe; any number of generators may exist
// (they share the process-wide tick counter).
class IdGenerator {
 public:
  // localhost_number: Exim's option, 0..16, or unset.
  explicit IdGenerator(std::optional<unsigned> localhost_number = {});

  MessageId next();
  // Sleeps until the clock has passed the last tick handed out in this process.
  static void wait_for_clock();

 private:
  std::optional<unsigned> localhost_number_;
};

}  // namespace tern::spool
