// core/tls/stream.cpp: the TLS engine (OpenSSL over memory BIOs) driven by Asio coroutines.
//
// Each operation calls OpenSSL until it completes: whatever OpenSSL wrote to
// the outgoing memory BIO is sent first, and when it wants input one read
// from the socket goes into the incoming BIO. OpenSSL's error queue is
// per thread and other sessions run between our awaits, so the text of a
// failure is taken right after the failing call, before any co_await.
#include "core/tls/stream.hpp"

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "core/module_host/hooks.hpp"
#include "core/tls/connection_state.hpp"
#include "core/tls/ossl.hpp"

namespace tern::tls {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

class Category : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "tern.tls"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kTimedOut:
        return "timed out";
      case Errc::kClosedByPeer:
        return "TCP connection closed by peer";
      case Errc::kProtocol:
        return "TLS protocol error";
      case Errc::kTruncated:
        return "TCP connection closed without TLS close_notify";
      case Errc::kBusy:
        return "another TLS operation is in progress";
      case Errc::kNotReady:
        return "no TLS session established";
      case Errc::kRefused:
        return "TLS connection refused by a module";
    }
    return "unknown TLS error";
  }
};

// 16 KiB is a TLS record's maximum plaintext; reads take what is there.
constexpr size_t kChunk = 16 * 1024 + 512;
constexpr size_t kWriteSlice = 64 * 1024;

bool version_reason(int reason) {
  return reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_VERSION_TOO_LOW ||
         reason == SSL_R_UNKNOWN_PROTOCOL || reason == SSL_R_UNSUPPORTED_PROTOCOL;
}

}  // namespace

const boost::system::error_category& tls_category() {
  static const Category category;
  return category;
}

error_code make_error_code(Errc e) { return {static_cast<int>(e), tls_category()}; }

struct TlsStream::Impl {
  // The deadline of the current operation: the timer cancels the socket's
  // pending I/O. Shared with the timer's handler, which may run after the
  // operation ended (it then does nothing).
  struct Deadline {
    bool active = false;
    bool fired = false;
    Socket* socket = nullptr;
  };

  // The outcome of driving one OpenSSL call to completion.
  struct Step {
    error_code ec;
    std::string openssl_error;  // the first queued error, taken at once
    int reason = 0;
  };

