// core/log/selector.cpp: the selector table (names and Exim 4.96's defaults) and its parser.
#include "core/log/selector.hpp"

#include <array>
#include <cctype>
#include <string>

namespace tern::log {
namespace {

struct Entry {
  std::string_view name;
  bool default_on;
};

// Indexed by Selector; the order is Exim's (alphabetical). Defaults are Exim 4.96's
// log_default[] (globals.c), checked against the reference binary: msg_id and
// queue_time_exclusive are on by default in 4.96 (QT= excludes reception time unless
// `-queue_time_exclusive` is given).
constexpr std::array<Entry, kSelectorCount> kTable = {{
    {"8bitmime", false},
    {"acl_warn_skipped", true},
    {"address_rewrite", false},
    {"all_parents", false},
    {"arguments", false},
    {"connection_reject", true},
    {"delay_delivery", true},
    {"deliver_time", false},
    {"delivery_size", false},
    {"dkim", true},
    {"dkim_verbose", false},
    {"dnslist_defer", true},
    {"dnssec", false},
    {"etrn", true},
    {"host_lookup_failed", true},
    {"ident_timeout", false},
    {"incoming_interface", false},
    {"incoming_port", false},
    {"lost_incoming_connection", true},
    {"millisec", false},
    {"msg_id", true},
    {"msg_id_created", false},
    {"outgoing_interface", true},
    {"outgoing_port", false},
    {"pid", false},
    {"pipelining", false},
    {"protocol_detail", false},
    {"proxy", false},
    {"queue_run", true},
    {"queue_time", false},
    {"queue_time_exclusive", true},
    {"queue_time_overall", false},
    {"receive_time", false},
    {"received_recipients", false},
    {"received_sender", false},
    {"rejected_header", true},
    {"retry_defer", true},
    {"return_path_on_delivery", false},
    {"sender_on_delivery", false},
    {"sender_verify_fail", true},
    {"size_reject", true},
    {"skip_delivery", true},
    {"smtp_confirmation", true},
    {"smtp_connection", false},
    {"smtp_incomplete_transaction", false},
    {"smtp_mailauth", false},
    {"smtp_no_mail", false},
    {"smtp_protocol_error", false},
    {"smtp_syntax_error", false},
    {"subject", false},
    {"tls_certificate_verified", true},
    {"tls_cipher", true},
    {"tls_peerdn", false},
    {"tls_resumption", false},
    {"tls_sni", false},
    {"unknown_in_list", false},
}};

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

std::string_view selector_name(Selector s) { return kTable[static_cast<int>(s)].name; }

std::optional<Selector> selector_by_name(std::string_view name) {
  if (name == "rejected_headers") return Selector::kRejectedHeader;
  for (int i = 0; i < kSelectorCount; ++i)
    if (kTable[i].name == name) return static_cast<Selector>(i);
  return std::nullopt;
}

void Selectors::set(Selector s, bool value) {
  uint64_t bit = uint64_t{1} << static_cast<int>(s);
  bits_ = value ? (bits_ | bit) : (bits_ & ~bit);
}

Selectors Selectors::defaults() {
  Selectors s;
  for (int i = 0; i < kSelectorCount; ++i)
    if (kTable[i].default_on) s.set(static_cast<Selector>(i), true);
  return s;
}

Selectors Selectors::of(std::initializer_list<Selector> list) {
  Selectors s;
  for (Selector x : list) s.set(x, true);
  return s;
}

Selectors Selectors::all() {
  Selectors s;
  for (int i = 0; i < kSelectorCount; ++i) s.set(static_cast<Selector>(i), true);
  return s;
}

Result<Selectors> parse_log_selector(std::string_view text) {
  Selectors sel = Selectors::defaults();
  size_t i = 0;
  if (!text.empty() && text[0] == '=')
    return Error::failed("numeric log_selector setting \"" + std::string(text) +
                         "\" is not supported: use +name and -name");
  for (;;) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i == text.size()) return sel;
    if (text[i] != '+' && text[i] != '-')
      return Error::failed("malformed log_selector setting: + or - expected but found \"" +
                           std::string(text.substr(i)) + "\"");
    bool adding = text[i++] == '+';
    size_t start = i;
    while (i < text.size() && is_name_char(text[i])) ++i;
    std::string_view name = text.substr(start, i - start);
    if (name == "all") {
      sel = adding ? Selectors::all() : Selectors();
      continue;
    }
    std::optional<Selector> s = selector_by_name(name);
    if (!s)
      return Error::failed(std::string("unknown log_selector setting: ") + (adding ? '+' : '-') +
                           std::string(name));
    sel.set(*s, adding);
  }
}

}  // namespace tern::log
