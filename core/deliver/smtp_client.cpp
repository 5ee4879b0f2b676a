// core/deliver/smtp_client.cpp: the SMTP conversation of a delivery, command by command.
//
// Error texts are Exim 4.96's (transports/smtp.c): "SMTP error from remote
// mail server after RCPT TO:<a@b>: 550 ...", "SMTP timeout after ...",
// "Remote host closed connection in response to ...", "send() to host [ip]
// failed: ...", "a TLS session is required, but ...", "TLS session: ...".
#include "core/deliver/smtp_client.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/auth/client.hpp"
#include "core/deliver/wire_encoder.hpp"

namespace tern::deliver {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// BDAT chunks: big enough that a round trip per chunk costs little.
constexpr size_t kBdatChunk = 1024 * 1024;

std::string upper_keyword(std::string_view line) {
  // "250-SIZE 10240000" -> "SIZE"
  if (line.size() <= 4) return {};
  std::string_view rest = line.substr(4);
  size_t end = rest.find(' ');
  std::string word(rest.substr(0, end));
  for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return word;
}

Capabilities parse_ehlo(const SmtpReply& reply) {
  Capabilities caps;
  caps.esmtp = true;
  for (size_t i = 1; i < reply.lines.size(); ++i) {
    std::string word = upper_keyword(reply.lines[i]);
    if (word == "PIPELINING") caps.pipelining = true;
    else if (word == "SIZE") caps.size = true;
    else if (word == "8BITMIME") caps.eightbitmime = true;
    else if (word == "DSN") caps.dsn = true;
    else if (word == "CHUNKING") caps.chunking = true;
    else if (word == "STARTTLS") caps.starttls = true;
    else if (word == "AUTH" && reply.lines[i].size() > 9) caps.auth = reply.lines[i].substr(9);
  }
  return caps;
}

Error by_code(const SmtpReply& reply, std::string message) {
  return reply.permanent() ? Error::failed(std::move(message)) : Error::defer(std::move(message));
}

}  // namespace

struct SmtpClient::Transaction {
  DeliveryResult& result;
  std::vector<bool> done;

  using Stage = RecipientResult::Stage;
  void set(size_t i, SmtpOutcome outcome, std::string message, int code, Stage stage) {
    RecipientResult& r = result.recipients[i];
    r.outcome = outcome;
    r.code = code;
    r.stage = stage;
    // Exim's text for a timeout starts so; a reply code is never a timeout.
    r.timed_out = code == 0 && message.starts_with("SMTP timeout");
    r.message = std::move(message);
    done[i] = true;
  }
  // Every recipient of [first, first+count) not yet decided.
  void settle(size_t first, size_t count, SmtpOutcome outcome, const std::string& message,
              int code, Stage stage) {
    for (size_t i = first; i < first + count && i < done.size(); ++i) {
      if (!done[i]) set(i, outcome, message, code, stage);
    }
  }
  void host_failed(const std::string& message) {
    result.host_error = true;
    if (result.host_message.empty()) result.host_message = message;
  }
};

std::function<std::string(bool)> wire_message_of(std::string_view message) {
  return [message](bool dot_stuffed) {
    return encode_for_wire(message, dot_stuffed ? WireEncoder::Mode::kData : WireEncoder::Mode::kBdat);
  };
}

std::string SmtpHost::log_text(bool with_port) const {
  std::string s = "H=" + name + " [" + ip.to_string() + "]";
  if (with_port) s += ":" + std::to_string(port);
  return s;
}

SmtpClient::SmtpClient(std::unique_ptr<SmtpWire> wire, SmtpHost host, SmtpOptions options)
    : wire_(std::move(wire)), host_(std::move(host)), options_(std::move(options)) {}

SmtpClient::~SmtpClient() { close_wire(); }

std::string SmtpClient::raise(std::string_view event, const std::function<std::string()>& data) const {
  SmtpEvents* events = options_.events;
  if (events == nullptr || !events->observed(event)) return {};
  return events->raise(event, data ? data() : std::string(), wire_ ? wire_->local_endpoint() : std::nullopt);
}

void SmtpClient::note(std::string line) {
  if (options_.events != nullptr)
    options_.events->log(line);
  else
    log_.push_back(std::move(line));
}

