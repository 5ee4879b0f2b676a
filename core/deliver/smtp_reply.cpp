// core/deliver/smtp_reply.cpp: reassembling multi-line SMTP replies from the byte stream.
#include "core/deliver/smtp_reply.hpp"

#include <cstdio>

namespace tern::deliver {

std::string SmtpReply::text() const {
  std::string out;
  for (const std::string& l : lines) {
    if (!out.empty()) out += '\n';
    out += l;
  }
  return out;
}

std::string SmtpReply::printable() const { return deliver::printable(text()); }

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\%03o", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

namespace {
bool digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

std::optional<Result<SmtpReply>> ReplyParser::next() {
  if (failed_) return Result<SmtpReply>(*failed_);
  auto fail = [this](std::string why) -> std::optional<Result<SmtpReply>> {
    failed_ = Error::failed(std::move(why));
    return Result<SmtpReply>(*failed_);
  };
  SmtpReply reply;
  size_t at = pos_;
  for (;;) {
    size_t lf = pending_.find('\n', at);
    if (lf == std::string::npos) {
      if (pending_.size() - at > kMaxLine) return fail("SMTP reply line too long");
      return std::nullopt;
    }
    std::string_view line(pending_.data() + at, lf - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxLine) return fail("SMTP reply line too long");
    if (line.size() < 3 || !digit(line[0]) || !digit(line[1]) || !digit(line[2]) ||
        (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
      return fail("malformed SMTP reply: " + printable(line.substr(0, 80)));
    }
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (reply.lines.empty()) {
      reply.code = code;
    } else if (code != reply.code) {
      return fail("malformed SMTP reply: code changes within a reply: " +
                  printable(line.substr(0, 80)));
    }
    reply.lines.emplace_back(line);
    if (reply.lines.size() > kMaxLines) return fail("SMTP reply has too many lines");
    at = lf + 1;
    if (line.size() == 3 || line[3] == ' ') break;
  }
  pos_ = at;
  if (pos_ == pending_.size()) {
    pending_.clear();
    pos_ = 0;
  } else if (pos_ > 64 * 1024) {
    pending_.erase(0, pos_);
    pos_ = 0;
  }
  return Result<SmtpReply>(std::move(reply));
}

}  // namespace tern::deliver
