// core/smtp/input.hpp: the command side of the input stream: splitting
// command lines, Exim's pipelining synchronisation check, BDAT chunk
// accounting and what to drop after STARTTLS.
//
// The session owns the buffer of received bytes; these functions only look
// at it and say how many bytes a step used, so every read stays bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/smtp/command.hpp"

namespace tern::smtp {

// One command line taken from the front of the buffer.
struct CommandLine {
  std::string_view text;  // without the LF (a CR before it is trimmed by identify())
  size_t consumed = 0;    // bytes to drop from the buffer
  bool overlong = false;  // Exim's full command buffer: unrecognised
};

// Exim's smtp_read_command() framing: a LF ends a command (CR LF or bare LF;
// a bare CR is an ordinary byte). It stores up to kCommandMax bytes; when the
// next byte is not LF the line is "overlong": that byte is used up too and
// the rest of the line is read as the next command (which Exim reports as
// another "500 unrecognized command"). nullopt: no full line yet, read more.
std::optional<CommandLine> next_command_line(std::string_view buffered, size_t max = kCommandMax);

// Exim's synchronisation rule (smtp_enforce_sync, true by default): a
// command that must be the last of its batch arrived with more input
// already waiting. Commands that must wait: HELO EHLO DATA VRFY EXPN NOOP
// ETRN STARTTLS and unrecognised ones; without PIPELINING advertised also
// MAIL RCPT RSET. Never BDAT (data follows it), AUTH, QUIT, HELP, nor lines
// refused before the verb is known (NUL, overlong). A violation is answered
// with replies::sync_error() and the connection is dropped.
bool sync_violation(const Command& c, bool pipelining_advertised, bool input_pending,
                    bool enforce_sync = true);

// Before the banner: a client that talks first (without PIPECONNECT having
// been offered to it) gets replies::sync_error() and is dropped.
bool greeting_sync_violation(bool input_pending, bool pipe_connect_acceptable,
                             bool enforce_sync = true);

// After a non-LAST BDAT chunk when PIPELINING was not advertised, input
// already waiting is a violation too (Exim then accepts only RSET or QUIT).
bool bdat_sync_violation(bool pipelining_advertised, bool input_pending, bool enforce_sync = true);

// STARTTLS: anything the client sent after the STARTTLS line before the
// handshake is plaintext that must never reach the TLS session (the
// command-injection class of bug). The number of bytes to discard is all of
// what is buffered after the line; call it after consuming the line.
inline size_t starttls_discard(std::string_view buffered_after_line) {
  return buffered_after_line.size();
}

// BDAT accounting: how many bytes of the current chunk are still to come.
// The session feeds exactly take() bytes to the MessageReader (no dot
// processing, CR LF kept as data) and then acknowledges the chunk.
class BdatChunk {
 public:
  explicit BdatChunk(const BdatCommand& c) : left_(c.size), size_(c.size), last_(c.last) {}
  // The part of `buffered` that belongs to the chunk.
  std::string_view take(std::string_view buffered) {
    std::string_view part =
        buffered.substr(0, static_cast<size_t>(left_ < buffered.size() ? left_ : buffered.size()));
    left_ -= part.size();
    return part;
  }
  bool complete() const { return left_ == 0; }
  uint64_t left() const { return left_; }
  uint32_t size() const { return size_; }
  bool last() const { return last_; }

 private:
  uint64_t left_;
  uint32_t size_;
  bool last_;
};

}  // namespace tern::smtp