void SmtpClient::close_wire() {
  if (!wire_ || !wire_open_) return;
  std::optional<asio::ip::tcp::endpoint> local = wire_->local_endpoint();
  wire_->close();
  wire_open_ = false;
  if (options_.events != nullptr && options_.events->observed("tcp:close")) {
    (void)options_.events->raise("tcp:close", "", local);
  }
}

std::string SmtpClient::tls_log_fields() const {
  const tls::SessionInfo* info = wire_->tls_info();
  return info != nullptr ? info->log_fields() : std::string();
}

asio::awaitable<Result<std::unique_ptr<SmtpClient>>> SmtpClient::open(asio::any_io_executor executor,
                                                                     SmtpHost host,
                                                                     SmtpOptions options) {
  std::optional<asio::ip::address> source;
  for (const asio::ip::address& a : options.interface) {
    if (a.is_v4() == host.ip.is_v4()) {
      source = a;
      break;
    }
  }
  asio::ip::tcp::endpoint peer(host.ip, host.port);
  Duration timeout = options.connect_timeout;
  SmtpEvents* events = options.events;
  Reconnect reconnect = [executor, peer, source, timeout,
                         events]() -> asio::awaitable<Result<std::unique_ptr<SmtpWire>>> {
    // Exim's tcp:connect, before each connection (the TLS-in-clear retry's too).
    if (events != nullptr && events->observed("tcp:connect") &&
        !events->raise("tcp:connect", "", std::nullopt).empty()) {
      co_return Error::defer(std::string(kEventDeclinedConnect));
    }
    Result<std::unique_ptr<TcpWire>> w = co_await TcpWire::connect(executor, peer, source, timeout);
    if (!w) co_return w.take_error();
    co_return std::unique_ptr<SmtpWire>(std::move(*w));
  };
  Result<std::unique_ptr<SmtpWire>> wire = co_await reconnect();
  if (!wire) co_return wire.take_error();
  co_return co_await start(std::move(*wire), std::move(host), std::move(options),
                           std::move(reconnect));
}

asio::awaitable<Result<std::unique_ptr<SmtpClient>>> SmtpClient::start(
    std::unique_ptr<SmtpWire> wire, SmtpHost host, SmtpOptions options, Reconnect reconnect) {
  std::unique_ptr<SmtpClient> client(
      new SmtpClient(std::move(wire), std::move(host), std::move(options)));
  GreetFailure why = GreetFailure::kOther;
  Status greeted = co_await client->greet(true, why);
  if (greeted) co_return std::move(client);
  // tls_tempfail_tryclear (Exim's default): a host not in
  // hosts_require_tls gets the message in clear over a new connection.
  if (why != GreetFailure::kTls || client->options_.require_tls || !reconnect) {
    co_return greeted.take_error();
  }
  client->note(greeted.error().message + ": delivering unencrypted to " +
                         client->host_.name + " [" + client->host_.ip.to_string() +
                         "] (not in hosts_require_tls)");
  client->close_wire();
  if (client->options_.events != nullptr) client->options_.events->host_deferred(greeted.error().message);
  Result<std::unique_ptr<SmtpWire>> again = co_await reconnect();
  if (!again) co_return again.take_error();
  client->wire_ = std::move(*again);
  client->wire_open_ = true;
  client->parser_.clear();
  client->caps_ = {};
  Status clear = co_await client->greet(false, why);
  if (!clear) co_return clear.take_error();
  co_return std::move(client);
}

asio::awaitable<Status> SmtpClient::send(std::string_view data, Duration timeout) {
  error_code ec = co_await wire_->write(data, timeout);
  if (!ec) co_return Status();
  usable_ = false;
  if (ec == asio::error::timed_out) {
    co_return Error::defer("SMTP timeout while sending to " + host_.name + " [" +
                           host_.ip.to_string() + "]");
  }
  co_return Error::defer("send() to " + host_.name + " [" + host_.ip.to_string() +
                         "] failed: " + ec.message());
}

