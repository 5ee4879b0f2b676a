// core/text/ipaddr.cpp: Exim 4.96's reading and printing of IP addresses.
//
// Validation mirrors the 4.96 string_is_ip_address(): split off a `/mask`
// (digits as strtol reads them, so " 5" and "+5" pass, "-1" does not) or a
// `%scope` (printable, IPv6 only, not together with a mask), then inet_pton.
// host_aton() is a port of Exim's: it trusts its input, so it is used only on
// text that passed validation (or, for ${reverse_ip}, a tail of such text).
#include "core/text/ipaddr.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace tern::text {
namespace {

bool scope_is_printable(std::string_view id) {
  for (unsigned char c : id)
    if (!std::isalnum(c) && !std::ispunct(c)) return false;
  return true;
}

uint32_t ipv4_word(const char* text) {
  int x[4] = {0, 0, 0, 0};
  (void)std::sscanf(text, "%d.%d.%d.%d", x, x + 1, x + 2, x + 3);
  return (uint32_t(x[0]) << 24) + (uint32_t(x[1]) << 16) + (uint32_t(x[2]) << 8) + uint32_t(x[3]);
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

int ip_version(std::string_view s) {
  auto ip = parse_ip_address(s, false);
  return ip ? ip->family : 0;
}

IpAddress host_aton(std::string_view s) {
  std::string text(s.substr(0, s.find('\0')));
  const char* address = text.c_str();
  IpAddress out;
  int v4offset = 0;
  if (std::strchr(address, ':')) {
    // Split into components at ':' (a leading "::" loses one colon, so the
    // first component is empty); an empty component marks where the zeros
    // of "::" go. A last component with a dot is a trailing IPv4 address.
    const char* p = address;
    std::vector<const char*> component;
    size_t nulloffset = 0;
    if (*p == ':') ++p;
    while (*p && *p != '%' && component.size() < 8) {
      size_t len = std::strcspn(p, ":%");
      if (len == 0) nulloffset = component.size();
      component.push_back(p);
      p += len;
      if (*p == ':') ++p;
    }
    size_t v6count = 8;
    bool ipv4_ends = false;
    if (!component.empty() && std::strchr(component.back(), '.')) {
      address = component.back();
      component.pop_back();
      ipv4_ends = true;
      v4offset = 3;
      v6count = 6;
    }
    if (component.size() < v6count) {
      size_t insert = v6count - component.size();
      // The zeros go after the empty component (or after the first).
      component.insert(component.begin() + std::min(nulloffset + 1, component.size()), insert, "");
    }
    for (size_t i = 0; i < v6count; i += 2)
      out.words[i / 2] = (uint32_t(std::strtol(component[i], nullptr, 16)) << 16) +
                         uint32_t(std::strtol(component[i + 1], nullptr, 16));
    out.family = 6;
    if (!ipv4_ends) return out;
  }
  out.words[v4offset] = ipv4_word(address);
  out.family = v4offset ? 6 : 4;
  return out;
}

bool host_is_in_net(std::string_view host, std::string_view net,
                    std::optional<size_t> mask_offset) {
  IpAddress n = host_aton(net);
  IpAddress h = host_aton(host);
  int bits = mask_offset ? std::atoi(std::string(net.substr(*mask_offset + 1)).c_str()) : 99999;
  // ::ffff:a.b.c.d is an IPv4 host talking over IPv6.
  if (h.family == 6 && h.words[0] == 0 && h.words[1] == 0 && h.words[2] == 0xffff)
    h = {4, {h.words[3]}, {}};
  if (h.family != n.family) return false;
  apply_mask(n, bits);
  apply_mask(h, bits);
  return n.words == h.words;
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
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", w >> 24, (w >> 16) & 255, (w >> 8) & 255,
                  w & 255);
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

std::string reverse_ip(std::string_view text) {
  // invert_address() looks at the text: "::ffff:" (lower case) is dropped
  // and what follows converted on its own, so a mapped IPv4 address
  // reverses as IPv4.
  if (text.substr(0, 7) == "::ffff:") text.remove_prefix(7);
  IpAddress ip = host_aton(text);
  char buf[8];
  std::string out;
  if (ip.family == 4) {
    uint32_t w = ip.words[0];
    for (int shift = 0; shift < 32; shift += 8) {
      std::snprintf(buf, sizeof buf, shift ? ".%u" : "%u", (w >> shift) & 255);
      out += buf;
    }
    return out;
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
