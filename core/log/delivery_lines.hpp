// core/log/delivery_lines.hpp: the lines Exim 4.96 logs for each delivery attempt.
//
//   => delivered      -> delivered in the same transport call as the "=>" one before it
//   >> cutthrough     *> suppressed by -N
//   ** failed (bounced)                   == deferred
//
// Pure functions over a Delivery (what deliver.c's delivery_log() and post_process_one()
// read), tested against the reference Exim's lines (delivery_lines_test.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/log/fields.hpp"
#include "core/log/logger.hpp"
#include "core/log/selector.hpp"

namespace tern::log {

// How an address is shown (Exim's string_log_address()).
struct LoggedAddress {
  std::string address;     // this address, local_part@domain
  std::string local_part;  // shown alone for a pipe, file or reply, and for a successful
                           // delivery by a log_as_local router through a local transport
  std::string original;    // the recipient this came from by redirection ("" if none)
  std::vector<std::string> intermediates;  // addresses between this and `original`,
                                           // nearest first
  std::string onetime_parent;              // one_time redirection: shown instead of the original
  bool pipe_file_reply = false;
  bool file = false;          // a file delivery: "save " before a path that is not absolute
  bool log_as_local = false;  // the router's log_as_local and a local transport
};

struct DeliveryHost {
  std::string name;     // "mx.example" (the IP when there is no name)
  std::string address;  // "192.0.2.1"
  int port = 25;
  bool dnssec = false;     // looked up with DNSSEC (" DS" with +dnssec)
  bool continued = false;  // not the first message on this connection: "*" after [ip]
};

enum class DeliveryMark { kDelivered, kAdditional, kCutthrough, kSuppressed };

struct Delivery {
  std::string message_id;
  LoggedAddress address;
  DeliveryMark mark = DeliveryMark::kDelivered;
  std::string sender;                      // F=<..> (+sender_on_delivery; always on ** lines
                                           // with +sender_on_delivery)
  std::optional<std::string> return_path;  // P=<..> (+return_path_on_delivery) when used
  std::string queue_name;                  // Q=
  std::string router;                      // R= ("" for a delivery without a router)
  std::string transport;                   // T=
  bool local_transport = false;
  int64_t size = 0;                  // S= (+delivery_size): bytes the transport wrote
  std::string local_host;            // local transport given a host: H=
  std::string shadow;                // local transport: " ST=name[ (error)]", as is
  std::optional<DeliveryHost> host;  // remote: the host used
  std::string sending_address;       // I=[ip]:port (+incoming_interface and
  int sending_port = 0;              //  +outgoing_interface)
  TlsInfo tls;                       // X= CV= DN=
  AuthInfo auth;                     // A=
  bool pipelining = false;           // L (+pipelining)
  bool early_pipe = false;           // L*
  bool prdr = false;
  bool chunking = false;         // K
  bool lmtp = false;             // the transport is lmtp (C= without a host)
  std::string confirmation;      // C="250 OK id=..." (+smtp_confirmation)
  int64_t queue_time_us = 0;     // QT= (+queue_time): since reception began, or
                                 // ended with +queue_time_exclusive: the caller
                                 // picks by selectors
  int64_t delivery_time_us = 0;  // DT= (+deliver_time)
  int basic_errno = 0;           // ** and ==: >0 adds ": strerror()"
  std::string error_message;     // ** and ==: ": message"
};

// "<id> => bob <bob@local.example> R=local T=local_file" / remote:
// "<id> => c@remote.example R=remote T=remote_smtp H=mx [ip] X=.. CV=no C="250 OK""
Line delivered(const Delivery& d, const Selectors& sel);
// "<id> ** a@b R=r T=t H=mx [ip]: SMTP error from remote mail server after RCPT TO:<a@b>: 550 ..."
Line failed(const Delivery& d, const Selectors& sel);
// "<id> == a@b R=r T=t defer (111): Connection refused"
Line deferred(const Delivery& d, const Selectors& sel);

// string_log_address(): "bob <bob@local.example>", "c@remote.example", "|/bin/x (a@b) <c@d>"
std::string logged_address(const LoggedAddress& a, bool all_parents, bool success);

}  // namespace tern::log
