// core/spool/header_file.hpp: Exim's -H file format, written and read.
//
// The layout (Exim's spool_write_header / spool_read_header, the spec's chapter
// "Format of spool files"):
//
//   <id>-H
//   <login> <uid> <gid>
//   <<sender>>
//   <received time> <warning count>
//   -option value      (one a line; "--" when the value is tainted; see SpoolVar)
//   -aclm NAME LEN     (then LEN bytes and a newline)
//   XX                 (no non-recipients) or the tree: "YN addr" lines, pre-order,
//                      Y/N = has a left/right child
//   <recipient count>
//   <address>          or "<address> <orcpt> <len>,<dsn_flags> <errors_to> <len>,<pno>#3"
//   (blank line)
//   NNNc <header>      NNN = length (at least 3 digits), c = the type letter, then a
//                      space and the header text including its newline(s)
//
// The reader accepts what Exim 3, early Exim 4 and current Exim write for recipients,
// both id formats, and refuses truncation or garbage (a crash can leave zeros at the end
// of a file on some systems) with an Error rather than a partial envelope.
#pragma once

#include <string>
#include <string_view>

#include "core/base/result.hpp"
#include "core/spool/envelope.hpp"

namespace tern::spool {

std::string format_header_file(const Envelope& env);

// `file_name`: the expected "<id>-H" (the first line must match); empty to skip the check.
Result<Envelope> parse_header_file(std::string_view data, std::string_view file_name = {});

// The recipient line, both ways (exposed for tests and the -J journal).
std::string format_recipient(const Recipient& r);
Result<Recipient> parse_recipient(std::string_view line);

}  // namespace tern::spool
