// core/deliver/local_message.hpp: spool a message that tern itself writes (a bounce, a
// delay warning), as Exim's `exim -t -oem -oi -f <> -E<id>` child receives it, or one a
// local caller submitted through the sendmail interface (submission.cpp).
//
// The message gets a new id, a Received: header from received_header_text (protocol
// "local", the caller's login as $sender_ident), the given header lines, and a Message-Id:
// and Date: as Exim adds to a local submission; it is made durable through the spool's
// committer, and the reception is logged as Exim does for it:
// "<id> <= <> R=<the failed message's id> U=<login> P=local S=<size>".
#pragma once

#include <cstdint>
#include <set>
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

  // The sendmail interface sets these: it chooses the id first (its Message-Id: names it)
  // and types every header line itself, as Exim's receive_msg() does ('*' for a Bcc: it
  // removed); only Received: is then added.
  std::string id;                            // "": a new one
  std::vector<spool::Header> typed_headers;  // when not empty: used instead of `headers`
  std::set<std::string> nonrecipients;       // -t: the command line's addresses
  bool submission = false;    // Exim's -allow_unqualified_recipient/_sender
  bool sender_local = false;  // Exim's sender_local: -auth_id, -auth_sender, -local
  std::string qualify_domain;  // for -auth_sender
  std::int64_t longest_line = -1;  // max_received_linelength, headers included; -1: the body's
};

// The login of the user tern runs as (U= in log lines, "frozen by <login>").
std::string caller_login();

// Returns the new message's id.
Result<std::string> spool_local_message(cli::Runtime& rt, const spool::Spool& spool, log::Logger& logger,
                                        const LocalMessage& m);

}  // namespace tern::deliver
