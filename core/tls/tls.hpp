// core/tls/tls.hpp: the TLS area's public interface in one include.
//
// Server (STARTTLS, tls_on_connect_ports):
//   auto server = tls::ServerTls::create(tls::ServerOptions::from_main(cfg.main, hostname),
//   extensions);
//   // per connection, on STARTTLS:
//   Result<tls::TlsStream> s = (*server)->start(socket, {.expand = &ctx, .hooks = &hooks, .env =
//   &env,
//                                                      .client_certificate = ...});
//   if (!s) { reply 454 TLS currently unavailable; log "TLS error on connection from ... " +
//   s.error().message; } reply 220 TLS go ahead; co_await s->handshake(smtp_receive_timeout);
//   s->info(): $tls_in_* and the X= CV= DN= log fields.
// Client (delivery): tls::ClientTls (client.hpp).
// Configuration checks: tls::parse_openssl_options (openssl_options.hpp).
#pragma once

#include "core/tls/client.hpp"
#include "core/tls/openssl_options.hpp"
#include "core/tls/server.hpp"
#include "core/tls/session_info.hpp"
#include "core/tls/stream.hpp"
