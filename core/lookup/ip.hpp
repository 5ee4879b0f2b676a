// core/lookup/ip.hpp: IP address text as Exim reads it in lists and lookups.
//
// Host lists, match_ip and iplsearch all need Exim's idea of "is this an IP
// address (with an optional /mask)", of a network match, and of the masked
// text form used as the key of `net24-lsearch;file` items. Kept apart so the
// lookup types and the list matcher share one implementation.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tern::lookup {

// 4 or 6 when `s` is an IPv4 / IPv6 address, else 0 (string_is_ip_address).
// With `mask_offset` not null a trailing "/bits" is allowed and its offset
// (the '/') is stored there, 0 when there is none; with null, a mask makes
// the text invalid.
int ip_version(std::string_view s, size_t* mask_offset = nullptr);

// An address in binary: `size` 1 (IPv4) or 4 (IPv6) 32-bit words, most
// significant first. size 0 when the text is not an address.
struct IpBinary {
  int size = 0;
  std::array<uint32_t, 4> w{};
};
IpBinary ip_to_binary(std::string_view s);

// Is `host` inside `net` (an address with an optional mask at
// `mask_offset`, 0 for none)? An IPv4-mapped IPv6 host matches IPv4 nets.
bool host_is_in_net(std::string_view host, std::string_view net, size_t mask_offset);

// `host` masked to `bits` and written as Exim's host_nmtoa does: IPv4
// "a.b.c.d/bits", IPv6 as eight 4-digit hex groups joined by `sep`, then
// "/bits". bits < 0: no masking and no "/bits".
std::string masked_address(std::string_view host, int bits, char sep);

}  // namespace tern::lookup
