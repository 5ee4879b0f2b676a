// core/tls/server.cpp: server contexts from the main options, cached by their expanded values.
#include "core/tls/server.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include "core/expand/expand.hpp"
#include "core/module_host/hooks.hpp"
#include "core/tls/connection_state.hpp"
#include "core/tls/credentials.hpp"
#include "core/tls/key_exchange.hpp"
#include "core/tls/openssl_options.hpp"
#include "core/tls/ossl.hpp"

namespace tern::tls {

namespace {

// At most this many contexts per generation (SNI is the client's choice).
constexpr size_t kMaxContexts = 64;
// Exim regenerates its self-signed certificate (valid 2 hours) hourly.
constexpr auto kSelfSignedLife = std::chrono::hours(1);
constexpr unsigned char kSessionIdContext[] = {'e', 'x', 'i', 'm'};

// The expanded values that decide what a context holds.
struct ContextKey {
  std::string certificate, privatekey, ciphers, dhparam, eccurve, verify_certificates, crl;
  uint64_t options = 0;
  bool with_ca = false;      // trust anchors loaded (a client certificate is asked for)
  uint64_t self_signed = 0;  // which self-signed certificate (no tls_certificate)

  auto tie() const {
    return std::tie(certificate, privatekey, ciphers, dhparam, eccurve, verify_certificates, crl,
                    options, with_ca, self_signed);
  }
  bool operator<(const ContextKey& o) const { return tie() < o.tie(); }
  bool operator==(const ContextKey& o) const { return tie() == o.tie(); }
};

// The session's variables with $tls_in_sni (and the deprecated $tls_sni)
// set to the name the client sent.
class SniVariables final : public expand::VariableSource {
 public:
  SniVariables(const expand::VariableSource* base, std::string_view sni) : base_(base), sni_(sni) {}
  bool append(std::string_view name, std::string& out) const override {
    if (name == "tls_in_sni" || name == "tls_sni") {
      out += sni_;
      return true;
    }
    return base_ != nullptr && base_->append(name, out);
  }
  std::optional<std::string> header(std::string_view name, expand::HeaderForm form) const override {
    return base_ != nullptr ? base_->header(name, form) : std::nullopt;
  }

 private:
  const expand::VariableSource* base_;
  std::string_view sni_;
};

// Exim re-expands for SNI when the certificate names one of these; tern
// looks at every option, so a per-SNI key or cipher list works too.
bool mentions_sni(std::string_view s) {
  return s.find("tls_sni") != std::string_view::npos ||
         s.find("tls_in_sni") != std::string_view::npos ||
         s.find("tls_out_sni") != std::string_view::npos;
}

// OpenSSL writes cipher names with '-'; Exim accepts GnuTLS's '_' too.
std::string normalise_ciphers(std::string s) {
  std::replace(s.begin(), s.end(), '_', '-');
  return s;
}

std::string hook_failure(const module_host::HookResult& r, std::string_view what) {
  std::string out = "module \"" + r.module + "\" failed the TLS " + std::string(what);
  if (!r.error.empty()) out += ": " + r.error;
  return out;
}

}  // namespace

ServerOptions ServerOptions::from_main(const config::OptionSet& main,
                                       std::string primary_hostname) {
  ServerOptions o;
  o.tls_certificate = main.get_string("tls_certificate");
  o.tls_privatekey = main.get_string("tls_privatekey");
  o.tls_require_ciphers = main.get_string("tls_require_ciphers");
  o.tls_dhparam = main.get_string("tls_dhparam");
  o.tls_eccurve = main.get_string("tls_eccurve");
  o.openssl_options = main.get_string("openssl_options");
  o.tls_verify_certificates = main.get_string("tls_verify_certificates");
  o.tls_crl = main.get_string("tls_crl");
  o.tls_dh_max_bits = main.get_int("tls_dh_max_bits");
  o.primary_hostname = std::move(primary_hostname);
  return o;
}

struct ServerTls::Impl {
  ServerOptions options;
  expand::Expansion certificate, privatekey, ciphers, dhparam, eccurve, openssl_options,
      verify_certificates, crl;
  std::optional<uint64_t> literal_options;
  bool reexpand_for_sni = false;

