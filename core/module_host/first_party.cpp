// core/module_host/first_party.cpp: INTERFACE.md's table of what each first-party module brings.
#include "core/module_host/first_party.hpp"

namespace tern::module_host {

const std::vector<FirstPartyName>& first_party_names() {
  using K = expand::ExtensionKind;
  static const std::vector<FirstPartyName> names = {
      {K::kVariable, "event_name", "events"},
      {K::kVariable, "event_data", "events"},
      {K::kVariable, "tls_out_dane", "dane"},
      {K::kVariable, "tls_out_tlsa_usage", "dane"},
      {K::kVariable, "proxy_session", "proxy"},
      {K::kVariable, "proxy_external_address", "proxy"},
      {K::kVariable, "proxy_external_port", "proxy"},
      {K::kVariable, "proxy_local_address", "proxy"},
      {K::kVariable, "proxy_local_port", "proxy"},
      {K::kVariable, "bmi_base64_verdict", "bmi"},
      {K::kVariable, "bmi_base64_tracker_verdict", "bmi"},
      {K::kVariable, "bmi_alt_location", "bmi"},
      {K::kVariable, "bmi_deliver", "bmi"},
      {K::kVariable, "tls_in_ocsp", "ocsp"},
      {K::kVariable, "tls_out_ocsp", "ocsp"},
      {K::kLookup, "redis", "redis"},
      {K::kLookup, "pgsql", "pgsql"},
      {K::kLookup, "mysql", "mysql"},
      {K::kCondition, "bmi_optin", "bmi"},
      {K::kCondition, "bmi_run", "bmi"},
  };
  return names;
}

}  // namespace tern::module_host
