// core/tls/key_exchange.hpp: `tls_dhparam` and `tls_eccurve` on a server context.
//
// tls_dhparam (expanded value), as Exim 4.96 with OpenSSL:
//   unset or empty   Exim's default prime, "ike23" (RFC 5114 2048-bit MODP
//                    group with 224-bit subgroup)
//   "none"           no DH parameters: DHE cipher suites are not offered
//   "/path"          PEM "DH PARAMETERS" read from the file
//   a name           one of Exim's standard primes, case-insensitive:
//                    ffdhe2048..ffdhe8192 (RFC 7919), ike1 ike2 ike5 ike14..ike18
//                    (RFC 2409/3526), ike22..ike24 (RFC 5114), exim.dev.20160529.1..3
//                    and "default" (= exim.dev.20160529.3)
// A prime larger than tls_dh_max_bits (default 2236) is silently not used,
// as if "none" (so ffdhe3072 and up need a larger tls_dh_max_bits).
//
// tls_eccurve (expanded value; default "auto"): "auto" leaves OpenSSL's
// choice of groups; empty sets nothing; otherwise a colon list of curve or
// group names (prime256v1, secp384r1, P-521, X25519, ...) that becomes the
// context's supported groups (for TLS 1.3 key exchange too).
//
// Errors are Exim's texts, e.g.
//   (could not read dhparams file /etc/x.pem): No such file or directory
//   (Unknown standard DH prime "ike99"): unknown name
//   (Could not read tls_dhparams "/etc/x.pem"): error:...
//   Unknown curve name in tls_eccurve 'foo'
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/tls/ossl.hpp"

namespace tern::tls {

inline constexpr int64_t kDefaultDhMaxBits = 2236;

// The DH parameters `dhparam` names (see above); a null pointer for "none".
Result<PkeyPtr> load_dh_params(std::string_view dhparam);

// Load and install tls_dhparam on `ctx`, honouring `max_bits`.
Status apply_dhparam(SSL_CTX* ctx, std::string_view dhparam, int64_t max_bits);

// The NIDs of a tls_eccurve list; empty for "auto" or an empty value.
Result<std::vector<int>> curve_nids(std::string_view eccurve);

// Install tls_eccurve on `ctx`.
Status apply_eccurve(SSL_CTX* ctx, std::string_view eccurve);

}  // namespace tern::tls
