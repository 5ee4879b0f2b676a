// core/server/stream.hpp: the byte stream an SMTP session talks over.
//
// A session reads and writes through a Stream, so one conversation code
// serves a TCP socket, the same socket after STARTTLS (or on a
// tls_on_connect port), and stdin/stdout for -bs and -bh. Operations are
// coroutines on the worker's io_context; errors come back in `ec` (never as
// exceptions). available() says whether the peer has already sent more,
// which Exim's pipelining synchronisation check needs.
#pragma once

#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace tern::server {

namespace asio = boost::asio;
using boost::system::error_code;

class Stream {
 public:
  virtual ~Stream() = default;
  // At least one byte, or 0 with `ec` set (eof at the end of input).
  virtual asio::awaitable<size_t> read_some(std::span<char> buf, error_code& ec) = 0;
  virtual asio::awaitable<void> write_all(std::string_view data, error_code& ec) = 0;
  // Bytes the peer sent that a read would return at once.
  virtual size_t available() = 0;
  // Make a pending read or write finish with operation_aborted (timeouts).
  virtual void cancel() = 0;
  virtual void close() = 0;
  // The descriptor a pre-banner hook reads directly (-1: none).
  virtual int native_fd() { return -1; }
};

// A TCP connection accepted by the worker.
class SocketStream final : public Stream {
 public:
  explicit SocketStream(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}
  asio::awaitable<size_t> read_some(std::span<char> buf, error_code& ec) override;
  asio::awaitable<void> write_all(std::string_view data, error_code& ec) override;
  size_t available() override;
  void cancel() override;
  void close() override;
  int native_fd() override { return socket_.native_handle(); }
  asio::ip::tcp::socket& socket() { return socket_; }

 private:
  asio::ip::tcp::socket socket_;
};

// -bs and -bh: the caller's stdin and stdout (pipes, terminals or files).
// Reads and writes block: the process serves this one session only.
class StdioStream final : public Stream {
 public:
  StdioStream(int in_fd, int out_fd) : in_(in_fd), out_(out_fd) {}
  asio::awaitable<size_t> read_some(std::span<char> buf, error_code& ec) override;
  asio::awaitable<void> write_all(std::string_view data, error_code& ec) override;
  size_t available() override;
  void cancel() override {}
  void close() override {}

 private:
  int in_, out_;
};

}  // namespace tern::server
