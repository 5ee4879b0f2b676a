// modules/redis/reply_format.cpp: Exim's formatting of Redis replies (see the header).
#include "reply_format.hpp"

#include <optional>

namespace tern::redis {
namespace {

// Exim's result string: absent (NULL) until something, even "", is written.
class Result {
 public:
  void separator() {
    if (text_) *text_ += '\n';
  }
  void add(std::string_view s) {
    if (!text_) text_.emplace();
    text_->append(s);
  }
  bool empty() const { return !text_.has_value(); }
  std::string take() { return std::move(*text_); }

 private:
  std::optional<std::string> text_;
};

// One element of the array or of an array inside it: the newline first
// (once something was written), then an integer or a string; any other
// type writes nothing more, as in Exim.
void add_element(const redisReply& e, Result& out) {
  out.separator();
  if (e.type == REDIS_REPLY_INTEGER) out.add(std::to_string(e.integer));
  else if (e.type == REDIS_REPLY_STRING) out.add(std::string_view(e.str, e.len));
}

}  // namespace

Formatted format_reply(const redisReply& reply) {
  switch (reply.type) {
    case REDIS_REPLY_ERROR:
      return {Formatted::Kind::kError, "REDIS: lookup result failed: " + std::string(error_text(reply)) + "\n"};
    case REDIS_REPLY_NIL: return {Formatted::Kind::kNil, ""};
    case REDIS_REPLY_INTEGER: return {Formatted::Kind::kValue, reply.integer != 0 ? "true" : "false"};
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS: return {Formatted::Kind::kValue, std::string(reply.str, reply.len)};
    case REDIS_REPLY_ARRAY: break;
    default: return {Formatted::Kind::kNotFound, ""};
  }
  Result out;
  for (size_t i = 0; i < reply.elements; ++i) {
    const redisReply& e = *reply.element[i];
    if (e.type == REDIS_REPLY_ARRAY) {
      // Exim writes a newline for the array element and then one before
      // each of its elements: ["a", ["b", "c"]] gives "a\n\nb\nc".
      out.separator();
      for (size_t j = 0; j < e.elements; ++j) add_element(*e.element[j], out);
    } else {
      add_element(e, out);
    }
  }
  if (out.empty()) return {Formatted::Kind::kNotFound, ""};
  return {Formatted::Kind::kValue, out.take()};
}

}  // namespace tern::redis
