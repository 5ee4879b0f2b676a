// core/smtp/data_reader.hpp: the message content after DATA or in BDAT chunks,
// read as Exim 4.97.1+ reads it (receive_msg, read_message_data_smtp,
// read_message_bdat_smtp), including the SMTP smuggling fix (CVE-2023-51766).
//
// The reader is a byte-level state machine: feed it what arrived, it says
// how much it used and appends the message to its output in Exim's stored
// form (lines end in LF; CRLF, bare CR and, in LF-only mode, bare LF all end
// lines; leading dots unstuffed). Memory is bounded by what the caller has
// not yet taken, never by line length.
//
// The line-ending rule (4.97.1, also in Debian's 4.96-15+deb12u4 reference):
// the FIRST line of the message decides. If it ends in CRLF (every sane
// client), only CRLF ends a line: a bare LF in a header becomes LF SP (a
// folded continuation), a bare LF in the body becomes a space, and
// "\n.\n", "\r\n.\n" and "\n.\r\n" never end the message; only "\r\n.\r\n"
// does. If the first line ends in a bare LF, the message is in LF-only mode
// and LF ends lines and "\n.\n" ends the message, as before the fix. A bare
// CR is a line end in the body and LF SP in a header, in both modes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace tern::smtp {

struct MessageStats {
  uint64_t message_size = 0;             // bytes of the stored form (whole message)
  uint64_t header_size = 0;              // bytes before the body (incl. the blank line)
  uint64_t body_linecount = 0;           // $body_linecount
  uint64_t body_zerocount = 0;           // $body_zerocount (NUL bytes in the body)
  uint64_t max_received_linelength = 0;  // $max_received_linelength (body lines)
  bool crlf_mode = true;                 // the first line ended in CRLF (strict)
  bool too_big = false;                  // message_size passed the limit: 552
};

class MessageReader {
 public:
  enum class Framing { kData, kBdat };
  // size_limit: message_size_limit (0: none). Past it, output stops and the
  // reader only looks for the end; stats().too_big tells the session to
  // answer replies::size_exceeded() instead of accepting.
  explicit MessageReader(Framing framing, uint64_t size_limit = 0);

  // DATA: uses bytes up to and including the terminating ".\r\n" (or ".\n"
  // in LF-only mode) and returns how many; done() is then true and the rest
  // of `in` is the next command. BDAT: pass exactly the chunk's bytes (see
  // BdatChunk); all are used.
  size_t feed(std::string_view in);
  // BDAT LAST: after its bytes, completes a last line without a newline.
  void finish();
  bool done() const { return done_; }
  // The header section is complete: output() past stats().header_size is body.
  bool in_body() const { return phase_ == Phase::kBody; }

  // The stored form produced so far; take() hands it over and clears it.
  std::string take() { return std::exchange(out_, std::string()); }
  const std::string& output() const { return out_; }
  const MessageStats& stats() const { return stats_; }

 private:
  enum class Phase : uint8_t { kHeader, kBody };
  enum class HState : uint8_t { kNormal, kCr, kDot, kDotCr };
  enum class BState : uint8_t { kLineStart, kNormal, kCr, kNlDot, kDotCr };
  enum class Kind : uint8_t { kEmpty, kName, kSpace, kHeader, kNotHeader };

  void step(unsigned char ch);
  void header_char(unsigned char ch);
  void header_store(unsigned char ch);
  void header_eol();
  void body_data(unsigned char ch);
  void body_bdat(unsigned char ch);
  void emit(unsigned char ch);
  void push(unsigned char ch);
  void end_line();

  Framing framing_;
  uint64_t limit_;
  Phase phase_ = Phase::kHeader;
  HState hs_ = HState::kNormal;
  BState bs_ = BState::kLineStart;
  Kind kind_ = Kind::kEmpty;
  bool mode_known_ = false;   // first line seen (Exim's first_line_ended_crlf set)
  bool prev_header_ = false;  // the previous header-phase line was a header
  uint64_t line_len_ = 0;     // chars in the current header line (Exim's ptr)
  int64_t linelength_ = 0;    // Exim's body linelength (-1 after a line end)
  unsigned char pushback_[2] = {0, 0};
  int npush_ = 0;
  unsigned char last_ = '\n';  // last byte of the stored form
  uint64_t body_bytes_ = 0;
  bool done_ = false;
  bool after_dot_ = false;  // the line-start dot was just taken
  std::string out_;
  MessageStats stats_;
};

}  // namespace tern::smtp
