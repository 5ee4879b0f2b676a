// core/log/delivery_lines.cpp: delivery lines as Exim 4.96's deliver.c builds them
// (delivery_log, d_hostlog, d_tlslog, d_log_interface, string_log_address, post_process_one).
#include "core/log/delivery_lines.hpp"

#include <strings.h>

#include <cctype>
#include <cstring>

#include "core/log/timestamp.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::log {
namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string interface_field(const Delivery& d, const Selectors& sel) {
  if (!sel.on(Selector::kIncomingInterface) || !sel.on(Selector::kOutgoingInterface) ||
      d.sending_address.empty())
    return {};
  std::string s = " I=[" + d.sending_address + "]";
  if (sel.on(Selector::kOutgoingPort)) s += ":" + std::to_string(d.sending_port);
  return s;
}

std::string host_fields(const Delivery& d, const Selectors& sel) {
  const DeliveryHost& h = *d.host;
  std::string s = " H=" + h.name;
  if (sel.on(Selector::kDnssec) && h.dnssec) s += " DS";
  s += " [" + h.address + "]";
  if (sel.on(Selector::kOutgoingPort)) s += ":" + std::to_string(h.port);
  if (h.continued) s += "*";
  return s + interface_field(d, sel);
}

std::string outgoing_tls_fields(const TlsInfo& t, const Selectors& sel) {
  TlsInfo out = t;
  out.sni.clear();  // not logged for deliveries
  return tls_fields(out, sel);
}

std::string sender_field(const Delivery& d) { return " F=<" + d.sender + ">"; }

std::string return_path_field(const Delivery& d, const Selectors& sel) {
  if (!d.return_path || !sel.on(Selector::kReturnPathOnDelivery)) return {};
  return " P=<" + *d.return_path + ">";
}

std::string driver_fields(const Delivery& d) {
  std::string s;
  if (!d.router.empty()) s += " R=" + d.router;
  if (!d.transport.empty()) s += " T=" + d.transport;
  return s;
}

std::string errno_field(const Delivery& d) {
  return d.basic_errno > 0 ? ": " + std::string(std::strerror(d.basic_errno)) : std::string();
}

Line with_id(std::string text, const Delivery& d) {
  Line l;
  l.text = std::move(text);
  l.targets = kToMain;
  l.message_id = d.message_id;
  return l;
}

}  // namespace

std::string logged_address(const LoggedAddress& a, bool all_parents, bool success) {
  const std::string& top = a.original.empty() ? a.address : a.original;
  bool add_top = true;
  std::string s;
  if (a.pipe_file_reply || (success && a.log_as_local)) {
    if (a.file && (a.local_part.empty() || a.local_part[0] != '/')) s += "save ";
    s += a.local_part;
  } else {
    s = a.address;
    size_t at = s.find('@');
    if (equal_ignoring_case(s, top) && s.compare(0, at, top, 0, at) == 0 &&
        a.onetime_parent.empty() && (!all_parents || a.intermediates.empty()))
      add_top = false;
  }
  if ((all_parents || a.pipe_file_reply) && !a.intermediates.empty()) {
    s += " (";
    for (size_t i = 0; i < a.intermediates.size(); ++i) {
      if (i > 0) s += ", ";
      s += a.intermediates[i];
      if (!all_parents) break;
    }
    s += ")";
  }
  if (add_top) s += " <" + (a.onetime_parent.empty() ? top : a.onetime_parent) + ">";
  return s;
}

Line delivered(const Delivery& d, const Selectors& sel) {
  static const char* kMarks[] = {"=>", "->", ">>", "*>"};
  std::string s = kMarks[static_cast<int>(d.mark)];
  s += " " + logged_address(d.address, sel.on(Selector::kAllParents), true);
  if (sel.on(Selector::kSenderOnDelivery)) s += sender_field(d);
  if (!d.queue_name.empty()) s += " Q=" + d.queue_name;
  s += return_path_field(d, sel);
  if (!d.router.empty()) s += " R=" + d.router;
  if (!d.transport.empty()) s += " T=" + d.transport;  // none for :blackhole:
  if (sel.on(Selector::kDeliverySize)) s += " S=" + std::to_string(d.size);
  if (d.local_transport) {
    if (!d.local_host.empty()) s += " H=" + d.local_host;
    s += interface_field(d, sel);
    s += d.shadow;
  } else {
    if (d.host) s += host_fields(d, sel);
    s += outgoing_tls_fields(d.tls, sel);
    s += auth_field(d.auth, sel);
    if (sel.on(Selector::kPipelining)) {
      if (d.pipelining) s += " L";
      if (d.early_pipe) s += "*";
    }
    if (d.prdr) s += " PRDR";
    if (d.chunking) s += " K";
  }
  if (sel.on(Selector::kSmtpConfirmation) && !d.confirmation.empty() && (d.host || d.lmtp)) {
    // A C-like string of at most 1024 characters of the reply.
    std::string q = "\"";
    for (size_t i = 0; i < 1024 && i < d.confirmation.size() && d.confirmation[i] != '\0'; ++i) {
      if (d.confirmation[i] == '"' || d.confirmation[i] == '\\') q += '\\';
      q += d.confirmation[i];
    }
    s += " C=" + q + "\"";
  }
  if (sel.on(Selector::kQueueTime)) s += " QT=" + format_duration_us(d.queue_time_us, sel);
  if (sel.on(Selector::kDeliverTime)) s += " DT=" + format_duration_us(d.delivery_time_us, sel);
  return with_id(std::move(s), d);
}

Line failed(const Delivery& d, const Selectors& sel) {
  std::string s = "** " + logged_address(d.address, sel.on(Selector::kAllParents), false);
  if (sel.on(Selector::kSenderOnDelivery)) s += sender_field(d);
  if (!d.queue_name.empty()) s += " Q=" + d.queue_name;
  s += return_path_field(d, sel);
  s += driver_fields(d);
  if (d.host) s += host_fields(d, sel);
  s += outgoing_tls_fields(d.tls, sel);
  s += errno_field(d);
  if (!d.error_message.empty()) s += ": " + d.error_message;
  if (sel.on(Selector::kDeliverTime)) s += " DT=" + format_duration_us(d.delivery_time_us, sel);
  return with_id(std::move(s), d);
}

Line deferred(const Delivery& d, const Selectors& sel) {
  std::string s = "== " + logged_address(d.address, sel.on(Selector::kAllParents), false);
  s += driver_fields(d);
  s += " defer (" + std::to_string(d.basic_errno) + ")";
  s += errno_field(d);
  if (d.host) s += host_fields(d, sel);
  if (sel.on(Selector::kDeliverTime)) s += " DT=" + format_duration_us(d.delivery_time_us, sel);
  if (!d.error_message.empty()) s += ": " + d.error_message;
  return with_id(std::move(s), d);
}

}  // namespace tern::log
