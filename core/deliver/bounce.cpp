// core/deliver/bounce.cpp: Exim's delivery failure report (see bounce.hpp).
#include "core/deliver/bounce.hpp"

#include <strings.h>

namespace tern::deliver {

namespace {

constexpr std::int64_t kDeliverInBufferSize = 8192;  // Exim's DELIVER_IN_BUFFER_SIZE

// Exim's print_address_error(): the text after four spaces, broken after a ": " once a
// line is longer than 45 characters.
void append_error(std::string& out, std::string_view s) {
  out += "\n    ";
  int count = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == 'n') {
      out += "\n    ";
      ++i;
      count = 0;
      continue;
    }
    out += s[i];
    ++count;
    if (s[i] == ':' && i + 1 < s.size() && (s[i + 1] == ' ' || s[i + 1] == '\t') && count > 45) {
      out += "\n   ";
      count = 0;
    }
  }
}

std::string header_value(const std::vector<std::string>& headers, std::string_view name) {
  for (const std::string& h : headers) {
    if (h.size() <= name.size() || strncasecmp(h.data(), name.data(), name.size()) != 0 || h[name.size()] != ':')
      continue;
    std::string v;
    for (char c : std::string_view(h).substr(name.size() + 1)) v += (c == '\n' || c == '\t') ? ' ' : c;
    auto b = v.find_first_not_of(' ');
    auto e = v.find_last_not_of(' ');
    return b == std::string::npos ? std::string() : v.substr(b, e - b + 1);
  }
  return {};
}

// The header lines both reports share, after X-Failed-Recipients.
void common_headers(const FailureReport& r, std::vector<std::string>& out) {
  out.push_back("Auto-Submitted: auto-replied\n");
  out.push_back("From: Mail Delivery System <Mailer-Daemon@" + r.qualify_domain + ">\n");
  out.push_back("To: " + r.recipient + "\n");
  std::string message_id = header_value(r.headers, "Message-ID");
  if (!message_id.empty()) {
    std::string refs = header_value(r.headers, "References");
    out.push_back("References: " + (refs.empty() ? "" : refs + " ") + message_id + "\n");
  }
  out.push_back("Content-Type: multipart/report; report-type=delivery-status; boundary=" + r.boundary + "\n");
  out.push_back("MIME-Version: 1.0\n");
}

// The start of the RFC 3464 part both reports have: its boundary and the per-message fields.
void append_status_part_start(std::string& b, const FailureReport& r) {
  b += "\n--" + r.boundary + "\nContent-type: message/delivery-status\n\n";
  b += "Reporting-MTA: dns; " + r.primary_hostname + "\n";
  if (!r.dsn_envid.empty()) b += "Original-Envelope-ID: " + r.dsn_envid + "\n";
  b += "\n";
}

}  // namespace

WarningsDue warnings_due(const std::vector<std::int64_t>& times, std::int64_t queue_time) {
  WarningsDue w;
  const int n = static_cast<int>(times.size());
  if (n == 0 || times[0] <= 0) return w;
  int count = 0;
  while (count < n && queue_time >= times[static_cast<std::size_t>(count)]) ++count;
  if (count == 0) return w;
  std::int64_t shown = times[static_cast<std::size_t>(count - 1)];
  if (count >= n) {  // past the last time: it repeats at the last gap
    std::int64_t last_gap = shown - (count > 1 ? times[static_cast<std::size_t>(count - 2)] : 0);
    if (last_gap > 0) {
      std::int64_t extra = (queue_time - shown) / last_gap;
      shown += last_gap * extra;
      count += static_cast<int>(extra);
    }
  }
  w.count = count;
  w.shown = shown;
  return w;
}

