// core/tls/stream.hpp: a TLS connection over a Boost.Asio TCP socket, for coroutines.
//
// A TlsStream comes from ServerTls::start (STARTTLS or tls_on_connect_ports)
// or ClientTls::start (delivery); both set everything up synchronously, so
// a configuration problem is known before anything is sent (the session
// answers `454 TLS currently unavailable`). Then:
//
//   co_await stream.handshake(timeout);           // after "220 TLS go ahead"
//   auto [ec, n] = co_await stream.read_some(buf, timeout);
//   co_await stream.write("250 OK\r\n", timeout);
//   co_await stream.shutdown(timeout);            // sends close_notify
//
// Every operation returns an error code and never throws for I/O or TLS
// failures; error_text() then holds Exim's text for the log (the session
// writes "TLS error on connection from <host> " + error_text() for a
// handshake, "TLS error " + error_text() for a read or write):
//   (SSL_accept): timed out
//   SSL_accept: TCP connection closed by peer
//   (SSL_accept): error:0A000076:SSL routines::no suitable signature algorithm
//   (SSL_read): error:...
// Lines Exim logs during the handshake (verification failures) come from
// take_log(); Exim prefixes them with "[<peer IP>] ".
//
// The engine is OpenSSL with memory BIOs: the stream reads and writes the
// socket itself, so it works the same on a socket that already carried
// plaintext (STARTTLS: the session discards what it buffered after the
// STARTTLS line before the handshake) and on a fresh one. One operation at
// a time: a second one while one is pending fails with Errc::kBusy. The
// socket is the caller's and must outlive the stream; a timeout cancels the
// socket's pending operations (Exim ends the connection after a TLS
// timeout, and so should the session).
#pragma once

#include <openssl/ssl.h>

// clang-format off
#include <utility>  // before Boost: 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/tls/session_info.hpp"

namespace tern::tls {

// The stream's own failures (category "tern.tls"); socket errors pass
// through as they come, and a clean TLS close (close_notify) is
// boost::asio::error::eof.
enum class Errc {
  kTimedOut = 1,  // the operation's deadline passed
  kClosedByPeer,  // the connection closed during the handshake
  kProtocol,      // OpenSSL failed the operation (see error_text())
  kTruncated,     // the TCP connection closed without a TLS close_notify
  kBusy,          // another operation of this stream is in progress
  kNotReady,      // read/write before a successful handshake, or after a failure
  kRefused,       // a module's TERN_HOOK_TLS_CLIENT_AFTER refused the connection
};
const boost::system::error_category& tls_category();
boost::system::error_code make_error_code(Errc e);

// One line for the main log (or the panic log too, when `panic`).
struct LogLine {
  bool panic = false;
  std::string text;
};

struct ConnState;

class TlsStream {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  using Duration = std::chrono::steady_clock::duration;
  static constexpr Duration kNoTimeout = Duration::zero();

  struct ReadResult {
    boost::system::error_code ec;
    size_t bytes = 0;
  };

  TlsStream(TlsStream&&) noexcept;
  TlsStream& operator=(TlsStream&&) noexcept;
  ~TlsStream();

  // The handshake (server: accept; client: connect, then the modules'
  // TERN_HOOK_TLS_CLIENT_AFTER). On success info() is filled.
  boost::asio::awaitable<boost::system::error_code> handshake(Duration timeout);
  // Up to buffer.size() bytes of application data; at least one unless an
  // error is returned.
  boost::asio::awaitable<ReadResult> read_some(std::span<char> buffer,
                                               Duration timeout = kNoTimeout);
  // All of `data`.
  boost::asio::awaitable<boost::system::error_code> write(std::string_view data,
                                                          Duration timeout = kNoTimeout);
  // Send close_notify (not waiting for the peer's); the socket stays open.
  boost::asio::awaitable<boost::system::error_code> shutdown(Duration timeout = kNoTimeout);

  const SessionInfo& info() const;
  // Exim's text for the last failure ("" when none).
  const std::string& error_text() const;
  // Log lines gathered since the last call (verification errors, ...).
  std::vector<LogLine> take_log();
  // Decrypted or still encrypted input is waiting: a read would not need
  // the socket (pipelining synchronisation checks).
  bool has_buffered_input() const;
  Role role() const;
  // The OpenSSL object (for $tls_in_peercert and friends); owned by the stream.
  SSL* native_handle() const;
  // Server, when asked for (ServerConnection::keep_passed_certificates): the client's
  // certificates that passed verification, (depth, subject) from the root down, for
  // tls:cert; and whether verification was only tried (tls_try_verify_hosts).
  const std::vector<std::pair<int, std::string>>& passed_certificates() const;
  bool verification_optional() const;

 private:
  friend class ServerTls;
  friend class ClientTls;
  struct Impl;
  // Takes ownership of `ssl`.
  TlsStream(Socket& socket, SSL* ssl, Role role);
  ConnState& state();

  std::unique_ptr<Impl> impl_;
};

}  // namespace tern::tls

namespace boost::system {
template <>
struct is_error_code_enum<tern::tls::Errc> : std::true_type {};
}  // namespace boost::system
