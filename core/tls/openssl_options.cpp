// core/tls/openssl_options.cpp: Exim's openssl_options table and parser.
#include "core/tls/openssl_options.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>

namespace tern::tls {

namespace {

// Exim 4.96's names, sorted (looked up by binary search, as Exim does). Each
// exists when OpenSSL defines its SSL_OP_* macro; OpenSSL 3 defines them all,
// some as 0 (obsolete workarounds kept for source compatibility).
const std::vector<std::pair<std::string_view, uint64_t>> kTable = {
    {"all", SSL_OP_ALL},
    {"allow_no_dhe_kex", SSL_OP_ALLOW_NO_DHE_KEX},
    {"allow_unsafe_legacy_renegotiation", SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION},
    {"cipher_server_preference", SSL_OP_CIPHER_SERVER_PREFERENCE},
    {"cryptopro_tlsext_bug", SSL_OP_CRYPTOPRO_TLSEXT_BUG},
    {"dont_insert_empty_fragments", SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS},
    {"enable_middlebox_compat", SSL_OP_ENABLE_MIDDLEBOX_COMPAT},
    {"ephemeral_rsa", SSL_OP_EPHEMERAL_RSA},
    {"legacy_server_connect", SSL_OP_LEGACY_SERVER_CONNECT},
    {"microsoft_big_sslv3_buffer", SSL_OP_MICROSOFT_BIG_SSLV3_BUFFER},
    {"microsoft_sess_id_bug", SSL_OP_MICROSOFT_SESS_ID_BUG},
    {"msie_sslv2_rsa_padding", SSL_OP_MSIE_SSLV2_RSA_PADDING},
    {"netscape_challenge_bug", SSL_OP_NETSCAPE_CHALLENGE_BUG},
    {"netscape_reuse_cipher_change_bug", SSL_OP_NETSCAPE_REUSE_CIPHER_CHANGE_BUG},
    {"no_anti_replay", SSL_OP_NO_ANTI_REPLAY},
    {"no_compression", SSL_OP_NO_COMPRESSION},
    {"no_encrypt_then_mac", SSL_OP_NO_ENCRYPT_THEN_MAC},
    {"no_renegotiation", SSL_OP_NO_RENEGOTIATION},
    {"no_session_resumption_on_renegotiation", SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION},
    {"no_sslv2", SSL_OP_NO_SSLv2},
    {"no_sslv3", SSL_OP_NO_SSLv3},
    {"no_ticket", SSL_OP_NO_TICKET},
    {"no_tlsv1", SSL_OP_NO_TLSv1},
    {"no_tlsv1_1", SSL_OP_NO_TLSv1_1},
    {"no_tlsv1_2", SSL_OP_NO_TLSv1_2},
    {"no_tlsv1_3", SSL_OP_NO_TLSv1_3},
    {"prioritize_chacha", SSL_OP_PRIORITIZE_CHACHA},
    {"safari_ecdhe_ecdsa_bug", SSL_OP_SAFARI_ECDHE_ECDSA_BUG},
    {"single_dh_use", SSL_OP_SINGLE_DH_USE},
    {"single_ecdh_use", SSL_OP_SINGLE_ECDH_USE},
    {"ssleay_080_client_dh_bug", SSL_OP_SSLEAY_080_CLIENT_DH_BUG},
    {"sslref2_reuse_cert_type_bug", SSL_OP_SSLREF2_REUSE_CERT_TYPE_BUG},
    {"tls_block_padding_bug", SSL_OP_TLS_BLOCK_PADDING_BUG},
    {"tls_d5_bug", SSL_OP_TLS_D5_BUG},
    {"tls_rollback_bug", SSL_OP_TLS_ROLLBACK_BUG},
    {"tlsext_padding", SSL_OP_TLSEXT_PADDING},
};

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

}  // namespace

uint64_t default_openssl_options() {
  return SSL_OP_NO_TICKET | SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_SINGLE_DH_USE |
         SSL_OP_NO_RENEGOTIATION;
}

const std::vector<std::pair<std::string_view, uint64_t>>& openssl_option_table() { return kTable; }

Result<uint64_t> parse_openssl_options(std::string_view spec) {
  auto fail = [&] { return Error::failed("openssl_options parse error: " + std::string(spec)); };
  uint64_t result = default_openssl_options();
  size_t i = 0;
  while (true) {
    while (i < spec.size() && is_space(spec[i])) ++i;
    if (i == spec.size()) break;
    if (spec[i] != '+' && spec[i] != '-') return fail();
    bool adding = spec[i++] == '+';
    size_t end = i;
    while (end < spec.size() && !is_space(spec[end])) ++end;
    std::string_view name = spec.substr(i, end - i);
    auto it =
        std::lower_bound(kTable.begin(), kTable.end(), name,
                         [](const auto& entry, std::string_view n) { return entry.first < n; });
    if (it == kTable.end() || it->first != name) return fail();
    if (adding) {
      result |= it->second;
    } else {
      result &= ~it->second;
    }
    i = end;
  }
  return result;
}

std::vector<std::pair<std::string, std::string>> openssl_builtin_macros() {
  std::vector<std::pair<std::string, std::string>> out = {{"_HAVE_OPENSSL", "y"},
                                                          {"_HAVE_TLS1_3", "y"}};
  for (const auto& [name, value] : kTable) {
    std::string macro = "_OPT_OPENSSL_";
    for (char c : name) macro += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    macro += "_X";
    out.emplace_back(std::move(macro), "y");
  }
  return out;
}

}  // namespace tern::tls
