// core/tls/client.cpp: client contexts and connections (SNI, verification, hooks).
#include "core/tls/client.hpp"

#include <algorithm>

#include "core/module_host/hooks.hpp"
#include "core/tls/connection_state.hpp"
#include "core/tls/credentials.hpp"
#include "core/tls/openssl_options.hpp"
#include "core/tls/ossl.hpp"

namespace tern::tls {

namespace {
constexpr unsigned char kSessionIdContext[] = {'e', 'x', 'i', 'm'};
}

ClientTls::ClientTls(std::shared_ptr<SSL_CTX> ctx, bool has_trust)
    : ctx_(std::move(ctx)), has_trust_(has_trust) {}
ClientTls::~ClientTls() = default;

Result<std::shared_ptr<ClientTls>> ClientTls::create(const ClientOptions& options) {
  Result<uint64_t> bits = parse_openssl_options(options.openssl_options);
  if (!bits) return bits.take_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Error::failed(tls_error("SSL_CTX_new"));
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_AUTO_RETRY);
  SSL_CTX_set_options(ctx.get(), *bits);
  SSL_CTX_set_session_id_context(ctx.get(), kSessionIdContext, sizeof kSessionIdContext);
  if (!options.require_ciphers.empty()) {
    std::string ciphers = options.require_ciphers;
    std::replace(ciphers.begin(), ciphers.end(), '_', '-');
    if (SSL_CTX_set_cipher_list(ctx.get(), ciphers.c_str()) != 1) {
      return Error::failed(tls_error("SSL_CTX_set_cipher_list"));
    }
  }
  if (Status s = load_trust(ctx.get(), options.verify_certificates, options.crl, false); !s) {
    return s.take_error();
  }
  if (!options.certificate.empty()) {
    if (Status s = load_certificates(ctx.get(), options.certificate, options.privatekey); !s) {
      return s.take_error();
    }
  }
  bool has_trust = !options.verify_certificates.empty();
  return std::shared_ptr<ClientTls>(new ClientTls(share_ctx(ctx.release()), has_trust));
}

Result<TlsStream> ClientTls::start(TlsStream::Socket& socket,
                                   const ClientConnection& connection) const {
  SSL* ssl = SSL_new(ctx_.get());
  if (ssl == nullptr) return Error::failed(tls_error("SSL_new"));
  SSL_set_connect_state(ssl);
  TlsStream stream(socket, ssl, Role::kClient);
  ConnState& state = stream.state();
  state.hooks = connection.hooks;
  state.env = connection.env;
  if (!connection.sni.empty()) {
    if (SSL_set_tlsext_host_name(ssl, connection.sni.c_str()) != 1) {
      return Error::failed(tls_error("SSL_set_tlsext_host_name"));
    }
    state.sni = connection.sni;
  }
  if (connection.verify != ClientVerify::kNone && has_trust_) {
    state.verify_optional = connection.verify == ClientVerify::kTry;
    state.verify_hostnames = connection.verify_hostnames;
    state.cert_event = connection.cert_event;
    SSL_set_verify(ssl, SSL_VERIFY_PEER, verify_callback);
  }

  if (connection.hooks != nullptr && connection.env != nullptr &&
      connection.hooks->has(TERN_HOOK_TLS_CLIENT_BEFORE)) {
    SSL_up_ref(ssl);
    std::shared_ptr<void> keep(ssl, [](void* p) { SSL_free(static_cast<SSL*>(p)); });
    module_host::HookResult r =
        connection.hooks->run(TERN_HOOK_TLS_CLIENT_BEFORE, *connection.env, ssl, keep);
    if (r.status != TERN_OK && r.status != TERN_DECLINE) {
      std::string text = "module \"" + r.module + "\" refused the TLS connection";
      if (!r.error.empty()) text += ": " + r.error;
      return r.status == TERN_DEFER ? Error::defer(std::move(text))
                                    : Error::failed(std::move(text));
    }
  }
  return stream;
}

}  // namespace tern::tls
