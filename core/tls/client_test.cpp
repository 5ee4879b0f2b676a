// core/tls/client_test.cpp: ClientTls against ServerTls, both as TlsStreams on one io_context.
#include "core/tls/client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>

#include "core/expand/expand.hpp"
#include "core/tls/server.hpp"
#include "core/tls/test_support.hpp"

namespace tern::tls {
namespace {

using namespace testing;
using boost::system::error_code;

struct Side {
  bool started = false;
  std::string start_error;
  Error::Kind start_kind = Error::Kind::kFailed;
  error_code handshake;
  std::string error_text;
  SessionInfo info;
  std::vector<LogLine> log;
  std::string received;
  error_code end;  // how reading ended
};

// What the server does after its handshake.
enum class ServerEnd { kCloseNotify, kDropTcp };

std::pair<Side, Side> run_pair(const ServerTls& server, ServerConnection sconn,
                               const ClientTls& client, ClientConnection cconn,
                               ServerEnd end = ServerEnd::kCloseNotify) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket ssock(io), csock(io);
  Side s, c;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        error_code ec;
        co_await acceptor.async_accept(ssock, asio::redirect_error(asio::use_awaitable, ec));
        auto stream = server.start(ssock, sconn);
        if (!stream) {
          s.start_error = stream.error().message;
          ssock.close();
          co_return;
        }
        s.started = true;
        s.handshake = co_await stream->handshake(5s);
        s.error_text = stream->error_text();
        s.log = stream->take_log();
        if (s.handshake) {
          ssock.close();
          co_return;
        }
        s.info = stream->info();
        char buf[256];
        while (s.received.find('\n') == std::string::npos) {
          auto [rec, n] = co_await stream->read_some(buf, 5s);
          if (rec) break;
          s.received.append(buf, n);
        }
        co_await stream->write("ok " + s.info.sni + "\n", 5s);
        if (end == ServerEnd::kCloseNotify) co_await stream->shutdown(5s);
        ssock.close();
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        error_code ec;
        co_await csock.async_connect(acceptor.local_endpoint(),
                                     asio::redirect_error(asio::use_awaitable, ec));
        auto stream = client.start(csock, cconn);
        if (!stream) {
          c.start_error = stream.error().message;
          c.start_kind = stream.error().kind;
          csock.close();
          co_return;
        }
        c.started = true;
        c.handshake = co_await stream->handshake(5s);
        c.error_text = stream->error_text();
        c.log = stream->take_log();
        if (c.handshake) {
          csock.close();
          co_return;
        }
        c.info = stream->info();
        co_await stream->write("hello\n", 5s);
        char buf[256];
        for (;;) {
          auto [rec, n] = co_await stream->read_some(buf, 5s);
          if (rec) {
            c.end = rec;
            c.error_text = stream->error_text();
            break;
          }
          c.received.append(buf, n);
        }
        csock.close();
      },
      asio::detached);
  io.run();
  return {std::move(s), std::move(c)};
}

std::shared_ptr<ServerTls> rsa_server(std::string verify = "") {
  ServerOptions o = rsa_server_options();
  o.tls_verify_certificates = std::move(verify);
  return *ServerTls::create(o);
}

std::shared_ptr<ClientTls> make_client(ClientOptions o) {
  auto r = ClientTls::create(o);
  if (!r) ADD_FAILURE() << r.error().message;
  return r ? *r : nullptr;
}

TEST(ClientTls, VerifiedWithSniAndHostname) {
  auto server = rsa_server();
  auto client = make_client({.verify_certificates = pki().ca});
  auto [s, c] = run_pair(*server, {}, *client,
                         {.sni = "mx.test.example",
                          .verify = ClientVerify::kRequire,
                          .verify_hostnames = {"mx.test.example"}});
  ASSERT_FALSE(c.handshake) << c.error_text;
  EXPECT_EQ(s.info.sni, "mx.test.example");
  EXPECT_EQ(c.info.sni, "mx.test.example");
  EXPECT_TRUE(c.info.certificate_verified);
  EXPECT_EQ(c.info.peerdn, "/C=GB/O=Tern Test/CN=mx.test.example");
  EXPECT_EQ(c.info.cipher, "TLS1.3:TLS_AES_256_GCM_SHA384:256");
  EXPECT_EQ(
      c.info.log_fields({.tls_peerdn = true, .tls_sni = true}),
      " X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes DN=\"/C=GB/O=Tern Test/CN=mx.test.example\"");
  std::string v;
  EXPECT_TRUE(c.info.append_variable("tls_out_sni", v));
  EXPECT_EQ(v, "mx.test.example");
  EXPECT_EQ(s.received, "hello\n");
  EXPECT_EQ(c.received, "ok mx.test.example\n");
  EXPECT_EQ(c.end, asio::error::eof);  // the server's close_notify: a clean end
  EXPECT_TRUE(c.log.empty());
}

