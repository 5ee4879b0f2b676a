// core/deliver/wire_encoder.cpp: CRLF line ends and dot-stuffing for DATA and BDAT.
#include "core/deliver/wire_encoder.hpp"

namespace tern::deliver {

void WireEncoder::encode(std::string_view in, std::string& out) {
  out.reserve(out.size() + in.size() + in.size() / 32);
  for (char c : in) {
    if (c == '\n') {
      if (!after_cr_) out += '\r';
      out += '\n';
      line_start_ = true;
      after_cr_ = false;
      continue;
    }
    if (line_start_ && c == '.' && mode_ == Mode::kData) out += '.';
    out += c;
    line_start_ = false;
    after_cr_ = c == '\r';
  }
}

void WireEncoder::finish(std::string& out) {
  if (!line_start_) {
    // A message ending in a lone CR gets its LF; otherwise CRLF ends the last line.
    if (!after_cr_) out += '\r';
    out += '\n';
    line_start_ = true;
    after_cr_ = false;
  }
  if (mode_ == Mode::kData) out += ".\r\n";
}

std::string encode_for_wire(std::string_view message, WireEncoder::Mode mode) {
  WireEncoder encoder(mode);
  std::string out;
  encoder.encode(message, out);
  encoder.finish(out);
  return out;
}

}  // namespace tern::deliver
