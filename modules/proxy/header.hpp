// modules/proxy/header.hpp: the PROXY protocol header (haproxy's proxy-protocol.txt), v1 and v2.
//
// HeaderReader is fed the connection's first bytes and says how many more
// it may read: never a byte past the header's end, however the bytes
// arrive (one at a time, or the whole header with SMTP behind it), so the
// SMTP session sees everything after it. It decides as soon as it can:
// a first byte that starts neither signature fails at once, a v2 length
// above the bound fails before its body is read. No I/O here: the module
// (proxy.cpp) reads, the unit tests and the fuzzer feed it directly.
//
//   v1: "PROXY TCP4|TCP6 src dst sport dport\r\n" or "PROXY UNKNOWN...\r\n",
//       at most 107 bytes;
//   v2: 12-byte signature, version/command, family/transport, length, then
//       the addresses and TLVs; PROXY over TCP4/TCP6 and LOCAL; the length
//       at most kMaxV2Body. TLVs: ALPN, AUTHORITY, CRC32C (checked),
//       UNIQUE_ID, SSL (with VERSION, CN, CIPHER, SIG_ALG, KEY_ALG), NETNS,
//       NOOP; others are skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::proxy {

struct Endpoint {
  std::string address;  // canonical text (inet_ntop)
  uint16_t port = 0;
};

// PP2_TYPE_SSL and its sub-TLVs.
struct SslInfo {
  bool present = false;
  uint8_t client = 0;   // PP2_CLIENT_SSL 0x01, _CERT_CONN 0x02, _CERT_SESS 0x04
  uint32_t verify = 1;  // 0: the client's certificate was verified
  std::string version, cn, cipher, sig_alg, key_alg;
  bool client_cert() const { return (client & 0x06) != 0; }
  bool client_ssl() const { return (client & 0x01) != 0; }
};

struct Header {
  int version = 0;             // 1 or 2
  bool has_addresses = false;  // false: v1 UNKNOWN, v2 LOCAL: the connection's own addresses stand
  Endpoint source, destination;
  std::string alpn, authority, unique_id, netns;
  SslInfo ssl;
  bool crc_checked = false;  // a CRC32C TLV was present and matched
  size_t length = 0;         // bytes the header took
};

class HeaderReader {
 public:
  static constexpr size_t kMaxV1 = 107;      // the spec's bound, CRLF included
  static constexpr size_t kV2Fixed = 16;     // signature, ver/cmd, fam, len
  static constexpr size_t kMaxV2Body = 4096;  // more is refused unread

  enum class State { kReading, kDone, kFailed };

  // How many bytes the next read may take: all of them belong to the
  // header. 0 once done or failed.
  size_t wanted() const;
  // Bytes read from the connection, at most wanted(); an empty `bytes` is
  // the end of input (a failure). Returns the new state.
  State feed(std::string_view bytes);
  State state() const { return state_; }
  // Why it failed (for the log), in the words of Exim's debug output where
  // it has them.
  const std::string& error() const { return error_; }
  const Header& header() const { return header_; }

 private:
  State fail(std::string why);
  State parse_v1();
  State parse_v2();
  bool is_v2() const;

  std::string buf_;
  State state_ = State::kReading;
  std::string error_;
  Header header_;
};

// The header at the start of `in` when it is complete there (tests and the
// fuzzer): fed in one piece or in pieces of `step` bytes.
struct ParseResult {
  HeaderReader::State state = HeaderReader::State::kReading;
  Header header;
  std::string error;
  size_t consumed = 0;  // bytes the reader took from `in`
};
ParseResult parse(std::string_view in, size_t step = 0);

}  // namespace tern::proxy
