// core/text/ipaddr.cpp: Exim 4.96's reading and printing of IP addresses.
//
// Validation mirrors the 4.96 string_is_ip_address(): split off a `/mask`
// (digits as strtol reads them, so " 5" and "+5" pass, "-1" does not) or a
// `%scope` (printable, IPv6 only, not together with a mask), then inet_pton.
#include "core/text/ipaddr.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace tern::text {
namespace {

bool scope_is_printable(std::string_view id) {
  for (unsigned char c : id)
    if (!std::isalnum(c) && !std::ispunct(c)) return false;
  return true;
}

}  // namespace

std::optional<IpAddress> parse_ip_address(std::string_view s, bool allow_mask) {
  IpAddress ip;
  std::string text(s.substr(0, s.find('\0')));
  size_t end = text.size();
  size_t slash = text.find('/');
  if (slash != std::string::npos) {
    if (!allow_mask) return std::nullopt;
    char* rest = nullptr;
    long mask = std::strtol(text.c_str() + slash + 1, &rest, 10);
    if (*rest || mask < 0) return std::nullopt;
    ip.mask_offset = slash;
    end = slash;
  }
  size_t percent = text.find('%');
  if (percent != std::string::npos) {
    if (slash != std::string::npos) return std::nullopt;
    if (!scope_is_printable(std::string_view(text).substr(percent + 1))) return std::nullopt;
    end = percent;
  }
  std::string addr = text.substr(0, end);
  if (addr.find(':') != std::string::npos) {
    unsigned char b[16];
    if (inet_pton(AF_INET6, addr.c_str(), b) != 1) return std::nullopt;
    ip.family = 6;
    for (int i = 0; i < 4; ++i)
      ip.words[i] = (uint32_t{b[4 * i]} << 24) | (uint32_t{b[4 * i + 1]} << 16) |
                    (uint32_t{b[4 * i + 2]} << 8) | b[4 * i + 3];
    return ip;
  }
  unsigned char b[4];
  if (percent != std::string::npos || inet_pton(AF_INET, addr.c_str(), b) != 1) return std::nullopt;
  ip.family = 4;
  ip.words[0] = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
  return ip;
}

void apply_mask(IpAddress& ip, int mask) {
  int count = ip.family == 4 ? 1 : 4;
  for (int i = 0; i < count; ++i) {
    int bits = mask - 32 * i;
    if (bits >= 32) continue;
    ip.words[i] = bits <= 0 ? 0 : ip.words[i] & (0xffffffffu << (32 - bits));
  }
}

std::string format_full(const IpAddress& ip, int mask, char sep) {
  char buf[64];
  std::string out;
  if (ip.family == 4) {
    uint32_t w = ip.words[0];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", w >> 24, (w >> 16) & 255, (w >> 8) & 255, w & 255);
    out = buf;
  } else {
    for (int i = 0; i < 4; ++i) {
      std::snprintf(buf, sizeof buf, "%04x%c%04x", ip.words[i] >> 16, sep, ip.words[i] & 0xffff);
      if (i) out += sep;
      out += buf;
    }
  }
  if (mask >= 0) out += "/" + std::to_string(mask);
  return out;
}

std::string format_ipv6_compressed(const IpAddress& ip) {
  unsigned groups[8];
  for (int i = 0; i < 4; ++i) {
    groups[2 * i] = ip.words[i] >> 16;
    groups[2 * i + 1] = ip.words[i] & 0xffff;
  }
  // The longest run of zero groups; the first wins a tie, one group counts.
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  auto join = [&](int from, int to) {
    std::string s;
    char buf[8];
    for (int i = from; i < to; ++i) {
      std::snprintf(buf, sizeof buf, "%x", groups[i]);
      if (i > from) s += ':';
      s += buf;
    }
    return s;
  };
  if (best_start < 0) return join(0, 8);
  if (best_start == 0 && best_len == 8) return ":";  // sic: Exim 4.96
  std::string head = join(0, best_start), tail = join(best_start + best_len, 8);
  return (best_start == 0 ? ":" : head + ":") + (tail.empty() ? ":" : ":" + tail);
}

std::string reverse_ip(const IpAddress& ip) {
  char buf[8];
  std::string out;
  if (ip.family == 4) {
    uint32_t w = ip.words[0];
    std::snprintf(buf, sizeof buf, "%u.", w & 255);
    out += buf;
    std::snprintf(buf, sizeof buf, "%u.", (w >> 8) & 255);
    out += buf;
    std::snprintf(buf, sizeof buf, "%u.", (w >> 16) & 255);
    out += buf;
    std::snprintf(buf, sizeof buf, "%u", w >> 24);
    return out + buf;
  }
  for (int i = 3; i >= 0; --i)
    for (int shift = 0; shift < 32; shift += 4) {
      std::snprintf(buf, sizeof buf, "%x", (ip.words[i] >> shift) & 15);
      if (!out.empty()) out += '.';
      out += buf;
    }
  return out;
}

}  // namespace tern::text
