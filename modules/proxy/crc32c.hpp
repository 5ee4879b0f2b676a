// modules/proxy/crc32c.hpp: CRC-32C (Castagnoli), as PROXY v2's PP2_TYPE_CRC32C uses it.
#pragma once

#include <cstdint>
#include <string_view>

namespace tern::proxy {

// RFC 3720's CRC-32C of `data` (reflected, initial and final XOR 0xffffffff):
// crc32c("123456789") == 0xe3069283.
uint32_t crc32c(std::string_view data);

}  // namespace tern::proxy