asio::awaitable<Result<SmtpReply>> SmtpClient::read_reply(Duration timeout, std::string_view after,
                                                          bool pipelined) {
  std::string pl = pipelined ? "pipelined " : "";
  std::array<char, 4096> buf;
  for (;;) {
    if (std::optional<Result<SmtpReply>> r = parser_.next()) {
      if (r->ok()) co_return std::move(**r);
      usable_ = false;
      co_return Error::defer(r->error().message + " after " + pl + std::string(after));
    }
    size_t n = 0;
    error_code ec = co_await wire_->read_some(buf, n, timeout);
    if (ec) {
      usable_ = false;
      if (ec == asio::error::timed_out) {
        co_return Error::defer("SMTP timeout after " + pl + std::string(after));
      }
      if (ec == asio::error::eof || ec == asio::error::connection_reset) {
        co_return Error::defer("Remote host closed connection in response to " + pl +
                               std::string(after));
      }
      co_return Error::defer(host_.name + " [" + host_.ip.to_string() + "]: " + ec.message() +
                             " after " + pl + std::string(after));
    }
    parser_.feed(std::string_view(buf.data(), n));
  }
}

asio::awaitable<Result<SmtpReply>> SmtpClient::command(const std::string& line, const std::string& shown) {
  if (Status s = co_await send(line + "\r\n", options_.command_timeout); !s) {
    co_return s.take_error();
  }
  co_return co_await read_reply(options_.command_timeout, shown.empty() ? line : shown);
}

std::string SmtpClient::reply_error(const SmtpReply& reply, std::string_view after,
                                    bool pipelined) const {
  return "SMTP error from remote mail server after " + std::string(pipelined ? "pipelined " : "") +
         std::string(after) + ": " + reply.printable();
}

asio::awaitable<Status> SmtpClient::say_hello() {
  std::string ehlo = "EHLO " + options_.helo_data;
  Result<SmtpReply> r = co_await command(ehlo);
  if (!r) co_return r.take_error();
  (void)raise("smtp:ehlo", [&r] { return r->text(); });  // Exim raises it for any reply
  if (r->code / 100 == 2) {
    caps_ = parse_ehlo(*r);
    co_return Status();
  }
  // EHLO refused: an old server; HELO it is.
  std::string helo = "HELO " + options_.helo_data;
  Result<SmtpReply> h = co_await command(helo);
  if (!h) co_return h.take_error();
  if (h->code / 100 != 2) co_return by_code(*h, reply_error(*h, helo));
  caps_ = {};
  co_return Status();
}

asio::awaitable<Status> SmtpClient::greet(bool allow_tls, GreetFailure& why) {
  why = GreetFailure::kOther;
  Result<SmtpReply> banner = co_await read_reply(options_.command_timeout, "initial connection");
  if (!banner) co_return banner.take_error();
  if (banner->code / 100 != 2) {
    co_return by_code(*banner, reply_error(*banner, "initial connection"));
  }
  if (std::string verdict = raise("smtp:connect", [&banner] { return banner->text(); }); !verdict.empty()) {
    // As Exim: QUIT, close, and defer the addresses for this host.
    Status sent = co_await send("QUIT\r\n", options_.command_timeout);
    if (sent.ok()) {
      Result<SmtpReply> bye = co_await read_reply(options_.command_timeout, "QUIT");
      (void)bye;
    }
    usable_ = false;
    close_wire();
    co_return Error::defer(std::string(kEventDeclinedBanner) + verdict);
  }
  if (Status s = co_await say_hello(); !s) co_return s;

  if (allow_tls && caps_.starttls && !options_.avoid_tls && options_.tls == nullptr && options_.make_tls) {
    auto made = options_.make_tls();
    options_.make_tls = nullptr;  // tried once, made or not
    if (made) {
      options_.tls = *made;
    } else if (options_.require_tls) {
      co_return made.take_error();
    }
  }
  bool tls_possible = caps_.starttls && !options_.avoid_tls && options_.tls != nullptr;
  if (tls_possible && allow_tls) {
    Result<SmtpReply> r = co_await command("STARTTLS");
    if (!r) co_return r.take_error();
    if (r->code == 220) {
      Status started = co_await wire_->start_tls(*options_.tls, options_.tls_connection,
                                                 options_.command_timeout);
      for (tls::LogLine& l : wire_->take_tls_log()) {
        note("[" + host_.ip.to_string() + "] " + l.text);
      }
      if (!started) {
        why = GreetFailure::kTls;
        usable_ = false;
        co_return Error::defer("TLS session: " + started.error().message);
      }
      parser_.clear();  // nothing sent in clear after 220 counts
      if (Status s = co_await say_hello(); !s) co_return s;
    } else if (options_.require_tls) {
      co_return Error::defer(reply_error(*r, "STARTTLS"));
    }
  }
  if (options_.require_tls && wire_->tls_info() == nullptr) {
    co_return Error::defer(caps_.starttls && options_.tls != nullptr
                               ? "a TLS session is required, but an attempt to start TLS failed"
                               : "a TLS session is required, but the server did not offer TLS "
                                 "support");
  }
  if (Status s = co_await authenticate(); !s) co_return s;
  usable_ = true;
  co_return Status();
}

