// core/deliver/bounce.hpp: Exim's delivery failure report (a bounce), as text.
//
// What Exim 4.96's deliver.c writes to `exim -t` for permanently failed addresses: the
// header lines (X-Failed-Recipients, Auto-Submitted, From: Mail Delivery System
// <Mailer-Daemon@qualify_domain>, To, References, a multipart/report Content-Type,
// MIME-Version, Subject), the human-readable part ("This message was created
// automatically by mail delivery software." ...), the message/delivery-status part
// (RFC 3464: Reporting-MTA, then Action/Final-Recipient/Status and, for a remote
// refusal, Remote-MTA and Diagnostic-Code per address) and the returned message:
// message/rfc822, or only its headers (text/rfc822-headers with Exim's
// X-Exim-DSN-Information line) when the message is over bounce_return_size_limit,
// bounce_return_body is false, or the sender asked for RET=HDRS.
//
// delay_report() is Exim's delay warning (delay_warning): "Subject: Warning: message <id>
// delayed <n> minutes", the same three parts, Action: delayed, headers only.
//
// local_message.hpp spools the result from the null sender.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/deliver/transport.hpp"

namespace tern::deliver {

// One failed address as the report describes it.
struct ReportedAddress {
  std::string address;
  std::string top;          // the envelope recipient it came from (Final-Recipient)
  bool ultimately = false;  // the top is not its direct parent ("ultimately generated from")
  std::string orcpt;        // DSN ORCPT, "" when none
  std::optional<Host> host; // the remote host that refused it
  std::string message;      // the error text; "" for none
};

struct FailureReport {
  std::string recipient;        // who is told (To:)
  std::string sender;           // the failed message's envelope sender
  std::string qualify_domain;   // Mailer-Daemon@...
  std::string primary_hostname; // Reporting-MTA
  std::string boundary;         // "<time>-eximdsn-<random>"
  std::string dsn_envid;        // Original-Envelope-ID, "" when none
  // The failed addresses in the order their "**" lines were logged.
  std::vector<ReportedAddress> addresses;
  // The failed message: its transmitted header lines (each ending in '\n'), body, and the
  // size of its -D file (Exim compares that with the limit).
  std::vector<std::string> headers;
  std::string_view body;
  std::int64_t data_file_size = 0;
  bool return_body = true;              // bounce_return_body
  int dsn_ret = 0;                      // the -H's -dsn_ret: 1 RET=HDRS, 2 RET=FULL, 0 none
  std::int64_t return_size_limit = 0;   // bounce_return_size_limit (bytes; 0: none)
  std::int64_t max_line_length = 0;     // the message's longest line
  std::int64_t return_linesize_limit = 998;
};

// The report: header lines (each ending in '\n') and the body (LF line ends).
struct ReportText {
  std::vector<std::string> headers;
  std::string body;
};
ReportText failure_report(const FailureReport& r);

// For a delay warning: the message's id, its Subject: and Date: values ("" when absent),
// and the delay shown (Exim's show_time, in seconds).
struct DelayFacts {
  std::string message_id;
  std::string subject;
  std::string date;
  std::int64_t shown = 0;
};
// `r.addresses` are the deferred addresses.
ReportText delay_report(const FailureReport& r, const DelayFacts& facts);

// Exim's delay_warning arithmetic: how many warnings a message `queue_time` seconds old
// should have had (`count`) and the delay to show, for the option's list of times.
struct WarningsDue {
  int count = 0;
  std::int64_t shown = 0;
};
WarningsDue warnings_due(const std::vector<std::int64_t>& delay_warning, std::int64_t queue_time);

}  // namespace tern::deliver
