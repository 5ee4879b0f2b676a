// core/tls/connection_state.hpp: per-connection data for OpenSSL's callbacks.
//
// OpenSSL calls back (certificate verification, the server name indication)
// in the middle of a handshake with nothing but the SSL*; the ConnState a
// TlsStream owns is attached to its SSL as ex_data, so the callbacks find
// the connection's settings and leave their findings there. Internal to
// core/tls.
#pragma once

#include <openssl/ssl.h>

#include <functional>
#include <string>
#include <vector>

#include "core/tls/session_info.hpp"
#include "core/tls/stream.hpp"

namespace tern::module_host {
class HookRegistry;
struct CallEnv;
}  // namespace tern::module_host

namespace tern::tls {

struct ConnState {
  Role role = Role::kServer;

  // Certificate verification (Exim's verify_callback): a failure is logged;
  // when `verify_optional` (tls_try_verify_hosts) it is accepted but the
  // certificate does not count as verified.
  bool verify_optional = false;
  bool verify_overridden = false;
  // Client: names the server's certificate must match (X509_check_host,
  // no partial wildcards, wildcards for single labels only).
  std::vector<std::string> verify_hostnames;

  // The SNI the client sent (server) or that we sent (client).
  std::string sni;
  // Server: called from the servername callback to re-expand the options
  // with $tls_in_sni and switch context; false fails the handshake, with
  // `failure` saying why.
  std::function<bool(SSL* ssl, const std::string& sni)> on_sni;
  std::string failure;

  // tls:cert (Exim's verify_event): called for each certificate of the chain that passed
  // verification, with its depth; a non-empty answer refuses it (logged; with
  // `verify_optional` the certificate only counts as unverified).
  std::function<std::string(int depth)> cert_event;
  // Server: tls:cert cannot run on the I/O thread in the middle of a handshake, so each
  // certificate that passed is kept here (depth, subject) for the session to raise the
  // events once the handshake is done (see Session::start_tls).
  bool keep_passed_certificates = false;
  std::vector<std::pair<int, std::string>> passed_certificates;

  // Client: hooks run after the handshake (TERN_HOOK_TLS_CLIENT_AFTER).
  const module_host::HookRegistry* hooks = nullptr;
  const module_host::CallEnv* env = nullptr;

  // Lines for the main (or panic) log, in the order they happened.
  std::vector<LogLine> log;

  void attach(SSL* ssl);
  static ConnState* of(const SSL* ssl);
};

// SSL_CTX_set_tlsext_servername_callback target for every server context.
int servername_callback(SSL* ssl, int* alert, void* arg);
// SSL_set_verify callback for server and client.
int verify_callback(int preverify_ok, X509_STORE_CTX* store);

}  // namespace tern::tls
