// core/tls/interop_test.cpp: the real `openssl s_client` against a small server built from
// TlsStream.
//
// Implicit TLS (tls_on_connect_ports) and STARTTLS after a plaintext SMTP
// exchange, each with SNI and full verification on the client's side.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>

#include "core/expand/expand.hpp"
#include "core/tls/server.hpp"
#include "core/tls/test_support.hpp"

namespace tern::tls {
namespace {

using namespace testing;
using boost::system::error_code;

// Run a shell command, feeding `input` on its standard input; its output
// (stdout and stderr).
std::string run_command(const std::string& command, const std::string& input,
                        const ScratchDir& dir) {
  write_file(dir.file("stdin"), input);
  std::string full = command + " < " + dir.file("stdin") + " > " + dir.file("stdout") + " 2>&1";
  int rc = std::system(full.c_str());
  return "rc=" + std::to_string(rc) + "\n" + read_file(dir.file("stdout"));
}

std::shared_ptr<ServerTls> sni_server() { return *ServerTls::create(sni_server_options()); }

// A line from a plaintext socket (STARTTLS dialogue).
asio::awaitable<std::string> read_line(asio::ip::tcp::socket& sock) {
  std::string line;
  char c;
  while (line.empty() || line.back() != '\n') {
    error_code ec;
    size_t n = co_await sock.async_read_some(asio::buffer(&c, 1),
                                             asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) break;
    line += c;
  }
  co_return line;
}

asio::awaitable<void> send(asio::ip::tcp::socket& sock, std::string_view text) {
  error_code ec;
  co_await asio::async_write(sock, asio::buffer(text),
                             asio::redirect_error(asio::use_awaitable, ec));
}

struct Served {
  error_code handshake;
  std::string error_text;
  SessionInfo info;
  std::string received;
};

// Serve one connection, optionally after an SMTP STARTTLS dialogue; echo
// the first line back with the SNI and the cipher, then close cleanly.
Served serve_for(const ServerTls& server, bool starttls, const std::string& client_command,
                 std::string* output) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  uint16_t port = acceptor.local_endpoint().port();
  asio::ip::tcp::socket sock(io);
  Served out;
  expand::Context ectx;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await acceptor.async_accept(sock, asio::use_awaitable);
        if (starttls) {
          co_await send(sock, "220 mx.test.example ESMTP\r\n");
          co_await read_line(sock);  // EHLO
          co_await send(sock, "250-mx.test.example\r\n250 STARTTLS\r\n");
          std::string cmd = co_await read_line(sock);
          if (cmd != "STARTTLS\r\n") co_return;
        }
        auto stream = server.start(sock, {.expand = &ectx});
        if (!stream) co_return;
        if (starttls) co_await send(sock, "220 TLS go ahead\r\n");
        out.handshake = co_await stream->handshake(10s);
        out.error_text = stream->error_text();
        if (out.handshake) co_return;
        out.info = stream->info();
        char buf[512];
        while (out.received.find('\n') == std::string::npos) {
          auto [ec, n] = co_await stream->read_some(buf, 10s);
          if (ec) break;
          out.received.append(buf, n);
        }
        co_await stream->write("250 got it sni=" + out.info.sni + " " + out.info.cipher + "\r\n",
                               5s);
        co_await stream->shutdown(5s);
        sock.close();
      },
      asio::detached);
  ScratchDir dir;
  std::thread t([&] {
    *output = run_command(client_command + " -connect 127.0.0.1:" + std::to_string(port),
                          "QUIT\r\n", dir);
  });
  io.run();
  t.join();
  return out;
}

TEST(Interop, SClientImplicitTlsWithSni) {
  auto server = sni_server();
  std::string output;
  Served s =
      serve_for(*server, false,
                std::string(TERN_OPENSSL_CLI) + " s_client -brief -ign_eof -CAfile " + pki().ca +
                    " -verify_return_error -servername other.test.example -verify_hostname "
                    "other.test.example",
                &output);
  ASSERT_FALSE(s.handshake) << s.error_text << "\n" << output;
  EXPECT_EQ(s.info.sni, "other.test.example");
  EXPECT_EQ(s.received, "QUIT\r\n");
  EXPECT_NE(output.find("Verification: OK"), std::string::npos) << output;
  EXPECT_NE(output.find("Protocol version: TLSv1.3"), std::string::npos) << output;
  EXPECT_NE(output.find("250 got it sni=other.test.example TLS1.3:TLS_AES_256_GCM_SHA384:256"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("rc=0"), std::string::npos) << output;
}

TEST(Interop, SClientStarttlsTls12) {
  auto server = sni_server();
  std::string output;
  Served s =
      serve_for(*server, true,
                std::string(TERN_OPENSSL_CLI) + " s_client -brief -ign_eof -CAfile " + pki().ca +
                    " -verify_return_error -starttls smtp -tls1_2 -servername mx.test.example"
                    " -verify_hostname mx.test.example",
                &output);
  ASSERT_FALSE(s.handshake) << s.error_text << "\n" << output;
  EXPECT_EQ(s.info.ver, "TLS1.2");
  EXPECT_EQ(s.received, "QUIT\r\n");
  EXPECT_NE(output.find("Verification: OK"), std::string::npos) << output;
  EXPECT_NE(output.find("Protocol version: TLSv1.2"), std::string::npos) << output;
  EXPECT_NE(output.find("250 got it sni=mx.test.example TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256"),
            std::string::npos)
      << output;
}

TEST(Interop, SClientRefusesTheWrongName) {
  auto server = sni_server();
  std::string output;
  Served s = serve_for(
      *server, false,
      std::string(TERN_OPENSSL_CLI) + " s_client -brief -ign_eof -CAfile " + pki().ca +
          " -verify_return_error -servername other.test.example -verify_hostname mx.test.example",
      &output);
  // s_client aborts with an alert: the server sees it as a failed handshake.
  EXPECT_EQ(s.handshake, make_error_code(Errc::kProtocol)) << output;
  EXPECT_EQ(s.error_text, "(SSL_accept): error:0A000412:SSL routines::sslv3 alert bad certificate");
  EXPECT_NE(output.find("hostname mismatch"), std::string::npos) << output;
}

}  // namespace
}  // namespace tern::tls
