// core/tls/session_info.cpp: Exim's TLS variables and log fields from an SSL.
#include "core/tls/session_info.hpp"

#include <openssl/x509.h>

#include "core/text/strfuncs.hpp"
#include "core/tls/ossl.hpp"

namespace tern::tls {

namespace {

// Exim's string_printing2(s, SP_TAB|SP_SPACE) for the SNI= field: as
// string_printing, with tab and space escaped too.
std::string sni_printing(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ') {
      out += "\\040";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += text::string_printing(std::string_view(&c, 1));
    }
  }
  return out;
}

}  // namespace

SessionInfo SessionInfo::from_ssl(SSL* ssl, Role role, std::string sni, bool verify_overridden) {
  SessionInfo info;
  info.role = role;
  info.active = true;
  info.sni = std::move(sni);

  // "TLSv1.3" -> "TLS1.3": Exim drops the first 'v'.
  info.ver = SSL_get_version(ssl);
  if (size_t v = info.ver.find('v'); v != std::string::npos) info.ver.erase(v, 1);

  const SSL_CIPHER* c = SSL_get_current_cipher(ssl);
  if (c != nullptr) {
    int alg_bits = 0;
    SSL_CIPHER_get_bits(c, &alg_bits);
    info.bits = alg_bits;
    info.cipher = info.ver + ":" + SSL_CIPHER_get_name(c) + ":" + std::to_string(alg_bits);
    const char* std_name = SSL_CIPHER_standard_name(c);
    if (std_name != nullptr) info.cipher_std = std_name;
  }

  X509Ptr peer(SSL_get1_peer_certificate(ssl));
  if (peer) {
    info.has_peer_certificate = true;
    info.peerdn = subject_oneline(peer.get());
    info.certificate_verified = !verify_overridden && SSL_get_verify_result(ssl) == X509_V_OK;
  }
  return info;
}

std::string SessionInfo::log_fields(const LogSelectors& selectors) const {
  std::string out;
  if (!active) return out;
  if (selectors.tls_cipher && !cipher.empty()) out += " X=" + cipher;
  if (selectors.tls_certificate_verified && !cipher.empty()) {
    out += " CV=";
    out += !verified_by.empty() ? verified_by : certificate_verified ? "yes" : "no";
  }
  if (selectors.tls_peerdn && !peerdn.empty())
    out += " DN=\"" + text::string_printing(peerdn) + "\"";
  if (selectors.tls_sni && role == Role::kServer && !sni.empty())
    out += " SNI=" + sni_printing(sni);
  return out;
}

bool SessionInfo::append_variable(std::string_view name, std::string& out) const {
  if (!active) return false;
  std::string_view own = role == Role::kServer ? "tls_in_" : "tls_out_";
  std::string_view field;
  bool deprecated = false;  // $tls_cipher and friends: the session in context
  if (name.substr(0, own.size()) == own) {
    field = name.substr(own.size());
  } else if (name.substr(0, 4) == "tls_" && name.substr(0, 7) != "tls_in_" &&
             name.substr(0, 8) != "tls_out_") {
    field = name.substr(4);
    deprecated = true;
  } else {
    return false;
  }
  if (field == "bits") {
    out += std::to_string(bits);
  } else if (field == "certificate_verified") {
    out += certificate_verified || !verified_by.empty() ? "1" : "0";
  } else if (field == "cipher") {
    out += cipher;
  } else if (field == "peerdn") {
    out += peerdn;
  } else if (field == "sni") {
    out += sni;
  } else if (field == "cipher_std" && !deprecated) {
    out += cipher_std;
  } else if (field == "ver" && !deprecated) {
    out += ver;
  } else {
    return false;
  }
  return true;
}

}  // namespace tern::tls