ReportText delay_report(const FailureReport& r, const DelayFacts& facts) {
  ReportText out;
  common_headers(r, out.headers);
  std::string delay = facts.shown < 3600 ? std::to_string(facts.shown / 60) + " minutes"
                                         : std::to_string(facts.shown / 3600) + " hours";
  out.headers.push_back("Subject: Warning: message " + facts.message_id + " delayed " + delay + "\n");
  std::string& b = out.body;
  b += "--" + r.boundary + "\nContent-type: text/plain; charset=us-ascii\n\n";
  b += "This message was created automatically by mail delivery software.\n"
       "A message that you sent has not yet been delivered to one or more of its\n"
       "recipients after more than " + delay + " on the queue on " + r.primary_hostname + ".\n\n";
  b += "The message identifier is:     " + facts.message_id + "\n";
  if (!facts.subject.empty()) b += "The subject of the message is: " + facts.subject + "\n";
  if (!facts.date.empty()) b += "The date of the message is:    " + facts.date + "\n";
  b += r.addresses.size() > 1 ? "\nThe addresses to which the message has not yet been delivered are:\n\n"
                              : "\nThe address to which the message has not yet been delivered is:\n\n";
  for (auto it = r.addresses.rbegin(); it != r.addresses.rend(); ++it) b += "  " + it->address + "\n";
  b += "\nNo action is required on your part. Delivery attempts will continue for\n"
       "some time, and this warning may be repeated at intervals if the message\n"
       "remains undelivered. Eventually the mail delivery software will give up,\n"
       "and when that happens, the message will be returned to you.\n";
  append_status_part_start(b, r);
  for (const ReportedAddress& a : r.addresses) {
    if (!a.orcpt.empty()) b += "Original-Recipient: " + a.orcpt + "\n";
    b += "Action: delayed\nFinal-Recipient: rfc822;" + a.top + "\nStatus: 4.0.0\n\n";
  }
  b += "--" + r.boundary + "\nContent-type: text/rfc822-headers\n\n";
  for (const std::string& h : r.headers) b += h;
  b += "\n\n--" + r.boundary + "--\n";
  return out;
}

ReportText failure_report(const FailureReport& r) {
  ReportText out;
  bool to_sender = r.recipient == r.sender;
  // Exim's chain is the reverse of its log order: the list and X-Failed-Recipients go that
  // way, the delivery-status part the other.
  std::vector<const ReportedAddress*> reversed;
  for (auto it = r.addresses.rbegin(); it != r.addresses.rend(); ++it) reversed.push_back(&*it);

  std::string failed = "X-Failed-Recipients: ";
  for (std::size_t i = 0; i < reversed.size(); ++i) failed += (i ? ",\n  " : "") + reversed[i]->address;
  out.headers.push_back(failed + "\n");
  common_headers(r, out.headers);
  out.headers.push_back(std::string("Subject: Mail delivery failed") +
                        (to_sender ? ": returning message to sender" : "") + "\n");

  std::string& b = out.body;
  b += "--" + r.boundary + "\nContent-type: text/plain; charset=us-ascii\n\n";
  b += "This message was created automatically by mail delivery software.\n";
  if (to_sender) {
    b += "\nA message that you sent could not be delivered to one or more of its\n"
         "recipients. This is a permanent error. The following address(es) failed:\n";
  } else {
    b += "\nA message sent by\n\n  <" + r.sender +
         ">\n\ncould not be delivered to one or more of its recipients. The following\n"
         "address(es) failed:\n";
  }
  b += "\n";
  for (const ReportedAddress* a : reversed) {
    b += "  " + a->address;
    if (a->top != a->address) b += std::string("\n    (") + (a->ultimately ? "ultimately " : "") + "generated from " + a->top + ")";
    if (a->host) b += "\n    host " + a->host->name + " [" + a->host->address + "]";
    if (!a->message.empty()) append_error(b, a->message);
    b += "\n";
  }
  append_status_part_start(b, r);
  for (const ReportedAddress& a : r.addresses) {
    if (!a.orcpt.empty()) b += "Original-Recipient: " + a.orcpt + "\n";
    b += "Action: failed\nFinal-Recipient: rfc822;" + a.top + "\nStatus: 5.0.0\n";
    if (a.host && !a.host->name.empty()) {
      b += "Remote-MTA: dns; " + a.host->name + "\n";
      // Exim's print_dsn_diagnostic_code(): the remote's answer after the first ": ".
      if (auto colon = a.message.find(": "); a.message.starts_with("SMTP error") && colon != std::string::npos)
        b += "Diagnostic-Code: smtp; " + a.message.substr(colon + 2) + "\n";
    }
    b += "\n";
  }
  b += "--" + r.boundary + "\n";

  bool headers_only = false, limited = false;
  std::int64_t max = (r.return_size_limit / kDeliverInBufferSize + 1) * kDeliverInBufferSize;
  if (r.dsn_ret == 1) {
    headers_only = true;
  } else if (!r.return_body) {
    headers_only = true;
    limited = r.dsn_ret == 2;  // RET=FULL overruled
  } else if (r.max_line_length > r.return_linesize_limit || (r.return_size_limit > 0 && r.data_file_size > max)) {
    headers_only = limited = true;
  }
  b += headers_only ? "Content-type: text/rfc822-headers\n\n" : "Content-type: message/rfc822\n\n";
  for (const std::string& h : r.headers) b += h;
  if (limited) b += "X-Exim-DSN-Information: Due to administrative limits only headers are returned\n";
  b += "\n";
  if (!headers_only) b += r.body;
  b += "\n--" + r.boundary + "--\n";
  return out;
}

}  // namespace tern::deliver
