// core/deliver/wire_encoder.hpp: a message's bytes as they go on the wire in DATA or BDAT.
//
// The spool and the transports' header code use "\n" line ends; SMTP wants
// CRLF. WireEncoder turns every bare LF into CRLF (a CRLF stays as it is, a
// lone CR passes unchanged) and, for DATA, doubles a dot that starts a line
// (RFC 5321 4.5.2 transparency). finish() ends an unterminated last line and,
// for DATA, appends the terminating ".\r\n". Input may come in pieces of any
// size: the state across calls is kept here.
#pragma once

#include <string>
#include <string_view>

namespace tern::deliver {

class WireEncoder {
 public:
  enum class Mode { kData, kBdat };
  explicit WireEncoder(Mode mode) : mode_(mode) {}

  void encode(std::string_view in, std::string& out);
  void finish(std::string& out);

 private:
  Mode mode_;
  bool line_start_ = true;
  bool after_cr_ = false;
};

// The whole message encoded in one go.
std::string encode_for_wire(std::string_view message, WireEncoder::Mode mode);

}  // namespace tern::deliver
