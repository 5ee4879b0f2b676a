// core/smtp/command.hpp: SMTP command lines, recognised and parsed as Exim 4.96 does.
//
// identify() finds the verb the way smtp_read_command() does: a
// case-insensitive prefix from Exim's table followed by a space or the end
// ("MAIL FROM:" and "RCPT TO:" end with their colon, so "MAIL FROM: <a@b>"
// and "mail from:<a@b>" both work, "MAIL  FROM:" does not). The argument
// parsers then give either the parsed command or the exact reply Exim sends
// when it is invalid. No I/O and no policy: ACLs, limits and the state
// machine (state.hpp) decide what follows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/smtp/address.hpp"
#include "core/smtp/reply.hpp"

namespace tern::smtp {

// Exim's SMTP_CMD_BUFFER_SIZE: longer command lines are unrecognised.
inline constexpr size_t kCommandMax = 16384;

enum class Verb : uint8_t {
  kHelo,
  kEhlo,
  kMail,
  kRcpt,
  kData,
  kBdat,
  kRset,
  kNoop,
  kQuit,
  kVrfy,
  kExpn,
  kHelp,
  kEtrn,
  kStarttls,
  kAuth,
  kUnknown,      // OTHER_CMD: no verb matched (or the line was too long)
  kNul,          // BADCHAR_CMD: a NUL byte in the line
  kBadArgument,  // BADARG_CMD: an argument after DATA, RSET, QUIT or STARTTLS
};

// The name Exim logs for a verb ("MAIL", "BDAT", ...); "" for the specials.
std::string_view verb_name(Verb v);

// Exim's is_mail_cmd column: non-mail commands count towards
// smtp_accept_max_nonmail (HELO EHLO RSET STARTTLS NOOP ETRN VRFY EXPN HELP).
bool is_nonmail(Verb v);

struct Command {
  Verb verb = Verb::kUnknown;
  std::string_view line;          // the line, CR/LF and trailing white space removed
  std::string_view argument;      // after the verb and any white space
  Verb matched = Verb::kUnknown;  // the table entry, also for kBadArgument (sync rules use it)
  bool overlong = false;          // cut at kCommandMax: unrecognised, never sync-checked
};

// `line` excludes the LF; `overlong` marks a line cut at kCommandMax (see
// input.hpp), which Exim treats as unrecognised before any other check.
Command identify(std::string_view line, bool overlong = false);

// Failure of a parser: the reply, and whether Exim counts it towards
// smtp_max_synprot_errors (all the 501s here do; SIZE over the limit does not).
struct Rejection {
  Reply reply;
  bool synprot = true;
  std::string detail{};  // the error without the data the reply echoes (logs, events)
};

template <class T>
struct Parsed {
  std::optional<T> value;
  std::optional<Rejection> rejection;
  bool ok() const { return value.has_value(); }
};

// ---- HELO / EHLO ----
struct HeloOptions {
  bool accept_junk = false;      // helo_accept_junk_hosts matched
  std::string_view allow_chars;  // helo_allow_chars
};
// Exim's check_helo(): a domain of letters, digits, '.', '-' (plus
// allow_chars) or an IP literal "[1.2.3.4]", "[IPv6:...]". On failure:
// "501 Syntactically invalid HELO argument(s)" (EHLO for EHLO).
Parsed<std::string> parse_helo(Verb verb, std::string_view argument, const HeloOptions& opt);

// ---- MAIL FROM ----
enum class Body : uint8_t { kNone, k7bit, k8bitmime };
enum class Ret : uint8_t { kNone, kFull, kHdrs };

struct MailOptions {
  bool esmtp = true;  // EHLO (not HELO) was used: parameters are read at all
  bool accept_8bitmime = true;
  bool dsn_advertised = false;  // RET= and ENVID= are ignored unless DSN was offered
  bool smtputf8_advertised = true;
  bool prdr_enable = false;
  long long size_limit = 52428800;  // message_size_limit (0: none); SIZE above: 552
  AddressOptions address;           // allow_null is forced on for MAIL
};

struct MailCommand {
  ParsedAddress sender;           // address "" for <>
  std::optional<long long> size;  // SIZE=, clamped to INT_MAX as Exim does
  Body body = Body::kNone;
  bool smtputf8 = false;
  Ret ret = Ret::kNone;
  std::optional<std::string> envid;
  std::optional<std::string> auth;  // AUTH= xtext-decoded; "<>" kept as "<>"
  bool prdr = false;
  std::string data;  // the argument with parameters removed, for logs/replies
};

Parsed<MailCommand> parse_mail(std::string_view argument, const MailOptions& opt);

// ---- RCPT TO ----
enum Notify : uint8_t {
  kNotifyNever = 1,
  kNotifySuccess = 2,
  kNotifyFailure = 4,
  kNotifyDelay = 8
};

struct RcptOptions {
  bool esmtp = true;
  bool dsn_advertised = false;  // NOTIFY= and ORCPT= are unknown parameters otherwise
  AddressOptions address;       // allow_null is forced off
};

struct RcptCommand {
  ParsedAddress recipient;
  uint8_t notify = 0;                // Notify bits
  std::optional<std::string> orcpt;  // as given ("rfc822;x@y")
  std::string data;
};

Parsed<RcptCommand> parse_rcpt(std::string_view argument, const RcptOptions& opt);

// Exim's check for an address without a domain: nullopt when it may pass
// (it has a domain, the host may send unqualified addresses, or it is a
// recipient "postmaster" in any case), else "501 <data>: sender address must
// contain a domain" (`what` is "sender" or "recipient"). Not a synprot error.
std::optional<Reply> check_qualified(const ParsedAddress& a, std::string_view data,
                                     std::string_view what, bool allow_unqualified);

// "250 OK" or, when PRDR was requested, "250 OK, PRDR Requested".
Reply mail_accepted(bool prdr);

// ---- BDAT ----
struct BdatCommand {
  uint32_t size = 0;
  bool last = false;
};
// Exim reads the size with sscanf("%u") (so "+5" is 5 and "-1" is 4294967295)
// and LAST case-insensitively; anything else after the size is ignored.
// Failure: "501 missing size for BDAT command". A zero size is legal on the
// first chunk; on a later one the session answers bdat_zero_size().
Parsed<BdatCommand> parse_bdat(std::string_view argument);
Reply bdat_zero_size();       // 504 zero size for BDAT command
Reply bdat_not_advertised();  // 503 BDAT command used when CHUNKING not advertised

// ---- AUTH, VRFY, EXPN ----
struct AuthCommand {
  std::string_view mechanism;               // as given; compare case-insensitively
  std::optional<std::string_view> initial;  // initial response ("=" means empty)
};
// Never fails: an unknown or missing mechanism is the authenticator layer's
// "504 <mech> authentication mechanism not supported" (auth_unsupported()).
AuthCommand parse_auth(std::string_view argument);
Reply auth_unsupported(std::string_view mechanism);

// VRFY/EXPN take a mailbox; a bad one gets "501 <Exim's text>" (no data
// prefix, not counted as a protocol error): "501 empty address".
Parsed<ParsedAddress> parse_vrfy(std::string_view argument);

// Exim's auth_xtextdecode(): "+XX" hex escapes; nullopt when malformed.
std::optional<std::string> xtext_decode(std::string_view s);

}  // namespace tern::smtp