asio::awaitable<DeliveryResult> SmtpClient::deliver(const SmtpEnvelope& envelope) {
  DeliveryResult result;
  size_t n = envelope.recipients.size();
  result.recipients.resize(n);
  Transaction t{result, std::vector<bool>(n, false)};
  size_t batch = options_.max_rcpt == 0 ? std::max<size_t>(n, 1) : options_.max_rcpt;
  for (size_t first = 0; first < n; first += batch) {
    size_t count = std::min(batch, n - first);
    if (!usable_) {
      std::string why = result.host_message.empty() ? "connection to " + host_.name + " [" +
                                                           host_.ip.to_string() + "] not usable"
                                                     : result.host_message;
      t.settle(first, count, SmtpOutcome::kDeferred, why, 0, Transaction::Stage::kConnection);
      result.host_error = true;
      continue;
    }
    co_await transaction(envelope, first, count, t);
  }
  co_return result;
}

asio::awaitable<void> SmtpClient::transaction(const SmtpEnvelope& envelope, size_t first,
                                              size_t count, Transaction& t) {
  if (need_rset_) {
    Result<SmtpReply> r = co_await command("RSET");
    if (!r || r->code / 100 != 2) {
      std::string why = r ? reply_error(*r, "RSET") : r.error().message;
      usable_ = false;
      t.host_failed(why);
      t.settle(first, count, SmtpOutcome::kDeferred, why, r ? r->code : 0,
               Transaction::Stage::kConnection);
      co_return;
    }
    need_rset_ = false;
  }
  need_rset_ = true;  // whatever happens next, the next transaction starts clean

  std::string mail = "MAIL FROM:<" + envelope.sender + ">";
  if (caps_.size) {
    mail += " SIZE=" + std::to_string(envelope.size + options_.size_addition);
  }
  if (envelope.body_8bit && caps_.eightbitmime) mail += " BODY=8BITMIME";
  if (caps_.dsn) {
    if (!envelope.dsn_ret.empty()) mail += " RET=" + envelope.dsn_ret;
    if (!envelope.dsn_envid.empty()) mail += " ENVID=" + envelope.dsn_envid;
  }
  if ((!authenticator_.empty() || envelope.auth_sender_force) && !envelope.auth_sender.empty())
    mail += " AUTH=" + auth::xtext_encode(envelope.auth_sender);
  std::vector<std::string> rcpts;
  for (size_t i = first; i < first + count; ++i) {
    const SmtpRecipient& r = envelope.recipients[i];
    std::string line = "RCPT TO:<" + r.address + ">";
    if (caps_.dsn) {
      if (!r.notify.empty()) line += " NOTIFY=" + r.notify;
      if (!r.orcpt.empty()) line += " ORCPT=" + r.orcpt;
    }
    rcpts.push_back(std::move(line));
  }

  bool pipelined = caps_.pipelining && !options_.avoid_pipelining;
  auto connection_lost = [&](const Error& e) {
    usable_ = false;
    t.host_failed(e.message);
    t.settle(first, count, SmtpOutcome::kDeferred, e.message, 0, Transaction::Stage::kConnection);
  };

  if (pipelined) {
    std::string batch = mail + "\r\n";
    for (const std::string& l : rcpts) batch += l + "\r\n";
    if (Status s = co_await send(batch, options_.command_timeout); !s) {
      connection_lost(s.error());
      co_return;
    }
  }
  // (No co_await inside ?: here: GCC 12 destroys such temporaries twice.)
  Result<SmtpReply> mail_reply = Error::failed("");
  if (pipelined) {
    mail_reply = co_await read_reply(options_.command_timeout, mail, true);
  } else {
    mail_reply = co_await command(mail);
  }
  if (!mail_reply) {
    connection_lost(mail_reply.error());
    co_return;
  }
  bool mail_ok = mail_reply->code / 100 == 2;
  if (!mail_ok) {
    std::string why = reply_error(*mail_reply, mail, pipelined);
    if (mail_reply->permanent()) {
      t.settle(first, count, SmtpOutcome::kFailed, why, mail_reply->code, Transaction::Stage::kMail);
    } else {
      t.host_failed(why);  // a 4xx to MAIL: Exim tries the next host
      t.settle(first, count, SmtpOutcome::kDeferred, why, mail_reply->code,
               Transaction::Stage::kMail);
    }
    if (!pipelined) co_return;
  }

  std::vector<size_t> accepted;
  for (size_t k = 0; k < count; ++k) {
    Result<SmtpReply> r = Error::failed("");
    if (pipelined) {
      r = co_await read_reply(options_.command_timeout, rcpts[k], true);
    } else {
      r = co_await command(rcpts[k]);
    }
    if (!r) {
      connection_lost(r.error());
      co_return;
    }
    if (!mail_ok) continue;  // the replies to a refused MAIL's RCPTs mean nothing
    size_t i = first + k;
    if (r->code / 100 == 2) {
      accepted.push_back(i);
    } else {
      t.set(i, r->permanent() ? SmtpOutcome::kFailed : SmtpOutcome::kDeferred,
            reply_error(*r, rcpts[k], pipelined), r->code, Transaction::Stage::kRcpt);
    }
  }
  if (accepted.empty()) co_return;
  co_await data_phase(envelope, accepted, t);
}

