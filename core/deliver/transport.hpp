// core/deliver/transport.hpp: the interface between the delivery process and transports.
//
// A delivery runs in its own process (`tern -M id`, a queue runner's child, the child the
// daemon starts after a 250), as Exim's does, so this interface is synchronous: the
// delivery process routes the message's pending addresses, groups them into batches (one
// transport, one host list, one errors address, the same header changes: Exim's rules for
// batching), and for each batch calls Transport::deliver() once and waits for it.
//
//   TransportCall  what the transport gets: the message (id, envelope, the header lines
//                  ready to write, the body) and the batch of routed addresses
//   AddressResult  what it answers, one per address of the batch, in the batch's order:
//                  delivered / deferred / failed, the text for logs and bounces, the host
//                  used (H=), the confirmation reply (C=), TLS facts (X=, CV=, DN=) and
//                  an errno-like code that retry rules match on
//
// Header lines are final when the transport gets them: the delivery process has applied
// the routers' headers_add/headers_remove, then the transport's generic headers_remove,
// headers_add, return_path_add, delivery_date_add and envelope_to_add, in Exim's order
// (transport_headers_send()). The transport only decides how to write them (LF or CRLF,
// dot-stuffing, an mbox "From " line): write_message() in message_writer.hpp does that for
// any transport.
//
// Drivers are found by name ("appendfile", "smtp", "pipe", ...) in a TransportRegistry.
// Each driver's file provides one `void add_<driver>_transport(TransportRegistry&)`, and
// builtin_transports() (transport_registry.cpp) calls them, so a new driver is one file and
// one line there. A Transport object is made once per delivery process for each configured
// transport instance that is used, and may keep state between calls (an open SMTP
// connection to reuse for the next batch).
#pragma once

#include <cerrno>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/config/config.hpp"
#include "core/expand/expand.hpp"
#include "core/log/fields.hpp"
#include "core/module_host/call_env.hpp"
#include "core/spool/envelope.hpp"

