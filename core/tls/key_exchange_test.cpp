// core/tls/key_exchange_test.cpp: tls_dhparam names, files, "none", the size limit; tls_eccurve.
#include "core/tls/key_exchange.hpp"

#include <gtest/gtest.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include "core/tls/test_support.hpp"

namespace tern::tls {
namespace {

using namespace testing;

TEST(DhParams, EveryNameEximKnows) {
  struct Case {
    const char* name;
    int bits;
  };
  const Case cases[] = {
      {"", 2048},  // unset: ike23
      {"default", 2048},
      {"exim.dev.20160529.1", 2048},
      {"exim.dev.20160529.2", 2048},
      {"exim.dev.20160529.3", 2048},
      {"ffdhe2048", 2048},
      {"ffdhe3072", 3072},
      {"ffdhe4096", 4096},
      {"ffdhe6144", 6144},
      {"ffdhe8192", 8192},
      {"ike1", 768},
      {"ike2", 1024},
      {"ike5", 1536},
      {"ike14", 2048},
      {"ike15", 3072},
      {"ike16", 4096},
      {"ike17", 6144},
      {"ike18", 8192},
      {"ike22", 1024},
      {"ike23", 2048},
      {"ike24", 2048},
      {"FFDHE2048", 2048},  // names are case-insensitive
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = load_dh_params(c.name);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(*r);
    EXPECT_TRUE(EVP_PKEY_is_a(r->get(), "DH"));
    EXPECT_EQ(EVP_PKEY_get_bits(r->get()), c.bits);
  }
  // "default" is exim.dev.20160529.3, and the unset default is ike23.
  auto a = load_dh_params("default"), b = load_dh_params("exim.dev.20160529.3");
  auto c = load_dh_params(""), d = load_dh_params("ike23"), e = load_dh_params("ffdhe2048");
  EXPECT_EQ(EVP_PKEY_parameters_eq(a->get(), b->get()), 1);
  EXPECT_EQ(EVP_PKEY_parameters_eq(c->get(), d->get()), 1);
  EXPECT_NE(EVP_PKEY_parameters_eq(c->get(), e->get()), 1);
}

TEST(DhParams, NoneFileAndErrors) {
  auto none = load_dh_params("none");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);

  ScratchDir dir;
  auto group = load_dh_params("ffdhe2048");
  {
    BioPtr bio(BIO_new_file(dir.file("dh.pem").c_str(), "w"));
    ASSERT_EQ(PEM_write_bio_Parameters(bio.get(), group->get()), 1);
  }
  auto file = load_dh_params(dir.file("dh.pem"));
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(EVP_PKEY_parameters_eq(file->get(), group->get()), 1);

  auto missing = load_dh_params(dir.file("missing.pem"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "(could not read dhparams file " + dir.file("missing.pem") +
                                         "): No such file or directory");

  write_file(dir.file("junk.pem"), "not PEM at all\n");
  auto junk = load_dh_params(dir.file("junk.pem"));
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().message.rfind(
                "(Could not read tls_dhparams \"" + dir.file("junk.pem") + "\"): error:", 0),
            0u)
      << junk.error().message;

  auto unknown = load_dh_params("ike99");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "(Unknown standard DH prime \"ike99\"): unknown name");
}

TEST(EcCurves, Lists) {
  auto nids = curve_nids("prime256v1 : P-384 : X25519");
  ASSERT_TRUE(nids) << nids.error().message;
  EXPECT_EQ(*nids, (std::vector<int>{NID_X9_62_prime256v1, NID_secp384r1, NID_X25519}));
  EXPECT_TRUE(curve_nids("auto")->empty());
  EXPECT_TRUE(curve_nids("secp384r1:auto")->empty());  // "auto" anywhere wins
  EXPECT_TRUE(curve_nids("")->empty());
  auto bad = curve_nids("prime256v1:bogus");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "Unknown curve name in tls_eccurve 'bogus'");
}

