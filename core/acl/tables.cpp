// core/acl/tables.cpp: acl.c's and globals.c's tables: where names and reply codes, verbs,
// conditions.
#include <algorithm>
#include <array>

#include "core/acl/internal.hpp"

namespace tern::acl {
namespace {

constexpr std::array<std::string_view, 21> kWhereNames = {
    "RCPT",           "MAIL",    "PREDATA",    "MIME",     "DKIM", "DATA",         "PRDR",
    "non-SMTP",       "AUTH",    "connection", "ETRN",     "EXPN", "EHLO or HELO", "MAILAUTH",
    "non-SMTP-start", "NOTQUIT", "QUIT",       "STARTTLS", "VRFY", "delivery",     "unknown",
};

}  // namespace

std::string_view where_name(Where w) { return kWhereNames[static_cast<size_t>(w)]; }

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kAccept:
      return "accept";
    case Verdict::kDeny:
      return "deny";
    case Verdict::kDefer:
      return "defer";
    case Verdict::kDiscard:
      return "discard";
    case Verdict::kDrop:
      return "drop";
    case Verdict::kError:
      return "error";
  }
  return "error";
}

namespace detail {
namespace {

constexpr uint32_t kAll = 0xffffffffu;
constexpr uint32_t B(Where w) { return bit(w); }
using W = Where;

constexpr uint32_t kMessageWheres = B(W::kMail) | B(W::kRcpt) | B(W::kPredata) | B(W::kData) |
                                    B(W::kPrdr) | B(W::kMime) | B(W::kNotSmtp) |
                                    B(W::kNotSmtpStart);
constexpr uint32_t kNoSender = B(W::kAuth) | B(W::kConnect) | B(W::kHelo) | B(W::kMailAuth) |
                               B(W::kQuit) | B(W::kEtrn) | B(W::kExpn) | B(W::kStartTls) |
                               B(W::kVrfy);

// Exim 4.96's conditions[] (sorted by name), minus what tern leaves out.
constexpr CondDef kConditions[] = {
    {"acl", CondId::kAcl, false, false, 0},
    {"add_header", CondId::kAddHeader, true, true, kAll & ~(kMessageWheres | B(W::kDkim))},
    {"authenticated", CondId::kAuthenticated, false, false,
     B(W::kNotSmtp) | B(W::kNotSmtpStart) | B(W::kConnect) | B(W::kHelo)},
    {"condition", CondId::kCondition, true, false, 0},
    {"continue", CondId::kContinue, true, true, 0},
    {"control", CondId::kControl, true, true, 0},
    {"delay", CondId::kDelay, true, true, B(W::kNotQuit)},
    {"dnslists", CondId::kDnslists, true, false, 0},
    {"domains", CondId::kDomains, false, false, kAll & ~(B(W::kRcpt) | B(W::kVrfy) | B(W::kPrdr))},
    {"encrypted", CondId::kEncrypted, false, false,
     B(W::kNotSmtp) | B(W::kNotSmtpStart) | B(W::kHelo)},
    {"endpass", CondId::kEndpass, true, true, 0},
    {"hosts", CondId::kHosts, false, false, B(W::kNotSmtp) | B(W::kNotSmtpStart)},
    {"local_parts", CondId::kLocalParts, false, false,
     kAll & ~(B(W::kRcpt) | B(W::kVrfy) | B(W::kPrdr))},
    {"log_message", CondId::kLogMessage, true, true, 0},
    {"log_reject_target", CondId::kLogRejectTarget, true, true, 0},
    {"logwrite", CondId::kLogwrite, true, true, 0},
    {"message", CondId::kMessage, true, true, 0},
    {"queue", CondId::kQueue, true, true, B(W::kNotSmtp) | B(W::kPrdr) | B(W::kData)},
    {"ratelimit", CondId::kRatelimit, true, false, 0},
    {"recipients", CondId::kRecipients, false, false, kAll & ~B(W::kRcpt)},
    {"remove_header", CondId::kRemoveHeader, true, true, kAll & ~kMessageWheres},
    {"seen", CondId::kSeen, true, false, 0},
    {"sender_domains", CondId::kSenderDomains, false, false, kNoSender},
    {"senders", CondId::kSenders, false, false, kNoSender},
    {"set", CondId::kSet, true, true, 0},
    {"udpsend", CondId::kUdpsend, true, true, 0},
    {"verify", CondId::kVerify, true, false, 0},
};

struct LeftOut {
  std::string_view name;
  const char* reason;
};
constexpr LeftOut kLeftOut[] = {
    {"decode", "tern has no content scanning"},  {"dkim_signers", "tern has no DKIM support"},
    {"dkim_status", "tern has no DKIM support"}, {"dmarc_status", "tern has no DMARC support"},
    {"malware", "tern has no content scanning"}, {"mime_regex", "tern has no content scanning"},
    {"regex", "tern has no content scanning"},   {"spam", "tern has no content scanning"},
    {"spf", "tern has no SPF support"},          {"spf_guess", "tern has no SPF support"},
};

}  // namespace

std::string_view verb_name(Verb v) {
  static constexpr std::string_view kNames[] = {"accept", "defer",   "deny", "discard",
                                                "drop",   "require", "warn"};
  return kNames[static_cast<size_t>(v)];
}

const CondDef* find_condition(std::string_view name) {
  auto it = std::find_if(std::begin(kConditions), std::end(kConditions),
                         [&](const CondDef& d) { return d.name == name; });
  return it == std::end(kConditions) ? nullptr : it;
}

const char* left_out_condition(std::string_view name) {
  for (const auto& l : kLeftOut)
    if (l.name == name) return l.reason;
  return nullptr;
}

}  // namespace detail
}  // namespace tern::acl
