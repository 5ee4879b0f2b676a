// core/deliver/smtp_wire.hpp: the connection the SMTP client talks over.
//
// SmtpWire is the byte level of a delivery: reads and writes with a
// deadline each, the switch to TLS after "220" to STARTTLS, and what the
// TLS session turned out to be. TcpWire is the real one (IPv4 or IPv6,
// optional source address, connect timeout); the client's unit tests give
// it a scripted fake. Every failure is an error code, never an exception:
// a deadline that passes is boost::asio::error::timed_out, the server
// closing is boost::asio::error::eof.
#pragma once

// clang-format off
#include <utility>  // before Boost: 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/tls/client.hpp"
#include "core/tls/stream.hpp"

namespace tern::deliver {

using Duration = std::chrono::steady_clock::duration;

class SmtpWire {
 public:
  virtual ~SmtpWire() = default;
  // At least one byte into `buf` (n), or an error.
  virtual boost::asio::awaitable<boost::system::error_code> read_some(std::span<char> buf,
                                                                      size_t& n,
                                                                      Duration timeout) = 0;
  virtual boost::asio::awaitable<boost::system::error_code> write(std::string_view data,
                                                                  Duration timeout) = 0;
  // TLS from here on (the server has said 220 to STARTTLS). The error's
  // message is Exim's text: "(SSL_connect): error:...".
  virtual boost::asio::awaitable<Status> start_tls(const tls::ClientTls& tls,
                                                   const tls::ClientConnection& connection,
                                                   Duration timeout) = 0;
  // The TLS session, or nullptr while the connection is in clear.
  virtual const tls::SessionInfo* tls_info() const = 0;
  // Lines the TLS layer wants logged (verification failures).
  virtual std::vector<tls::LogLine> take_tls_log() { return {}; }
  // The connection's own end ($sending_ip_address, $sending_port); none when unknown.
  virtual std::optional<boost::asio::ip::tcp::endpoint> local_endpoint() const { return std::nullopt; }
  virtual void close() = 0;
};

class TcpWire final : public SmtpWire {
 public:
  // Connect to `peer` from `source` (unspecified: the kernel's choice).
  // The error's message is the system's text ("Connection refused",
  // "Connection timed out"); a source address of another family than the
  // peer is not used.
  static boost::asio::awaitable<Result<std::unique_ptr<TcpWire>>> connect(
      boost::asio::any_io_executor executor, const boost::asio::ip::tcp::endpoint& peer,
      const std::optional<boost::asio::ip::address>& source, Duration timeout);

  explicit TcpWire(boost::asio::ip::tcp::socket socket);
  ~TcpWire() override;

  boost::asio::awaitable<boost::system::error_code> read_some(std::span<char> buf, size_t& n,
                                                              Duration timeout) override;
  boost::asio::awaitable<boost::system::error_code> write(std::string_view data,
                                                          Duration timeout) override;
  boost::asio::awaitable<Status> start_tls(const tls::ClientTls& tls,
                                           const tls::ClientConnection& connection,
                                           Duration timeout) override;
  const tls::SessionInfo* tls_info() const override;
  std::vector<tls::LogLine> take_tls_log() override;
  std::optional<boost::asio::ip::tcp::endpoint> local_endpoint() const override;
  void close() override;

 private:
  struct Deadline;
  std::shared_ptr<Deadline> arm(Duration timeout);

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  std::optional<tls::TlsStream> tls_;
};

}  // namespace tern::deliver
