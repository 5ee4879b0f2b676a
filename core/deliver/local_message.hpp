// core/deliver/local_message.hpp: spool a message that tern itself writes (a bounce, a
// delay warning), as Exim's `exim -t -oem -oi -f <> -E<id>` child receives it.
//
// The message gets a new id, a Received: header from received_header_text (protocol
// "local", the caller's login as $sender_ident), the given header lines, and a Message-Id:
// and Date: as Exim adds to a local submission; it is made durable through the spool's
// committer, and the reception is logged as Exim does for it:
// "<id> <= <> R=<the failed message's id> U=<login> P=local S=<size>".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/log/logger.hpp"
#include "core/main/runtime.hpp"
#include "core/spool/spool.hpp"

namespace tern::deliver {

struct LocalMessage {
  std::string sender;                   // "" for a bounce
  std::vector<std::string> recipients;
  std::vector<std::string> headers;     // each ending in '\n'
  std::string body;                     // LF line ends
  std::string reference;                // R=: the message it is about
};

// The login of the user tern runs as (U= in log lines, "frozen by <login>").
std::string caller_login();

// Returns the new message's id.
Result<std::string> spool_local_message(cli::Runtime& rt, const spool::Spool& spool, log::Logger& logger,
                                        const LocalMessage& m);

}  // namespace tern::deliver
