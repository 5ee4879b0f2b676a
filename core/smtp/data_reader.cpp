// core/smtp/data_reader.cpp: the DATA and BDAT content reader (see the header
// for the line-ending rules).
//
// Exim reads headers and body with different loops; both are kept here as
// two small state machines. Exim's receive_ungetc() becomes a two-byte
// pushback that is drained before the next input byte.
#include "core/smtp/data_reader.hpp"

#include <utility>

namespace tern::smtp {

MessageReader::MessageReader(Framing framing, uint64_t size_limit)
    : framing_(framing), limit_(size_limit) {}

size_t MessageReader::feed(std::string_view in) {
  size_t used = 0;
  while (!done_ && used < in.size()) {
    step(static_cast<unsigned char>(in[used++]));
    while (!done_ && npush_ > 0) {
      unsigned char c = pushback_[--npush_];
      step(c);
    }
  }
  return used;
}

void MessageReader::finish() {
  if (done_) return;
  if (phase_ == Phase::kHeader) {
    if (hs_ == HState::kCr || hs_ == HState::kDotCr) {
      hs_ = HState::kNormal;
      header_eol();
    } else if (line_len_ > 0) {
      header_eol();
    }
  } else if (bs_ == BState::kCr) {
    step('\n');  // "Add missing LF"
  } else if (body_bytes_ > 0 && last_ != '\n') {
    step('\r');  // "Add missing CRLF"
    step('\n');
  }
  done_ = true;
}

void MessageReader::push(unsigned char ch) {
  if (npush_ < 2) pushback_[npush_++] = ch;  // never more than one is pending
}

void MessageReader::emit(unsigned char ch) {
  ++stats_.message_size;
  if (phase_ == Phase::kBody) ++body_bytes_;
  last_ = ch;
  if (limit_ > 0 && stats_.message_size > limit_) stats_.too_big = true;
  if (!stats_.too_big) out_ += static_cast<char>(ch);
}

void MessageReader::step(unsigned char ch) {
  if (phase_ == Phase::kHeader)
    header_char(ch);
  else if (framing_ == Framing::kData)
    body_data(ch);
  else
    body_bdat(ch);
}

// ---- header phase (receive_msg's header loop) ----

void MessageReader::header_char(unsigned char ch) {
  switch (hs_) {
    case HState::kDot:  // "." at the start of a header-phase line
      if (ch == '\r') {
        hs_ = HState::kDotCr;
        return;
      }
      hs_ = HState::kNormal;
      after_dot_ = true;  // whatever follows is not a line-start dot again
      if (ch == '\n' && (!mode_known_ || !stats_.crlf_mode)) {
        if (!mode_known_) {
          mode_known_ = true;
          stats_.crlf_mode = false;
        }
        done_ = true;  // ".\n" ends the message only in LF-only mode
        return;
      }
      break;  // the dot is dropped; ch is an ordinary character
    case HState::kDotCr:
      hs_ = HState::kNormal;
      after_dot_ = true;
      if (ch == '\n') {
        done_ = true;
        return;
      }
      push(ch);  // ".\rX": the CR is handled as a bare CR
      ch = '\r';
      break;
    case HState::kCr:
      hs_ = HState::kNormal;
      if (ch == '\n') {
        if (!mode_known_) {
          mode_known_ = true;
          stats_.crlf_mode = true;
        }
        header_eol();
        return;
      }
      // A bare CR inside a header line becomes LF SP; the line goes on.
      push(ch);
      header_store('\n');
      header_store(' ');
      return;
    case HState::kNormal:
      break;
  }
  if (ch == '\n') {
    if (!mode_known_) {
      mode_known_ = true;
      stats_.crlf_mode = false;
    } else if (stats_.crlf_mode) {
      push(' ');  // bare LF: the line ends, the next one is a continuation
    }
    header_eol();
    return;
  }
  if (ch == '.' && line_len_ == 0 && framing_ == Framing::kData && hs_ == HState::kNormal &&
      !after_dot_) {
    hs_ = HState::kDot;
    return;
  }
  after_dot_ = false;
  if (ch == '\r') {
    hs_ = HState::kCr;
    return;
  }
  header_store(ch);
}

void MessageReader::header_store(unsigned char ch) {
  after_dot_ = false;
  if (ch == 0) ++stats_.body_zerocount;  // Exim counts header NULs into the body count too
  switch (kind_) {
    case Kind::kEmpty:
      if (ch == ' ' || ch == '\t') {
        kind_ = prev_header_ ? Kind::kHeader : Kind::kNotHeader;
        break;
      }
      [[fallthrough]];
    case Kind::kName:
      if (ch == ':')
        kind_ = Kind::kHeader;
      else if (ch > 32 && ch < 127)
        kind_ = Kind::kName;
      else if (ch == ' ' || (ch >= '\t' && ch <= '\r'))
        kind_ = Kind::kSpace;
      else
        kind_ = Kind::kNotHeader;
      break;
    case Kind::kSpace:
      if (ch == ':')
        kind_ = Kind::kHeader;
      else if (!(ch == ' ' || (ch >= '\t' && ch <= '\r')))
        kind_ = Kind::kNotHeader;
      break;
    case Kind::kHeader:
    case Kind::kNotHeader:
      break;
  }
  ++line_len_;
  emit(ch);
}

void MessageReader::header_eol() {
  const bool empty = line_len_ == 0;
  const bool header = kind_ == Kind::kHeader;
  const uint64_t line_bytes = line_len_;
  emit('\n');
  line_len_ = 0;
  kind_ = Kind::kEmpty;
  after_dot_ = false;
  linelength_ = 0;
  if (empty) {  // the blank line: headers end, it belongs to the header part
    stats_.header_size = stats_.message_size;
    phase_ = Phase::kBody;
    bs_ = BState::kLineStart;
    return;
  }
  if (header) {
    prev_header_ = true;
    return;
  }
  // Not a header line: it is the first line of the body (no blank line).
  stats_.header_size = stats_.message_size - line_bytes - 1;
  ++stats_.body_linecount;
  if (line_bytes > stats_.max_received_linelength) stats_.max_received_linelength = line_bytes;
  body_bytes_ = line_bytes + 1;
  phase_ = Phase::kBody;
  bs_ = BState::kLineStart;
}

// ---- body phase, DATA (read_message_data_smtp with the 4.97.1 fix) ----

void MessageReader::end_line() {
  ++stats_.body_linecount;
  if (linelength_ > 0 && static_cast<uint64_t>(linelength_) > stats_.max_received_linelength)
    stats_.max_received_linelength = static_cast<uint64_t>(linelength_);
  linelength_ = -1;
}

void MessageReader::body_data(unsigned char ch) {
  const bool strict = stats_.crlf_mode;
  if (ch == 0) ++stats_.body_zerocount;
  switch (bs_) {
    case BState::kLineStart:
      if (ch == '.') {
        bs_ = BState::kNlDot;
        return;  // a dot after a line end is never written
      }
      bs_ = BState::kNormal;
      [[fallthrough]];
    case BState::kNormal:
      if (ch == '\r') {
        bs_ = BState::kCr;
        return;
      }
      if (ch == '\n') {
        if (strict) {
          ch = ' ';  // bare LF in a CRLF message: a space, never a line end
        } else {
          bs_ = BState::kLineStart;
          end_line();
        }
      }
      break;
    case BState::kCr:
      end_line();  // any character ends the line after a CR
      if (ch == '\n') {
        bs_ = BState::kLineStart;
      } else {
        emit('\n');  // the bare CR is stored as a line end
        if (ch == '\r') return;
        bs_ = BState::kNormal;
      }
      break;
    case BState::kNlDot:
      if (ch == '\n') {
        if (!strict) {
          done_ = true;
          return;
        }
        ch = ' ';
      } else if (ch == '\r') {
        bs_ = BState::kDotCr;
        return;
      }
      bs_ = BState::kNormal;
      break;
    case BState::kDotCr:
      if (ch == '\n') {
        done_ = true;  // CR LF . CR LF
        return;
      }
      emit('\n');
      ++stats_.body_linecount;
      if (ch == '\r') {
        bs_ = BState::kCr;
        return;
      }
      bs_ = BState::kNormal;
      break;
  }
  ++linelength_;
  emit(ch);
}

// ---- body phase, BDAT (read_message_bdat_smtp: no dots, any line end) ----

void MessageReader::body_bdat(unsigned char ch) {
  if (ch == 0) ++stats_.body_zerocount;
  switch (bs_) {
    case BState::kLineStart:
    case BState::kNormal:
    case BState::kNlDot:
    case BState::kDotCr:
      bs_ = BState::kNormal;
      if (ch == '\n') {
        bs_ = BState::kLineStart;
        end_line();
      } else if (ch == '\r') {
        bs_ = BState::kCr;
        return;
      }
      break;
    case BState::kCr:
      end_line();
      if (ch == '\n') {
        bs_ = BState::kLineStart;
      } else {
        emit('\n');
        if (ch == '\r') return;
        bs_ = BState::kNormal;
      }
      break;
  }
  ++linelength_;
  emit(ch);
}

}  // namespace tern::smtp
