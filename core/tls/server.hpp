// core/tls/server.hpp: the server side of TLS, from Exim's main options.
//
// One ServerTls per configuration generation, shared by every session (it
// is thread-safe). For each connection, start() expands the options in the
// session's expansion context ($received_port, $sender_host_address, ...),
// takes the SSL_CTX for the expanded values from its cache or builds one,
// and returns a TlsStream ready for its handshake. When an option mentions
// $tls_in_sni (or $tls_sni, $tls_out_sni), the options are expanded again
// when the client's Server Name Indication arrives, and the connection
// switches to the context for those values (built and cached on first
// use). Options without expansions give one context for the generation.
//
// A context is made as Exim 4.96 makes it (see key_exchange.hpp,
// credentials.hpp, openssl_options.hpp): openssl_options, tls_dhparam,
// tls_eccurve, the tls_certificate / tls_privatekey lists (a self-signed
// certificate when tls_certificate is unset), tls_require_ciphers for
// TLS 1.2 and below (TLS 1.3 keeps OpenSSL's suites, as in Exim; "_" in
// the value becomes "-"), tls_verify_certificates and tls_crl when a client
// certificate is asked for, session id context "exim", no session tickets,
// no minimum protocol beyond OpenSSL's (which, at its default security
// level, refuses TLS 1.0 and 1.1). The modules' TERN_HOOK_TLS_SERVER_CTX
// runs once on every context built, TERN_HOOK_TLS_SERVER_SSL on every
// connection's SSL before its handshake.
//
// What to advertise, whom to ask for a certificate (tls_verify_hosts,
// tls_try_verify_hosts) and what to answer are the session's decisions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/base/result.hpp"
#include "core/config/config.hpp"
#include "core/tls/stream.hpp"

namespace tern::expand {
struct Context;
class Extensions;
}  // namespace tern::expand

namespace tern::module_host {
class HookRegistry;
struct CallEnv;
}  // namespace tern::module_host

namespace tern::tls {

// The main options the server uses, as written (expanded per connection).
struct ServerOptions {
  std::string tls_certificate;
  std::string tls_privatekey;
  std::string tls_require_ciphers;
  std::string tls_dhparam;
  std::string tls_eccurve = "auto";
  std::string openssl_options;
  std::string tls_verify_certificates = "system";
  std::string tls_crl;
  int64_t tls_dh_max_bits = 2236;
  std::string primary_hostname;  // CN of the self-signed certificate

  static ServerOptions from_main(const config::OptionSet& main, std::string primary_hostname);
};

// Whether the session asks this client for a certificate: kRequire for a
// host in tls_verify_hosts (no verified certificate: the handshake fails),
// kTry for one in tls_try_verify_hosts (it goes on; the certificate just
// does not count as verified). Ignored when tls_verify_certificates is empty.
enum class ClientCertificate { kNone, kRequire, kTry };

// One connection's surroundings. The pointers must stay valid until the
// handshake has finished (the SNI callback expands and runs hooks in it).
struct ServerConnection {
  expand::Context* expand = nullptr;                 // required
  const module_host::HookRegistry* hooks = nullptr;  // optional
  const module_host::CallEnv* env = nullptr;         // required with hooks
  ClientCertificate client_certificate = ClientCertificate::kNone;
  // Keep the certificates that pass verification for tls:cert after the handshake
  // (ConnState::passed_certificates).
  bool keep_passed_certificates = false;
};

class ServerTls : public std::enable_shared_from_this<ServerTls> {
 public:
  // Checks what Exim checks when it reads the configuration (a literal
  // openssl_options or tls_require_ciphers that does not parse):
  //   openssl_options parse error: +no_such_thing
  //   tls_require_ciphers invalid: SSL_CTX_set_cipher_list(NOPE) failed: error:...
  // The strings are compiled against `extensions` (the generation's; they
  // must outlive this object).
  static Result<std::shared_ptr<ServerTls>> create(ServerOptions options,
                                                   const expand::Extensions* extensions = nullptr);
  ~ServerTls();

  // Set up TLS for a connection on `socket` (synchronous; nothing is sent).
  // An error means "454 TLS currently unavailable"; its text is Exim's, e.g.
  //   (SSL_CTX_use_certificate_chain_file file=/etc/tern/cert.pem): error:80000002:system
  //   library::No such file or directory expansion of tls_certificate failed: unknown variable name
  //   "nosuch" module "ocsp" failed the TLS server context: <its error>
  Result<TlsStream> start(TlsStream::Socket& socket, const ServerConnection& connection) const;

  // How many contexts are cached (tests, diagnostics).
  size_t cached_contexts() const;

 private:
  struct Impl;
  explicit ServerTls(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tern::tls
