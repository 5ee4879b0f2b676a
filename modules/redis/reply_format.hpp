// modules/redis/reply_format.hpp: a Redis reply as Exim 4.96's redis lookup returns it.
//
// Exim's rules (lookups/redis.c, perform_redis_search):
//   - a string or status reply: its bytes;
//   - an integer reply: "true" when non-zero, else "false";
//   - nil: a successful lookup with an empty value that is not cached;
//   - an array: its elements joined with newlines; an integer element is
//     its number, a string element its bytes; an element that is itself an
//     array contributes its integer and string elements, each on its own
//     line; anything else (nil, status, error, deeper arrays) contributes
//     nothing, but the newline before it is still written once something
//     was written; an array that yields nothing at all is "not found";
//   - an error reply: the lookup defers with
//     "REDIS: lookup result failed: <text>\n" (Exim's newline included).
// One difference, on purpose: Exim prints an integer inside an array with
// "%d" from a 64-bit value (only its low 32 bits); tern prints the number.
#pragma once

#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <string_view>

namespace tern::redis {

struct ReplyFree {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

struct Formatted {
  enum class Kind {
    kValue,     // found: `text` is the lookup's data
    kNil,       // found, empty, not to be cached
    kNotFound,  // an array that gave nothing
    kError,     // defer: `text` is the reason
  };
  Kind kind = Kind::kNotFound;
  std::string text;
};

Formatted format_reply(const redisReply& reply);

// The text of an error reply ("NOAUTH Authentication required.").
inline std::string_view error_text(const redisReply& r) { return {r.str, r.len}; }

}  // namespace tern::redis
