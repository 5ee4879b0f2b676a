// core/server/tls_session_stream.cpp: TlsSessionStream (see its header).
#include "core/server/tls_session_stream.hpp"

#include <cstring>

namespace tern::server {

TlsSessionStream::TlsSessionStream(std::unique_ptr<SocketStream> plain, tls::TlsStream tls)
    : plain_(std::move(plain)), tls_(std::move(tls)) {}

asio::awaitable<size_t> TlsSessionStream::read_some(std::span<char> buf, error_code& ec) {
  auto r = co_await tls_.read_some(buf);
  ec = r.ec;
  co_return r.ec ? 0 : r.bytes;
}

asio::awaitable<void> TlsSessionStream::write_all(std::string_view data, error_code& ec) {
  ec = co_await tls_.write(data);
}

size_t TlsSessionStream::available() { return tls_.has_buffered_input() ? 1 : plain_->available(); }

void TlsSessionStream::close() { plain_->close(); }

}  // namespace tern::server
