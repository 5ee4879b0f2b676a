// core/tls/server_test.cpp: ServerTls and TlsStream against a real OpenSSL client on loopback.
#include "core/tls/server.hpp"

#include <gtest/gtest.h>

#include "core/expand/expand.hpp"
#include "core/tls/test_support.hpp"

namespace tern::tls {
namespace {

using namespace testing;

std::shared_ptr<ServerTls> make_server(ServerOptions o) {
  if (o.primary_hostname.empty()) o.primary_hostname = "host.test.example";
  auto r = ServerTls::create(std::move(o));
  if (!r) ADD_FAILURE() << r.error().message;
  return r ? *r : nullptr;
}

ServerOptions rsa_options() { return rsa_server_options(); }

// A session's expansion context with some variables.
struct Session {
  expand::MapVariables vars;
  expand::Context ctx;
  Session() { ctx.variables = &vars; }
  ServerConnection conn(ClientCertificate cc = ClientCertificate::kNone) {
    ServerConnection c;
    c.expand = &ctx;
    c.client_certificate = cc;
    return c;
  }
};

auto client(ClientSpec spec) {
  return [spec](uint16_t port) { return run_client(port, spec); };
}

TEST(ServerTls, Tls13WithEximsCipherFormat) {
  auto server = make_server(rsa_options());
  Session s;
  auto [srv, cli] = serve_once(*server, s.conn(), client({}));
  ASSERT_TRUE(srv.started) << srv.start_error;
  ASSERT_FALSE(srv.handshake) << srv.error_text;
  ASSERT_TRUE(cli.handshake_ok) << cli.error;
  EXPECT_EQ(cli.version, "TLSv1.3");
  EXPECT_EQ(srv.info.ver, "TLS1.3");
  EXPECT_EQ(srv.info.cipher, "TLS1.3:TLS_AES_256_GCM_SHA384:256");
  EXPECT_EQ(srv.info.cipher_std, "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(srv.info.bits, 256);
  EXPECT_EQ(srv.info.peerdn, "");
  EXPECT_FALSE(srv.info.certificate_verified);
  EXPECT_EQ(srv.info.log_fields(), " X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no");
  EXPECT_EQ(srv.received, "hello\n");
  EXPECT_EQ(cli.received, "ok \n");
  EXPECT_EQ(cli.peer_subject, "/C=GB/O=Tern Test/CN=mx.test.example");
}

TEST(ServerTls, Tls12WithEximsCipherFormat) {
  auto server = make_server(rsa_options());
  Session s;
  auto [srv, cli] = serve_once(*server, s.conn(), client({.max_version = TLS1_2_VERSION}));
  ASSERT_FALSE(srv.handshake) << srv.error_text;
  EXPECT_EQ(cli.version, "TLSv1.2");
  EXPECT_EQ(srv.info.ver, "TLS1.2");
  EXPECT_EQ(srv.info.cipher, "TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256");
  EXPECT_EQ(srv.info.cipher_std, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
  std::string v;
  EXPECT_TRUE(srv.info.append_variable("tls_in_ver", v));
  EXPECT_EQ(v, "TLS1.2");
}

// TLS 1.0 and 1.1 are refused: Exim sets no minimum, and OpenSSL 3 at its
// default security level no longer negotiates them.
TEST(ServerTls, OldProtocolsAreRefused) {
  auto server = make_server(rsa_options());
  Session s;
  auto [srv, cli] =
      serve_once(*server, s.conn(), client({.max_version = TLS1_1_VERSION, .security_level = 0}));
  EXPECT_FALSE(cli.handshake_ok);
  EXPECT_EQ(srv.handshake, make_error_code(Errc::kProtocol));
  // (TLS 1.1 signs with MD5+SHA-1, below security level 1.)
  EXPECT_EQ(srv.error_text,
            "(SSL_accept): error:0A000076:SSL routines::no suitable signature algorithm");
}

TEST(ServerTls, RsaAndEcdsaChosenBySignatureAlgorithms) {
  ServerOptions o;
  o.tls_certificate = pki().rsa_cert + ":" + pki().ec_cert;
  o.tls_privatekey = pki().ec_key + ":" + pki().rsa_key;  // any order: OpenSSL files keys by type
  auto server = make_server(o);
  Session s;
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SCOPED_TRACE(version);
    auto [srv_ec, cli_ec] =
        serve_once(*server, s.conn(), client({.max_version = version, .sigalgs = "ECDSA+SHA256"}));
    ASSERT_FALSE(srv_ec.handshake) << srv_ec.error_text;
    EXPECT_EQ(cli_ec.peer_key_type, EVP_PKEY_EC);
    auto [srv_rsa, cli_rsa] =
        serve_once(*server, s.conn(),
                   client({.max_version = version, .sigalgs = "RSA-PSS+SHA256:RSA+SHA256"}));
    ASSERT_FALSE(srv_rsa.handshake) << srv_rsa.error_text;
    EXPECT_EQ(cli_rsa.peer_key_type, EVP_PKEY_RSA);
  }
  EXPECT_EQ(server->cached_contexts(), 1u);
}

TEST(ServerTls, KeyInTheCertificateFile) {
  ServerOptions o;
  o.tls_certificate = pki().rsa_combined;
  auto server = make_server(o);
  Session s;
  auto [srv, cli] = serve_once(*server, s.conn(), client({}));
  ASSERT_FALSE(srv.handshake) << srv.error_text;
  EXPECT_EQ(cli.peer_key_type, EVP_PKEY_RSA);
}

TEST(ServerTls, SelfSignedWithoutCertificate) {
  ServerOptions o;
  o.primary_hostname = "selfsigned.test.example";
  auto server = make_server(o);
  Session s;
  auto [srv, cli] = serve_once(*server, s.conn(), client({}));
  ASSERT_FALSE(srv.handshake) << srv.error_text;
  EXPECT_EQ(cli.peer_subject, "/C=UK/O=Exim Developers/CN=selfsigned.test.example");
}

TEST(ServerTls, SniReachesTheCallbackAndChoosesTheCertificate) {
  ServerOptions o;
  o.tls_certificate =
      "${if eq{$tls_in_sni}{other.test.example}{" + pki().other_cert + "}{" + pki().rsa_cert + "}}";
  o.tls_privatekey =
      "${if eq{$tls_sni}{other.test.example}{" + pki().other_key + "}{" + pki().rsa_key + "}}";
  auto server = make_server(o);
  Session s;
  s.vars.set("tls_in_sni", "must-not-be-used");  // the session's view before the handshake
  {
    auto [srv, cli] = serve_once(*server, s.conn(), client({.sni = "other.test.example"}));
    ASSERT_FALSE(srv.handshake) << srv.error_text;
    EXPECT_EQ(cli.peer_subject, "/C=GB/O=Tern Test/CN=other.test.example");
    EXPECT_EQ(srv.info.sni, "other.test.example");
    EXPECT_EQ(cli.received, "ok other.test.example\n");
    EXPECT_EQ(srv.info.log_fields({.tls_sni = true}),
              " X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no SNI=other.test.example");
  }
  {
    auto [srv, cli] = serve_once(*server, s.conn(), client({.sni = "mx.test.example"}));
    ASSERT_FALSE(srv.handshake) << srv.error_text;
    EXPECT_EQ(cli.peer_subject, "/C=GB/O=Tern Test/CN=mx.test.example");
  }
  // Cached: the default context (no SNI value) and the one for other.test.example.
  EXPECT_EQ(server->cached_contexts(), 2u);
  auto [srv, cli] = serve_once(*server, s.conn(), client({.sni = "other.test.example"}));
  ASSERT_FALSE(srv.handshake) << srv.error_text;
  EXPECT_EQ(cli.peer_subject, "/C=GB/O=Tern Test/CN=other.test.example");
  EXPECT_EQ(server->cached_contexts(), 2u);
}

TEST(ServerTls, SniIsRecordedEvenWhenUnused) {
  auto server = make_server(rsa_options());
  Session s;
  auto [srv, cli] = serve_once(*server, s.conn(), client({.sni = "name.example"}));
  ASSERT_FALSE(srv.handshake) << srv.error_text;
  std::string v;
  EXPECT_TRUE(srv.info.append_variable("tls_in_sni", v));
  EXPECT_EQ(v, "name.example");
}

TEST(ServerTls, SniSelectingAMissingFileFailsTheHandshake) {
  ServerOptions o;
  o.tls_certificate =
      "${if def:tls_in_sni{" + pki().dir.path() + "/$tls_in_sni.pem}{" + pki().rsa_cert + "}}";
  o.tls_privatekey =
      "${if def:tls_in_sni{" + pki().dir.path() + "/$tls_in_sni.pem}{" + pki().rsa_key + "}}";
  auto server = make_server(o);
  Session s;
  auto [srv, cli] = serve_once(*server, s.conn(), client({.sni = "nosuch.example"}));
  EXPECT_FALSE(cli.handshake_ok);
  EXPECT_EQ(srv.handshake, make_error_code(Errc::kProtocol));
  std::string want =
      "(SSL_CTX_use_certificate_chain_file file=" + pki().dir.path() +
      "/nosuch.example.pem): error:80000002:system library::No such file or directory";
  EXPECT_EQ(srv.error_text, want);
  ASSERT_EQ(srv.log.size(), 1u);
  EXPECT_TRUE(srv.log[0].panic);
  EXPECT_EQ(srv.log[0].text, want);
}

TEST(ServerTls, OptionsExpandPerConnection) {
  ServerOptions o;
  o.tls_certificate =
      "${if eq{$received_port}{587}{" + pki().other_cert + "}{" + pki().rsa_cert + "}}";
  o.tls_privatekey =
      "${if eq{$received_port}{587}{" + pki().other_key + "}{" + pki().rsa_key + "}}";
  auto server = make_server(o);
  Session s;
  s.vars.set("received_port", "587");
  auto [srv, cli] = serve_once(*server, s.conn(), client({}));
  ASSERT_FALSE(srv.handshake) << srv.error_text;
  EXPECT_EQ(cli.peer_subject, "/C=GB/O=Tern Test/CN=other.test.example");
  s.vars.set("received_port", "25");
  auto [srv2, cli2] = serve_once(*server, s.conn(), client({}));
  EXPECT_EQ(cli2.peer_subject, "/C=GB/O=Tern Test/CN=mx.test.example");
}

TEST(ServerTls, RequireCiphersRestrictsTls12Only) {
  for (const char* value : {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE_RSA_AES128_GCM_SHA256"}) {
    SCOPED_TRACE(value);
    ServerOptions o = rsa_options();
    o.tls_require_ciphers = value;
    auto server = make_server(o);
    Session s;
    auto [srv12, cli12] = serve_once(*server, s.conn(), client({.max_version = TLS1_2_VERSION}));
    ASSERT_FALSE(srv12.handshake) << srv12.error_text;
    EXPECT_EQ(srv12.info.cipher, "TLS1.2:ECDHE-RSA-AES128-GCM-SHA256:128");
    // TLS 1.3 suites are not affected (Exim 4.96 leaves them to OpenSSL).
    auto [srv13, cli13] = serve_once(*server, s.conn(), client({}));
    ASSERT_FALSE(srv13.handshake) << srv13.error_text;
    EXPECT_EQ(srv13.info.cipher, "TLS1.3:TLS_AES_256_GCM_SHA384:256");
    // A TLS 1.2 client offering only other suites gets nothing.
    auto [srvx, clix] = serve_once(
        *server, s.conn(),
        client({.max_version = TLS1_2_VERSION, .ciphers = "ECDHE-RSA-AES256-GCM-SHA384"}));
    EXPECT_FALSE(clix.handshake_ok);
    EXPECT_EQ(srvx.error_text, "(SSL_accept): error:0A0000C1:SSL routines::no shared cipher");
  }
}

TEST(ServerTls, OpensslOptionsApply) {
  ServerOptions o = rsa_options();
  o.openssl_options = "+no_tlsv1_3 +cipher_server_preference";
  auto server = make_server(o);
  Session s;
  auto [srv, cli] = serve_once(*server, s.conn(), client({}));
  ASSERT_FALSE(srv.handshake) << srv.error_text;
  EXPECT_EQ(srv.info.ver, "TLS1.2");
  // Expanded per connection when not literal.
  o.openssl_options = "${if eq{$received_port}{465}{+no_tlsv1_2}{+no_tlsv1_3}}";
  server = make_server(o);
  s.vars.set("received_port", "465");
  auto [srv2, cli2] = serve_once(*server, s.conn(), client({}));
  EXPECT_EQ(srv2.info.ver, "TLS1.3");
  o.openssl_options = "${if eq{$received_port}{465}{+bogus}{}}";
  server = make_server(o);
  auto [srv3, cli3] = serve_once(*server, s.conn(), client({}));
  EXPECT_FALSE(srv3.started);
  EXPECT_EQ(srv3.start_error, "openssl_options parse error: +bogus");
}

TEST(ServerTls, ConfigurationErrorsAtCreate) {
  ServerOptions o = rsa_options();
  o.openssl_options = "+no_sslv3 +no_such_option";
  auto r = ServerTls::create(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "openssl_options parse error: +no_sslv3 +no_such_option");
  o = rsa_options();
  o.tls_require_ciphers = "NOPE";
  r = ServerTls::create(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "tls_require_ciphers invalid: SSL_CTX_set_cipher_list(NOPE) failed: "
            "error:0A0000B9:SSL routines::no cipher match");
}

// Setup problems are reported by start(), before anything is sent: the
// session answers 454 and logs the text.
TEST(ServerTls, CredentialErrorsNameTheFile) {
  const std::string missing = pki().dir.file("missing.pem");
  struct Case {
    std::string cert, key, want;
  };
  const Case cases[] = {
      {missing, pki().rsa_key,
       "(SSL_CTX_use_certificate_chain_file file=" + missing +
           "): error:80000002:system library::No such file or directory"},
      {pki().rsa_cert, missing,
       "(SSL_CTX_use_PrivateKey_file file=" + missing +
           "): error:80000002:system library::No such file or directory"},
      {pki().ec_cert, pki().other_key,
       "(SSL_CTX_use_PrivateKey_file file=" + pki().other_key +
           "): error:05800074:x509 certificate routines::key values mismatch"},
      {pki().rsa_cert, pki().other_key,  // a key of another type: the certificate stays keyless
       "(SSL_CTX_check_private_key file=" + pki().rsa_cert +
           "): no matching private key in tls_privatekey"},
      {pki().rsa_cert + ":" + pki().ec_cert, pki().rsa_key,
       "(SSL_CTX_check_private_key file=" + pki().ec_cert +
           "): no matching private key in tls_privatekey"},
      {pki().ca, pki().ca,
       "(SSL_CTX_use_PrivateKey_file file=" + pki().ca +
           "): error:1E08010C:DECODER routines::unsupported"},
      {"${nosuch}", "", "expansion of tls_certificate failed: unknown variable in \"${nosuch}\""},
      {"/x/$nosuch", "", "expansion of tls_certificate failed: unknown variable name \"nosuch\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.cert);
    ServerOptions o;
    o.tls_certificate = c.cert;
    o.tls_privatekey = c.key;
    auto server = make_server(o);
    Session s;
    auto [srv, cli] = serve_once(*server, s.conn(), client({}));
    EXPECT_FALSE(srv.started);
    EXPECT_EQ(srv.start_error, c.want);
    EXPECT_FALSE(cli.handshake_ok);
  }
}

TEST(ServerTls, ForcedFailureIsUnset) {
  ServerOptions o;
  o.tls_certificate = "${if eq{1}{2}{x}fail}";
  o.primary_hostname = "forced.test.example";
  auto server = make_server(o);
  Session s;
  auto [srv, cli] = serve_once(*server, s.conn(), client({}));
  ASSERT_FALSE(srv.handshake) << srv.start_error << srv.error_text;
  EXPECT_EQ(cli.peer_subject, "/C=UK/O=Exim Developers/CN=forced.test.example");
}

ServerOptions verifying_options() {
  ServerOptions o = rsa_options();
  o.tls_verify_certificates = pki().ca;
  return o;
}

TEST(ServerTls, ClientCertificateVerified) {
  auto server = make_server(verifying_options());
  Session s;
  auto [srv, cli] = serve_once(*server, s.conn(ClientCertificate::kRequire),
                               client({.cert = pki().client_cert, .key = pki().client_key}));
  ASSERT_FALSE(srv.handshake) << srv.error_text;
  EXPECT_TRUE(srv.info.certificate_verified);
  EXPECT_EQ(srv.info.peerdn, "/C=GB/O=Client Org/CN=client.test.example");
  EXPECT_EQ(srv.info.log_fields({.tls_peerdn = true}),
            " X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes DN=\"/C=GB/O=Client "
            "Org/CN=client.test.example\"");
  std::string v;
  EXPECT_TRUE(srv.info.append_variable("tls_in_certificate_verified", v));
  EXPECT_EQ(v, "1");
  EXPECT_TRUE(srv.log.empty());
}

TEST(ServerTls, ClientCertificateRequiredButMissing) {
  auto server = make_server(verifying_options());
  Session s;
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    auto [srv, cli] =
        serve_once(*server, s.conn(ClientCertificate::kRequire), client({.max_version = version}));
    EXPECT_EQ(srv.handshake, make_error_code(Errc::kProtocol));
    EXPECT_EQ(srv.error_text,
              "(SSL_accept): error:0A0000C7:SSL routines::peer did not return a certificate");
  }
}

TEST(ServerTls, UntrustedClientCertificate) {
  auto server = make_server(verifying_options());
  Session s;
  auto [srv, cli] = serve_once(*server, s.conn(ClientCertificate::kRequire),
                               client({.cert = pki().rogue_cert, .key = pki().rogue_key}));
  EXPECT_EQ(srv.handshake, make_error_code(Errc::kProtocol));
  EXPECT_EQ(srv.error_text, "(SSL_accept): error:0A000086:SSL routines::certificate verify failed");
  ASSERT_EQ(srv.log.size(), 1u);
  EXPECT_EQ(srv.log[0].text,
            "SSL verify error: depth=0 error=self-signed certificate cert=/CN=rogue.test.example");
}

TEST(ServerTls, TryVerifyAcceptsButDoesNotVerify) {
  auto server = make_server(verifying_options());
  Session s;
  auto [srv, cli] = serve_once(*server, s.conn(ClientCertificate::kTry),
                               client({.cert = pki().rogue_cert, .key = pki().rogue_key}));
  ASSERT_FALSE(srv.handshake) << srv.error_text;
  EXPECT_FALSE(srv.info.certificate_verified);
  EXPECT_EQ(srv.info.peerdn, "/CN=rogue.test.example");
  EXPECT_EQ(srv.info.log_fields({.tls_peerdn = true}),
            " X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no DN=\"/CN=rogue.test.example\"");
  ASSERT_EQ(srv.log.size(), 1u);
  EXPECT_EQ(srv.log[0].text,
            "SSL verify error: depth=0 error=self-signed certificate cert=/CN=rogue.test.example");
  // And without any certificate.
  auto [srv2, cli2] = serve_once(*server, s.conn(ClientCertificate::kTry), client({}));
  ASSERT_FALSE(srv2.handshake) << srv2.error_text;
  EXPECT_FALSE(srv2.info.has_peer_certificate);
  EXPECT_EQ(srv2.info.log_fields({.tls_peerdn = true}),
            " X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no");
}

TEST(ServerTls, NoVerificationWithoutVerifyCertificates) {
  ServerOptions o = rsa_options();
  o.tls_verify_certificates = "";
  auto server = make_server(o);
  Session s;
  auto [srv, cli] = serve_once(*server, s.conn(ClientCertificate::kRequire), client({}));
  ASSERT_FALSE(srv.handshake) << srv.error_text;
  EXPECT_FALSE(srv.info.has_peer_certificate);
}

// As in Exim, tls_verify_certificates and tls_crl are expanded only for a
// client asked for a certificate.
TEST(ServerTls, TrustOptionsExpandOnlyWhenAsking) {
  ServerOptions o = rsa_options();
  o.tls_verify_certificates = "${nosuch}";
  auto server = make_server(o);
  Session s;
  auto [srv, cli] = serve_once(*server, s.conn(), client({}));
  EXPECT_FALSE(srv.handshake) << srv.start_error << srv.error_text;
  auto [srv2, cli2] = serve_once(*server, s.conn(ClientCertificate::kTry), client({}));
  EXPECT_FALSE(srv2.started);
  EXPECT_EQ(srv2.start_error,
            "expansion of tls_verify_certificates failed: unknown variable in \"${nosuch}\"");
}

TEST(ServerTls, HandshakeTimeoutAgainstASilentPeer) {
  auto server = make_server(rsa_options());
  Session s;
  auto started = std::chrono::steady_clock::now();
  auto [srv, cli] =
      serve_once(*server, s.conn(), client({.silent = true}), std::chrono::milliseconds(300));
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(srv.handshake, make_error_code(Errc::kTimedOut));
  EXPECT_EQ(srv.error_text, "(SSL_accept): timed out");
  EXPECT_GE(elapsed, std::chrono::milliseconds(300));
  EXPECT_LT(elapsed, std::chrono::seconds(20));  // the timeout, not the silent peer's patience
}

TEST(ServerTls, PeerClosesOrSpeaksPlaintext) {
  auto server = make_server(rsa_options());
  Session s;
  auto [srv, cli] = serve_once(*server, s.conn(), [](uint16_t port) {
    ::close(connect_loopback(port));
    return 0;
  });
  EXPECT_EQ(srv.handshake, make_error_code(Errc::kClosedByPeer));
  EXPECT_EQ(srv.error_text, "SSL_accept: TCP connection closed by peer");

  auto [srv2, cli2] = serve_once(*server, s.conn(), [](uint16_t port) {
    int fd = connect_loopback(port);
    const char ehlo[] = "EHLO client.example\r\n";
    (void)!::write(fd, ehlo, sizeof ehlo - 1);
    char c;
    while (::read(fd, &c, 1) > 0) {
    }
    ::close(fd);
    return 0;
  });
  EXPECT_EQ(srv2.handshake, make_error_code(Errc::kProtocol));
  // Exim adds the version for version errors (SSL_get_version before any
  // negotiation gives the highest one).
  EXPECT_EQ(srv2.error_text,
            "(SSL_accept (TLSv1.3)): error:0A00010B:SSL routines::wrong version number");
}

TEST(ServerTls, FromMainOptions) {
  ScratchDir dir;
  write_file(dir.file("t.conf"),
             "tls_certificate = /c1.pem : /c2.pem\n"
             "tls_privatekey = /k1.pem : /k2.pem\n"
             "tls_require_ciphers = HIGH\n"
             "tls_dhparam = ffdhe2048\n"
             "openssl_options = +no_tlsv1_3\n"
             "tls_dh_max_bits = 4096\n");
  config::OptionRegistry registry;
  ASSERT_TRUE(config::register_exim_options(registry));
  config::LoadRequest req;
  req.path = dir.file("t.conf");
  req.registry = &registry;
  auto cfg = config::load(req);
  ASSERT_TRUE(cfg) << cfg.error().message;
  ServerOptions o = ServerOptions::from_main(cfg->main, "h.example");
  EXPECT_EQ(o.tls_certificate, "/c1.pem : /c2.pem");
  EXPECT_EQ(o.tls_privatekey, "/k1.pem : /k2.pem");
  EXPECT_EQ(o.tls_require_ciphers, "HIGH");
  EXPECT_EQ(o.tls_dhparam, "ffdhe2048");
  EXPECT_EQ(o.openssl_options, "+no_tlsv1_3");
  EXPECT_EQ(o.tls_dh_max_bits, 4096);
  EXPECT_EQ(o.tls_eccurve, "auto");  // Exim's defaults
  EXPECT_EQ(o.tls_verify_certificates, "system");
  EXPECT_EQ(o.tls_crl, "");
  EXPECT_EQ(o.primary_hostname, "h.example");
}

}  // namespace
}  // namespace tern::tls