  mutable std::mutex mutex;
  struct Entry {
    SharedCtx ctx;
    uint64_t last_use = 0;
  };
  mutable std::map<ContextKey, Entry> cache;
  mutable uint64_t uses = 0;
  mutable std::shared_ptr<const SelfSigned> self_signed;
  mutable std::chrono::steady_clock::time_point self_signed_made;
  mutable uint64_t self_signed_serial = 0;

  Result<std::string> value(const expand::Expansion& e, std::string_view name,
                            expand::Context& ctx) const {
    if (e.is_literal()) return e.literal();
    Result<std::string> r = expand::evaluate(e, ctx);
    if (r) return r;
    // A forced failure means "as if unset", as in Exim.
    if (r.error().is_forced()) return std::string();
    return Error::failed("expansion of " + std::string(name) + " failed: " + r.error().message);
  }

  // The current self-signed certificate, made (again) when needed.
  Result<std::shared_ptr<const SelfSigned>> current_self_signed(uint64_t* serial) const {
    std::lock_guard lock(mutex);
    auto now = std::chrono::steady_clock::now();
    if (!self_signed || now - self_signed_made > kSelfSignedLife) {
      Result<SelfSigned> made = make_self_signed(options.primary_hostname);
      if (!made) return made.take_error();
      self_signed = std::make_shared<const SelfSigned>(std::move(*made));
      self_signed_made = now;
      ++self_signed_serial;
    }
    *serial = self_signed_serial;
    return self_signed;
  }

  // The options expanded in `ctx`. The trust options only when a client
  // certificate is asked for (`trust`), as Exim expands them only then.
  Result<ContextKey> expand_key(expand::Context& ctx, bool trust) const {
    ContextKey key;
    struct Field {
      const expand::Expansion& e;
      const char* name;
      std::string& out;
    };
    Field fields[] = {{certificate, "tls_certificate", key.certificate},
                      {privatekey, "tls_privatekey", key.privatekey},
                      {ciphers, "tls_require_ciphers", key.ciphers},
                      {dhparam, "tls_dhparam", key.dhparam},
                      {eccurve, "tls_eccurve", key.eccurve},
                      {verify_certificates, "tls_verify_certificates", key.verify_certificates},
                      {crl, "tls_crl", key.crl}};
    for (Field& f : fields) {
      if (!trust && (&f.out == &key.verify_certificates || &f.out == &key.crl)) continue;
      Result<std::string> v = value(f.e, f.name, ctx);
      if (!v) return v.take_error();
      f.out = std::move(*v);
    }
    key.ciphers = normalise_ciphers(std::move(key.ciphers));
    if (literal_options) {
      key.options = *literal_options;
    } else {
      Result<std::string> spec = value(openssl_options, "openssl_options", ctx);
      if (!spec) return spec.take_error();
      Result<uint64_t> bits = parse_openssl_options(*spec);
      if (!bits) return bits.take_error();
      key.options = *bits;
    }
    if (key.certificate.empty()) {
      Result<std::shared_ptr<const SelfSigned>> s = current_self_signed(&key.self_signed);
      if (!s) return s.take_error();
    }
    return key;
  }

