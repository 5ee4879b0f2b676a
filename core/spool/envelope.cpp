// core/spool/envelope.cpp: option placement in Exim's writing order, header typing.
//
// Exim's spool_write_header() writes options in a fixed order; a new option is placed
// before the first existing option that Exim writes after it, so a tern-written -H file
// reads like one of Exim's.
#include "core/spool/envelope.hpp"

#include <algorithm>
#include <iterator>
#include <cctype>

namespace tern::spool {
namespace {

// The order of Exim 4.97's spool_write_header(). Unknown names sort after these.
constexpr std::string_view kOrder[] = {
    "received_time_usec", "received_time_complete", "helo_name", "host_address",
    "host_name", "host_auth", "host_auth_pubname", "interface_address", "active_hostname",
    "ident", "received_protocol", "aclc", "aclm", "spool_file_wireformat", "body_linecount",
    "max_received_linelength", "body_zerocount", "auth_id", "auth_sender",
    "allow_unqualified_recipient", "allow_unqualified_sender", "deliver_firsttime", "frozen",
    "N", "host_lookup_deferred", "host_lookup_failed", "local", "localerror", "local_scan",
    "spam_bar", "spam_score", "spam_score_int", "manual_thaw", "sender_set_untrusted",
    "bmi_verdicts", "tls_certificate_verified", "tls_cipher", "tls_peercert", "tls_peerdn",
    "tls_sni", "tls_ourcert", "tls_ocsp", "tls_resumption", "tls_ver", "smtputf8",
    "utf8_downcvt", "utf8_optdowncvt", "dsn_envid", "dsn_ret", "debug_selector",
    "debug_file"};

std::size_t rank(std::string_view name) {
  auto it = std::find(std::begin(kOrder), std::end(kOrder), name);
  return std::size_t(it - std::begin(kOrder));
}

bool name_is(std::string_view text, std::string_view name) {
  if (text.size() <= name.size() || text[name.size()] != ':') return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != name[i]) return false;
  return true;
}

}  // namespace

char header_type_for(std::string_view t) {
  if (name_is(t, "received")) return 'P';
  if (name_is(t, "from")) return 'F';
  if (name_is(t, "to")) return 'T';
  if (name_is(t, "cc")) return 'C';
  if (name_is(t, "bcc")) return 'B';
  if (name_is(t, "message-id")) return 'I';
  if (name_is(t, "reply-to")) return 'R';
  if (name_is(t, "sender")) return 'S';
  return ' ';
}

const SpoolVar* Envelope::var(std::string_view name) const {
  for (const auto& v : vars)
    if (v.name == name) return &v;
  return nullptr;
}

void Envelope::set_var(std::string_view name, std::string_view value, bool tainted) {
  SpoolVar v{std::string(name), std::string(value), true, tainted, {}};
  for (auto& old : vars)
    if (old.name == name) {
      old = std::move(v);
      return;
    }
  std::size_t r = rank(name);
  auto pos = std::find_if(vars.begin(), vars.end(), [&](const SpoolVar& o) { return rank(o.name) > r; });
  vars.insert(pos, std::move(v));
}

void Envelope::set_flag(std::string_view name) {
  set_var(name, "");
  for (auto& v : vars)
    if (v.name == name) v.has_value = false;
}

void Envelope::erase_var(std::string_view name) {
  std::erase_if(vars, [&](const SpoolVar& v) { return v.name == name; });
}

void Envelope::set_acl_var(char kind, std::string_view name, std::string_view value,
                           bool tainted) {
  std::string key = kind == 'c' ? "aclc" : "aclm";
  SpoolVar v{key, std::string(name), true, tainted, std::string(value)};
  for (auto& old : vars)
    if (old.name == key && old.value == name) {
      old = std::move(v);
      return;
    }
  std::size_t r = rank(key);
  auto pos = std::find_if(vars.begin(), vars.end(), [&](const SpoolVar& o) { return rank(o.name) > r; });
  vars.insert(pos, std::move(v));
}

std::int64_t Envelope::header_size() const {
  std::int64_t n = 0;
  for (const auto& h : headers)
    if (h.type != '*') n += std::int64_t(h.text.size());
  return n;
}

std::vector<const Recipient*> Envelope::pending_recipients() const {
  std::vector<const Recipient*> out;
  for (const auto& r : recipients)
    if (!nonrecipients.count(r.address)) out.push_back(&r);
  return out;
}

}  // namespace tern::spool
