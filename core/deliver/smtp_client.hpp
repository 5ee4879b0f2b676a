// core/deliver/smtp_client.hpp: one outgoing SMTP connection, as Exim 4.96's smtp transport drives it.
//
// The smtp transport picks the host, expands its options and matches the
// host lists; the client then does the conversation:
//
//   auto c = co_await SmtpClient::open(executor, {.name = "mx.example", .ip = ip, .port = 25},
//                                      options);               // connect, banner, EHLO, STARTTLS
//   if (!c) ...  // c.error(): kDefer (try the next host) or kFailed (5xx greeting)
//   DeliveryResult r = co_await (*c)->deliver(envelope);       // as often as there are messages
//   co_await (*c)->quit();
//
// open() connects within connect_timeout (from `interface` when set), reads
// the banner, says EHLO (HELO when EHLO is refused), and does STARTTLS when
// the server offers it and the host is not in hosts_avoid_tls; a host in
// hosts_require_tls that gets no TLS is a deferral. When TLS fails and is
// not required (nor is verification), the client reconnects and goes on in
// clear, as Exim's tls_tempfail_tryclear does.
//
// deliver() sends one message to its recipients, max_rcpt of them per
// transaction: MAIL FROM with SIZE, BODY=8BITMIME and DSN's RET/ENVID (each
// when the server offers it), RCPT TO with NOTIFY/ORCPT, pipelined when the
// server offers PIPELINING; then DATA (dot-stuffed, CRLF), or BDAT when the
// server offers CHUNKING and the host is in hosts_try_chunking. Each
// recipient's result says delivered, deferred or failed, with the text Exim
// logs. A connection that breaks or times out defers every recipient not
// yet confirmed: nothing is reported delivered without the server's 2xx to
// the end of data.
#pragma once

// clang-format off
#include <utility>  // before Boost: 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth/authenticator.hpp"
#include "core/base/result.hpp"
#include "core/deliver/smtp_reply.hpp"
#include "core/deliver/smtp_wire.hpp"
#include "core/expand/expand.hpp"
#include "core/tls/client.hpp"

