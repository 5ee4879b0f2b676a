// modules/proxy/header_test.cpp: the PROXY header reader, table-driven, fed whole and in pieces.
#include "header.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crc32c.hpp"

namespace tern::proxy {
namespace {

using State = HeaderReader::State;

const std::string kSig("\r\n\r\n\0\r\nQUIT\n", 12);
const std::string kSmtp = "EHLO client.example\r\n";

std::string be16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }
std::string be32(uint32_t v) { return be16(static_cast<uint16_t>(v >> 16)) + be16(static_cast<uint16_t>(v)); }
std::string tlv(uint8_t type, const std::string& value) {
  return std::string(1, static_cast<char>(type)) + be16(static_cast<uint16_t>(value.size())) + value;
}

// A v2 header: ver/cmd, family, the address block and TLVs.
std::string v2(uint8_t ver_cmd, uint8_t fam, const std::string& block) {
  return kSig + std::string(1, static_cast<char>(ver_cmd)) + std::string(1, static_cast<char>(fam)) +
         be16(static_cast<uint16_t>(block.size())) + block;
}
std::string ipv4_block() {  // 192.0.2.7:4242 -> 198.51.100.2:25
  return std::string("\xc0\x00\x02\x07\xc6\x33\x64\x02", 8) + be16(4242) + be16(25);
}
std::string ipv6_block() {  // [2001:db8::1]:1000 -> [2001:db8::2]:587
  std::string a("\x20\x01\x0d\xb8", 4);
  a += std::string(11, '\0') + "\x01";
  std::string b("\x20\x01\x0d\xb8", 4);
  b += std::string(11, '\0') + "\x02";
  return a + b + be16(1000) + be16(587);
}
// With a CRC32C TLV computed over the whole header (or `wrong` instead).
std::string with_crc(std::string header_without_crc_tlv, bool corrupt) {
  std::string h = header_without_crc_tlv + tlv(0x03, std::string(4, '\0'));
  uint16_t len = static_cast<uint16_t>(h.size() - 16);
  h.replace(14, 2, be16(len));
  uint32_t c = crc32c(h) ^ (corrupt ? 1u : 0u);
  h.replace(h.size() - 4, 4, be32(c));
  return h;
}

TEST(Crc32c, KnownValue) { EXPECT_EQ(crc32c("123456789"), 0xe3069283u); }

// Every valid header, whole and with SMTP behind it, in every piece size:
// the same result, and never a byte of what follows.
struct Valid {
  std::string name, header;
  int version;
  bool addresses;
  std::string src;
  uint16_t sport;
  std::string dst;
  uint16_t dport;
};

std::vector<Valid> valid_headers() {
  return {
      {"v1 tcp4", "PROXY TCP4 192.0.2.7 198.51.100.2 4242 25\r\n", 1, true, "192.0.2.7", 4242, "198.51.100.2", 25},
      {"v1 tcp6", "PROXY TCP6 2001:DB8:0:0::1 2001:db8::2 1000 587\r\n", 1, true, "2001:db8::1", 1000, "2001:db8::2", 587},
      {"v1 max ports", "PROXY TCP4 1.2.3.4 5.6.7.8 65535 0\r\n", 1, true, "1.2.3.4", 65535, "5.6.7.8", 0},
      {"v1 unknown", "PROXY UNKNOWN\r\n", 1, false, "", 0, "", 0},
      {"v1 unknown with fields", "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n", 1, false, "", 0, "", 0},
      {"v1 longest", "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
       1, true, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535},
      {"v2 tcp4", v2(0x21, 0x11, ipv4_block()), 2, true, "192.0.2.7", 4242, "198.51.100.2", 25},
      {"v2 tcp6", v2(0x21, 0x21, ipv6_block()), 2, true, "2001:db8::1", 1000, "2001:db8::2", 587},
      {"v2 local", v2(0x20, 0x00, ""), 2, false, "", 0, "", 0},
      {"v2 local with a block", v2(0x20, 0x11, ipv4_block()), 2, false, "", 0, "", 0},
      {"v2 tcp4 noop tlv", v2(0x21, 0x11, ipv4_block() + tlv(0x04, "pad")), 2, true, "192.0.2.7", 4242, "198.51.100.2", 25},
      {"v2 crc", with_crc(v2(0x21, 0x11, ipv4_block()), false), 2, true, "192.0.2.7", 4242, "198.51.100.2", 25},
  };
}

TEST(HeaderReader, ValidHeadersInEveryPieceSize) {
  for (const Valid& v : valid_headers()) {
    ASSERT_LE(v.header.size(), HeaderReader::kMaxV1 + 200) << v.name;
    for (size_t step : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{16}, size_t{100}}) {
      ParseResult r = parse(v.header + kSmtp, step);
      SCOPED_TRACE(v.name + " step " + std::to_string(step));
      ASSERT_EQ(r.state, State::kDone) << r.error;
      EXPECT_EQ(r.consumed, v.header.size());
      EXPECT_EQ(r.header.length, v.header.size());
      EXPECT_EQ(r.header.version, v.version);
      EXPECT_EQ(r.header.has_addresses, v.addresses);
      EXPECT_EQ(r.header.source.address, v.src);
      EXPECT_EQ(r.header.source.port, v.sport);
      EXPECT_EQ(r.header.destination.address, v.dst);
      EXPECT_EQ(r.header.destination.port, v.dport);
    }
  }
}