// Through real handshakes: a TLS 1.2 client that offers only DHE suites.
struct DhCase {
  std::string dhparam;
  int64_t max_bits;
  bool works;
};

TEST(DhParams, HandshakesOfferDheOnlyWithParameters) {
  ScratchDir dir;
  {
    auto group = load_dh_params("ffdhe2048");
    BioPtr bio(BIO_new_file(dir.file("dh.pem").c_str(), "w"));
    PEM_write_bio_Parameters(bio.get(), group->get());
  }
  const DhCase cases[] = {
      {"", kDefaultDhMaxBits, true},  // Exim's default prime
      {"ffdhe2048", kDefaultDhMaxBits, true},
      {dir.file("dh.pem"), kDefaultDhMaxBits, true},
      {"none", kDefaultDhMaxBits, false},
      {"ffdhe3072", kDefaultDhMaxBits, false},  // over tls_dh_max_bits: silently unused
      {"ffdhe3072", 4096, true},
  };
  for (const DhCase& c : cases) {
    SCOPED_TRACE(c.dhparam + " max " + std::to_string(c.max_bits));
    ServerOptions o = rsa_server_options();
    o.tls_dhparam = c.dhparam;
    o.tls_dh_max_bits = c.max_bits;
    auto server = ServerTls::create(o);
    ASSERT_TRUE(server) << server.error().message;
    ServerConnection conn;
    ClientSpec spec;
    spec.max_version = TLS1_2_VERSION;
    spec.ciphers = "DHE-RSA-AES256-GCM-SHA384";
    auto [srv, cli] =
        serve_once(**server, conn, [&](uint16_t port) { return run_client(port, spec); });
    ASSERT_TRUE(srv.started) << srv.start_error;
    EXPECT_EQ(cli.handshake_ok, c.works) << cli.error;
    if (c.works) {
      EXPECT_EQ(srv.info.cipher, "TLS1.2:DHE-RSA-AES256-GCM-SHA384:256");
    } else {
      EXPECT_EQ(srv.error_text, "(SSL_accept): error:0A0000C1:SSL routines::no shared cipher");
    }
  }
}

TEST(DhParams, BadValueFailsStart) {
  ServerOptions o = rsa_server_options();
  o.tls_dhparam = "nosuchprime";
  auto server = ServerTls::create(o);
  ASSERT_TRUE(server);
  auto [srv, cli] =
      serve_once(**server, ServerConnection{}, [](uint16_t port) { return run_client(port, {}); });
  EXPECT_FALSE(srv.started);
  EXPECT_EQ(srv.start_error, "(Unknown standard DH prime \"nosuchprime\"): unknown name");
}

TEST(EcCurves, GroupIsNegotiated) {
  for (auto [curve, nid] :
       {std::pair{"secp384r1", NID_secp384r1}, std::pair{"prime256v1", NID_X9_62_prime256v1}}) {
    SCOPED_TRACE(curve);
    ServerOptions o = rsa_server_options();
    o.tls_eccurve = curve;
    auto server = ServerTls::create(o);
    ASSERT_TRUE(server);
    for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
      ClientSpec spec;
      spec.max_version = version;
      auto [srv, cli] = serve_once(**server, ServerConnection{},
                                   [&](uint16_t port) { return run_client(port, spec); });
      ASSERT_TRUE(cli.handshake_ok) << cli.error << srv.error_text;
      EXPECT_EQ(cli.group, nid);
    }
  }
  ServerOptions o = rsa_server_options();
  o.tls_eccurve = "bogus";
  auto server = ServerTls::create(o);
  ASSERT_TRUE(server);
  auto [srv, cli] =
      serve_once(**server, ServerConnection{}, [](uint16_t port) { return run_client(port, {}); });
  EXPECT_EQ(srv.start_error, "Unknown curve name in tls_eccurve 'bogus'");
}

}  // namespace
}  // namespace tern::tls