namespace tern::deliver {

struct SmtpHost {
  std::string name;  // as the router found it; the IP when there is no name
  boost::asio::ip::address ip;
  uint16_t port = 25;
  // "H=mx.example [192.0.2.1]", with ":port" when `with_port`
  // (log_selector +outgoing_port).
  std::string log_text(bool with_port = false) const;
};

// Exim's transport events on one connection, raised by the client: tcp:connect before it
// connects, smtp:connect after a 2xx banner, smtp:ehlo after each reply to EHLO, tcp:close
// once the connection is closed. `local` is the connection's own end (none before the
// connect). A non-empty answer to tcp:connect means do not connect (the open fails with
// kEventDeclinedConnect and no connection is made); to smtp:connect, QUIT and close (the
// open fails with "deferred by smtp:connect event expansion: <answer>").
class SmtpEvents {
 public:
  virtual ~SmtpEvents() = default;
  // Someone listens to `event`: only then does the client build its data.
  virtual bool observed(std::string_view event) const = 0;
  virtual std::string raise(std::string_view event, std::string_view data,
                            const std::optional<boost::asio::ip::tcp::endpoint>& local) = 0;
  // A variable the next events see ($sender_host_authenticated during auth:fail).
  virtual void set_variable(std::string_view name, std::string value) = 0;
  // A line for the main log about the message being delivered.
  virtual void log(std::string_view line) = 0;
  // The host failed as a whole but the client goes on with it (a failed TLS handshake,
  // then the message in clear over a new connection): Exim's msg:host:defer in between.
  virtual void host_deferred(const std::string& message) = 0;
};

// The open's error when tcp:connect's answer was not empty: Exim's text for ERRNO_EVENT.
inline constexpr std::string_view kEventDeclinedConnect = "Event requests alternate response";
// How the open's error starts when smtp:connect's answer was not empty.
inline constexpr std::string_view kEventDeclinedBanner = "deferred by smtp:connect event expansion: ";

// The transport's options, expanded and matched against this host.
struct SmtpOptions {
  std::string helo_data;  // the name for EHLO/HELO (Exim: $primary_hostname)
  Duration connect_timeout = std::chrono::minutes(5);
  Duration command_timeout = std::chrono::minutes(5);
  Duration data_timeout = std::chrono::minutes(5);
  std::vector<boost::asio::ip::address> interface;  // source addresses; the peer's family is used
  size_t max_rcpt = 100;  // 0: no limit
  size_t size_addition = 1024;
  bool avoid_pipelining = false;  // hosts_avoid_pipelining matched
  bool try_chunking = true;       // hosts_try_chunking matched
  bool avoid_tls = false;         // hosts_avoid_tls matched
  bool require_tls = false;       // hosts_require_tls matched
  // The TLS context (null: no TLS with this host) and the connection's
  // SNI, verification mode and names (tls_sni, tls_verify_hosts, ...).
  std::shared_ptr<const tls::ClientTls> tls;
  // Makes `tls` when it is null and the server offers STARTTLS (empty: no TLS), so
  // that a connection without TLS never pays for the context (the trust store).
  // Its error is the deferral when the host is in hosts_require_tls.
  std::function<Result<std::shared_ptr<const tls::ClientTls>>()> make_tls;
  tls::ClientConnection tls_connection;
  SmtpEvents* events = nullptr;  // must outlive the client; null: no events
  // AUTH after EHLO (and after STARTTLS's EHLO) when the server offers it and
  // the host is in hosts_require_auth (no AUTH: a deferral) or hosts_try_auth.
  struct Auth {
    bool require = false, try_auth = false;
    const auth::AuthenticatorSet* authenticators = nullptr;  // null: none configured
    expand::Context* expand = nullptr;                       // client_send and friends
    std::string hostname;                                    // cram_md5's default client_name
  } auth;
};

struct SmtpRecipient {
  std::string address;
  std::string notify;  // DSN NOTIFY value ("SUCCESS,FAILURE"); empty: none sent
  std::string orcpt;   // DSN ORCPT value ("rfc822;user@example"); empty: none sent
};

struct SmtpEnvelope {
  std::string sender;  // empty: the null sender <>
  std::vector<SmtpRecipient> recipients;
  std::string dsn_ret;    // "FULL" or "HDRS"; empty: none sent
  std::string dsn_envid;  // xtext as received; empty: none sent
  bool body_8bit = false;  // BODY=8BITMIME when the server offers 8BITMIME
  // AUTH= on MAIL (xtext-encoded) once authenticated, or always with `auth_sender_force`
  // (the message's $authenticated_sender or the transport's authenticated_sender).
  std::string auth_sender;
  bool auth_sender_force = false;
  // The message's size for SIZE= (the client adds size_addition).
  size_t size = 0;
  // The message in its wire form, asked for once the client knows how it
  // goes: CRLF line ends and, for DATA (`dot_stuffed`), leading dots
  // doubled and ".\r\n" at the end; for BDAT neither. The smtp transport
  // makes it with write_message() (message_writer.hpp).
  std::function<std::string(bool dot_stuffed)> wire_message;
};

// The usual wire_message for a message held as text ("\n" or "\r\n" line ends).
std::function<std::string(bool dot_stuffed)> wire_message_of(std::string_view message);

// (transport.hpp's Outcome says the same for the delivery process.)
enum class SmtpOutcome { kDelivered, kDeferred, kFailed };

struct RecipientResult {
  SmtpOutcome outcome = SmtpOutcome::kDeferred;
  // Delivered: the server's reply to the end of data (Exim's C="..."
  // value, already in printable form). Otherwise Exim's error text:
  // "SMTP error from remote mail server after RCPT TO:<a@b>: 550 ...".
  std::string message;
  int code = 0;  // the SMTP code behind the outcome; 0: none (connection error)
  // Where it happened, for the retry rules' error names (rcpt_4xx, ...).
  enum class Stage { kConnection, kMail, kRcpt, kData } stage = Stage::kConnection;
  bool timed_out = false;  // code 0 and the cause was a timeout
};

struct DeliveryResult {
  std::vector<RecipientResult> recipients;  // in the envelope's order
  // The failure lies with the host or connection (timeout, connection
  // lost, 4xx to MAIL): try the next host and keep a host retry record.
  bool host_error = false;
  std::string host_message;  // the text for the host error ("" when none)
};

struct Capabilities {
  bool esmtp = false;
  bool pipelining = false;
  bool size = false;
  bool eightbitmime = false;
  bool dsn = false;
  bool chunking = false;
  bool starttls = false;
  std::string auth;  // the mechanisms of the AUTH line ("PLAIN LOGIN"); empty: none
};

class SmtpClient {
 public:
  static boost::asio::awaitable<Result<std::unique_ptr<SmtpClient>>> open(
      boost::asio::any_io_executor executor, SmtpHost host, SmtpOptions options);
  // The conversation over a connection the caller made (tests use a fake
  // wire). `reconnect` makes a fresh wire for the TLS-in-clear retry (may be empty).
  using Reconnect = std::function<boost::asio::awaitable<Result<std::unique_ptr<SmtpWire>>>()>;
  static boost::asio::awaitable<Result<std::unique_ptr<SmtpClient>>> start(
      std::unique_ptr<SmtpWire> wire, SmtpHost host, SmtpOptions options,
      Reconnect reconnect = {});

