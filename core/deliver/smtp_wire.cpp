// core/deliver/smtp_wire.cpp: TCP connections for delivery, with deadlines and STARTTLS.
//
// A deadline is a timer that cancels the socket's pending operation; the
// operation then ends with operation_aborted, which becomes timed_out. The
// timer's handler shares a small flag block with the operation, so a
// handler that runs after the operation finished does nothing.
#include "core/deliver/smtp_wire.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace tern::deliver {

namespace asio = boost::asio;
using boost::system::error_code;

struct TcpWire::Deadline {
  bool active = true;
  bool fired = false;
  asio::ip::tcp::socket* socket = nullptr;
};

namespace {

error_code tls_timeout_as_system(error_code ec) {
  if (ec == tls::make_error_code(tls::Errc::kTimedOut)) return asio::error::timed_out;
  if (ec == tls::make_error_code(tls::Errc::kTruncated)) return asio::error::eof;
  return ec;
}

}  // namespace

TcpWire::TcpWire(asio::ip::tcp::socket socket)
    : socket_(std::move(socket)), timer_(socket_.get_executor()) {}

TcpWire::~TcpWire() {
  tls_.reset();  // it refers to socket_
  close();
}

std::shared_ptr<TcpWire::Deadline> TcpWire::arm(Duration timeout) {
  auto d = std::make_shared<Deadline>();
  d->socket = &socket_;
  timer_.expires_after(timeout);
  timer_.async_wait([d](const error_code& ec) {
    if (ec || !d->active) return;
    d->fired = true;
    error_code ignored;
    d->socket->cancel(ignored);
  });
  return d;
}

asio::awaitable<Result<std::unique_ptr<TcpWire>>> TcpWire::connect(
    asio::any_io_executor executor, const asio::ip::tcp::endpoint& peer,
    const std::optional<asio::ip::address>& source, Duration timeout) {
  asio::ip::tcp::socket socket(executor);
  error_code ec;
  socket.open(peer.protocol(), ec);
  if (ec) co_return Error::defer(ec.message());
  if (source && source->is_v4() == peer.address().is_v4()) {
    socket.bind(asio::ip::tcp::endpoint(*source, 0), ec);
    if (ec) co_return Error::defer("failed to bind socket to " + source->to_string() + ": " +
                                   ec.message());
  }
  auto wire = std::make_unique<TcpWire>(std::move(socket));
  auto deadline = wire->arm(timeout);
  co_await wire->socket_.async_connect(peer, asio::redirect_error(asio::use_awaitable, ec));
  deadline->active = false;
  wire->timer_.cancel();
  if (deadline->fired) co_return Error::defer("Connection timed out");
  if (ec) co_return Error::defer(ec.message());
  wire->socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  co_return std::move(wire);
}

asio::awaitable<error_code> TcpWire::read_some(std::span<char> buf, size_t& n,
                                               Duration timeout) {
  n = 0;
  if (tls_) {
    tls::TlsStream::ReadResult r = co_await tls_->read_some(buf, timeout);
    n = r.bytes;
    co_return tls_timeout_as_system(r.ec);
  }
  error_code ec;
  auto deadline = arm(timeout);
  n = co_await socket_.async_read_some(asio::buffer(buf.data(), buf.size()),
                                       asio::redirect_error(asio::use_awaitable, ec));
  deadline->active = false;
  timer_.cancel();
  if (deadline->fired) co_return asio::error::timed_out;
  co_return ec;
}

asio::awaitable<error_code> TcpWire::write(std::string_view data, Duration timeout) {
  if (tls_) co_return tls_timeout_as_system(co_await tls_->write(data, timeout));
  error_code ec;
  auto deadline = arm(timeout);
  co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()),
                             asio::redirect_error(asio::use_awaitable, ec));
  deadline->active = false;
  timer_.cancel();
  if (deadline->fired) co_return asio::error::timed_out;
  co_return ec;
}

asio::awaitable<Status> TcpWire::start_tls(const tls::ClientTls& tls,
                                           const tls::ClientConnection& connection,
                                           Duration timeout) {
  Result<tls::TlsStream> started = tls.start(socket_, connection);
  if (!started) co_return started.take_error();
  tls_.emplace(std::move(*started));
  error_code ec = co_await tls_->handshake(timeout);
  if (ec) {
    std::string text = tls_->error_text();
    if (text.empty()) text = "(SSL_connect): " + ec.message();
    co_return Error::defer(std::move(text));
  }
  co_return Status();
}

const tls::SessionInfo* TcpWire::tls_info() const {
  return tls_ && tls_->info().active ? &tls_->info() : nullptr;
}

std::vector<tls::LogLine> TcpWire::take_tls_log() {
  return tls_ ? tls_->take_log() : std::vector<tls::LogLine>{};
}

std::optional<asio::ip::tcp::endpoint> TcpWire::local_endpoint() const {
  error_code ec;
  asio::ip::tcp::endpoint local = socket_.local_endpoint(ec);
  if (ec) return std::nullopt;
  return local;
}

void TcpWire::close() {
  error_code ignored;
  timer_.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace tern::deliver
