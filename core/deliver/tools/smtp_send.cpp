// core/deliver/tools/smtp_send.cpp: drive the SMTP client from the command line (integration tests).
//
// Sends one message (or the same one --messages times over one connection)
// to one host, and prints what the client reports, one fact a line:
//
//   open ok H=localhost [127.0.0.1] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no
//   open defer Connection refused
//   log [127.0.0.1] SSL verify error: ...
//   caps pipelining size dsn chunking starttls
//   rcpt 1 a@example delivered 250 250 OK id=...
//   rcpt 1 b@example failed 550 SMTP error from remote mail server after RCPT TO:<b@example>: 550 ...
//   host_error <text>
//
// Usage: smtp_send --host IP --port N --from S --to A [--to B...] --message FILE
//   [--name HOSTNAME] [--helo NAME] [--messages K] [--max-rcpt N] [--interface IP]
//   [--connect-timeout S] [--command-timeout S] [--data-timeout S] (seconds, may be fractional)
//   [--no-pipelining] [--no-chunking] [--avoid-tls] [--require-tls] [--no-tls]
//   [--verify none|try|require] [--ca system|FILE] [--verify-name NAME] [--sni NAME]
//   [--cert FILE] [--key FILE] [--ret FULL|HDRS] [--envid ID] [--8bit]
//   (--to takes "addr" or "addr;NOTIFY;ORCPT")
// Exit status: 0 when it ran (whatever the outcome), 2 for bad usage.
// clang-format off
#include <utility>  // before Boost: 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/deliver/smtp_client.hpp"

namespace asio = boost::asio;
using namespace tern::deliver;

namespace {

const char* outcome_name(SmtpOutcome o) {
  switch (o) {
    case SmtpOutcome::kDelivered: return "delivered";
    case SmtpOutcome::kDeferred: return "deferred";
    case SmtpOutcome::kFailed: return "failed";
  }
  return "?";
}

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "smtp_send: " << why << "\n";
  std::exit(2);
}

Duration seconds(const std::string& s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(std::stod(s)));
}

struct Args {
  SmtpHost host;
  SmtpOptions options;
  SmtpEnvelope envelope;
  std::string message;
  int messages = 1;
  bool no_tls = false;
  tern::tls::ClientOptions tls;
};

Args parse(int argc, char** argv) {
  Args a;
  a.options.helo_data = "client.test";
  a.tls.verify_certificates = "system";
  a.options.tls_connection.verify = tern::tls::ClientVerify::kTry;
  std::string message_file;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(k + " needs a value");
      return argv[++i];
    };
    if (k == "--host") a.host.ip = asio::ip::make_address(value());
    else if (k == "--port") a.host.port = static_cast<uint16_t>(std::stoi(value()));
    else if (k == "--name") a.host.name = value();
    else if (k == "--helo") a.options.helo_data = value();
    else if (k == "--from") a.envelope.sender = value();
    else if (k == "--to") {
      std::string v = value();
      SmtpRecipient r;
      std::istringstream in(v);
      std::getline(in, r.address, ';');
      std::getline(in, r.notify, ';');
      std::getline(in, r.orcpt);  // the rest: "rfc822;user@example" has a ';' itself
      a.envelope.recipients.push_back(r);
    } else if (k == "--message") message_file = value();
    else if (k == "--messages") a.messages = std::stoi(value());
    else if (k == "--max-rcpt") a.options.max_rcpt = std::stoul(value());
    else if (k == "--interface") a.options.interface.push_back(asio::ip::make_address(value()));
    else if (k == "--connect-timeout") a.options.connect_timeout = seconds(value());
    else if (k == "--command-timeout") a.options.command_timeout = seconds(value());
    else if (k == "--data-timeout") a.options.data_timeout = seconds(value());
    else if (k == "--no-pipelining") a.options.avoid_pipelining = true;
    else if (k == "--no-chunking") a.options.try_chunking = false;
    else if (k == "--avoid-tls") a.options.avoid_tls = true;
    else if (k == "--require-tls") a.options.require_tls = true;
    else if (k == "--no-tls") a.no_tls = true;
    else if (k == "--verify") {
      std::string v = value();
      a.options.tls_connection.verify = v == "require" ? tern::tls::ClientVerify::kRequire
                                        : v == "try"   ? tern::tls::ClientVerify::kTry
                                                       : tern::tls::ClientVerify::kNone;
    } else if (k == "--ca") a.tls.verify_certificates = value();
    else if (k == "--verify-name") a.options.tls_connection.verify_hostnames.push_back(value());
    else if (k == "--sni") a.options.tls_connection.sni = value();
    else if (k == "--cert") a.tls.certificate = value();
    else if (k == "--key") a.tls.privatekey = value();
    else if (k == "--ret") a.envelope.dsn_ret = value();
    else if (k == "--envid") a.envelope.dsn_envid = value();
    else if (k == "--8bit") a.envelope.body_8bit = true;
    else usage("unknown argument " + k);
  }
  if (a.host.name.empty()) a.host.name = a.host.ip.to_string();
  if (message_file.empty() || a.envelope.recipients.empty()) usage("--message and --to are needed");
  std::ifstream f(message_file, std::ios::binary);
  if (!f) usage("cannot read " + message_file);
  std::ostringstream body;
  body << f.rdbuf();
  a.message = body.str();
  return a;
}

asio::awaitable<void> run(Args& a) {
  auto executor = co_await asio::this_coro::executor;
  if (!a.no_tls) {
    auto tls = tern::tls::ClientTls::create(a.tls);
    if (!tls) {
      std::cout << "tls_setup_error " << tls.error().message << std::endl;
      co_return;
    }
    a.options.tls = *tls;
  }
  auto client = co_await SmtpClient::open(executor, a.host, a.options);
  if (!client) {
    std::cout << "open " << (client.error().is_defer() ? "defer " : "fail ")
              << client.error().message << std::endl;
    co_return;
  }
  SmtpClient& c = **client;
  for (const std::string& l : c.take_log()) std::cout << "log " << l << "\n";
  std::cout << "open ok " << c.host().log_text() << c.tls_log_fields() << "\n";
  const Capabilities& caps = c.capabilities();
  std::cout << "caps" << (caps.pipelining ? " pipelining" : "") << (caps.size ? " size" : "")
            << (caps.eightbitmime ? " 8bitmime" : "") << (caps.dsn ? " dsn" : "")
            << (caps.chunking ? " chunking" : "") << (caps.starttls ? " starttls" : "") << "\n";
  a.envelope.size = a.message.size();
  a.envelope.wire_message = wire_message_of(a.message);
  for (int m = 1; m <= a.messages; ++m) {
    DeliveryResult r = co_await c.deliver(a.envelope);
    for (size_t i = 0; i < r.recipients.size(); ++i) {
      const RecipientResult& rr = r.recipients[i];
      std::cout << "rcpt " << m << " " << a.envelope.recipients[i].address << " "
                << outcome_name(rr.outcome) << " " << rr.code << " " << rr.message << "\n";
    }
    if (r.host_error) std::cout << "host_error " << r.host_message << "\n";
  }
  co_await c.quit();
  std::cout << std::flush;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse(argc, argv);
  asio::io_context io;
  asio::co_spawn(io, run(args), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  return 0;
}
