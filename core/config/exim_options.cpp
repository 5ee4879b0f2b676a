// core/config/exim_options.cpp: Exim 4.96's options, drivers and what tern leaves out.
//
// The table itself (exim_options.inc) is generated from the reference Exim's
// own output by tools/gen_options.py, so names, types and defaults match
// `exim -bP`. This file adds what the output does not show (hidden synonyms,
// per-driver generic defaults), moves the options that tern's modules own out
// of the core, and drops the options of features tern does not build.
#include <set>

#include "core/config/options.hpp"

namespace tern::config {
namespace {

struct Row {
  Scope scope;
  const char* driver;
  const char* name;
  OptionType type;
  const char* default_text;
};

const Row kRows[] = {
#include "core/config/exim_options.inc"
};

// Options owned by tern's first-party modules (INTERFACE.md, "Modules").
struct ModuleRow {
  Scope scope;
  const char* driver;
  const char* name;
  const char* module;
};
const ModuleRow kModuleRows[] = {
    {Scope::kMain, "", "event_action", "events"},
    {Scope::kTransport, "", "event_action", "events"},
    {Scope::kTransport, "smtp", "hosts_try_dane", "dane"},
    {Scope::kTransport, "smtp", "hosts_require_dane", "dane"},
    {Scope::kTransport, "smtp", "dane_require_tls_ciphers", "dane"},
    {Scope::kMain, "", "tls_ocsp_file", "ocsp"},
    {Scope::kTransport, "smtp", "hosts_require_ocsp", "ocsp"},
    {Scope::kTransport, "smtp", "hosts_request_ocsp", "ocsp"},
    {Scope::kMain, "", "hosts_proxy", "proxy"},
    {Scope::kMain, "", "proxy_protocol_timeout", "proxy"},
    {Scope::kMain, "", "redis_servers", "redis"},
    {Scope::kMain, "", "pgsql_servers", "pgsql"},
    {Scope::kMain, "", "mysql_servers", "mysql"},
    {Scope::kMain, "", "bmi_config_file", "bmi"},
    {Scope::kRouter, "", "bmi_rule", "bmi"},
    {Scope::kRouter, "", "bmi_deliver_alternate", "bmi"},
    {Scope::kRouter, "", "bmi_deliver_default", "bmi"},
    {Scope::kRouter, "", "bmi_dont_deliver", "bmi"},
};

// Options of features tern does not build, by name prefix or exact name.
struct SkipRow {
  Scope scope;
  const char* driver;
  const char* prefix;  // a trailing '*' matches any suffix
  const char* reason;
};
const SkipRow kSkipRows[] = {
    {Scope::kMain, "", "ldap_*", "tern has no LDAP lookups"},
    {Scope::kMain, "", "perl_*", "tern has no embedded Perl"},
    {Scope::kMain, "", "gnutls_*", "tern uses OpenSSL, not GnuTLS"},
    {Scope::kMain, "", "sqlite_*", "tern has no SQLite lookups"},
    {Scope::kMain, "", "spf_*", "tern has no SPF support"},
    {Scope::kMain, "", "dkim_*", "tern has no DKIM support"},
    {Scope::kMain, "", "acl_smtp_dkim", "tern has no DKIM support"},
    {Scope::kMain, "", "local_scan_path", "tern has no local_scan() (a Debian patch of Exim)"},
    {Scope::kTransport, "smtp", "dkim_*", "tern has no DKIM support"},
};

bool matches(const char* pattern, std::string_view name) {
  std::string_view p(pattern);
  if (!p.empty() && p.back() == '*') return name.substr(0, p.size() - 1) == p.substr(0, p.size() - 1);
  return name == p;
}

const SkipRow* skip_row(Scope scope, std::string_view driver, std::string_view name) {
  for (const auto& s : kSkipRows)
    if (s.scope == scope && driver == s.driver && matches(s.prefix, name)) return &s;
  return nullptr;
}

bool module_owned(Scope scope, std::string_view driver, std::string_view name) {
  for (const auto& m : kModuleRows)
    if (m.scope == scope && driver == m.driver && name == m.name) return true;
  return false;
}

}  // namespace

std::vector<UnloadedOption> first_party_module_options() {
  std::vector<UnloadedOption> out;
  for (const auto& m : kModuleRows) out.push_back({m.name, m.scope, m.module, m.driver});
  return out;
}

Status register_exim_options(OptionRegistry& reg) {
  for (const Row& r : kRows) {
    if (module_owned(r.scope, r.driver, r.name)) continue;
    if (const SkipRow* s = skip_row(r.scope, r.driver, r.name)) {
      reg.add_skipped({r.name, r.scope, r.driver, s->reason});
      continue;
    }
    if (Status st = reg.add(r.scope, r.driver, r.name, r.type, r.default_text); !st) return st;
  }
  // Hidden synonyms Exim accepts but does not print.
  auto alias = [&](Scope scope, const char* name, const char* target) -> Status {
    const OptionDef* t = reg.find(scope, "", target);
    if (t == nullptr) return Error::failed(std::string("alias target ") + target + " missing");
    OptionDef d = *t;
    d.name = name;
    d.hidden = true;
    d.alias_of = target;
    return reg.add(std::move(d));
  };
  for (auto [scope, name, target] :
       {std::tuple{Scope::kMain, "daemon_smtp_port", "daemon_smtp_ports"},
        std::tuple{Scope::kMain, "return_size_limit", "bounce_return_size_limit"}}) {
    if (Status st = alias(scope, name, target); !st) return st;
  }
  // Router "verify" and "fail_verify" set both of their halves.
  for (const char* name : {"verify", "fail_verify"}) {
    OptionDef d;
    d.scope = Scope::kRouter;
    d.name = name;
    d.type = OptionType::kBool;
    d.hidden = true;
    d.alias_of = std::string(name) + "_sender," + name + "_recipient";
    if (Status st = reg.add(std::move(d)); !st) return st;
  }

  for (const char* r : {"accept", "redirect", "manualroute", "dnslookup", "ipliteral"}) {
    DriverDef d{Scope::kRouter, r, "core", {}};
    if (std::string_view(r) == "accept") d.generic_defaults["log_as_local"] = "true";
    if (Status st = reg.add_driver(std::move(d)); !st) return st;
  }
  for (const char* t : {"appendfile", "smtp", "pipe", "lmtp", "autoreply"}) {
    DriverDef d{Scope::kTransport, t, "core", {}};
    // Local transports retry per local part (Exim's default for them).
    if (std::string_view(t) != "smtp") d.generic_defaults["retry_use_local_part"] = "true";
    if (Status st = reg.add_driver(std::move(d)); !st) return st;
  }
  for (const char* a : {"plaintext", "cram_md5", "dovecot", "spa", "external", "tls"}) {
    if (Status st = reg.add_driver({Scope::kAuthenticator, a, "core", {}}); !st) return st;
  }
  return {};
}

}  // namespace tern::config
