// core/tls/connection_state.cpp: the OpenSSL callbacks and their per-connection state.
#include "core/tls/connection_state.hpp"

#include <openssl/x509v3.h>

#include "core/tls/ossl.hpp"

namespace tern::tls {

namespace {

int ex_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ':';
    out += n;
  }
  return out;
}

// Exim's verify_event(): tls:cert for a certificate that passed; true when the event's
// answer refuses it and verification is not optional.
bool refused_by_event(ConnState& state, int depth, const std::string& dn) {
  if (!state.cert_event) return false;
  std::string verdict = state.cert_event(depth);
  if (verdict.empty()) return false;
  state.log.push_back({false, "SSL verify denied by event-action: depth=" + std::to_string(depth) + " cert=" + dn +
                                  ": " + verdict});
  if (!state.verify_optional) return true;
  state.verify_overridden = true;
  return false;
}

}  // namespace

void ConnState::attach(SSL* ssl) { SSL_set_ex_data(ssl, ex_index(), this); }

ConnState* ConnState::of(const SSL* ssl) {
  return static_cast<ConnState*>(SSL_get_ex_data(ssl, ex_index()));
}

int servername_callback(SSL* ssl, int* /*alert*/, void* /*arg*/) {
  ConnState* state = ConnState::of(ssl);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (state == nullptr || name == nullptr) return SSL_TLSEXT_ERR_OK;
  state->sni = name;
  if (state->on_sni && !state->on_sni(ssl, state->sni)) return SSL_TLSEXT_ERR_ALERT_FATAL;
  return SSL_TLSEXT_ERR_OK;
}

// Exim's verify_callback(): log every failure; accept it only when
// verification is optional, remembering that it was overridden; on the
// client, check the leaf against the expected host names.
int verify_callback(int preverify_ok, X509_STORE_CTX* store) {
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  ConnState* state = ssl != nullptr ? ConnState::of(ssl) : nullptr;
  if (state == nullptr) return preverify_ok;
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  int depth = X509_STORE_CTX_get_error_depth(store);
  std::string dn = subject_oneline(cert);

  if (preverify_ok == 0) {
    state->log.push_back(
        {false, "SSL verify error: depth=" + std::to_string(depth) +
                    " error=" + X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)) +
                    " cert=" + dn});
    if (!state->verify_optional) return 0;
    state->verify_overridden = true;
    return 1;
  }

  if (depth == 0 && state->role == Role::kClient && !state->verify_hostnames.empty()) {
    bool matched = false;
    for (const std::string& name : state->verify_hostnames) {
      int rc = X509_check_host(
          cert, name.c_str(), name.size(),
          X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_SINGLE_LABEL_SUBDOMAINS, nullptr);
      if (rc < 0) {
        state->log.push_back({false, "SSL verify error: internal error"});
        break;
      }
      if (rc > 0) {
        matched = true;
        break;
      }
    }
    if (!matched) {
      state->log.push_back({false, "SSL verify error: certificate name mismatch: DN=\"" + dn +
                                       "\" H=\"" + join(state->verify_hostnames) + "\""});
      if (!state->verify_optional) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
        return 0;
      }
      state->verify_overridden = true;
    }
  }
  if (state->keep_passed_certificates) {
    state->passed_certificates.emplace_back(depth, dn);
    return 1;
  }
  if (refused_by_event(*state, depth, dn)) return 0;
  return 1;
}

}  // namespace tern::tls
