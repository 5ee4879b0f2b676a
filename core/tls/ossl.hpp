// core/tls/ossl.hpp: small helpers over the OpenSSL C API shared by core/tls.
//
// Owning pointers for OpenSSL objects, and Exim's way of turning the OpenSSL
// error queue into text. Exim's tls_error() writes "(<what>): <message>",
// where the message is the FIRST error on the queue in OpenSSL's long form
// ("error:0A00010B:SSL routines::wrong version number"); the session logs it
// after "TLS error on connection from ...". Internal to core/tls.
#pragma once

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

namespace tern::tls {

template <class T, void (*Free)(T*)>
struct OsslDeleter {
  void operator()(T* p) const { Free(p); }
};

using SslCtxPtr = std::unique_ptr<SSL_CTX, OsslDeleter<SSL_CTX, SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OsslDeleter<SSL, SSL_free>>;
using BioPtr = std::unique_ptr<BIO, OsslDeleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, OsslDeleter<X509, X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OsslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OsslDeleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;

// A shared reference to an SSL_CTX (SSL_CTX_up_ref'd; freed with the last copy).
using SharedCtx = std::shared_ptr<SSL_CTX>;
SharedCtx share_ctx(SSL_CTX* ctx);  // takes ownership of one reference

// The first error on OpenSSL's queue in long form, then the queue cleared.
// "error:00000000:lib(0)::reason(0)" when the queue is empty, as Exim prints.
std::string take_openssl_error();

// Exim's tls_error() text: "(<what>): <message>"; with an empty message, the
// first queued OpenSSL error.
std::string tls_error(std::string_view what, std::string_view message = {});

// X509_NAME_oneline of the subject in Exim's 256-byte buffer:
// "/C=GB/O=Example/CN=mx.example"; empty when the name cannot be printed.
std::string subject_oneline(X509* cert);

}  // namespace tern::tls
