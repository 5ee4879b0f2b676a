// core/deliver/smtp_client_test.cpp: the client's conversation against a scripted fake server.
//
// The fake wire hands out the server's replies one byte at a time and
// records every write, so the tests see what went out in which write
// (pipelining groups MAIL and RCPTs in one) and how each reply was read.
// Real servers are in tests/deliver.
#include "core/deliver/smtp_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <deque>

namespace tern::deliver {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

class FakeWire final : public SmtpWire {
 public:
  FakeWire(std::string server, std::vector<std::string>* writes)
      : server_(std::move(server)), writes_(writes) {}
  asio::awaitable<error_code> read_some(std::span<char> buf, size_t& n, Duration) override {
    n = 0;
    if (at_ >= server_.size()) co_return drop_ ? error_code(asio::error::connection_reset) : error_code(asio::error::eof);
    buf[0] = server_[at_++];
    n = 1;
    co_return error_code();
  }
  asio::awaitable<error_code> write(std::string_view data, Duration) override {
    writes_->emplace_back(data);
    co_return error_code();
  }
  asio::awaitable<Status> start_tls(const tls::ClientTls&, const tls::ClientConnection&,
                                    Duration) override {
    co_return Error::defer("not in this test");
  }
  const tls::SessionInfo* tls_info() const override { return nullptr; }
  void close() override {}
  bool drop_ = false;

