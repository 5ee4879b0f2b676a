// core/tls/openssl_options.hpp: Exim's `openssl_options` main option.
//
// The value is a space-separated list of `+name` / `-name` items, each adding
// or removing one SSL_OP_* flag from Exim's default set
//   +no_sslv2 +no_sslv3 +single_dh_use +no_ticket +no_renegotiation
// (several of these are 0 in OpenSSL 3; the names stay valid). The names are
// Exim 4.96's table, built from the SSL_OP_* macros OpenSSL 3 defines; an
// unknown name, or an item without + or -, is Exim's configuration error
//   openssl_options parse error: <value>
// The flags are applied with SSL_CTX_set_options, i.e. added to OpenSSL's
// own defaults, never cleared from them (as Exim does), by both the server
// and the client contexts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/result.hpp"

namespace tern::tls {

// Exim's default set, used when the option is unset or empty.
uint64_t default_openssl_options();

// Parse an (already expanded) openssl_options value into SSL_OP_* bits.
Result<uint64_t> parse_openssl_options(std::string_view spec);

// The names Exim knows, sorted, with their SSL_OP_* values.
const std::vector<std::pair<std::string_view, uint64_t>>& openssl_option_table();

// The built-in macros Exim defines for its OpenSSL build: _HAVE_OPENSSL,
// _HAVE_TLS1_3 and _OPT_OPENSSL_<NAME>_X for every name of the table (the
// trailing X keeps .ifdef _OPT_OPENSSL_NO_TLSV1 from matching ..._TLSV1_3).
// Values "y". (_HAVE_TLS_OCSP* belong to the ocsp module.)
std::vector<std::pair<std::string, std::string>> openssl_builtin_macros();

}  // namespace tern::tls
