// core/deliver/message_writer.cpp: Exim's transport_write_message() line rules (see the
// header): CRLF, dot-stuffing, check/escape strings, through a buffered sink.
#include "core/deliver/message_writer.hpp"

namespace tern::deliver {

namespace {

class Writer {
 public:
  Writer(const WriteOptions& o, const WriteSink& sink) : o_(o), sink_(sink) { buf_.reserve(kChunk + 64); }

  // Writes `text`, applying the line rules across calls.
  Status put(std::string_view text) {
    for (char c : text) {
      if (at_line_start_) {
        at_line_start_ = false;
        if (!o_.check_string.empty() && checked_any_line_) {
          pending_ = true;  // compare the next bytes with check_string
          match_.clear();
        }
        if (o_.dot_stuff && c == '.') buf_ += '.';
      }
      if (pending_) {
        match_ += c;
        if (o_.check_string.compare(0, match_.size(), match_) == 0) {
          if (match_.size() < o_.check_string.size()) continue;
          buf_ += o_.escape_string;  // a whole match: replaced
          pending_ = false;
          match_.clear();
          continue;
        }
        pending_ = false;  // no match: the bytes held back go out as they were
        std::string held = std::move(match_);
        match_.clear();
        held.pop_back();
        buf_ += held;
      }
      if (c == '\n') {
        if (o_.crlf) buf_ += '\r';
        buf_ += '\n';
        at_line_start_ = true;
        checked_any_line_ = true;
      } else {
        buf_ += c;
      }
      if (buf_.size() >= kChunk) {
        if (auto st = flush(); !st) return st;
      }
    }
    return {};
  }

  Status finish() {
    if (pending_) {  // a partial match at the end of the message
      buf_ += match_;
      pending_ = false;
    }
    if (o_.end_dot) {
      if (!at_line_start_) buf_ += o_.crlf ? "\r\n" : "\n";
      buf_ += o_.crlf ? ".\r\n" : ".\n";
    }
    return flush();
  }

  std::int64_t bytes() const { return bytes_; }

 private:
  static constexpr std::size_t kChunk = 8192;
  Status flush() {
    if (buf_.empty()) return {};
    bytes_ += static_cast<std::int64_t>(buf_.size());
    auto st = sink_(buf_);
    buf_.clear();
    return st;
  }

  const WriteOptions& o_;
  const WriteSink& sink_;
  std::string buf_, match_;
  bool at_line_start_ = true;
  bool checked_any_line_ = false;  // Exim checks after a newline: never the first line
  bool pending_ = false;
  std::int64_t bytes_ = 0;
};

}  // namespace

Status write_message(const Message& message, const WriteOptions& options, const WriteSink& sink,
                     std::int64_t* bytes) {
  Writer w(options, sink);
  Status st;
  if (!options.body_only) {
    for (const auto& h : message.headers) {
      if (st = w.put(h); !st) return st;
    }
    if (st = w.put("\n"); !st) return st;
  }
  if (!options.headers_only) {
    if (st = w.put(message.body); !st) return st;
  }
  st = w.finish();
  if (bytes) *bytes = w.bytes();
  return st;
}

}  // namespace tern::deliver