TEST(ClientTls, HostnameMismatch) {
  auto server = rsa_server();
  auto client = make_client({.verify_certificates = pki().ca});
  const std::string line =
      "SSL verify error: certificate name mismatch: DN=\"/C=GB/O=Tern Test/CN=mx.test.example\" "
      "H=\"wrong.example:*.test.example.org\"";
  auto [s, c] = run_pair(*server, {}, *client,
                         {.verify = ClientVerify::kRequire,
                          .verify_hostnames = {"wrong.example", "*.test.example.org"}});
  EXPECT_EQ(c.handshake, make_error_code(Errc::kProtocol));
  EXPECT_EQ(c.error_text, "(SSL_connect): error:0A000086:SSL routines::certificate verify failed");
  ASSERT_EQ(c.log.size(), 1u);
  EXPECT_EQ(c.log[0].text, line);

  auto [s2, c2] = run_pair(*server, {}, *client,
                           {.verify = ClientVerify::kTry, .verify_hostnames = {"wrong.example"}});
  ASSERT_FALSE(c2.handshake) << c2.error_text;
  EXPECT_FALSE(c2.info.certificate_verified);
  EXPECT_EQ(c2.info.log_fields(), " X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no");
  ASSERT_EQ(c2.log.size(), 1u);

  // Host names compare without regard to case.
  auto [s3, c3] =
      run_pair(*server, {}, *client,
               {.verify = ClientVerify::kRequire, .verify_hostnames = {"MX.Test.Example"}});
  EXPECT_FALSE(c3.handshake) << c3.error_text;
}

TEST(ClientTls, UntrustedServer) {
  auto server = rsa_server();
  auto client = make_client({.verify_certificates = pki().rogue_cert});
  auto [s, c] = run_pair(*server, {}, *client, {.verify = ClientVerify::kRequire});
  EXPECT_EQ(c.handshake, make_error_code(Errc::kProtocol));
  ASSERT_EQ(c.log.size(), 1u);
  EXPECT_EQ(c.log[0].text,
            "SSL verify error: depth=0 error=unable to get local issuer certificate "
            "cert=/C=GB/O=Tern Test/CN=mx.test.example");
  // Without verification the same server is accepted, unverified.
  auto [s2, c2] = run_pair(*server, {}, *client, {.verify = ClientVerify::kNone});
  ASSERT_FALSE(c2.handshake) << c2.error_text;
  EXPECT_FALSE(c2.info.certificate_verified);
  EXPECT_TRUE(c2.log.empty());
}

TEST(ClientTls, ClientCertificateSeenByTheServer) {
  auto server = rsa_server(pki().ca);
  auto client = make_client({.certificate = pki().client_cert, .privatekey = pki().client_key});
  auto [s, c] = run_pair(*server, {.client_certificate = ClientCertificate::kRequire}, *client, {});
  ASSERT_FALSE(s.handshake) << s.error_text;
  EXPECT_TRUE(s.info.certificate_verified);
  EXPECT_EQ(s.info.peerdn, "/C=GB/O=Client Org/CN=client.test.example");
}

TEST(ClientTls, CiphersAndOptions) {
  auto server = rsa_server();
  auto client = make_client(
      {.require_ciphers = "ECDHE_RSA_AES128_GCM_SHA256", .openssl_options = "+no_tlsv1_3"});
  auto [s, c] = run_pair(*server, {}, *client, {});
  ASSERT_FALSE(c.handshake) << c.error_text;
  EXPECT_EQ(c.info.cipher, "TLS1.2:ECDHE-RSA-AES128-GCM-SHA256:128");
  EXPECT_EQ(s.info.cipher, "TLS1.2:ECDHE-RSA-AES128-GCM-SHA256:128");
}

