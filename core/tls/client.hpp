// core/tls/client.hpp: the client side of TLS, the building blocks for delivery.
//
// The smtp transport (a later piece) expands its options, matches the host
// against tls_verify_hosts / tls_try_verify_hosts / tls_verify_cert_hostnames
// and then uses these: a ClientTls per set of expanded options (keep it for
// the transport; it is thread-safe), and start() per connection after the
// server's "220" to STARTTLS:
//
//   auto tls = ClientTls::create({.require_ciphers = ..., .verify_certificates = "system"});
//   Result<TlsStream> s = (*tls)->start(socket, {.sni = "mx.example", .verify =
//   ClientVerify::kRequire,
//                                               .verify_hostnames = {"mx.example"}});
//   co_await s->handshake(timeout);
//
// As Exim 4.96's tls_client_start: openssl_options (the main option) on the
// context, tls_require_ciphers for TLS 1.2 and below ("_" becomes "-"), the
// client certificate and key when given, trust anchors from
// tls_verify_certificates ("system", a file or a directory, always with the
// system's) and tls_crl; per connection the SNI and the verification mode.
// A failed verification is logged (take_log()); with kRequire it fails the
// handshake, with kTry it only leaves the certificate unverified (CV=no).
// Modules' TERN_HOOK_TLS_CLIENT_BEFORE runs in start() (a refusal is the
// Result's error: kDefer for "try later", kFailed for "not this host"),
// TERN_HOOK_TLS_CLIENT_AFTER at the end of handshake() (its verdict, e.g.
// "dane", becomes CV=dane).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "core/tls/stream.hpp"

namespace tern::module_host {
class HookRegistry;
struct CallEnv;
}  // namespace tern::module_host

namespace tern::tls {

// Expanded transport-like options (empty: unset).
struct ClientOptions {
  std::string certificate{};          // tls_certificate: client certificate file
  std::string privatekey{};           // tls_privatekey (default: the certificate file)
  std::string require_ciphers{};      // tls_require_ciphers
  std::string verify_certificates{};  // tls_verify_certificates: "system", file or directory
  std::string crl{};                  // tls_crl
  std::string openssl_options{};      // the main option openssl_options
};

enum class ClientVerify { kNone, kRequire, kTry };

struct ClientConnection {
  std::string sni{};  // tls_sni; empty: none sent
  // Ignored (no verification) when verify_certificates is empty.
  ClientVerify verify = ClientVerify::kNone;
  // tls_verify_cert_hostnames matched: the names the certificate must carry.
  std::vector<std::string> verify_hostnames{};
  // tls:cert: called per certificate of the chain that passed verification (only when
  // verification is on), with its depth; a non-empty answer refuses the certificate.
  std::function<std::string(int depth)> cert_event{};
  const module_host::HookRegistry* hooks = nullptr;  // optional
  const module_host::CallEnv* env = nullptr;  // required with hooks; valid until the handshake ends
};

class ClientTls {
 public:
  static Result<std::shared_ptr<ClientTls>> create(const ClientOptions& options);
  ~ClientTls();

  // Set up a connection on `socket` (nothing is sent yet).
  Result<TlsStream> start(TlsStream::Socket& socket, const ClientConnection& connection) const;

 private:
  ClientTls(std::shared_ptr<SSL_CTX> ctx, bool has_trust);
  std::shared_ptr<SSL_CTX> ctx_;
  bool has_trust_;
};

}  // namespace tern::tls
