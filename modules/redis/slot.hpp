// modules/redis/slot.hpp: the Redis Cluster hash slot of a key.
//
// Redis Cluster splits keys into 16384 slots: slot = CRC16(key) mod 16384,
// with CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0). When the key
// holds a hash tag, a "{...}" with at least one character between the first
// '{' and the first '}' after it, only that part is hashed, so "{user1}.a"
// and "{user1}.b" share a slot.
#pragma once

#include <cstdint>
#include <string_view>

namespace tern::redis {

inline constexpr uint16_t kSlotCount = 16384;

// CRC16-CCITT (XMODEM) of `data`: crc16("123456789") == 0x31C3.
uint16_t crc16(std::string_view data);

// The part of `key` that is hashed: the hash tag's content, or the whole key.
std::string_view hashed_part(std::string_view key);

// The key's cluster slot, 0..16383.
uint16_t key_slot(std::string_view key);

}  // namespace tern::redis