  Impl(Socket& s, SSL* raw, Role r) : socket(s), ssl(raw), timer(s.get_executor()) {
    state.role = r;
    info.role = r;
    rbio = BIO_new(BIO_s_mem());
    wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio, -1);  // empty: "retry", not end of file
    BIO_set_mem_eof_return(wbio, -1);
    SSL_set_bio(ssl.get(), rbio, wbio);  // the SSL owns both
    state.attach(ssl.get());
    deadline = std::make_shared<Deadline>();
  }

  void arm(Duration timeout) {
    deadline = std::make_shared<Deadline>();
    deadline->socket = &socket;
    if (timeout <= Duration::zero()) return;
    deadline->active = true;
    timer.expires_after(timeout);
    timer.async_wait([d = deadline](const error_code& ec) {
      if (ec || !d->active) return;
      d->fired = true;
      error_code ignored;
      d->socket->cancel(ignored);
    });
  }

  void disarm() {
    deadline->active = false;
    timer.cancel();
  }

  error_code socket_error(const error_code& ec) const {
    return deadline->fired ? make_error_code(Errc::kTimedOut) : ec;
  }

  // Send everything OpenSSL has produced.
  asio::awaitable<error_code> flush() {
    while (BIO_ctrl_pending(wbio) > 0) {
      int n = BIO_read(wbio, out.data(), static_cast<int>(out.size()));
      if (n <= 0) break;
      if (deadline->fired) co_return make_error_code(Errc::kTimedOut);
      error_code ec;
      co_await asio::async_write(socket, asio::buffer(out.data(), static_cast<size_t>(n)),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return socket_error(ec);
    }
    co_return error_code();
  }

  // One read from the socket into OpenSSL's input.
  asio::awaitable<error_code> fill() {
    if (deadline->fired) co_return make_error_code(Errc::kTimedOut);
    error_code ec;
    size_t n = co_await socket.async_read_some(asio::buffer(in),
                                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return socket_error(ec);
    BIO_write(rbio, in.data(), static_cast<int>(n));
    co_return error_code();
  }

  // Run `call` (an SSL_* function returning > 0 on success) until it is done.
  template <class Call>
  asio::awaitable<Step> drive(Call call) {
    for (;;) {
      ERR_clear_error();
      int ret = call();
      int err = SSL_get_error(ssl.get(), ret);
      Step step;
      if (err == SSL_ERROR_SSL || err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN) {
        step.reason = ERR_GET_REASON(ERR_peek_error());
        step.openssl_error = take_openssl_error();
      }
      // Handshake messages, records and alerts go out before anything else.
      if (error_code ec = co_await flush(); ec && err != SSL_ERROR_SSL) {
        step.ec = ec;
        co_return step;
      }
      switch (err) {
        case SSL_ERROR_NONE:
          co_return step;
        case SSL_ERROR_WANT_READ:
          if (error_code ec = co_await fill(); ec) {
            step.ec = ec;
            co_return step;
          }
          continue;
        case SSL_ERROR_WANT_WRITE:  // a memory BIO never refuses output
          continue;
        case SSL_ERROR_ZERO_RETURN:
          step.ec = asio::error::eof;
          co_return step;
        default:
          step.ec = make_error_code(Errc::kProtocol);
          co_return step;
      }
    }
  }

  // Exim's text for a failed handshake.
  std::string handshake_error(const Step& step) const {
    const char* what = state.role == Role::kServer ? "SSL_accept" : "SSL_connect";
    if (!state.failure.empty()) return state.failure;  // the SNI context could not be made
    if (step.ec == make_error_code(Errc::kTimedOut)) return tls_error(what, "timed out");
    if (step.ec == asio::error::eof) {
      return state.role == Role::kServer ? std::string(what) + ": TCP connection closed by peer"
                                         : tls_error(what, "TCP connection closed by peer");
    }
    if (step.ec.category() == tls_category() || step.ec == asio::error::eof) {
      std::string prefix = what;
      if (version_reason(step.reason))
        prefix += std::string(" (") + SSL_get_version(ssl.get()) + ")";
      return tls_error(prefix, step.openssl_error);
    }
    return tls_error(what, step.ec.message());
  }

  std::string io_error(const char* what, const Step& step) const {
    if (step.ec == make_error_code(Errc::kTimedOut)) return tls_error(what, "timed out");
    if (step.ec.category() == tls_category()) return tls_error(what, step.openssl_error);
    return tls_error(what, step.ec.message());
  }

  // Run the modules' after-handshake hook of a client connection.
  error_code run_client_after_hooks() {
    if (state.hooks == nullptr || state.env == nullptr ||
        !state.hooks->has(TERN_HOOK_TLS_CLIENT_AFTER)) {
      return {};
    }
    SSL_up_ref(ssl.get());
    std::shared_ptr<void> keep(ssl.get(), [](void* p) { SSL_free(static_cast<SSL*>(p)); });
    module_host::HookResult r =
        state.hooks->run(TERN_HOOK_TLS_CLIENT_AFTER, *state.env, ssl.get(), keep);
    if (r.status == TERN_OK || r.status == TERN_DECLINE) {
      info.verified_by = r.verdict;
      return {};
    }
    error = "module \"" + r.module + "\" refused the TLS connection" +
            (r.error.empty() ? "" : ": " + r.error);
    return make_error_code(Errc::kRefused);
  }

  // Marks the stream busy and arms the deadline for one operation.
  class Operation {
   public:
    Operation(Impl& impl, Duration timeout) : impl_(impl) {
      impl_.busy = true;
      impl_.arm(timeout);
    }
    ~Operation() {
      impl_.disarm();
      impl_.busy = false;
    }
    Operation(const Operation&) = delete;
    Operation& operator=(const Operation&) = delete;

   private:
    Impl& impl_;
  };

  Socket& socket;
  SslPtr ssl;
  BIO* rbio = nullptr;  // owned by ssl
  BIO* wbio = nullptr;  // owned by ssl
  ConnState state;
  SessionInfo info;
  std::string error;
  bool busy = false;
  bool established = false;
  bool failed = false;
  asio::steady_timer timer;
  std::shared_ptr<Deadline> deadline;
  std::vector<char> in = std::vector<char>(kChunk);
  std::vector<char> out = std::vector<char>(kChunk);
};

TlsStream::TlsStream(Socket& socket, SSL* ssl, Role role)
    : impl_(std::make_unique<Impl>(socket, ssl, role)) {}
TlsStream::TlsStream(TlsStream&&) noexcept = default;
TlsStream& TlsStream::operator=(TlsStream&&) noexcept = default;
TlsStream::~TlsStream() = default;

ConnState& TlsStream::state() { return impl_->state; }
const std::vector<std::pair<int, std::string>>& TlsStream::passed_certificates() const {
  return impl_->state.passed_certificates;
}
bool TlsStream::verification_optional() const { return impl_->state.verify_optional; }

asio::awaitable<error_code> TlsStream::handshake(Duration timeout) {
  Impl& m = *impl_;
  if (m.busy) co_return make_error_code(Errc::kBusy);
  if (m.established || m.failed) co_return make_error_code(Errc::kNotReady);
  Impl::Operation guard(m, timeout);
  Impl::Step step = co_await m.drive([&m] { return SSL_do_handshake(m.ssl.get()); });
  if (step.ec) {
    m.failed = true;
    m.error = m.handshake_error(step);
    if (step.ec == asio::error::eof) co_return make_error_code(Errc::kClosedByPeer);
    if (!m.state.failure.empty()) co_return make_error_code(Errc::kProtocol);
    co_return step.ec;
  }
  m.info = SessionInfo::from_ssl(m.ssl.get(), m.state.role, m.state.sni, m.state.verify_overridden);
  if (m.state.role == Role::kClient) {
    if (error_code ec = m.run_client_after_hooks(); ec) {
      m.failed = true;
      m.info = SessionInfo{};
      m.info.role = Role::kClient;
      co_return ec;
    }
  }
  m.established = true;
  co_return error_code();
}

asio::awaitable<TlsStream::ReadResult> TlsStream::read_some(std::span<char> buffer,
                                                            Duration timeout) {
  Impl& m = *impl_;
  if (m.busy) co_return ReadResult{make_error_code(Errc::kBusy), 0};
  if (!m.established || m.failed) co_return ReadResult{make_error_code(Errc::kNotReady), 0};
  if (buffer.empty()) co_return ReadResult{};
  Impl::Operation guard(m, timeout);
  size_t got = 0;
  Impl::Step step = co_await m.drive(
      [&] { return SSL_read_ex(m.ssl.get(), buffer.data(), buffer.size(), &got); });
  if (!step.ec) co_return ReadResult{{}, got};
  if (step.ec == asio::error::eof && got == 0 &&
      SSL_get_shutdown(m.ssl.get()) & SSL_RECEIVED_SHUTDOWN) {
    co_return ReadResult{asio::error::eof, 0};  // close_notify: a clean end
  }
  if (step.ec == asio::error::eof) {
    m.error = tls_error("SSL_read", "TCP connection closed without TLS close_notify");
    co_return ReadResult{make_error_code(Errc::kTruncated), 0};
  }
  m.error = m.io_error("SSL_read", step);
  // After a read timeout the session may still write (Exim's "421 ...
  // timeout" goes out over TLS): OpenSSL was only waiting for input.
  if (step.ec == make_error_code(Errc::kProtocol)) m.failed = true;
  co_return ReadResult{step.ec, 0};
}

asio::awaitable<error_code> TlsStream::write(std::string_view data, Duration timeout) {
  Impl& m = *impl_;
  if (m.busy) co_return make_error_code(Errc::kBusy);
  if (!m.established || m.failed) co_return make_error_code(Errc::kNotReady);
  Impl::Operation guard(m, timeout);
  while (!data.empty()) {
    // In slices, so a large write never holds more than one slice of
    // encrypted records in memory.
    size_t slice = std::min(data.size(), kWriteSlice);
    size_t written = 0;
    Impl::Step step =
        co_await m.drive([&] { return SSL_write_ex(m.ssl.get(), data.data(), slice, &written); });
    if (step.ec) {
      m.error = m.io_error("SSL_write", step);
      m.failed = true;  // a record may be half sent
      co_return step.ec;
    }
    data.remove_prefix(written);
  }
  co_return error_code();
}

asio::awaitable<error_code> TlsStream::shutdown(Duration timeout) {
  Impl& m = *impl_;
  if (m.busy) co_return make_error_code(Errc::kBusy);
  if (!m.established || m.failed) co_return error_code();
  Impl::Operation guard(m, timeout);
  ERR_clear_error();
  SSL_shutdown(m.ssl.get());  // queues close_notify; we do not wait for the peer's
  ERR_clear_error();
  m.established = false;
  co_return co_await m.flush();
}

const SessionInfo& TlsStream::info() const { return impl_->info; }
const std::string& TlsStream::error_text() const { return impl_->error; }

std::vector<LogLine> TlsStream::take_log() {
  std::vector<LogLine> out;
  out.swap(impl_->state.log);
  return out;
}

bool TlsStream::has_buffered_input() const {
  return SSL_has_pending(impl_->ssl.get()) == 1 || BIO_ctrl_pending(impl_->rbio) > 0;
}

Role TlsStream::role() const { return impl_->state.role; }
SSL* TlsStream::native_handle() const { return impl_->ssl.get(); }

}  // namespace tern::tls
