// core/tls/hooks_test.cpp: the modules' TLS server hooks, with hook functions added directly.
#include <gtest/gtest.h>

#include "core/expand/expand.hpp"
#include "core/tls/server.hpp"
#include "core/tls/test_support.hpp"

namespace tern::tls {
namespace {

using namespace testing;

// The two server hooks, as module "testmod".
struct Hooks : TestHooks {
  TestHook on_ctx, on_ssl;
  Hooks() {
    add(TERN_HOOK_TLS_SERVER_CTX, on_ctx);
    add(TERN_HOOK_TLS_SERVER_SSL, on_ssl);
    registry.freeze();
  }
};

std::shared_ptr<ServerTls> sni_server() { return *ServerTls::create(sni_server_options()); }

auto client(std::string sni = "") {
  return [sni](uint16_t port) {
    ClientSpec spec;
    spec.sni = sni;
    return run_client(port, spec);
  };
}

TEST(TlsHooks, ContextHookOncePerContextSslHookPerConnection) {
  Hooks h;
  auto server = sni_server();
  expand::Context ectx;
  ServerConnection conn{&ectx, &h.registry, &h.env, ClientCertificate::kNone};
  for (int i = 0; i < 3; ++i) {
    auto [srv, cli] = serve_once(*server, conn, client());
    ASSERT_FALSE(srv.handshake) << srv.start_error << srv.error_text;
  }
  EXPECT_EQ(h.on_ctx.args.size(), 1u);
  EXPECT_EQ(h.on_ssl.args.size(), 3u);
  // The SNI context is another context: its hook runs once, when it is made.
  for (int i = 0; i < 2; ++i) {
    auto [srv, cli] = serve_once(*server, conn, client("other.test.example"));
    ASSERT_FALSE(srv.handshake) << srv.error_text;
    EXPECT_EQ(cli.peer_subject, "/C=GB/O=Tern Test/CN=other.test.example");
  }
  EXPECT_EQ(h.on_ctx.args.size(), 2u);
  EXPECT_NE(h.on_ctx.args[0], h.on_ctx.args[1]);
  EXPECT_EQ(h.on_ssl.args.size(), 5u);
}

TEST(TlsHooks, HooksGetTheRealObjects) {
  // A context hook that turns TLS 1.3 off on the SSL_CTX it is given...
  {
    Hooks h;
    h.on_ctx.action = [](void* arg) {
      SSL_CTX_set_options(static_cast<SSL_CTX*>(arg), SSL_OP_NO_TLSv1_3);
    };
    auto server = sni_server();
    expand::Context ectx;
    auto [srv, cli] = serve_once(*server, {&ectx, &h.registry, &h.env}, client());
    ASSERT_FALSE(srv.handshake) << srv.error_text;
    EXPECT_EQ(srv.info.ver, "TLS1.2");
  }
  // ... and an SSL hook that does it on the connection's SSL.
  Hooks h;
  h.on_ssl.action = [](void* arg) { SSL_set_options(static_cast<SSL*>(arg), SSL_OP_NO_TLSv1_3); };
  auto server = sni_server();
  expand::Context ectx;
  auto [srv, cli] = serve_once(*server, {&ectx, &h.registry, &h.env}, client());
  ASSERT_FALSE(srv.handshake) << srv.error_text;
  EXPECT_EQ(srv.info.ver, "TLS1.2");
  EXPECT_EQ(cli.version, "TLSv1.2");
}

TEST(TlsHooks, FailingHooksFailStart) {
  {
    Hooks h;
    h.on_ctx.status = TERN_ERROR;
    h.on_ctx.error = "no OCSP proof";
    auto server = sni_server();
    expand::Context ectx;
    auto [srv, cli] = serve_once(*server, {&ectx, &h.registry, &h.env}, client());
    EXPECT_FALSE(srv.started);
    EXPECT_EQ(srv.start_error, "module \"testmod\" failed the TLS server context: no OCSP proof");
    EXPECT_EQ(server->cached_contexts(), 0u);  // not kept: the next connection tries again
  }
  Hooks h;
  h.on_ssl.status = TERN_ERROR;
  h.on_ssl.error = "refused";
  auto server = sni_server();
  expand::Context ectx;
  auto [srv, cli] = serve_once(*server, {&ectx, &h.registry, &h.env}, client());
  EXPECT_FALSE(srv.started);
  EXPECT_EQ(srv.start_error, "module \"testmod\" failed the TLS connection: refused");
}

}  // namespace
}  // namespace tern::tls
