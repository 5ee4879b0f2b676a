// core/text/ipaddr.hpp: textual IP addresses the way Exim 4.96 reads and
// prints them (string_is_ip_address, host_aton, host_nmtoa, ipv6_nmtoa).
//
// Used by ${mask}, ${ipv6norm}, ${ipv6denorm}, ${reverse_ip}, the isip
// conditions and host-list matching. Validation is inet_pton() after taking
// off an optional `/mask` (only where a mask is allowed) or `%scope` (IPv6).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::text {

struct IpAddress {
  int family = 0;                    // 4 or 6
  std::array<uint32_t, 4> words{};   // IPv4 in words[0]; host order, first byte high
  std::optional<size_t> mask_offset; // where the '/' was, when a mask was allowed and given
};

// Exim's string_is_ip_address(): nullopt when `s` is not an address. With
// `allow_mask`, a `/n` suffix (n as strtol reads it, not negative) is
// accepted and its offset reported; the value is not range-checked here.
std::optional<IpAddress> parse_ip_address(std::string_view s, bool allow_mask);

// Zero the bits after the first `mask` bits (host_mask).
void apply_mask(IpAddress& ip, int mask);

// host_nmtoa(): IPv4 dotted quad; IPv6 as eight 4-digit hex groups joined by
// `sep`; `/mask` appended when mask >= 0.
std::string format_full(const IpAddress& ip, int mask, char sep);

// ipv6_nmtoa(): lower-case hex groups with the longest run of zero groups
// (even a single one) collapsed, including Exim's quirk that the all-zero
// address prints as ":".
std::string format_ipv6_compressed(const IpAddress& ip);

// ${reverse_ip}: "4.3.2.1" or the dotted nibbles of an IPv6 address.
std::string reverse_ip(const IpAddress& ip);

}  // namespace tern::text