  Result<SslCtxPtr> build(const ContextKey& key) const {
    SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) return Error::failed(tls_error("SSL_CTX_new"));
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_AUTO_RETRY);
    SSL_CTX_set_options(ctx.get(), key.options);
    if (Status s = apply_dhparam(ctx.get(), key.dhparam, options.tls_dh_max_bits); !s)
      return s.take_error();
    if (Status s = apply_eccurve(ctx.get(), key.eccurve); !s) return s.take_error();
    if (key.certificate.empty()) {
      uint64_t serial = 0;
      Result<std::shared_ptr<const SelfSigned>> s = current_self_signed(&serial);
      if (!s) return s.take_error();
      if (Status st = install_self_signed(ctx.get(), **s); !st) return st.take_error();
    } else if (Status s = load_certificates(ctx.get(), key.certificate, key.privatekey); !s) {
      return s.take_error();
    }
    if (!key.ciphers.empty() && SSL_CTX_set_cipher_list(ctx.get(), key.ciphers.c_str()) != 1) {
      return Error::failed(tls_error("SSL_CTX_set_cipher_list"));
    }
    if (key.with_ca) {
      if (Status s = load_trust(ctx.get(), key.verify_certificates, key.crl, true); !s)
        return s.take_error();
    }
    // Always: the callback records $tls_in_sni even when nothing depends on it.
    SSL_CTX_set_tlsext_servername_callback(ctx.get(), servername_callback);
    SSL_CTX_set_session_id_context(ctx.get(), kSessionIdContext, sizeof kSessionIdContext);
    SSL_CTX_set_timeout(ctx.get(), 7200);
    SSL_CTX_set_num_tickets(ctx.get(), 0);  // no TLS 1.3 tickets: resumption is not offered
    return ctx;
  }

  Status run_ctx_hook(SSL_CTX* ctx, const ServerConnection& conn) const {
    if (conn.hooks == nullptr || conn.env == nullptr || !conn.hooks->has(TERN_HOOK_TLS_SERVER_CTX))
      return {};
    SSL_CTX_up_ref(ctx);
    std::shared_ptr<void> keep(ctx, [](void* p) { SSL_CTX_free(static_cast<SSL_CTX*>(p)); });
    module_host::HookResult r = conn.hooks->run(TERN_HOOK_TLS_SERVER_CTX, *conn.env, ctx, keep);
    if (r.status == TERN_OK || r.status == TERN_DECLINE) return {};
    return Error::failed(hook_failure(r, "server context"));
  }

  // The context for `key`: cached, or built (and shown to the modules).
  Result<SharedCtx> context_for(const ContextKey& key, const ServerConnection& conn) const {
    {
      std::lock_guard lock(mutex);
      auto it = cache.find(key);
      if (it != cache.end()) {
        it->second.last_use = ++uses;
        return it->second.ctx;
      }
    }
    Result<SslCtxPtr> built = build(key);
    if (!built) return built.take_error();
    if (Status s = run_ctx_hook(built->get(), conn); !s) return s.take_error();
    SharedCtx shared = share_ctx(built->release());
    std::lock_guard lock(mutex);
    auto [it, inserted] = cache.try_emplace(key, Entry{shared, ++uses});
    if (inserted && cache.size() > kMaxContexts) {
      auto oldest = std::min_element(cache.begin(), cache.end(), [](const auto& a, const auto& b) {
        return a.second.last_use < b.second.last_use;
      });
      cache.erase(oldest);
    }
    return shared;
  }

  // Servername callback: expand again with $tls_in_sni and move the
  // connection to the context for the new values.
  bool switch_for_sni(SSL* ssl, const std::string& sni, const ContextKey& base, bool trust,
                      const ServerConnection& conn, ConnState& state) const {
    if (conn.expand == nullptr) return true;
    expand::Context& ectx = *conn.expand;
    SniVariables vars(ectx.variables, sni);
    const expand::VariableSource* saved = ectx.variables;
    ectx.variables = &vars;
    Result<ContextKey> key = expand_key(ectx, trust);
    ectx.variables = saved;
    auto fail = [&](std::string text) {
      state.failure = std::move(text);
      state.log.push_back({true, state.failure});
      return false;
    };
    if (!key) return fail(key.error().message);
    key->with_ca = trust && !key->verify_certificates.empty();
    if (*key == base) return true;
    Result<SharedCtx> ctx = context_for(*key, conn);
    if (!ctx) return fail(ctx.error().message);
    if (SSL_set_SSL_CTX(ssl, ctx->get()) == nullptr) return fail(tls_error("SSL_set_SSL_CTX"));
    // The certificates (and DH parameters) come with the context; the
    // cipher list, groups and options were copied into the SSL when it
    // was made, so set the new values there.
    if (key->ciphers != base.ciphers &&
        SSL_set_cipher_list(
            ssl, key->ciphers.empty() ? OSSL_default_cipher_list() : key->ciphers.c_str()) != 1) {
      return fail(tls_error("SSL_set_cipher_list"));
    }
    if (key->eccurve != base.eccurve) {
      Result<std::vector<int>> nids = curve_nids(key->eccurve);
      if (nids && !nids->empty())
        SSL_set1_groups(ssl, nids->data(), static_cast<int>(nids->size()));
    }
    if (key->options != base.options) {
      SSL_clear_options(ssl, base.options & ~key->options);
      SSL_set_options(ssl, key->options);
    }
    return true;
  }
};

