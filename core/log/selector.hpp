// core/log/selector.hpp: Exim's log_selector: which optional lines and fields are logged.
//
// Every name Exim 4.96 (Debian's build) accepts, in Exim's order, with its default state.
// The setting is parsed as Exim's decode_bits() does: `+name` and `-name` items separated by
// white space, applied left to right on top of the defaults; `+all` sets every bit, `-all`
// clears every bit (defaults included). Errors are Exim's texts (the configuration reader
// adds `file:line: `):
//
//   unknown log_selector setting: +bogus
//   malformed log_selector setting: + or - expected but found "smtp_connection"
//
// A query is one bit test: `selectors.on(Selector::kSmtpConnection)`.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

#include "core/base/result.hpp"

namespace tern::log {

// Alphabetical, as Exim's table. "all" and the alias "rejected_headers" are names only.
enum class Selector : uint8_t {
  k8bitmime,
  kAclWarnSkipped,  // default on
  kAddressRewrite,
  kAllParents,
  kArguments,
  kConnectionReject,  // default on
  kDelayDelivery,     // default on
  kDeliverTime,
  kDeliverySize,
  kDkim,  // default on (tern has no DKIM: nothing uses it)
  kDkimVerbose,
  kDnslistDefer,  // default on
  kDnssec,
  kEtrn,              // default on
  kHostLookupFailed,  // default on
  kIdentTimeout,
  kIncomingInterface,
  kIncomingPort,
  kLostIncomingConnection,  // default on
  kMillisec,
  kMsgId,  // default on
  kMsgIdCreated,
  kOutgoingInterface,  // default on
  kOutgoingPort,
  kPid,
  kPipelining,
  kProtocolDetail,
  kProxy,
  kQueueRun,  // default on
  kQueueTime,
  kQueueTimeExclusive,  // default on
  kQueueTimeOverall,
  kReceiveTime,
  kReceivedRecipients,
  kReceivedSender,
  kRejectedHeader,  // default on
  kRetryDefer,      // default on
  kReturnPathOnDelivery,
  kSenderOnDelivery,
  kSenderVerifyFail,  // default on
  kSizeReject,        // default on
  kSkipDelivery,      // default on
  kSmtpConfirmation,  // default on
  kSmtpConnection,
  kSmtpIncompleteTransaction,
  kSmtpMailauth,
  kSmtpNoMail,
  kSmtpProtocolError,
  kSmtpSyntaxError,
  kSubject,
  kTlsCertificateVerified,  // default on
  kTlsCipher,               // default on
  kTlsPeerdn,
  kTlsResumption,
  kTlsSni,
  kUnknownInList,
};
inline constexpr int kSelectorCount = static_cast<int>(Selector::kUnknownInList) + 1;

// Exim's name for a selector ("smtp_connection").
std::string_view selector_name(Selector s);
// The selector a name denotes (the alias "rejected_headers" included); nullopt for "all"
// and for unknown names.
std::optional<Selector> selector_by_name(std::string_view name);

class Selectors {
 public:
  Selectors() = default;  // all off; see defaults()
  static Selectors defaults();
  static Selectors all();

  // Just these selectors on (a line's gate: "log when any of these is on").
  static Selectors of(std::initializer_list<Selector> list);

  bool on(Selector s) const { return (bits_ >> static_cast<int>(s)) & 1u; }
  bool empty() const { return bits_ == 0; }
  bool any_of(const Selectors& other) const { return (bits_ & other.bits_) != 0; }
  void set(Selector s, bool value);
  friend bool operator==(const Selectors&, const Selectors&) = default;

 private:
  uint64_t bits_ = 0;
};
static_assert(kSelectorCount <= 64);

// Exim's decode_bits() for log_selector: the defaults changed by `text`. A numeric
// `=value` setting (Exim's internal form for re-execs, documented as not for users) is
// refused with a clear error.
Result<Selectors> parse_log_selector(std::string_view text);

}  // namespace tern::log
