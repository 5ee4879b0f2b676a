// core/deliver/smtp_reply.hpp: the replies an SMTP server sends to the delivery client.
//
// ReplyParser takes the bytes read from the server in pieces of any size
// and hands out complete replies: "250-first", "250 last" (or a bare "250")
// make one reply. Lines end in CRLF (a bare LF is accepted, as Exim does).
// The server is untrusted: a line without three digits, a continuation
// with another code, a line longer than kMaxLine or a reply of more than
// kMaxLines lines is a protocol error, reported once and for good.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"

namespace tern::deliver {

struct SmtpReply {
  int code = 0;
  std::vector<std::string> lines;  // as received, without the line end: "250-PIPELINING"

  bool positive() const { return code >= 200 && code < 400; }  // 2xx, and 3xx where expected
  bool temporary() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }
  // The lines joined by "\n", as Exim keeps a reply in its buffer.
  std::string text() const;
  // The form Exim logs (string_printing): "\n" between lines becomes "\\n",
  // other control characters are escaped too.
  std::string printable() const;
};

// Exim's string_printing(): non-printing characters as C escapes.
std::string printable(std::string_view s);

class ReplyParser {
 public:
  static constexpr size_t kMaxLine = 8192;
  static constexpr size_t kMaxLines = 200;

  void feed(std::string_view bytes) { pending_.append(bytes); }
  // The next complete reply; std::nullopt when more input is needed. After
  // an error every call returns that error.
  std::optional<Result<SmtpReply>> next();
  // Bytes received but not yet part of a returned reply (the server sent
  // ahead: pipelining, or a protocol violation).
  size_t buffered() const { return pending_.size() - pos_; }
  void clear() {
    pending_.clear();
    pos_ = 0;
  }

 private:
  std::string pending_;
  size_t pos_ = 0;  // start of the reply being parsed
  std::optional<Error> failed_;
};

}  // namespace tern::deliver