  ~SmtpClient();

  boost::asio::awaitable<DeliveryResult> deliver(const SmtpEnvelope& envelope);
  // QUIT (waiting for the reply at most command_timeout) and close.
  boost::asio::awaitable<void> quit();

  // Another message may go over this connection.
  bool usable() const { return usable_; }
  const SmtpHost& host() const { return host_; }
  const Capabilities& capabilities() const { return caps_; }
  // The TLS session (nullptr: in clear).
  const tls::SessionInfo* tls_info() const { return wire_->tls_info(); }
  // " X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes", or "" in clear.
  std::string tls_log_fields() const;
  // The authenticator that succeeded ("" when none) and its client_set_id value.
  const std::string& authenticator() const { return authenticator_; }
  const std::string& authenticated_id() const { return authenticated_id_; }
  // Lines to log about the connection (TLS verification failures, the fall back to clear,
  // failed authenticators), with Exim's "H=host [ip]" prefix where it has one: they go to
  // options.events' log() as they happen, or are kept for take_log() without events.
  std::vector<std::string> take_log() { return std::exchange(log_, {}); }

 private:
  struct Transaction;
  SmtpClient(std::unique_ptr<SmtpWire> wire, SmtpHost host, SmtpOptions options);
  void note(std::string line);

  // Why greet() failed: TLS could not be set up (Exim may then go on in clear).
  enum class GreetFailure { kOther, kTls };

  boost::asio::awaitable<Status> greet(bool allow_tls, GreetFailure& why);
  boost::asio::awaitable<Status> say_hello();
  // A whole reply; the error's message is Exim's text for a failure after
  // the command `after` ("SMTP timeout after ...", "Remote host closed ...").
  boost::asio::awaitable<Result<SmtpReply>> read_reply(Duration timeout, std::string_view after,
                                                       bool pipelined = false);
  boost::asio::awaitable<Status> send(std::string_view data, Duration timeout);
  // Send `line` (without CRLF) and read its reply within command_timeout.
  // `shown`: the line as error texts show it, when it carries credentials.
  boost::asio::awaitable<Result<SmtpReply>> command(const std::string& line, const std::string& shown = {});
  // AUTH with the first configured client authenticator the server offers
  // (Exim's smtp_auth()); an error defers the host.
  boost::asio::awaitable<Status> authenticate();
  std::string reply_error(const SmtpReply& reply, std::string_view after,
                          bool pipelined = false) const;
  // Raises `event` (see SmtpEvents) when someone listens; `data` is built only then.
  std::string raise(std::string_view event, const std::function<std::string()>& data = {}) const;
  // Closes the wire (once) and raises tcp:close.
  void close_wire();
  boost::asio::awaitable<void> transaction(const SmtpEnvelope& envelope, size_t first,
                                           size_t count, Transaction& t);
  boost::asio::awaitable<void> data_phase(const SmtpEnvelope& envelope,
                                          const std::vector<size_t>& accepted, Transaction& t);

  std::unique_ptr<SmtpWire> wire_;
  SmtpHost host_;
  SmtpOptions options_;
  Capabilities caps_;
  ReplyParser parser_;
  std::vector<std::string> log_;
  bool usable_ = false;
  bool need_rset_ = false;
  bool wire_open_ = true;
  std::string authenticator_, authenticated_id_;
};

}  // namespace tern::deliver
