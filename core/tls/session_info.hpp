// core/tls/session_info.hpp: what Exim records about an established TLS session.
//
// Filled from the SSL object when the handshake completes; the values are
// Exim 4.96's with OpenSSL:
//   $tls_in_ver                   TLS1.3     (SSL_get_version without the "v")
//   $tls_in_cipher                TLS1.3:TLS_AES_256_GCM_SHA384:256
//                                 (version:OpenSSL cipher name:algorithm bits)
//   $tls_in_cipher_std            TLS_AES_256_GCM_SHA384 (the RFC name)
//   $tls_in_bits                  256
//   $tls_in_peerdn                /C=GB/O=Example/CN=client.example (OpenSSL's
//                                 one-line form, at most 255 characters); empty
//                                 without a peer certificate
//   $tls_in_sni                   the client's Server Name Indication
//   $tls_in_certificate_verified  1 when the peer's certificate verified
// and the same as $tls_out_* for a client session. The fields Exim adds to
// the `<=` (or `=>`) log line, each under its log selector:
//   X=<cipher> CV=yes|no|<module verdict> DN="<peerdn>" SNI=<sni>
// (X= and CV= whenever TLS is in use; DN= only with a peer certificate;
// SNI= only inbound and only when the client sent one).
#pragma once

#include <openssl/ssl.h>

#include <string>
#include <string_view>

namespace tern::tls {

enum class Role { kServer, kClient };

// Which TLS fields go on a log line (Exim's log_selector names; the first
// two are on by default).
struct LogSelectors {
  bool tls_cipher = true;
  bool tls_certificate_verified = true;
  bool tls_peerdn = false;
  bool tls_sni = false;
};

struct SessionInfo {
  Role role = Role::kServer;
  bool active = false;  // a handshake completed
  std::string ver;
  std::string cipher;
  std::string cipher_std;
  int bits = 0;
  std::string peerdn;
  std::string sni;
  bool has_peer_certificate = false;
  bool certificate_verified = false;
  // CV= value a TERN_HOOK_TLS_CLIENT_AFTER module gave (e.g. "dane"); it
  // also counts as verified. Empty: CV=yes or CV=no.
  std::string verified_by;

  // The fields from `ssl` after its handshake. `verify_overridden`: a
  // verification failure was accepted (tls_try_verify_hosts), so the
  // certificate does not count as verified.
  static SessionInfo from_ssl(SSL* ssl, Role role, std::string sni, bool verify_overridden);

  // " X=... CV=... DN=\"...\" SNI=..." (with the leading spaces), or "" when
  // no TLS is active.
  std::string log_fields(const LogSelectors& selectors = {}) const;

  // The value of expansion variable `name` for this session: tls_in_* for a
  // server session, tls_out_* for a client one, and the deprecated tls_bits,
  // tls_certificate_verified, tls_cipher, tls_peerdn and tls_sni. Appends to
  // `out` and returns true; false for any other name, or when no TLS is
  // active (the expansion then gives Exim's unset value).
  bool append_variable(std::string_view name, std::string& out) const;
};

}  // namespace tern::tls
