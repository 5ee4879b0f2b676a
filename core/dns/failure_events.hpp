// core/dns/failure_events.hpp: Exim's dns:fail event, raised around any resolver.
//
// FailureEvents is a resolver that asks another one and, for every lookup that does not
// succeed, raises dns:fail with Exim 4.98's $event_data "<reason>:<name>:<type>":
//   reason  DNS_NOMATCH (NXDOMAIN), DNS_NODATA (the name has no record of the type),
//           DNS_AGAIN (no answer in time, SERVFAIL), DNS_FAIL (any other error code)
//   name    as asked, its colons doubled (Exim's list quoting)
//   type    Exim's name for it (A, MX, AAAA, TXT, PTR, SOA, SRV, NS, CNAME, TLSA, else "?")
// The answer is passed on unchanged. The delivery process wraps its resolver in one while
// it routes (the main event_action gets the event). `observed` is asked first, so with
// nobody listening nothing is built.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/module_host/call_env.hpp"

namespace tern::dns {

// dns:fail's $event_data for a lookup of `name`/`rrtype` that ended so (see above);
// "" when the lookup succeeded.
std::string failure_event_data(std::string_view name, uint16_t rrtype,
                               const Result<module_host::DnsResolver::Answer>& outcome);

class FailureEvents final : public module_host::DnsResolver {
 public:
  using Observed = std::function<bool()>;
  using Raise = std::function<void(std::string_view data)>;
  FailureEvents(module_host::DnsResolver& inner, Observed observed, Raise raise)
      : inner_(inner), observed_(std::move(observed)), raise_(std::move(raise)) {}

  Result<Answer> query(std::string_view name, uint16_t rrtype) override;

 private:
  module_host::DnsResolver& inner_;
  Observed observed_;
  Raise raise_;
};

}  // namespace tern::dns
