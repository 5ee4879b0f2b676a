// core/server/tls_session_stream.hpp: a session's Stream once TLS is on.
//
// After STARTTLS (or on a tls_on_connect port) the session swaps its
// SocketStream for this one: the same socket, with core/tls's TlsStream
// doing the records. TlsStream waits for the socket into its own buffer and
// decrypts into the caller's only once data is there, without suspending
// again, so the session's thread-shared read buffer stays safe.
#pragma once

#include <memory>

#include "core/server/stream.hpp"
#include "core/tls/stream.hpp"

namespace tern::server {

class TlsSessionStream final : public Stream {
 public:
  // `plain` owns the socket `tls` runs over.
  TlsSessionStream(std::unique_ptr<SocketStream> plain, tls::TlsStream tls);
  asio::awaitable<size_t> read_some(std::span<char> buf, error_code& ec) override;
  asio::awaitable<void> write_all(std::string_view data, error_code& ec) override;
  size_t available() override;
  void cancel() override { plain_->cancel(); }
  void close() override;
  int native_fd() override { return plain_->native_fd(); }
  tls::TlsStream& tls() { return tls_; }

 private:
  std::unique_ptr<SocketStream> plain_;
  tls::TlsStream tls_;
  bool closing_ = false;
};

}  // namespace tern::server
