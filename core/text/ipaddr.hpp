// core/text/ipaddr.hpp: textual IP addresses the way Exim 4.96 reads and
// prints them (string_is_ip_address, host_aton, host_is_in_net, host_mask,
// host_nmtoa, ipv6_nmtoa).
//
// The one home of IP address logic: ${mask}, ${ipv6norm}, ${ipv6denorm},
// ${reverse_ip}, the isip conditions, host-list matching (match_ip, net-
// lookups) and iplsearch all use it, so an address means the same thing
// everywhere. Validation is inet_pton() after taking off an optional `/mask`
// (only where a mask is allowed) or `%scope` (IPv6); binary conversion of
// already-checked text is Exim's lenient host_aton().
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::text {

struct IpAddress {
  int family = 0;                     // 4 or 6
  std::array<uint32_t, 4> words{};    // IPv4 in words[0]; host order, first byte high
  std::optional<size_t> mask_offset;  // where the '/' was, when a mask was allowed and given
};

// Exim's string_is_ip_address(): nullopt when `s` is not an address. With
// `allow_mask`, a `/n` suffix (n as strtol reads it, not negative) is
// accepted and its offset reported; the value is not range-checked here.
// Leading zeros ("01.2.3.4") and IPv6 groups of five digits are refused, as
// inet_pton refuses them.
std::optional<IpAddress> parse_ip_address(std::string_view s, bool allow_mask);

// string_is_ip_address(s, NULL): 4 or 6, or 0 when `s` (no mask allowed) is
// not an address.
int ip_version(std::string_view s);

// Exim's host_aton(): the binary form of text already known to be an
// address. A trailing `/mask` or `%scope` is ignored; text that is not an
// address gives some value, never an error (Exim's garbage becomes zeros).
IpAddress host_aton(std::string_view s);

// Exim's host_is_in_net(): is `host` inside `net`, whose mask (a decimal
// number) follows the '/' at `mask_offset` (none: all bits count)? A host
// written ::ffff:a.b.c.d is compared as the IPv4 address a.b.c.d.
bool host_is_in_net(std::string_view host, std::string_view net, std::optional<size_t> mask_offset);

// Zero the bits after the first `mask` bits (host_mask).
void apply_mask(IpAddress& ip, int mask);

// host_nmtoa(): IPv4 dotted quad; IPv6 as eight 4-digit hex groups joined by
// `sep`; `/mask` appended when mask >= 0.
std::string format_full(const IpAddress& ip, int mask, char sep);

// ipv6_nmtoa(): lower-case hex groups with the longest run of zero groups
// (even a single one) collapsed, including Exim's quirk that the all-zero
// address prints as ":".
std::string format_ipv6_compressed(const IpAddress& ip);

// ${reverse_ip} (Exim's invert_address): "4.3.2.1" or the dotted nibbles of
// an IPv6 address. `text` is an address as parse_ip_address accepts it; a
// leading "::ffff:" is dropped and the rest reversed on its own.
std::string reverse_ip(std::string_view text);

}  // namespace tern::text