asio::awaitable<void> SmtpClient::data_phase(const SmtpEnvelope& envelope,
                                             const std::vector<size_t>& accepted,
                                             Transaction& t) {
  auto settle_accepted = [&](SmtpOutcome outcome, const std::string& message, int code) {
    for (size_t i : accepted) t.set(i, outcome, message, code, Transaction::Stage::kData);
  };
  auto connection_lost = [&](const Error& e) {
    usable_ = false;
    t.host_failed(e.message);
    settle_accepted(SmtpOutcome::kDeferred, e.message, 0);
  };
  auto refused = [&](const SmtpReply& r, const std::string& after) {
    settle_accepted(r.permanent() ? SmtpOutcome::kFailed : SmtpOutcome::kDeferred, reply_error(r, after),
                    r.code);
  };

  if (caps_.chunking && options_.try_chunking) {
    std::string body = envelope.wire_message(false);
    size_t at = 0;
    do {
      size_t len = std::min(kBdatChunk, body.size() - at);
      bool last = at + len == body.size();
      std::string cmd = "BDAT " + std::to_string(len) + (last ? " LAST" : "");
      std::string out = cmd + "\r\n";
      out.append(body, at, len);
      if (Status s = co_await send(out, options_.data_timeout); !s) {
        connection_lost(s.error());
        co_return;
      }
      Result<SmtpReply> r = co_await read_reply(options_.data_timeout, cmd);
      if (!r) {
        connection_lost(r.error());
        co_return;
      }
      if (r->code / 100 != 2) {
        refused(*r, cmd);
        co_return;
      }
      at += len;
      if (last) {
        settle_accepted(SmtpOutcome::kDelivered, r->printable(), r->code);
        co_return;
      }
    } while (true);
  }

  Result<SmtpReply> go = co_await command("DATA");
  if (!go) {
    connection_lost(go.error());
    co_return;
  }
  if (go->code != 354) {
    refused(*go, "DATA");
    co_return;
  }
  std::string body = envelope.wire_message(true);
  if (Status s = co_await send(body, options_.data_timeout); !s) {
    connection_lost(s.error());
    co_return;
  }
  Result<SmtpReply> end = co_await read_reply(options_.data_timeout, "end of data");
  if (!end) {
    connection_lost(end.error());
    co_return;
  }
  if (end->code / 100 != 2) {
    refused(*end, "end of data");
    co_return;
  }
  settle_accepted(SmtpOutcome::kDelivered, end->printable(), end->code);
}

