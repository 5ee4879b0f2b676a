// modules/redis/slot.cpp: CRC16 and hash tags, as Redis Cluster's keyHashSlot.
#include "slot.hpp"

#include <array>

namespace tern::redis {
namespace {

// The byte-wise table of CRC16-CCITT with polynomial 0x1021.
constexpr std::array<uint16_t, 256> make_table() {
  std::array<uint16_t, 256> t{};
  for (unsigned i = 0; i < 256; ++i) {
    uint16_t crc = static_cast<uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit)
      crc = static_cast<uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    t[i] = crc;
  }
  return t;
}
constexpr std::array<uint16_t, 256> kTable = make_table();

}  // namespace

uint16_t crc16(std::string_view data) {
  uint16_t crc = 0;
  for (unsigned char c : data)
    crc = static_cast<uint16_t>((crc << 8) ^ kTable[((crc >> 8) ^ c) & 0xff]);
  return crc;
}

std::string_view hashed_part(std::string_view key) {
  size_t open = key.find('{');
  if (open == std::string_view::npos) return key;
  size_t close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;  // no tag, or "{}"
  return key.substr(open + 1, close - open - 1);
}

uint16_t key_slot(std::string_view key) { return crc16(hashed_part(key)) & (kSlotCount - 1); }

}  // namespace tern::redis