TEST(ClientTls, CreateErrors) {
  auto r = ClientTls::create({.openssl_options = "+nope"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "openssl_options parse error: +nope");
  r = ClientTls::create({.require_ciphers = "NOPE"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "(SSL_CTX_set_cipher_list): error:0A0000B9:SSL routines::no cipher match");
  r = ClientTls::create({.verify_certificates = "/nonexistent/ca.pem"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "failed to stat /nonexistent/ca.pem for certificates: No such file or directory");
  r = ClientTls::create({.certificate = "/nonexistent/c.pem"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "(SSL_CTX_use_certificate_chain_file file=/nonexistent/c.pem): error:80000002:system "
            "library::No such "
            "file or directory");
}

TEST(ClientTls, TruncatedConnection) {
  auto server = rsa_server();
  auto client = make_client({});
  auto [s, c] = run_pair(*server, {}, *client, {}, ServerEnd::kDropTcp);
  ASSERT_FALSE(c.handshake) << c.error_text;
  EXPECT_EQ(c.received, "ok \n");
  EXPECT_EQ(c.end, make_error_code(Errc::kTruncated));
  EXPECT_EQ(c.error_text, "(SSL_read): TCP connection closed without TLS close_notify");
}

// ---- hooks -------------------------------------------------------------------

// The two client hooks, as module "dane".
struct ClientHooks : TestHooks {
  TestHook before, after;
  ClientHooks() {
    add(TERN_HOOK_TLS_CLIENT_BEFORE, before, "dane");
    add(TERN_HOOK_TLS_CLIENT_AFTER, after, "dane");
    registry.freeze();
  }
};

TEST(ClientTls, AfterHookVerdictIsTheCvField) {
  auto server = rsa_server();
  auto client = make_client({});
  ClientHooks h;
  h.after.verdict = "dane";
  bool client_side = false;
  h.after.action = [&](void* arg) { client_side = SSL_is_server(static_cast<SSL*>(arg)) == 0; };
  auto [s, c] = run_pair(*server, {}, *client, {.hooks = &h.registry, .env = &h.env});
  ASSERT_FALSE(c.handshake) << c.error_text;
  ASSERT_EQ(h.before.args.size(), 1u);
  ASSERT_EQ(h.after.args.size(), 1u);
  // Both get the client's own SSL.
  EXPECT_EQ(h.before.args[0], h.after.args[0]);
  EXPECT_TRUE(client_side);
  EXPECT_EQ(c.info.verified_by, "dane");
  EXPECT_EQ(c.info.log_fields(), " X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=dane");
  std::string v;
  EXPECT_TRUE(c.info.append_variable("tls_out_certificate_verified", v));
  EXPECT_EQ(v, "1");
}

TEST(ClientTls, HooksRefuse) {
  auto server = rsa_server();
  auto client = make_client({});
  {
    ClientHooks h;
    h.before.status = TERN_DEFER;
    h.before.error = "TLSA lookup deferred";
    auto [s, c] = run_pair(*server, {}, *client, {.hooks = &h.registry, .env = &h.env});
    EXPECT_FALSE(c.started);
    EXPECT_EQ(c.start_kind, Error::Kind::kDefer);
    EXPECT_EQ(c.start_error, "module \"dane\" refused the TLS connection: TLSA lookup deferred");
    EXPECT_TRUE(h.after.args.empty());
  }
  ClientHooks h;
  h.after.status = TERN_FAIL;
  h.after.error = "no TLSA record matched";
  auto [s, c] = run_pair(*server, {}, *client, {.hooks = &h.registry, .env = &h.env});
  EXPECT_EQ(c.handshake, make_error_code(Errc::kRefused));
  EXPECT_EQ(c.error_text, "module \"dane\" refused the TLS connection: no TLSA record matched");
  EXPECT_FALSE(c.info.active);
}

// Megabytes each way, in writes larger than a TLS record and reads of odd
// sizes, arrive intact.
TEST(TlsStream, LargeTransfersArriveIntact) {
  auto server = rsa_server();
  auto client = make_client({});
  std::string payload(3 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket ssock(io), csock(io);
  std::string at_server, at_client;
  auto receive = [&](TlsStream& stream, std::string& into) -> asio::awaitable<void> {
    char buf[7001];
    while (into.size() < payload.size()) {
      auto [ec, n] = co_await stream.read_some(buf, 10s);
      if (ec) co_return;
      into.append(buf, n);
    }
  };
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await acceptor.async_accept(ssock, asio::use_awaitable);
        TlsStream stream = server->start(ssock, {}).value();
        if (co_await stream.handshake(5s)) co_return;
        co_await receive(stream, at_server);
        co_await stream.write(payload, 10s);
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await csock.async_connect(acceptor.local_endpoint(), asio::use_awaitable);
        TlsStream stream = client->start(csock, {}).value();
        if (co_await stream.handshake(5s)) co_return;
        co_await stream.write(payload, 10s);
        co_await receive(stream, at_client);
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(at_server == payload) << at_server.size();
  EXPECT_TRUE(at_client == payload) << at_client.size();
}

// One operation at a time: a second concurrent one is refused, not interleaved.
TEST(TlsStream, SecondConcurrentOperationIsBusy) {
  auto server = rsa_server();
  auto client = make_client({});
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket ssock(io), csock(io);
  std::optional<TlsStream> sstream, cstream;
  error_code first, second;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await acceptor.async_accept(ssock, asio::use_awaitable);
        sstream.emplace(server->start(ssock, {}).value());
        co_await sstream->handshake(5s);
        char buf[16];
        // Nothing comes: this read waits until its deadline...
        auto r = co_await sstream->read_some(buf, 300ms);
        first = r.ec;
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await csock.async_connect(acceptor.local_endpoint(), asio::use_awaitable);
        cstream.emplace(client->start(csock, {}).value());
        co_await cstream->handshake(5s);
        asio::steady_timer t(io, 50ms);
        co_await t.async_wait(asio::use_awaitable);
        // ... while another coroutine tries to write on the same stream.
        second = co_await sstream->write("x", 1s);
      },
      asio::detached);
  io.run();
  EXPECT_EQ(first, make_error_code(Errc::kTimedOut));
  EXPECT_EQ(second, make_error_code(Errc::kBusy));
  EXPECT_EQ(sstream->error_text(), "(SSL_read): timed out");
}

}  // namespace
}  // namespace tern::tls
