// core/server/stream.cpp: the TCP and stdio streams of stream.hpp.
#include "core/server/stream.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>

namespace tern::server {

// Wait for readability first, then read without blocking: an idle
// connection holds no buffer while it waits (1,000 idle sessions cost
// little memory), and the caller's buffer may be shared by all sessions of
// the thread, since nothing else runs between the wait and the read.
asio::awaitable<size_t> SocketStream::read_some(std::span<char> buf, error_code& ec) {
  for (;;) {
    ec = {};
    co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return 0;
    if (!socket_.non_blocking()) socket_.non_blocking(true, ec);
    size_t n = socket_.read_some(asio::buffer(buf.data(), buf.size()), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
    co_return n;
  }
}

asio::awaitable<void> SocketStream::write_all(std::string_view data, error_code& ec) {
  ec = {};
  co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()),
                             asio::redirect_error(asio::use_awaitable, ec));
}

size_t SocketStream::available() {
  error_code ec;
  size_t n = socket_.available(ec);
  return ec ? 0 : n;
}

void SocketStream::cancel() {
  error_code ec;
  socket_.cancel(ec);
}

void SocketStream::close() {
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

asio::awaitable<size_t> StdioStream::read_some(std::span<char> buf, error_code& ec) {
  ec = {};
  for (;;) {
    ssize_t n = ::read(in_, buf.data(), buf.size());
    if (n > 0) co_return static_cast<size_t>(n);
    if (n == 0) {
      ec = asio::error::eof;
      co_return 0;
    }
    if (errno != EINTR) {
      ec = error_code(errno, boost::system::system_category());
      co_return 0;
    }
  }
}

asio::awaitable<void> StdioStream::write_all(std::string_view data, error_code& ec) {
  ec = {};
  while (!data.empty()) {
    ssize_t n = ::write(out_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      ec = error_code(errno, boost::system::system_category());
      co_return;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  co_return;
}

size_t StdioStream::available() {
  int n = 0;
  if (::ioctl(in_, FIONREAD, &n) < 0) return 0;
  return n > 0 ? static_cast<size_t>(n) : 0;
}

}  // namespace tern::server