TEST(HeaderReader, NeverAsksForMoreThanTheHeaderHolds) {
  for (const Valid& v : valid_headers()) {
    HeaderReader r;
    size_t pos = 0;
    while (r.state() == State::kReading) {
      size_t want = r.wanted();
      ASSERT_GT(want, 0u) << v.name;
      ASSERT_LE(pos + want, v.header.size()) << v.name << " at " << pos;
      r.feed(std::string_view(v.header).substr(pos, want));
      pos += want;
    }
    EXPECT_EQ(r.state(), State::kDone) << v.name << ": " << r.error();
    EXPECT_EQ(r.wanted(), 0u);
  }
}

TEST(HeaderReader, V2Tlvs) {
  std::string ssl = std::string("\x07", 1) + be32(0) + tlv(0x21, "TLSv1.3") + tlv(0x23, "TLS_AES_256_GCM_SHA384") +
                    tlv(0x22, "client.example") + tlv(0x24, "RSA-SHA256") + tlv(0x25, "RSA2048");
  std::string h = v2(0x21, 0x11,
                     ipv4_block() + tlv(0x01, "smtp") + tlv(0x02, "mx.example.org") + tlv(0x05, "uid-42") +
                         tlv(0x20, ssl) + tlv(0x30, "blue") + tlv(0xe0, "custom"));
  h = with_crc(h, false);
  ParseResult r = parse(h, 1);
  ASSERT_EQ(r.state, State::kDone) << r.error;
  EXPECT_EQ(r.header.alpn, "smtp");
  EXPECT_EQ(r.header.authority, "mx.example.org");
  EXPECT_EQ(r.header.unique_id, "uid-42");
  EXPECT_EQ(r.header.netns, "blue");
  EXPECT_TRUE(r.header.crc_checked);
  EXPECT_TRUE(r.header.ssl.present);
  EXPECT_TRUE(r.header.ssl.client_ssl());
  EXPECT_TRUE(r.header.ssl.client_cert());
  EXPECT_EQ(r.header.ssl.verify, 0u);
  EXPECT_EQ(r.header.ssl.version, "TLSv1.3");
  EXPECT_EQ(r.header.ssl.cipher, "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(r.header.ssl.cn, "client.example");
  EXPECT_EQ(r.header.ssl.sig_alg, "RSA-SHA256");
  EXPECT_EQ(r.header.ssl.key_alg, "RSA2048");
}

// Failures: the reason, and how far the reader went (never past the header).
struct Bad {
  std::string name, input, error_part;
  size_t consumed;  // npos: all of the input
  size_t bytewise = 0;  // when fed a byte at a time, if that differs
};

TEST(HeaderReader, Failures) {
  const size_t all = std::string::npos;
  std::string big = kSig + "\x21\x11" + be16(HeaderReader::kMaxV2Body + 1) + std::string(5000, 'x');
  std::vector<Bad> cases = {
      {"smtp instead", "EHLO x\r\n", "no PROXY header", 15, 1},
      {"http", "GET / HTTP/1.0\r\n\r\n", "no PROXY header", 15, 1},
      {"lower case", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "no PROXY header", 15, 1},
      {"bad source", "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", "source arg is not an IPv4 address", all},
      {"v6 in tcp4", "PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "source arg is not an IPv4 address", all},
      {"bad dest", "PROXY TCP6 ::1 5.6.7.8 1 2\r\n", "dest arg is not an IPv6 address", all},
      {"port range", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "source port '65536' not an integer", all},
      {"port sign", "PROXY TCP4 1.2.3.4 5.6.7.8 1 +2\r\n", "dest port '+2' not an integer", all},
      {"missing port", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "5 fields", all},
      {"double space", "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "7 fields", all},
      {"udp", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "Unsupported PROXYv1 protocol", all},
      {"short line", "PROXY TC\r\n", "", 15, 10},
      {"lf only", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "LF without CR", all},
      {"cr only", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rEHLO x\r\n", "CR without LF", 0},
      {"too long", "PROXY TCP4 " + std::string(200, '1'), "no CRLF within 107 bytes", 107},
      {"v2 version 1", v2(0x11, 0x11, ipv4_block()), "Invalid Proxy Protocol version: 1", 16},
      {"v2 command 2", v2(0x22, 0x11, ipv4_block()), "Unsupported PROXYv2 command: 0x2", 16},
      {"v2 udp", v2(0x21, 0x12, ipv4_block()), "connection type: 0x12", all},
      {"v2 unix", v2(0x21, 0x31, std::string(216, '\0')), "connection type: 0x31", all},
      {"v2 unspec", v2(0x21, 0x00, ""), "connection type: 0x00", all},
      {"v2 short v4", v2(0x21, 0x11, ipv4_block().substr(0, 11)), "TCPv4 payload too short (11)", all},
      {"v2 short v6", v2(0x21, 0x21, ipv4_block()), "TCPv6 payload too short (12)", all},
      {"v2 oversized", big, "unreasonably large", 16},
      {"v2 tlv overrun", v2(0x21, 0x11, ipv4_block() + "\x02\x00\x09" + "abc"), "TLV runs past the header", all},
      {"v2 tlv stub", v2(0x21, 0x11, ipv4_block() + "\x02\x00"), "TLV runs past the header", all},
      {"v2 ssl short", v2(0x21, 0x11, ipv4_block() + tlv(0x20, "\x01\x00")), "SSL TLV too short", all},
      {"v2 ssl sub overrun", v2(0x21, 0x11, ipv4_block() + tlv(0x20, std::string("\x01", 1) + be32(0) + "\x21\x00\x05" + "ab")),
       "sub-TLV runs past", all},
      {"v2 crc wrong", with_crc(v2(0x21, 0x11, ipv4_block()), true), "CRC32C mismatch", all},
      {"v2 crc length", v2(0x21, 0x11, ipv4_block() + tlv(0x03, "abc")), "CRC32C TLV of 3 bytes", all},
      {"v2 unique id", v2(0x21, 0x11, ipv4_block() + tlv(0x05, std::string(129, 'u'))), "longer than 128", all},
  };
  for (const Bad& b : cases) {
    for (size_t step : {size_t{0}, size_t{1}}) {
      ParseResult r = parse(b.input + kSmtp, step);
      SCOPED_TRACE(b.name + " step " + std::to_string(step));
      EXPECT_EQ(r.state, State::kFailed);
      EXPECT_NE(r.error.find(b.error_part), std::string::npos) << r.error;
      if (b.consumed == 0) {  // fails on the byte after the CR, wherever the reads fall
        EXPECT_EQ(r.consumed, b.input.find('\r') + 2);
        continue;
      }
      size_t expect = b.consumed == all ? b.input.size() : b.consumed;
      if (step == 1 && b.bytewise) expect = b.bytewise;
      EXPECT_EQ(r.consumed, expect);
    }
  }
}

TEST(HeaderReader, EndOfInputIsAFailure) {
  for (std::string part : {std::string(""), std::string("PROXY TCP4 1.2"), v2(0x21, 0x11, ipv4_block()).substr(0, 20)}) {
    HeaderReader r;
    size_t pos = 0;
    while (pos < part.size()) {
      size_t n = std::min(r.wanted(), part.size() - pos);
      r.feed(std::string_view(part).substr(pos, n));
      pos += n;
    }
    ASSERT_EQ(r.state(), State::kReading) << part;
    EXPECT_EQ(r.feed(""), State::kFailed);
    EXPECT_NE(r.error().find(part.empty() ? "closed before" : "closed after"), std::string::npos) << r.error();
  }
}

TEST(HeaderReader, RefusesMoreThanWanted) {
  HeaderReader r;
  EXPECT_EQ(r.feed(std::string(16, 'P')), State::kFailed);
  EXPECT_NE(r.error().find("read past"), std::string::npos);
}

}  // namespace
}  // namespace tern::proxy