namespace tern::deliver {

// Exim's MX preference values for hosts that did not come from an MX record.
inline constexpr int kMxNone = -1;      // manualroute, ipliteral, a transport's own hosts
inline constexpr int kMxImplicit = -2;  // dnslookup found no MX and used the domain's A/AAAA

// One host a remote transport may use, in the order to try (routers have already sorted
// by MX preference and randomised among equals, or randomised for hosts_randomize).
struct Host {
  std::string name;     // "mx1.example.com"; the IP text for an IP literal
  std::string address;  // "192.0.2.1" or "2001:db8::25"; empty: the transport looks it up
  int port = 0;         // 0: the transport's `port` option (25 for smtp)
  int mx = kMxNone;     // MX preference, or kMxNone / kMxImplicit
  bool dnssec = false;  // name and address both came from DNSSEC-validated answers
  friend bool operator==(const Host&, const Host&) = default;
};

// A recipient address after routing: one member of a batch.
struct RoutedAddress {
  std::string address;     // local_part@domain being delivered (after redirection)
  std::string local_part;  // without prefix/suffix ($local_part)
  std::string domain;
  std::string local_part_prefix, local_part_suffix;
  // The envelope recipient this came from ("" when it is one) and the addresses between,
  // nearest first, for log lines ("a@b <orig@c>") and Envelope-to:.
  std::string original;
  std::vector<std::string> parents;
  std::string router;  // the router that chose the transport (R=)
  // For a file or pipe target made by a redirect router: the path or the command ("|..."
  // without the bar); `address` then holds it as Exim shows it ("/var/mail/x", "|cmd").
  bool is_file = false, is_pipe = false, is_directory = false;
  std::vector<Host> hosts;     // remote transports: the router's host list (may be empty:
                               // the transport then uses its own `hosts` option)
  bool hosts_override = false; // the transport's hosts_override was for the router's list
  std::string errors_address;  // where bounces go: router errors_to, else the sender
                               // ("" for a bounce: no bounce of a bounce)
  std::string address_data;    // $address_data
  std::string home_directory;  // $home (check_local_user, router_home_directory)
  std::optional<std::int64_t> uid, gid;  // from check_local_user or the router's user/group
  std::string self_hostname;   // $self_hostname when the router's self = pass
  int dsn_flags = 0;           // spool::DsnFlags (NOTIFY)
  std::string orcpt;           // DSN ORCPT
  friend bool operator==(const RoutedAddress&, const RoutedAddress&) = default;
};

// The message as a transport sees it. Borrowed for the duration of one deliver() call.
struct Message {
  std::string_view id;
  const spool::Envelope* envelope = nullptr;  // sender, received time, recipients, options
  // Final header lines, each with its trailing newline (continuations included), LF line
  // ends, in the order to write; the blank line after them is not included.
  std::vector<std::string> headers;
  std::string_view body;  // the -D file's contents after its first line, LF line ends
  // The return path for this batch: the envelope sender, or the router's/transport's
  // errors address; "" for a bounce (MAIL FROM:<>).
  std::string return_path;
};

// The event bus as a transport sees it: Exim's transport `event_action` (tcp:connect,
// smtp:connect, msg:host:defer, ...). The delivery process gives one to every call.
class EventRaiser {
 public:
  virtual ~EventRaiser() = default;
  // Someone listens to `event`: only then does the transport build the event's data.
  virtual bool observed(std::string_view event) const = 0;
  // Raises `event` with the transport's options and the expansion variables as they stand;
  // the answer is the listeners' verdict ("" when none): non-empty for tcp:connect means do
  // not connect, for smtp:connect close, for tls:cert refuse the certificate.
  virtual std::string raise(std::string_view event, std::string_view data) = 0;
};

// What deliver() is given.
struct TransportCall {
  const Message* message = nullptr;
  const std::vector<RoutedAddress>* addresses = nullptr;  // the batch; never empty
  // Expansion with the message's variables and the first address's ($local_part, $domain,
  // $address_data, $home, $host, ...), for the transport's string options.
  expand::Context* expand = nullptr;
  // Sets an expansion variable of `expand` for the rest of this call: what the smtp
  // transport does as it works through its hosts ($host, $host_address, $host_port,
  // $tls_out_cipher, ...). Always set by the delivery process.
  std::function<void(std::string_view name, std::string value)> set_variable;
  const config::DriverInstance* instance = nullptr;  // the transport's options
  EventRaiser* events = nullptr;  // null: no events (unit tests)
  // A line for the main log, about this message (the delivery adds its id): the smtp
  // transport's own ("... authenticator failed H=..."). Null: dropped (unit tests).
  std::function<void(std::string_view line)> log_main;
  bool verify_only = false;  // -bv / verify callouts: say what would happen, deliver nothing
};

enum class Outcome { kDelivered, kDeferred, kFailed };

// Exim's internal error codes (macros.h ERRNO_*) that retry rules and messages tell apart;
// basic_errno is one of these (negative) or a system errno (positive), 0 when none.
enum ErrorCode : int {
  kErrUnknown = -1,
  kErrLockFailed = -9,
  kErrSmtpClosed = -18,       // "lost_connection"
  kErrSmtpFormat = -19,
  kErrQuota = -22,            // ERRNO_EXIMQUOTA: "quota" retry rules
  kErrChheaderFail = -25,     // a header change (headers_add/remove) failed
  kErrWriteIncomplete = -26,
  kErrExpandFail = -27,
  kErrUidFail = -29,          // no uid (or an unknown user) for a local delivery
  kErrBadTransport = -30,
  kErrUnknownHost = -32,
  kErrTlsFailure = -37,
  kErrTlsRequired = -38,      // "tls_required"
  kErrAuthFail = -42,         // "auth_failed"
  kErrConnectTimeout = -43,   // "timeout_connect"
  kErrHostIsLocal = -47,
  kErrTaint = -48,
  kErrRRetry = -52,           // routing: retry time not reached
  kErrLRetry = -53,           // local delivery: "Retry time not yet reached"
  kErrHRetry = -54,           // remote: "retry time not reached for any host"
  kErrEvent = -58,            // ERRNO_EVENT: tcp:connect's event_action said not to connect
  kErrMail4xx = -100,         // "mail_4xx": more_errno = the reply code (e.g. 451)
  kErrRcpt4xx = -101,         // "rcpt_4xx"
  kErrData4xx = -102,         // "data_4xx"
  kErrTimeout = -103,         // ETIMEDOUT after connect ("timeout")
  kErrRefused = -104,         // ECONNREFUSED ("refused"); more_errno 'M'/'A' as Exim's
};

// $event_defer_errno as Exim sets it: tern's codes in Exim's numbering (ERRNO_MAIL4XX -45,
// ERRNO_RCPT4XX -44, ERRNO_DATA4XX -46; a timeout or refusal as the system's errno).
inline int exim_errno(int basic_errno) {
  switch (basic_errno) {
    case kErrMail4xx: return -45;
    case kErrRcpt4xx: return -44;
    case kErrData4xx: return -46;
    case kErrTimeout: return ETIMEDOUT;
    case kErrRefused: return ECONNREFUSED;
    default: return basic_errno;
  }
}

// A host the transport tried, for host retry records and the ** / == log lines.
struct HostAttempt {
  Host host;
  int basic_errno = 0;
  int more_errno = 0;
  std::string message;
};

// What the transport answers for one address.
struct AddressResult {
  Outcome outcome = Outcome::kDeferred;
  // For logs and bounces, without the address: "Connection refused",
  // "SMTP error from remote mail server after RCPT TO:<a@b>: 550 5.1.1 No such user",
  // "mailbox is full (MTA-imposed quota exceeded while writing to /var/mail/x)".
  std::string message;
  int basic_errno = 0;  // ErrorCode or errno; see above
  int more_errno = 0;   // Exim's more_errno: reply code for *_4xx, quota time, ...
  std::optional<Host> host_used;  // remote: H=name [ip]:port
  bool continued_connection = false;  // not the first message on the connection ("*")
  std::string confirmation;  // C="250 OK id=..." (the final reply to DATA/BDAT or LMTP)
  log::TlsInfo tls;          // X=, CV=, DN=
  log::AuthInfo auth;        // A=: the smtp transport's client authenticator, its id
  bool pipelining = false, chunking = false, prdr = false;
  std::int64_t bytes_written = 0;  // S= with +delivery_size
  std::vector<HostAttempt> hosts_tried;  // remote: each failed host, in order
  // What a command wrote (pipe): its first line goes to the main log when log_output
  // (or log_fail_output, log_defer_output) asks; all of it goes back with the bounce
  // when return_output (or return_fail_output) asks.
  std::string output;
  bool log_output = false, return_output = false;
};

// A configured transport instance ready to deliver.
class Transport {
 public:
  virtual ~Transport() = default;
  // Delivers the batch and fills `results` with one AddressResult per address, in order.
  // Expected problems (a full mailbox, a refused connection) are results, never throws.
  virtual void deliver(const TransportCall& call, std::vector<AddressResult>& results) = 0;
  // Called when the delivery process has no more batches (close cached connections).
  // `closing` has no message or addresses: only the expansion context, set_variable,
  // instance and events, for what closing raises (tcp:close).
  virtual void finish(const TransportCall& /*closing*/) {}
};

// What a transport may use besides its own options; lives for the delivery process.
struct TransportEnv {
  const config::Config* config = nullptr;            // main options, retry rules
  module_host::DnsResolver* resolver = nullptr;      // hosts without addresses, TLSA
  const module_host::CallEnv* modules = nullptr;     // module hook points (DANE, OCSP)
  std::string primary_hostname;
};

struct TransportDriver {
  bool local = false;  // appendfile, pipe, autoreply, lmtp: local; smtp: remote
  // Makes the instance; an Error (a bad option value) defers its addresses with the text.
  std::function<Result<std::unique_ptr<Transport>>(const config::DriverInstance& instance,
                                                   const TransportEnv& env)>
      make;
};

class TransportRegistry {
 public:
  void add(std::string driver, TransportDriver d) { drivers_[std::move(driver)] = std::move(d); }
  const TransportDriver* find(std::string_view driver) const {
    auto it = drivers_.find(driver);
    return it == drivers_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, TransportDriver, std::less<>> drivers_;
};

// The transports built into tern (transport_registry.cpp lists them).
const TransportRegistry& builtin_transports();

}  // namespace tern::deliver
