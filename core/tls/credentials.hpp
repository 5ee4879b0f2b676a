// core/tls/credentials.hpp: certificates, keys and trust anchors on an SSL_CTX.
//
// The file handling of Exim 4.96's tls_expand_session_files() and
// setup_certs(), shared by the server and the client contexts:
//  - certificates: a colon list of PEM files, each loaded with
//    SSL_CTX_use_certificate_chain_file (so several certificates of different
//    key types, e.g. RSA plus ECDSA, live in one context and OpenSSL picks by
//    the client's signature algorithms); then the private keys, a colon list
//    of PEM files (or, when empty, the certificate files themselves). Every
//    certificate must end up with its key.
//  - trust anchors (tls_verify_certificates): "system" (or "system,...")
//    means OpenSSL's default paths only; otherwise a file or a directory of
//    hashed names, always in addition to the default paths (as Exim); an
//    empty file adds nothing. A file's names are also sent to clients as the
//    acceptable CA list (server). tls_crl: a file or directory of CRLs,
//    checked for the whole chain.
//  - a self-signed certificate for a server without tls_certificate.
// Errors are Exim's texts, naming the file:
//   (SSL_CTX_use_certificate_chain_file file=/etc/tern/cert.pem): error:80000002:system library::No
//   such file or directory (SSL_CTX_use_PrivateKey_file file=/etc/tern/key.pem):
//   error:05800074:x509 certificate routines::key values mismatch
#pragma once

#include <openssl/ssl.h>

#include <string>
#include <string_view>

#include "core/base/result.hpp"
#include "core/tls/ossl.hpp"

namespace tern::tls {

// Load the certificate and key lists (expanded values).
Status load_certificates(SSL_CTX* ctx, std::string_view certificates, std::string_view privatekeys);

// Set up trust anchors and CRLs (expanded values). `send_ca_names`: the
// server announces the names of a file's certificates to its clients.
Status load_trust(SSL_CTX* ctx, std::string_view verify_certificates, std::string_view crl,
                  bool send_ca_names);

// A self-signed RSA-2048 certificate for `hostname` (Exim's subject: C=UK,
// O=Exim Developers, CN=hostname), valid for two hours from now.
struct SelfSigned {
  X509Ptr cert;
  PkeyPtr key;
};
Result<SelfSigned> make_self_signed(std::string_view hostname);
// Install it on `ctx` (the context takes references of its own).
Status install_self_signed(SSL_CTX* ctx, const SelfSigned& self_signed);

}  // namespace tern::tls