 private:
  std::string server_;
  size_t at_ = 0;
  std::vector<std::string>* writes_;
};

const char kGreeting[] = "220 mx.test ESMTP\r\n";
const char kEhloPipelining[] = "250-mx.test\r\n250-PIPELINING\r\n250-SIZE\r\n250 DSN\r\n";
const char kEhloPlain[] = "250-mx.test\r\n250 8BITMIME\r\n";

struct Conversation {
  Result<std::unique_ptr<SmtpClient>> client = Error::failed("not run");
  std::vector<DeliveryResult> results;
  std::vector<std::string> writes;
};

Conversation converse(const std::string& server, const SmtpEnvelope& env, SmtpOptions options = {},
             int messages = 1, bool reset_at_end = false) {
  Conversation run;
  asio::io_context io;
  options.helo_data = "client.test";
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto wire = std::make_unique<FakeWire>(server, &run.writes);
        wire->drop_ = reset_at_end;
        SmtpHost host{"mx.test", asio::ip::make_address("192.0.2.1"), 25};
        run.client = co_await SmtpClient::start(std::move(wire), host, options);
        if (!run.client) co_return;
        for (int i = 0; i < messages; ++i) run.results.push_back(co_await (*run.client)->deliver(env));
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  return run;
}

SmtpEnvelope envelope(std::vector<std::string> rcpts, std::string_view message = "Subject: t\n\nhi\n") {
  SmtpEnvelope e;
  e.sender = "s@a.test";
  for (auto& r : rcpts) e.recipients.push_back({r, "", ""});
  e.size = message.size();
  e.wire_message = wire_message_of(message);
  return e;
}

TEST(SmtpClient, PipelinedMailAndRcptsGoInOneWrite) {
  std::string server = std::string(kGreeting) + kEhloPipelining +
                       "250 OK\r\n250 Accepted\r\n550 5.1.1 unknown\r\n354 go\r\n250 OK id=1\r\n";
  SmtpEnvelope env = envelope({"a@b.test", "x@b.test"});
  Conversation run = converse(server, env);
  ASSERT_TRUE(run.client) << run.client.error().message;
  ASSERT_EQ(run.writes.size(), 4u);
  EXPECT_EQ(run.writes[0], "EHLO client.test\r\n");
  EXPECT_EQ(run.writes[1], "MAIL FROM:<s@a.test> SIZE=1039\r\nRCPT TO:<a@b.test>\r\nRCPT TO:<x@b.test>\r\n");
  EXPECT_EQ(run.writes[2], "DATA\r\n");
  EXPECT_EQ(run.writes[3], "Subject: t\r\n\r\nhi\r\n.\r\n");
  const DeliveryResult& r = run.results[0];
  EXPECT_EQ(r.recipients[0].outcome, SmtpOutcome::kDelivered);
  EXPECT_EQ(r.recipients[0].message, "250 OK id=1");
  EXPECT_EQ(r.recipients[1].outcome, SmtpOutcome::kFailed);
  EXPECT_EQ(r.recipients[1].code, 550);
  EXPECT_EQ(r.recipients[1].message,
            "SMTP error from remote mail server after pipelined RCPT TO:<x@b.test>: 550 5.1.1 unknown");
  EXPECT_FALSE(r.host_error);
}

TEST(SmtpClient, WithoutPipeliningOneCommandAtATime) {
  std::string server = std::string(kGreeting) + kEhloPlain +
                       "250 OK\r\n451 try later\r\n250 OK\r\n354 go\r\n250 done\r\n";
  SmtpEnvelope env = envelope({"a@b.test", "c@b.test"}, ".dot\n");
  env.body_8bit = true;
  Conversation run = converse(server, env);
  ASSERT_TRUE(run.client) << run.client.error().message;
  std::vector<std::string> want = {"EHLO client.test\r\n", "MAIL FROM:<s@a.test> BODY=8BITMIME\r\n",
                                   "RCPT TO:<a@b.test>\r\n", "RCPT TO:<c@b.test>\r\n", "DATA\r\n",
                                   "..dot\r\n.\r\n"};
  EXPECT_EQ(run.writes, want);
  const DeliveryResult& r = run.results[0];
  EXPECT_EQ(r.recipients[0].outcome, SmtpOutcome::kDeferred);
  EXPECT_EQ(r.recipients[0].message,
            "SMTP error from remote mail server after RCPT TO:<a@b.test>: 451 try later");
  EXPECT_EQ(r.recipients[1].outcome, SmtpOutcome::kDelivered);
}

TEST(SmtpClient, DsnParametersOnlyWhenOffered) {
  std::string server = std::string(kGreeting) + kEhloPipelining +
                       "250 OK\r\n250 OK\r\n354 go\r\n250 OK\r\n";
  SmtpEnvelope env = envelope({"a@b.test"});
  env.recipients[0].notify = "SUCCESS,FAILURE";
  env.recipients[0].orcpt = "rfc822;a@b.test";
  env.dsn_ret = "HDRS";
  env.dsn_envid = "xyz";
  Conversation run = converse(server, env);
  ASSERT_TRUE(run.client);
  EXPECT_EQ(run.writes[1],
            "MAIL FROM:<s@a.test> SIZE=1039 RET=HDRS ENVID=xyz\r\n"
            "RCPT TO:<a@b.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@b.test\r\n");

  std::string plain = std::string(kGreeting) + kEhloPlain + "250 OK\r\n250 OK\r\n354 go\r\n250 OK\r\n";
  Conversation run2 = converse(plain, env);
  ASSERT_TRUE(run2.client);
  EXPECT_EQ(run2.writes[1], "MAIL FROM:<s@a.test>\r\n");
  EXPECT_EQ(run2.writes[2], "RCPT TO:<a@b.test>\r\n");
}

TEST(SmtpClient, ConnectionLostAfterDataIsNeverDelivered) {
  std::string server = std::string(kGreeting) + kEhloPlain + "250 OK\r\n250 OK\r\n354 go\r\n";
  Conversation run = converse(server, envelope({"a@b.test"}), {}, 1, /*reset_at_end=*/true);
  ASSERT_TRUE(run.client);
  const DeliveryResult& r = run.results[0];
  EXPECT_EQ(r.recipients[0].outcome, SmtpOutcome::kDeferred);
  EXPECT_EQ(r.recipients[0].message, "Remote host closed connection in response to end of data");
  EXPECT_TRUE(r.host_error);
  EXPECT_FALSE((*run.client)->usable());
}

TEST(SmtpClient, MaxRcptSplitsTransactionsWithRsetBetween) {
  std::string server = std::string(kGreeting) + kEhloPlain +
                       "250 OK\r\n250 OK\r\n250 OK\r\n354 go\r\n250 first\r\n"
                       "250 reset\r\n250 OK\r\n250 OK\r\n354 go\r\n250 second\r\n";
  SmtpOptions o;
  o.max_rcpt = 2;
  Conversation run = converse(server, envelope({"a@t", "b@t", "c@t"}), o);
  ASSERT_TRUE(run.client);
  const DeliveryResult& r = run.results[0];
  EXPECT_EQ(r.recipients[0].message, "250 first");
  EXPECT_EQ(r.recipients[1].message, "250 first");
  EXPECT_EQ(r.recipients[2].message, "250 second");
  EXPECT_EQ(run.writes[6], "RSET\r\n");
}

TEST(SmtpClient, GreetingFailures) {
  Conversation refused = converse("554 go away\r\n", envelope({"a@t"}));
  ASSERT_FALSE(refused.client);
  EXPECT_FALSE(refused.client.error().is_defer());
  EXPECT_EQ(refused.client.error().message,
            "SMTP error from remote mail server after initial connection: 554 go away");

  Conversation busy = converse("421 busy\r\n", envelope({"a@t"}));
  ASSERT_FALSE(busy.client);
  EXPECT_TRUE(busy.client.error().is_defer());

  // EHLO refused: HELO, and no extensions used.
  Conversation helo = converse(std::string(kGreeting) + "500 what\r\n250 hi\r\n250 OK\r\n250 OK\r\n354 go\r\n250 OK\r\n",
                      envelope({"a@t"}));
  ASSERT_TRUE(helo.client) << helo.client.error().message;
  EXPECT_EQ(helo.writes[1], "HELO client.test\r\n");
  EXPECT_EQ(helo.results[0].recipients[0].outcome, SmtpOutcome::kDelivered);

  Conversation garbage = converse("hello there\r\n", envelope({"a@t"}));
  ASSERT_FALSE(garbage.client);
  EXPECT_EQ(garbage.client.error().message,
            "malformed SMTP reply: hello there after initial connection");

  SmtpOptions require;
  require.require_tls = true;
  Conversation notls = converse(std::string(kGreeting) + kEhloPlain, envelope({"a@t"}), require);
  ASSERT_FALSE(notls.client);
  EXPECT_TRUE(notls.client.error().is_defer());
  EXPECT_EQ(notls.client.error().message,
            "a TLS session is required, but the server did not offer TLS support");
}

TEST(SmtpClient, TlsContextMadeOnlyWhenTheServerOffersStarttls) {
  int made = 0;
  SmtpOptions options;
  options.make_tls = [&made]() -> Result<std::shared_ptr<const tls::ClientTls>> {
    ++made;
    return Error::defer("TLS error: no trust store");
  };
  const std::string delivered = "250 OK\r\n250 OK\r\n354 go\r\n250 OK\r\n";

  Conversation plain = converse(std::string(kGreeting) + kEhloPlain + delivered, envelope({"a@t"}), options);
  ASSERT_TRUE(plain.client) << plain.client.error().message;
  EXPECT_EQ(made, 0);
  EXPECT_EQ(plain.results[0].recipients[0].outcome, SmtpOutcome::kDelivered);

  // Offered, the context cannot be made, TLS not required: on in clear, no STARTTLS sent.
  const std::string ehlo_starttls = "250-mx.test\r\n250 STARTTLS\r\n";
  Conversation offered = converse(std::string(kGreeting) + ehlo_starttls + delivered, envelope({"a@t"}), options);
  ASSERT_TRUE(offered.client) << offered.client.error().message;
  EXPECT_EQ(made, 1);
  EXPECT_EQ(offered.writes[1], "MAIL FROM:<s@a.test>\r\n");
  EXPECT_EQ(offered.results[0].recipients[0].outcome, SmtpOutcome::kDelivered);

  // Required: the context's error defers the host.
  options.require_tls = true;
  Conversation required = converse(std::string(kGreeting) + ehlo_starttls, envelope({"a@t"}), options);
  ASSERT_FALSE(required.client);
  EXPECT_EQ(made, 2);
  EXPECT_TRUE(required.client.error().is_defer());
  EXPECT_EQ(required.client.error().message, "TLS error: no trust store");
}

TEST(SmtpClient, MailRefusals) {
  Conversation temp = converse(std::string(kGreeting) + kEhloPlain + "452 full\r\n", envelope({"a@t", "b@t"}));
  ASSERT_TRUE(temp.client);
  EXPECT_TRUE(temp.results[0].host_error);
  for (const RecipientResult& r : temp.results[0].recipients) {
    EXPECT_EQ(r.outcome, SmtpOutcome::kDeferred);
    EXPECT_EQ(r.message, "SMTP error from remote mail server after MAIL FROM:<s@a.test>: 452 full");
  }
  Conversation perm = converse(std::string(kGreeting) + kEhloPipelining + "550 no\r\n503 no\r\n",
                      envelope({"a@t"}));
  ASSERT_TRUE(perm.client);
  EXPECT_EQ(perm.results[0].recipients[0].outcome, SmtpOutcome::kFailed);
  EXPECT_FALSE(perm.results[0].host_error);
  EXPECT_TRUE((*perm.client)->usable());
}

}  // namespace
}  // namespace tern::deliver
