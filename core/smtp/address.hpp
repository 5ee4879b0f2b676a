// core/smtp/address.hpp: the operative address of a MAIL FROM / RCPT TO
// argument, extracted with Exim's rules (parse_extract_address in parse.c).
//
// Exim accepts a full RFC 2822 mailbox here: `Name <a@b>`, comments, quoted
// local parts, source routes (`<@x,@y:a@b>`, recognised then dropped) and,
// for senders, the empty `<>`. Every refusal carries Exim's own text
// ("domain missing or malformed", "malformed address: x may not follow
// <a@b>", ...), which the caller puts after "501 <data>: ".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/base/result.hpp"

namespace tern::smtp {

// Exim's ADDRESS_MAXLENGTH: a longer extracted address is "ridiculously long".
inline constexpr size_t kAddressMaxLength = 256;

struct AddressOptions {
  bool allow_null = false;                   // "<>" is the empty address (senders)
  bool allow_domain_literals = false;        // allow_domain_literals
  bool strip_excess_angle_brackets = false;  // strip_excess_angle_brackets
  bool strip_trailing_dot = false;           // strip_trailing_dot
  bool allow_utf8_domains = false;           // set by SMTPUTF8 on MAIL
};

struct ParsedAddress {
  std::string address;       // local@domain, or local part only, or "" for <>
  size_t domain_offset = 0;  // offset of the domain in `address`; 0: none given
  bool has_domain() const { return domain_offset != 0; }
};

// Error().message is Exim's text without the "501 <data>: " prefix. Input up
// to the first NUL byte is considered, as Exim's C strings would.
Result<ParsedAddress> extract_address(std::string_view mailbox, const AddressOptions& opt);

// $local_part and $domain of an address as Exim's RCPT ACL sees them
// (deliver_split_address): the local part without its quoting (unquoted
// double quotes dropped, a backslash keeps the next character) and, like
// the domain, lower-cased: `"A b"@X.Example` gives `a b` and `x.example`.
struct SplitAddress {
  std::string local_part;
  std::string domain;
};
SplitAddress split_address(std::string_view address);

// Where the address starting at `i` of a header's address list ends: the comma after it,
// or the end of `s` (Exim's parse_find_address_end). Used by ${addresses:} and -t.
size_t find_address_end(std::string_view s, size_t i);

}  // namespace tern::smtp
