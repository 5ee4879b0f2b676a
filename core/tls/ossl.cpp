// core/tls/ossl.cpp: OpenSSL error text and object ownership helpers.
#include "core/tls/ossl.hpp"

namespace tern::tls {

SharedCtx share_ctx(SSL_CTX* ctx) { return SharedCtx(ctx, SSL_CTX_free); }

std::string take_openssl_error() {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

std::string tls_error(std::string_view what, std::string_view message) {
  std::string out = "(";
  out += what;
  out += "): ";
  if (message.empty()) {
    out += take_openssl_error();
  } else {
    out += message;
  }
  return out;
}

std::string subject_oneline(X509* cert) {
  if (cert == nullptr) return {};
  char buf[256];
  if (X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf) == nullptr) return {};
  buf[sizeof buf - 1] = '\0';
  return buf;
}

}  // namespace tern::tls