ServerTls::ServerTls(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServerTls::~ServerTls() = default;

Result<std::shared_ptr<ServerTls>> ServerTls::create(ServerOptions options,
                                                     const expand::Extensions* extensions) {
  auto impl = std::make_unique<Impl>();
  const ServerOptions& o = options;
  impl->certificate = expand::compile(o.tls_certificate, extensions);
  impl->privatekey = expand::compile(o.tls_privatekey, extensions);
  impl->ciphers = expand::compile(o.tls_require_ciphers, extensions);
  impl->dhparam = expand::compile(o.tls_dhparam, extensions);
  impl->eccurve = expand::compile(o.tls_eccurve, extensions);
  impl->openssl_options = expand::compile(o.openssl_options, extensions);
  impl->verify_certificates = expand::compile(o.tls_verify_certificates, extensions);
  impl->crl = expand::compile(o.tls_crl, extensions);
  for (const std::string* s :
       {&o.tls_certificate, &o.tls_privatekey, &o.tls_require_ciphers, &o.tls_dhparam,
        &o.tls_eccurve, &o.openssl_options, &o.tls_verify_certificates, &o.tls_crl}) {
    if (mentions_sni(*s)) impl->reexpand_for_sni = true;
  }

  // What Exim checks at start-up.
  if (impl->openssl_options.is_literal()) {
    Result<uint64_t> bits = parse_openssl_options(impl->openssl_options.literal());
    if (!bits) return bits.take_error();
    impl->literal_options = *bits;
  }
  if (impl->ciphers.is_literal() && !impl->ciphers.literal().empty()) {
    std::string ciphers = normalise_ciphers(impl->ciphers.literal());
    SslCtxPtr scratch(SSL_CTX_new(TLS_server_method()));
    ERR_clear_error();
    if (!scratch || SSL_CTX_set_cipher_list(scratch.get(), ciphers.c_str()) != 1) {
      return Error::failed("tls_require_ciphers invalid: SSL_CTX_set_cipher_list(" + ciphers +
                           ") failed: " + take_openssl_error());
    }
  }
  impl->options = std::move(options);
  return std::shared_ptr<ServerTls>(new ServerTls(std::move(impl)));
}

Result<TlsStream> ServerTls::start(TlsStream::Socket& socket,
                                   const ServerConnection& connection) const {
  expand::Context fallback;
  expand::Context& ectx = connection.expand != nullptr ? *connection.expand : fallback;
  bool trust = connection.client_certificate != ClientCertificate::kNone;
  Result<ContextKey> key = impl_->expand_key(ectx, trust);
  if (!key) return key.take_error();
  bool verify = trust && !key->verify_certificates.empty();
  key->with_ca = verify;
  Result<SharedCtx> ctx = impl_->context_for(*key, connection);
  if (!ctx) return ctx.take_error();

  SSL* ssl = SSL_new(ctx->get());
  if (ssl == nullptr) return Error::failed(tls_error("SSL_new"));
  SSL_set_accept_state(ssl);
  TlsStream stream(socket, ssl, Role::kServer);
  ConnState& state = stream.state();
  if (verify) {
    state.verify_optional = connection.client_certificate == ClientCertificate::kTry;
    state.keep_passed_certificates = connection.keep_passed_certificates;
    SSL_set_verify(ssl,
                   SSL_VERIFY_PEER | (state.verify_optional ? 0 : SSL_VERIFY_FAIL_IF_NO_PEER_CERT),
                   verify_callback);
  }
  if (impl_->reexpand_for_sni) {
    state.on_sni = [self = shared_from_this(), connection, base = *key, trust, &state](
                       SSL* s, const std::string& sni) {
      return self->impl_->switch_for_sni(s, sni, base, trust, connection, state);
    };
  }

  if (connection.hooks != nullptr && connection.env != nullptr &&
      connection.hooks->has(TERN_HOOK_TLS_SERVER_SSL)) {
    SSL_up_ref(ssl);
    std::shared_ptr<void> keep(ssl, [](void* p) { SSL_free(static_cast<SSL*>(p)); });
    module_host::HookResult r =
        connection.hooks->run(TERN_HOOK_TLS_SERVER_SSL, *connection.env, ssl, keep);
    if (r.status != TERN_OK && r.status != TERN_DECLINE)
      return Error::failed(hook_failure(r, "connection"));
  }
  return stream;
}

size_t ServerTls::cached_contexts() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->cache.size();
}

}  // namespace tern::tls