asio::awaitable<void> SmtpClient::quit() {
  if (usable_) {
    usable_ = false;
    // Named results: GCC 12 miscompiles a co_await used directly as a condition.
    Status sent = co_await send("QUIT\r\n", options_.command_timeout);
    if (sent.ok()) {
      Result<SmtpReply> bye = co_await read_reply(options_.command_timeout, "QUIT");
      if (!bye) note(bye.error().message);
    }
  }
  close_wire();
}

// Exim 4.96's smtp_auth() and try_authenticator(): the configured client
// authenticators in order, each tried when the server offers its mechanism and its
// client_condition holds. A 5xx ends that attempt (logged) and the next one is
// tried; anything else stops here. Texts: "authentication required but <why>".
asio::awaitable<Status> SmtpClient::authenticate() {
  authenticator_.clear();
  authenticated_id_.clear();
  const SmtpOptions::Auth& o = options_.auth;
  std::string fail_reason = "server did not advertise AUTH support";
  if (caps_.esmtp && !caps_.auth.empty() && (o.require || o.try_auth) && o.authenticators && o.expand) {
    fail_reason = "no common mechanisms were found";
    std::vector<std::string> offered;
    for (size_t pos = 0; pos < caps_.auth.size();) {
      size_t end = caps_.auth.find_first_of(" \t", pos);
      if (end == std::string::npos) end = caps_.auth.size();
      if (end > pos) offered.push_back(caps_.auth.substr(pos, end - pos));
      pos = end + 1;
    }
    for (const auth::Authenticator& a : o.authenticators->all()) {
      if (!authenticator_.empty()) break;
      if (!a.client) continue;
      if (!a.client_condition.empty() && !auth::condition_holds(a.client_condition, *o.expand)) continue;
      bool common = false;
      for (const std::string& m : offered) common = common || a.is_named(m);
      if (!common) continue;
      fail_reason = "authentication attempt(s) failed";
      auth::ClientExchange x(a, *o.expand, o.hostname);
      std::optional<SmtpReply> last;
      std::string after;
      auth::ClientExchange::Step step = x.begin();
      while (!step.done) {
        Result<SmtpReply> r = co_await command(step.line, step.shown);
        if (!r) co_return r.take_error();
        after = step.shown;
        std::string text = r->lines.empty() || r->lines.front().size() < 4 ? "" : r->lines.front().substr(4);
        step = x.reply(r->code, text, r->printable());
        last = std::move(*r);
      }
      const std::string where = "H=" + host_.name + " [" + host_.ip.to_string() + "]";
      switch (step.rc) {
        case auth::Rc::kOk:
          authenticator_ = a.name;
          if (!a.client_set_id.empty()) {
            auto id = expand::expand(a.client_set_id, *o.expand);
            if (id) authenticated_id_ = *id;
          }
          break;
        case auth::Rc::kFail:
          if (!last || !last->permanent()) {
            usable_ = false;
            co_return last ? by_code(*last, reply_error(*last, after)) : Error::defer(step.message);
          }
          note(a.name + " authenticator failed " + where + " " + step.message);
          // Exim 4.97's auth:fail on the client side: the server's reply as data, the
          // authenticator as $sender_host_authenticated; a non-empty answer is logged.
          if (options_.events != nullptr && options_.events->observed("auth:fail")) {
            options_.events->set_variable("sender_host_authenticated", a.name);
            std::string answer = raise("auth:fail", [&] { return step.message; });
            options_.events->set_variable("sender_host_authenticated", "");
            if (!answer.empty()) note(answer);
          }
          break;
        case auth::Rc::kCancelled:
          if (!step.message.empty())
            note(a.name + " authenticator cancelled authentication " + where + " " + step.message);
          break;
        default:
          usable_ = false;
          co_return Error::defer(step.message);
      }
    }
  }
  if (o.require && authenticator_.empty()) {
    usable_ = false;
    co_return Error::defer("authentication required but " + fail_reason);
  }
  co_return Status();
}

}  // namespace tern::deliver
