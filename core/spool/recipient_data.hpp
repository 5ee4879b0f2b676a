// core/spool/recipient_data.hpp: per-recipient module data kept in the -H file.
//
// What an after-DATA hook sets with host->set_recipient_data (a verdict, a
// tag) is part of the message: it is written into the -H file with the
// envelope, made durable with it before the 250, and read back by every
// delivery attempt, after a restart too. One option line per recipient
// that has data, after Exim's own options:
//
//   -tern_rcpt_<index> <key>=<value> <key>=<value> ...
//
// <index> is the recipient's position in the -H's recipient list (0 first;
// that list never changes order), keys and values are xtext (RFC 3461:
// bytes outside '!'..'~', '+' and '=' become "+XX"), so any bytes survive.
// tern's -H reader keeps option lines it does not know, so a rewrite of the
// -H by a delivery keeps them; Exim ignores them.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "core/base/result.hpp"
#include "core/spool/envelope.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::spool {

// recipient index -> key -> value.
using RecipientData = std::map<std::size_t, std::map<std::string, std::string, std::less<>>>;

// Replaces every -tern_rcpt_<n> line of `env` with `data`.
void store_recipient_data(Envelope& env, const RecipientData& data);
// What the -tern_rcpt_<n> lines hold; an Error names a malformed line.
Result<RecipientData> recipient_data_of(const Envelope& env);

// RFC 3461 xtext, as the lines above use it (exposed for tests): encoding is core/text's;
// decoding accepts only what that writes (upper-case hex), unlike SMTP's lenient one.
using text::xtext_encode;
Result<std::string> xtext_decode_strict(std::string_view text);

}  // namespace tern::spool
