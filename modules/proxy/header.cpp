// modules/proxy/header.cpp: HeaderReader (see header.hpp).
#include "header.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "crc32c.hpp"

namespace tern::proxy {
namespace {

constexpr std::string_view kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);
constexpr std::string_view kV1Signature("PROXY ");
// The shortest valid header ("PROXY UNKNOWN\r\n"): reading this much
// first can never take a byte past any header.
constexpr size_t kShortest = 15;

enum : uint8_t {
  kTlvAlpn = 0x01,
  kTlvAuthority = 0x02,
  kTlvCrc32c = 0x03,
  kTlvNoop = 0x04,
  kTlvUniqueId = 0x05,
  kTlvSsl = 0x20,
  kTlvSslVersion = 0x21,
  kTlvSslCn = 0x22,
  kTlvSslCipher = 0x23,
  kTlvSslSigAlg = 0x24,
  kTlvSslKeyAlg = 0x25,
  kTlvNetns = 0x30,
};
constexpr size_t kMaxUniqueId = 128;

bool prefix_of(std::string_view have, std::string_view signature) {
  size_t n = std::min(have.size(), signature.size());
  return have.substr(0, n) == signature.substr(0, n);
}

uint16_t be16(std::string_view s, size_t at) {
  return static_cast<uint16_t>((static_cast<unsigned char>(s[at]) << 8) | static_cast<unsigned char>(s[at + 1]));
}

uint32_t be32(std::string_view s, size_t at) {
  return (uint32_t{be16(s, at)} << 16) | be16(s, at + 2);
}

std::string hex_byte_text(const char* format, unsigned value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

// Printable text of untrusted bytes for the log.
std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 64)) {
    if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else out += hex_byte_text("\\x%02x", c);
  }
  return out;
}

std::optional<std::string> address_text(int family, const void* raw) {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(family, raw, buf, sizeof buf) == nullptr) return std::nullopt;
  return std::string(buf);
}

// v1's decimal port: 1 to 5 digits, at most 65535.
std::optional<uint16_t> v1_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  for (;;) {
    size_t sp = line.find(' ', pos);
    out.push_back(line.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos));
    if (sp == std::string_view::npos) return out;
    pos = sp + 1;
  }
}

// One TLV: type, value, and where the value starts in the block.
struct Tlv {
  uint8_t type = 0;
  std::string_view value;
  size_t value_at = 0;
};

// The TLVs of `block` (starting at `base` in the header); false when one
// runs past the end.
bool split_tlvs(std::string_view block, size_t base, std::vector<Tlv>& out) {
  size_t pos = 0;
  while (pos < block.size()) {
    if (block.size() - pos < 3) return false;
    uint16_t len = be16(block, pos + 1);
    if (block.size() - pos - 3 < len) return false;
    out.push_back({static_cast<uint8_t>(block[pos]), block.substr(pos + 3, len), base + pos + 3});
    pos += 3 + size_t{len};
  }
  return true;
}

}  // namespace

bool HeaderReader::is_v2() const { return buf_.size() >= kV2Signature.size() && prefix_of(buf_, kV2Signature); }

size_t HeaderReader::wanted() const {
  if (state_ != State::kReading) return 0;
  if (buf_.size() < kShortest) return kShortest - buf_.size();
  if (is_v2()) {
    if (buf_.size() < kV2Fixed) return kV2Fixed - buf_.size();
    return kV2Fixed + be16(buf_, 14) - buf_.size();
  }
  // v1: the line may end with the next "\r\n" (or "\n" after a '\r').
  size_t step = buf_.back() == '\r' ? 1 : 2;
  return std::min(step, kMaxV1 - buf_.size());
}

HeaderReader::State HeaderReader::fail(std::string why) {
  state_ = State::kFailed;
  error_ = std::move(why);
  return state_;
}

