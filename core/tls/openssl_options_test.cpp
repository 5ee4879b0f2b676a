// core/tls/openssl_options_test.cpp: Exim's openssl_options names, + and -, defaults, errors.
#include "core/tls/openssl_options.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

namespace tern::tls {
namespace {

constexpr uint64_t kDefault = SSL_OP_NO_TICKET | SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 |
                              SSL_OP_SINGLE_DH_USE | SSL_OP_NO_RENEGOTIATION;

TEST(OpensslOptions, EmptyIsEximsDefault) {
  EXPECT_EQ(default_openssl_options(), kDefault);
  auto r = parse_openssl_options("");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, kDefault);
  r = parse_openssl_options("   \t ");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, kDefault);
}

// Every name of Exim 4.96's table (as built against OpenSSL 3) adds and
// removes its own flag, on top of the default.
TEST(OpensslOptions, EveryNameAddsAndRemoves) {
  struct Case {
    const char* name;
    uint64_t bit;
  };
  const Case cases[] = {
      {"all", SSL_OP_ALL},
      {"allow_no_dhe_kex", SSL_OP_ALLOW_NO_DHE_KEX},
      {"allow_unsafe_legacy_renegotiation", SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION},
      {"cipher_server_preference", SSL_OP_CIPHER_SERVER_PREFERENCE},
      {"cryptopro_tlsext_bug", SSL_OP_CRYPTOPRO_TLSEXT_BUG},
      {"dont_insert_empty_fragments", SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS},
      {"enable_middlebox_compat", SSL_OP_ENABLE_MIDDLEBOX_COMPAT},
      {"ephemeral_rsa", 0},
      {"legacy_server_connect", SSL_OP_LEGACY_SERVER_CONNECT},
      {"microsoft_big_sslv3_buffer", 0},
      {"microsoft_sess_id_bug", 0},
      {"msie_sslv2_rsa_padding", 0},
      {"netscape_challenge_bug", 0},
      {"netscape_reuse_cipher_change_bug", 0},
      {"no_anti_replay", SSL_OP_NO_ANTI_REPLAY},
      {"no_compression", SSL_OP_NO_COMPRESSION},
      {"no_encrypt_then_mac", SSL_OP_NO_ENCRYPT_THEN_MAC},
      {"no_renegotiation", SSL_OP_NO_RENEGOTIATION},
      {"no_session_resumption_on_renegotiation", SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION},
      {"no_sslv2", 0},
      {"no_sslv3", SSL_OP_NO_SSLv3},
      {"no_ticket", SSL_OP_NO_TICKET},
      {"no_tlsv1", SSL_OP_NO_TLSv1},
      {"no_tlsv1_1", SSL_OP_NO_TLSv1_1},
      {"no_tlsv1_2", SSL_OP_NO_TLSv1_2},
      {"no_tlsv1_3", SSL_OP_NO_TLSv1_3},
      {"prioritize_chacha", SSL_OP_PRIORITIZE_CHACHA},
      {"safari_ecdhe_ecdsa_bug", SSL_OP_SAFARI_ECDHE_ECDSA_BUG},
      {"single_dh_use", 0},
      {"single_ecdh_use", 0},
      {"ssleay_080_client_dh_bug", 0},
      {"sslref2_reuse_cert_type_bug", 0},
      {"tls_block_padding_bug", 0},
      {"tls_d5_bug", 0},
      {"tls_rollback_bug", SSL_OP_TLS_ROLLBACK_BUG},
      {"tlsext_padding", SSL_OP_TLSEXT_PADDING},
  };
  ASSERT_EQ(openssl_option_table().size(), std::size(cases));
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto added = parse_openssl_options(std::string("+") + c.name);
    ASSERT_TRUE(added) << added.error().message;
    EXPECT_EQ(*added, kDefault | c.bit);
    auto removed = parse_openssl_options(std::string("-") + c.name);
    ASSERT_TRUE(removed) << removed.error().message;
    EXPECT_EQ(*removed, kDefault & ~c.bit);
  }
}

TEST(OpensslOptions, ItemsApplyInOrder) {
  auto r = parse_openssl_options(
      "-no_ticket +no_tlsv1 +no_tlsv1_1\t+cipher_server_preference -no_tlsv1");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r,
            (kDefault & ~SSL_OP_NO_TICKET) | SSL_OP_NO_TLSv1_1 | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // -all removes the bug workarounds, whatever the default had.
  r = parse_openssl_options("+all -all");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, kDefault & ~SSL_OP_ALL);
}

TEST(OpensslOptions, ErrorsAreEximsText) {
  const char* bad[] = {"+no_such_option", "no_tlsv1", "+NO_TLSV1", "+no_tlsv1 -bogus", "+",
                       "+no_tlsv1,",      "*all"};
  for (const char* spec : bad) {
    auto r = parse_openssl_options(spec);
    ASSERT_FALSE(r) << spec;
    EXPECT_EQ(r.error().message, std::string("openssl_options parse error: ") + spec);
  }
}

TEST(OpensslOptions, BuiltinMacros) {
  auto macros = openssl_builtin_macros();
  auto has = [&](const char* name) {
    for (const auto& [n, v] : macros) {
      if (n == name) return v == "y";
    }
    return false;
  };
  EXPECT_TRUE(has("_HAVE_OPENSSL"));
  EXPECT_TRUE(has("_HAVE_TLS1_3"));
  EXPECT_TRUE(has("_OPT_OPENSSL_NO_TLSV1_3_X"));
  EXPECT_TRUE(has("_OPT_OPENSSL_CIPHER_SERVER_PREFERENCE_X"));
  EXPECT_FALSE(has("_OPT_OPENSSL_NO_TLSV1_3"));
  EXPECT_EQ(macros.size(), openssl_option_table().size() + 2);
}

}  // namespace
}  // namespace tern::tls
