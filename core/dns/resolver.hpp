// core/dns/resolver.hpp: the core's DNS resolver (libunbound), for dnslists, host lists and
// modules.
//
// One Resolver per process (per configuration generation) answers
// synchronous queries from any thread, each with a deadline: a query is
// handed to libunbound's own worker thread and the caller waits for its
// answer or its deadline, whichever comes first (a late answer is dropped).
// Name servers come from resolv.conf (forwarding to them; without any,
// libunbound resolves from the root itself) and /etc/hosts answers first,
// as for the system's resolver. DNSSEC: libunbound validates with the trust
// anchor file it is given, and an answer it validated is `secure`; without
// an anchor nothing is secure. The libunbound context is made on the first
// query, so a process that never asks pays nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/module_host/call_env.hpp"

namespace tern::dns {

inline constexpr uint16_t kTypeA = 1, kTypePtr = 12, kTypeTxt = 16, kTypeAaaa = 28, kTypeMx = 15, kTypeTlsa = 52;

struct ResolverOptions {
  std::string resolv_conf = "/etc/resolv.conf";  // empty: none
  std::string hosts = "/etc/hosts";              // empty: none
  std::string trust_anchor_file;                 // DNSSEC anchors (DS or DNSKEY lines); empty: none
  std::chrono::milliseconds timeout{10000};      // per query
};

class Resolver final : public module_host::DnsResolver {
 public:
  explicit Resolver(ResolverOptions options = {});
  ~Resolver() override;
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // An answer (rcode 0 with or without data, 3 for NXDOMAIN, ...), or a
  // kDefer error when none came: "timeout after N ms", a libunbound error.
  Result<Answer> query(std::string_view name, uint16_t rrtype) override;

  struct Context;  // libunbound's, made on first use

 private:
  Result<Context*> context();

  ResolverOptions options_;
  std::mutex mu_;
  std::unique_ptr<Context> ctx_;
};

// The addresses of an A or AAAA answer, as text.
std::vector<std::string> addresses(const module_host::DnsResolver::Answer& a);
// The strings of a TXT answer: each record's character-strings joined.
std::vector<std::string> txt_records(const module_host::DnsResolver::Answer& a);
// The names of a PTR answer.
std::vector<std::string> ptr_names(const module_host::DnsResolver::Answer& a);
// A domain name in wire format at `pos` of a record's data (uncompressed, as libunbound
// gives rdata; a compression pointer ends it).
std::string wire_name(std::string_view rdata, std::size_t pos);

}  // namespace tern::dns
