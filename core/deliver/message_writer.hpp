// core/deliver/message_writer.hpp: a message's bytes as a transport writes them.
//
// Exim's transport_write_message() for every transport: the final header lines (the
// delivery process has applied all header changes, see transport.hpp), a blank line,
// the body. On the way each line end may become CRLF (smtp, use_crlf), a line starting
// with "." may be doubled (SMTP dot-stuffing), and a line starting with check_string may
// have it replaced by escape_string (appendfile's mbox "From " -> ">From "). As in Exim,
// the check applies after each newline written, so the very first line is never
// escaped, and a message_prefix written by the transport itself is not escaped either.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/base/result.hpp"
#include "core/deliver/transport.hpp"

namespace tern::deliver {

struct WriteOptions {
  bool crlf = false;           // LF -> CRLF everywhere
  bool dot_stuff = false;      // SMTP: a line starting with "." gets another
  bool end_dot = false;        // SMTP DATA: finish with ".\r\n" (or ".\n")
  std::string check_string;    // at the start of a line (not the first) ...
  std::string escape_string;   // ... replaced by this
  bool headers_only = false, body_only = false;
};

// Called with consecutive pieces of output; an Error stops the write and is returned.
using WriteSink = std::function<Status(std::string_view)>;

// Writes the message through `sink` in pieces of a few KiB. Returns the sink's first
// error. *bytes (when given) is set to the bytes handed to the sink.
Status write_message(const Message& message, const WriteOptions& options, const WriteSink& sink,
                     std::int64_t* bytes = nullptr);

}  // namespace tern::deliver
