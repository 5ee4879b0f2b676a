// core/lookup/ip.cpp: Exim's reading of IP addresses, masks and networks.
//
// The validity rules follow Exim 4.96's string_is_ip_address (an IPv4 part
// has four decimal components of at most three digits and value <= 255; an
// IPv6 address has at most one "::"; a "%scope" tail is accepted), so that
// list items are classified exactly as Exim classifies them.
#include "core/lookup/ip.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace tern::lookup {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_xdigit(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// Checks the IPv4 dotted quad starting at `i`; sets `i` past it.
bool read_ipv4(std::string_view s, size_t& i) {
  for (int part = 0; part < 4; ++part) {
    if (part != 0) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
    size_t start = i;
    long n = 0;
    while (i < s.size() && is_digit(s[i])) n = n * 10 + (s[i++] - '0');
    if (i == start || i - start > 3 || n > 255) return false;
  }
  return true;
}

}  // namespace

int ip_version(std::string_view s, size_t* mask_offset) {
  size_t mask_at = 0;
  if (mask_offset) {
    *mask_offset = 0;
    size_t e = s.size();
    if (e > 0 && is_digit(s[e - 1])) {
      while (e > 0 && is_digit(s[e - 1])) --e;
      if (e > 0 && s[e - 1] == '/') mask_at = e - 1;
    }
    *mask_offset = mask_at;
  }
  auto at = [&](size_t k) { return k < s.size() ? s[k] : '\0'; };
  // What may follow the address: nothing, or the mask found above.
  auto tail_ok = [&](size_t k, bool allow_scope) {
    if (k == s.size()) return true;
    if (allow_scope && s[k] == '%') return true;
    return s[k] == '/' && mask_offset && mask_at != 0 && k == mask_at;
  };

  if (s.find(':') != std::string_view::npos) {
    size_t i = 0;
    bool had_double = false;
    bool v4_tail = false;
    if (at(0) == ':') {
      if (at(1) != ':') return 0;
      i = 1;
    }
    for (int count = 0; count < 8; ++count) {
      char c = at(i);
      if (c == '\0' || c == '%' || c == '/') {
        if (!had_double) return 0;
        return (c == '\0' || c == '%' || tail_ok(i, true)) ? 6 : 0;
      }
      if (c == ':') {
        if (had_double) return 0;
        had_double = true;
        ++i;
        continue;
      }
      std::string_view rest = s.substr(i);
      if (rest.find(':') == std::string_view::npos && rest.find('.') != std::string_view::npos) {
        if ((!had_double && count != 6) || (had_double && count > 6)) return 0;
        v4_tail = true;
        break;
      }
      if (!is_xdigit(at(i))) return 0;
      ++i;
      for (int k = 0; k < 3 && is_xdigit(at(i)); ++k) ++i;
      if (at(i) == ':') {
        ++i;
        if (at(i) == '\0') return 0;
      }
    }
    if (!v4_tail) return tail_ok(i, true) ? 6 : 0;
    if (!read_ipv4(s, i)) return 0;
    return tail_ok(i, false) ? 6 : 0;
  }

  size_t i = 0;
  if (!read_ipv4(s, i)) return 0;
  return tail_ok(i, false) ? 4 : 0;
}

IpBinary ip_to_binary(std::string_view s) {
  IpBinary out;
  std::string text(s.substr(0, s.find_first_of("/%")));
  if (text.find(':') != std::string::npos) {
    unsigned char b[16];
    if (inet_pton(AF_INET6, text.c_str(), b) != 1) return out;
    out.size = 4;
    for (int k = 0; k < 4; ++k)
      out.w[k] = (uint32_t(b[4 * k]) << 24) | (uint32_t(b[4 * k + 1]) << 16) |
                 (uint32_t(b[4 * k + 2]) << 8) | uint32_t(b[4 * k + 3]);
    return out;
  }
  size_t i = 0;
  if (!read_ipv4(text, i) || i != text.size()) return out;
  uint32_t v = 0;
  size_t p = 0;
  for (int part = 0; part < 4; ++part) {
    uint32_t n = 0;
    while (p < text.size() && is_digit(text[p])) n = n * 10 + (text[p++] - '0');
    ++p;
    v = (v << 8) | n;
  }
  out.size = 1;
  out.w[0] = v;
  return out;
}

namespace {

// Keep the first `bits` bits of `a` (bits may exceed the address length).
void apply_mask(IpBinary& a, long bits) {
  for (int k = 0; k < a.size; ++k) {
    uint32_t m;
    if (bits <= 0) {
      m = 0;
    } else if (bits < 32) {
      m = ~uint32_t(0) << (32 - bits);
      bits = 0;
    } else {
      m = ~uint32_t(0);
      bits -= 32;
    }
    a.w[k] &= m;
  }
}

}  // namespace

bool host_is_in_net(std::string_view host, std::string_view net, size_t mask_offset) {
  IpBinary n = ip_to_binary(net);
  IpBinary h = ip_to_binary(host);
  if (n.size == 0 || h.size == 0) return false;
  long bits = 99999;
  if (mask_offset != 0) bits = std::strtol(std::string(net.substr(mask_offset + 1)).c_str(), nullptr, 10);
  // ::ffff:a.b.c.d is an IPv4 host talking over IPv6.
  if (h.size == 4 && h.w[0] == 0 && h.w[1] == 0 && h.w[2] == 0xffff) {
    h.size = 1;
    h.w[0] = h.w[3];
  }
  if (h.size != n.size) return false;
  apply_mask(n, bits);
  apply_mask(h, bits);
  for (int k = 0; k < n.size; ++k)
    if (n.w[k] != h.w[k]) return false;
  return true;
}

std::string masked_address(std::string_view host, int bits, char sep) {
  IpBinary a = ip_to_binary(host);
  if (a.size == 0) return std::string(host);
  if (bits >= 0) apply_mask(a, bits);
  char buf[64];
  std::string out;
  if (a.size == 1) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a.w[0] >> 24, (a.w[0] >> 16) & 255,
                  (a.w[0] >> 8) & 255, a.w[0] & 255);
    out = buf;
  } else {
    for (int k = 0; k < 4; ++k) {
      std::snprintf(buf, sizeof buf, "%04x%c%04x%c", a.w[k] >> 16, sep, a.w[k] & 0xffff, sep);
      out += buf;
    }
    out.pop_back();
  }
  if (bits >= 0) out += "/" + std::to_string(bits);
  return out;
}

}  // namespace tern::lookup
