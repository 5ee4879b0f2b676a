// core/tls/credentials.cpp: certificate, key, CA and CRL files on a context.
#include "core/tls/credentials.hpp"

#include <openssl/rsa.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "core/text/list.hpp"

namespace tern::tls {

Status load_certificates(SSL_CTX* ctx, std::string_view certificates,
                         std::string_view privatekeys) {
  std::vector<std::string> cert_files = text::list_items(certificates);
  std::vector<std::string> key_files =
      privatekeys.empty() ? cert_files : text::list_items(privatekeys);

  // As Exim: every certificate first, then every key. OpenSSL keeps one
  // certificate per key type and files each key with the certificate of its
  // type, so the two lists need not be in the same order.
  std::vector<std::pair<X509Ptr, std::string>> loaded;
  for (const std::string& file : cert_files) {
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx, file.c_str()) != 1) {
      return Error::failed(tls_error("SSL_CTX_use_certificate_chain_file file=" + file));
    }
    X509* leaf = SSL_CTX_get0_certificate(ctx);
    if (leaf != nullptr && X509_up_ref(leaf) == 1) loaded.emplace_back(X509Ptr(leaf), file);
  }
  for (const std::string& file : key_files) {
    ERR_clear_error();
    if (SSL_CTX_use_PrivateKey_file(ctx, file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return Error::failed(tls_error("SSL_CTX_use_PrivateKey_file file=" + file));
    }
  }
  // A certificate left without its key would never be offered; say so now
  // rather than fail handshakes later. (Selecting a certificate succeeds only
  // when its slot holds a key, which OpenSSL checked to match.)
  for (const auto& [cert, file] : loaded) {
    if (SSL_CTX_select_current_cert(ctx, cert.get()) != 1) {
      ERR_clear_error();
      return Error::failed(tls_error("SSL_CTX_check_private_key file=" + file,
                                     "no matching private key in tls_privatekey"));
    }
  }
  ERR_clear_error();
  return {};
}

Status load_trust(SSL_CTX* ctx, std::string_view verify_certificates, std::string_view crl,
                  bool send_ca_names) {
  if (verify_certificates.empty()) return {};
  // The system's trust anchors are always included, as in Exim.
  if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return Error::failed(tls_error("SSL_CTX_set_default_verify_paths"));
  }
  std::string path(verify_certificates);
  if (path != "system" && path.rfind("system,", 0) != 0) {
    struct stat st;
    if (stat(path.c_str(), &st) < 0) {
      return Error::failed("failed to stat " + path + " for certificates: " + std::strerror(errno));
    }
    bool dir = S_ISDIR(st.st_mode);
    // An empty file would give OpenSSL's unhelpful error; it simply adds no
    // anchor.
    if (dir || st.st_size > 0) {
      if (SSL_CTX_load_verify_locations(ctx, dir ? nullptr : path.c_str(),
                                        dir ? path.c_str() : nullptr) != 1) {
        return Error::failed(tls_error("SSL_CTX_load_verify_locations"));
      }
    }
    if (!dir && send_ca_names) {
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(path.c_str());
      if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);
      ERR_clear_error();
    }
  }

  if (crl.empty()) return {};
  std::string crl_path(crl);
  struct stat st;
  if (stat(crl_path.c_str(), &st) < 0) {
    return Error::failed("failed to stat " + crl_path +
                         " for certificates revocation lists: " + std::strerror(errno));
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  bool dir = S_ISDIR(st.st_mode);
  if (X509_STORE_load_locations(store, dir ? nullptr : crl_path.c_str(),
                                dir ? crl_path.c_str() : nullptr) != 1) {
    return Error::failed(tls_error("X509_STORE_load_locations"));
  }
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  return {};
}

Result<SelfSigned> make_self_signed(std::string_view hostname) {
  auto fail = [](const char* where) { return Error::failed(tls_error(where)); };
  PkeyPtr key(EVP_RSA_gen(2048));
  if (!key) return fail("generating pkey");
  X509Ptr cert(X509_new());
  if (!cert) return fail("allocating cert");
  X509_set_version(cert.get(), 2);  // version 3
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 2L * 60 * 60);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  std::string cn(hostname);
  X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("UK"),
                             -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Exim Developers"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  // Exim signs with MD5; SHA-256 works with every client and nobody can
  // verify this certificate anyway.
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return fail("signing cert");
  return SelfSigned{std::move(cert), std::move(key)};
}

Status install_self_signed(SSL_CTX* ctx, const SelfSigned& self_signed) {
  if (SSL_CTX_use_certificate(ctx, self_signed.cert.get()) != 1) {
    return Error::failed(tls_error("installing selfsign cert"));
  }
  if (SSL_CTX_use_PrivateKey(ctx, self_signed.key.get()) != 1) {
    return Error::failed(tls_error("installing selfsign key"));
  }
  return {};
}

}  // namespace tern::tls