HeaderReader::State HeaderReader::feed(std::string_view bytes) {
  if (state_ != State::kReading) return state_;
  if (bytes.empty())
    return fail(buf_.empty() ? "connection closed before the PROXY header"
                             : "Partial or invalid PROXY header: connection closed after " +
                                   std::to_string(buf_.size()) + " bytes");
  if (bytes.size() > wanted()) return fail("internal error: read past the PROXY header");
  buf_.append(bytes);
  const bool v2 = prefix_of(buf_, kV2Signature), v1 = prefix_of(buf_, kV1Signature);
  if (!v1 && !v2) return fail("Invalid proxy protocol version negotiation: no PROXY header (\"" + printable(buf_) + "\")");
  if (v2) {
    if (buf_.size() < kV2Fixed) return state_;
    const auto ver_cmd = static_cast<unsigned char>(buf_[12]);
    if ((ver_cmd >> 4) != 2) return fail("Invalid Proxy Protocol version: " + std::to_string(ver_cmd >> 4));
    if ((ver_cmd & 0x0f) > 1) return fail(hex_byte_text("Unsupported PROXYv2 command: 0x%x", ver_cmd & 0x0fu));
    const size_t body = be16(buf_, 14);
    if (body > kMaxV2Body)
      return fail("PROXYv2 header size unreasonably large; security attack? (" + std::to_string(body) +
                  " bytes, limit " + std::to_string(kMaxV2Body) + ")");
    if (buf_.size() < kV2Fixed + body) return state_;
    return parse_v2();
  }
  if (buf_.size() < kV1Signature.size()) return state_;
  // Nothing past the header was read: a line end can only be the last byte
  // (one within the first read is a line shorter than any header).
  size_t lf = buf_.find('\n');
  if (lf != std::string::npos && lf + 1 != buf_.size())
    return fail("Partial or invalid PROXY header: the line ends after " + std::to_string(lf + 1) + " bytes");
  size_t cr = buf_.find('\r');
  if (cr != std::string::npos && cr + 1 < buf_.size() && buf_[cr + 1] != '\n')
    return fail("Partial or invalid PROXY header: CR without LF");
  if (buf_.back() == '\n') {
    if (buf_.size() < 2 || buf_[buf_.size() - 2] != '\r') return fail("Partial or invalid PROXY header: LF without CR");
    return parse_v1();
  }
  if (buf_.size() >= kMaxV1) return fail("Partial or invalid PROXY header: no CRLF within 107 bytes");
  return state_;
}

HeaderReader::State HeaderReader::parse_v1() {
  std::string_view line(buf_);
  line.remove_suffix(2);
  std::vector<std::string_view> f = split_spaces(line);
  header_.version = 1;
  header_.length = buf_.size();
  if (f.size() < 2) return fail("Missing space after PROXY command");
  if (f[1] == "UNKNOWN") {  // the rest of the line is to be ignored
    state_ = State::kDone;
    return state_;
  }
  int family = f[1] == "TCP4" ? AF_INET : f[1] == "TCP6" ? AF_INET6 : 0;
  if (family == 0) return fail("Unsupported PROXYv1 protocol \"" + printable(f[1]) + "\"");
  const char* fam = family == AF_INET ? "IPv4" : "IPv6";
  if (f.size() != 6) return fail("Partial or invalid PROXY header: " + std::to_string(f.size()) + " fields, 6 expected");
  Endpoint* ends[2] = {&header_.source, &header_.destination};
  const char* names[2] = {"source", "dest"};
  for (int i = 0; i < 2; ++i) {
    unsigned char raw[16];
    std::string text(f[2 + i]);
    if (inet_pton(family, text.c_str(), raw) != 1)
      return fail("Proxy " + std::string(names[i]) + " arg is not an " + fam + " address");
    ends[i]->address = *address_text(family, raw);
    auto port = v1_port(f[4 + i]);
    if (!port) return fail("Proxy " + std::string(names[i]) + " port '" + printable(f[4 + i]) + "' not an integer");
    ends[i]->port = *port;
  }
  header_.has_addresses = true;
  state_ = State::kDone;
  return state_;
}

