// core/dns/failure_events.cpp: dns:fail's data and the resolver that raises it (see the header).
#include "core/dns/failure_events.hpp"

namespace tern::dns {

namespace {

// Exim's dns_text_type().
std::string_view type_name(uint16_t rrtype) {
  switch (rrtype) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 15: return "MX";
    case 16: return "TXT";
    case 28: return "AAAA";
    case 33: return "SRV";
    case 38: return "A6";
    case 52: return "TLSA";
    case 99: return "SPF";
    default: return "?";
  }
}

// Exim's dns_rc_names[] for what the resolver answered (glibc's mapping of rcodes:
// SERVFAIL is TRY_AGAIN, FORMERR/NOTIMP/REFUSED are NO_RECOVERY).
std::string_view reason(const Result<module_host::DnsResolver::Answer>& outcome) {
  if (!outcome) return "DNS_AGAIN";
  switch (outcome->rcode) {
    case 0: return outcome->rdata.empty() ? "DNS_NODATA" : "";
    case 2: return "DNS_AGAIN";
    case 3: return "DNS_NOMATCH";
    default: return "DNS_FAIL";
  }
}

}  // namespace

std::string failure_event_data(std::string_view name, uint16_t rrtype,
                               const Result<module_host::DnsResolver::Answer>& outcome) {
  std::string_view why = reason(outcome);
  if (why.empty()) return {};
  std::string data(why);
  data += ':';
  for (char c : name) {
    if (c == ':') data += ':';
    data += c;
  }
  data += ':';
  data += type_name(rrtype);
  return data;
}

Result<module_host::DnsResolver::Answer> FailureEvents::query(std::string_view name, uint16_t rrtype) {
  Result<Answer> outcome = inner_.query(name, rrtype);
  if (observed_ && observed_()) {
    if (std::string data = failure_event_data(name, rrtype, outcome); !data.empty()) raise_(data);
  }
  return outcome;
}

}  // namespace tern::dns