HeaderReader::State HeaderReader::parse_v2() {
  header_.version = 2;
  header_.length = buf_.size();
  const std::string_view body = std::string_view(buf_).substr(kV2Fixed);
  if ((static_cast<unsigned char>(buf_[12]) & 0x0f) == 0) {  // LOCAL: the block is to be ignored
    state_ = State::kDone;
    return state_;
  }
  const auto fam = static_cast<unsigned char>(buf_[13]);
  size_t addr_len = 0;
  int family = 0;
  if (fam == 0x11) {
    addr_len = 12;
    family = AF_INET;
  } else if (fam == 0x21) {
    addr_len = 36;
    family = AF_INET6;
  } else {
    return fail(hex_byte_text("Unsupported PROXYv2 connection type: 0x%02x", fam));
  }
  if (body.size() < addr_len)
    return fail(std::string("PROXYv2 ") + (family == AF_INET ? "TCPv4" : "TCPv6") + " payload too short (" +
                std::to_string(body.size()) + ")");
  const size_t alen = family == AF_INET ? 4 : 16;
  header_.source.address = *address_text(family, body.data());
  header_.destination.address = *address_text(family, body.data() + alen);
  header_.source.port = be16(body, 2 * alen);
  header_.destination.port = be16(body, 2 * alen + 2);
  header_.has_addresses = true;

  std::vector<Tlv> tlvs;
  if (!split_tlvs(body.substr(addr_len), kV2Fixed + addr_len, tlvs)) return fail("PROXYv2 TLV runs past the header");
  for (const Tlv& t : tlvs) {
    switch (t.type) {
      case kTlvAlpn: header_.alpn = t.value; break;
      case kTlvAuthority: header_.authority = t.value; break;
      case kTlvNetns: header_.netns = t.value; break;
      case kTlvUniqueId:
        if (t.value.size() > kMaxUniqueId) return fail("PROXYv2 unique ID longer than 128 bytes");
        header_.unique_id = t.value;
        break;
      case kTlvCrc32c: {
        if (t.value.size() != 4) return fail("PROXYv2 CRC32C TLV of " + std::to_string(t.value.size()) + " bytes");
        std::string zeroed = buf_;
        std::fill_n(zeroed.begin() + static_cast<std::ptrdiff_t>(t.value_at), 4, '\0');
        if (crc32c(zeroed) != be32(t.value, 0)) return fail("PROXYv2 header CRC32C mismatch");
        header_.crc_checked = true;
        break;
      }
      case kTlvSsl: {
        if (t.value.size() < 5) return fail("PROXYv2 SSL TLV too short");
        SslInfo& ssl = header_.ssl;
        ssl.present = true;
        ssl.client = static_cast<uint8_t>(t.value[0]);
        ssl.verify = be32(t.value, 1);
        std::vector<Tlv> sub;
        if (!split_tlvs(t.value.substr(5), t.value_at + 5, sub)) return fail("PROXYv2 SSL sub-TLV runs past its TLV");
        for (const Tlv& s : sub) {
          switch (s.type) {
            case kTlvSslVersion: ssl.version = s.value; break;
            case kTlvSslCn: ssl.cn = s.value; break;
            case kTlvSslCipher: ssl.cipher = s.value; break;
            case kTlvSslSigAlg: ssl.sig_alg = s.value; break;
            case kTlvSslKeyAlg: ssl.key_alg = s.value; break;
            default: break;
          }
        }
        break;
      }
      case kTlvNoop:
      default: break;
    }
  }
  state_ = State::kDone;
  return state_;
}

ParseResult parse(std::string_view in, size_t step) {
  HeaderReader r;
  size_t pos = 0;
  while (r.state() == HeaderReader::State::kReading && pos < in.size()) {
    size_t n = std::min(r.wanted(), in.size() - pos);
    if (step > 0) n = std::min(n, step);
    r.feed(in.substr(pos, n));
    pos += n;
  }
  return {r.state(), r.header(), r.error(), pos};
}

}  // namespace tern::proxy
