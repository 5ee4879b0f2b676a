// core/server/session.cpp: the SMTP conversation (see session.hpp).
//
// Reply texts and log wording are Exim 4.96's (checked with the reference
// Exim's -bs and -bh sessions); where this file decides something Exim
// decides elsewhere, the comment says which Exim function it follows.
#include "core/server/session.hpp"


#include <sys/time.h>

#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "core/deliver/queue_policy.hpp"
#include "core/lookup/match.hpp"
#include "core/module_host/conn.hpp"
#include "core/module_host/after_data.hpp"
#include "core/module_host/hooks.hpp"
#include "core/smtp/address.hpp"
#include "core/spool/recipient_data.hpp"
#include "core/smtp/input.hpp"
#include "core/server/offload.hpp"
#include "core/server/tls_session_stream.hpp"
#include "core/text/strfuncs.hpp"
#include "core/tls/server.hpp"
#include "core/log/smtp_lines.hpp"

namespace tern::server {

namespace {

constexpr size_t kReadChunk = 16384;

std::string now_tod_full() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S %z", &tm);
  return buf;
}

// The message's header section (stored form, LF line ends) cut into headers,
// each with its continuation lines. A line that is not a header (no colon
// before white space) cannot occur: the reader ends the section there.
std::vector<std::string> split_headers(std::string_view section) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < section.size()) {
    size_t eol = section.find('\n', pos);
    size_t end = eol == std::string_view::npos ? section.size() : eol + 1;
    std::string_view line = section.substr(pos, end - pos);
    pos = end;
    if (line == "\n") break;  // the blank line between headers and body
    if ((line[0] == ' ' || line[0] == '\t') && !out.empty())
      out.back() += line;
    else
      out.emplace_back(line);
    if (out.back().back() != '\n') out.back() += '\n';
  }
  return out;
}

}  // namespace

// For ACLs that need nothing about a command. (GCC 12 mishandles
// temporaries and default arguments inside co_await expressions: requests
// are named objects that outlive the call.)
const AclRequest kNoRequest{};

struct Session::Message {
  smtp::MailCommand mail;
  std::vector<spool::Recipient> recipients;
  bool discard = false;  // an ACL said discard: answer as if accepted, keep nothing

  // Set once DATA or the first BDAT starts the content.
  std::string id;
  std::optional<spool::IncomingMessage> incoming;
  std::optional<smtp::MessageReader> reader;
  std::string header_section;  // the stored form up to the body
  bool in_body = false;
  bool write_failed = false;
  uint64_t bdat_total = 0;
  std::vector<std::string> headers;
  struct timeval received{};
  spool::RecipientData recipient_data;  // set by after-DATA hooks, kept in the -H
};

Session::Session(ServerContext& server, std::unique_ptr<Stream> stream, Peer peer)
    : server_(server),
      settings_(server.settings),
      stream_(std::move(stream)),
      peer_(std::move(peer)),
      vars_(&server.runtime.config_variables()),
      searcher_(std::make_unique<lookup::Searcher>(server.runtime.lookup_registry())),
      ctx_(server.runtime.context()),
      dns_(std::make_unique<dns::FailureEvents>(
          *server.acl_services.dns, [this] { return server_.runtime.modules().events().has_listeners("dns:fail"); },
          [this](std::string_view data) { server_.runtime.modules().events().raise("dns:fail", data, env_); })),
      verifier_(std::make_unique<SessionVerifier>(verifier_env(), SessionFacts{&peer_.address, &helo_name_})),
      gate_(server.acl_services, ctx_, &env_, verifier_.get()),
      timer_(server.io) {
  ctx_.variables = &vars_;
  ctx_.searcher = searcher_.get();
  env_.expand = &ctx_;
  env_.options = &server.runtime.option_registry();
  env_.main = &server.runtime.config().main;
  env_.events = &server.runtime.modules().events();
  env_.session = &module_data_;
  ctx_.module_session = &module_data_;
  gate_.set_host_checking(peer_.fake);
  gate_.set_resolver(dns_.get());
  // ${acl} in expansions outside the ACLs (event_action, ...) runs in this session, as
  // Exim's: its variables, its resolver, its log.
  expansion_acl_env_ = std::make_unique<acl::RunEnv>(ctx_, gate_.state());
  expansion_acl_env_->verifier = verifier_.get();
  expansion_acl_env_->dns = dns_.get();
  expansion_acl_env_->ratelimits = server.acl_services.ratelimits;
  expansion_acl_env_->call_env = &env_;
  ctx_.acl = acl::make_acl_hook(server.runtime.acls(), acl::Where::kExpansion,
                                [this]() -> acl::RunEnv& { return *expansion_acl_env_; },
                                [this](const acl::LogLine& l) { server_.log.acl(l); });
  if (peer_.fake)  // -bh shows the ACL processing as Exim's debug output does
    gate_.set_trace(&Session::bh_trace);
  client_known();
}

void Session::client_known() {
  if (!peer_.address.empty()) {
    set_var("sender_host_address", peer_.address);
    set_var("sender_host_port", std::to_string(peer_.port));
    set_var("received_ip_address", peer_.local_address);
    set_var("received_port", std::to_string(peer_.local_port));
    set_var("interface_address", peer_.local_address);
    set_var("interface_port", std::to_string(peer_.local_port));
    set_host_variables();
    // A remote client is nobody local: the caller's identity does not apply.
    set_var("sender_address", "");
    set_var("authenticated_id", "");
    set_var("authenticated_sender", "");
    set_var("sender_ident", "");
  } else {
    set_var("sender_ident", peer_.login);
  }
  set_var("received_protocol", peer_.address.empty() ? "local-smtp" : "smtp");
  gate_.set_unqualified(peer_.address.empty() || host_in(settings_.sender_unqualified_hosts),
                        peer_.address.empty() || host_in(settings_.recipient_unqualified_hosts));
  // The limits depend on host lists, matched once the context above is set.
  state_ = smtp::SessionState(smtp::SessionLimits{
      settings_.max_unknown_commands, settings_.max_synprot_errors, settings_.max_nonmail,
      peer_.address.empty() ? true : host_in(settings_.smtp_accept_max_nonmail_hosts),
      !peer_.address.empty() && host_in(settings_.helo_verify_hosts)});
}

Session::~Session() = default;

// ---- I/O ----

void Session::send(const smtp::Reply& r) { out_ += smtp::format(r); }

void Session::consume(size_t n) {
  in_pos_ += n;
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  }
}

bool Session::input_pending() { return in_pos_ < in_.size() || stream_->available() > 0; }

boost::asio::awaitable<bool> Session::flush() {
  if (output_broken_) co_return false;
  if (out_.empty()) co_return true;
  error_code ec;
  co_await stream_->write_all(out_, ec);
  out_.clear();
  if (ec) closed_ = output_broken_ = true;
  co_return !ec;
}

boost::asio::awaitable<bool> Session::fill() {
  if (!co_await flush()) co_return false;
  if (in_pos_ > 0) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  timed_out_ = false;
  timer_.expires_after(settings_.receive_timeout);
  timer_.async_wait([this](const error_code& ec) {
    if (ec) return;  // cancelled: the read finished first
    timed_out_ = true;
    stream_->cancel();
  });
  // One buffer for all sessions of the thread (see SocketStream::read_some).
  static thread_local char buf[kReadChunk];
  error_code ec;
  size_t n = co_await stream_->read_some(std::span<char>(buf, sizeof buf), ec);
  timer_.cancel();
  if (ec || n == 0) co_return false;
  in_.append(buf, n);
  co_return true;
}

// ---- facts and policy ----

bool Session::host_in(const std::string& list) {
  if (list.empty()) return false;
  if (peer_.address.empty()) return false;  // a local caller is no host
  lookup::MatchEnv env = expand::match_env(ctx_);
  auto r = lookup::match_list(peer_.address, list, lookup::ListKind::kHost, env, false,
                              vars_.get("sender_host_name") ? *vars_.get("sender_host_name") : "");
  return r && r->matched();
}

void Session::dropped(const smtp::Command& c, const smtp::Outcome& o) {
  const log::Peer peer = log_peer();
  const log::Selectors& sel = server_.log.selectors();
  if (c.verb == smtp::Verb::kUnknown)
    server_.log.write(log::too_many_unrecognized(peer, c.line, sel));
  else if (o.reply && o.reply->code == smtp::replies::too_many_nonmail().code)
    server_.log.write(log::too_many_nonmail(peer, c.line, sel));
  else
    server_.log.write(log::too_many_errors(peer, c.line, history_, sel));
  closed_ = true;
}

std::string Session::host_for_log() const {
  if (peer_.address.empty()) return "U=" + peer_.login;
  return "H=" + log::sender_fullhost(log_peer(), log::Selectors{});
}

void Session::set_host_variables() {
  if (peer_.address.empty()) return;
  log::Peer p = log_peer();
  set_var("sender_fullhost", log::sender_fullhost(p, server_.log.selectors()));
  set_var("sender_rcvhost", log::sender_rcvhost(p, server_.log.selectors()));
}

SessionVerifier::Env Session::verifier_env() {
  SessionVerifier::Env e;
  e.routers = server_.routers;
  e.ctx = &ctx_;
  e.dns = dns_.get();
  e.hooks = &server_.runtime.modules().hooks();
  e.modules = &env_;
  e.qualify_domain = settings_.qualify_recipient;
  e.host_name_known = [this](const acl::Verifier::HostName& h) {
    if (h.rc == acl::VerifyOutcome::Rc::kOk) {
      host_name_ = h.name;
      set_var("sender_host_name", h.name);
      set_var("host_lookup_failed", "0");
      set_host_variables();
    } else {
      set_var(h.rc == acl::VerifyOutcome::Rc::kDefer ? "host_lookup_deferred" : "host_lookup_failed", "1");
      if (h.message == kNoHostName) server_.log.write(log::host_lookup_failed(peer_.address));
    }
  };
  return e;
}

boost::asio::awaitable<AclDecision> Session::acl(AclWhere where, const std::string& name, const AclRequest& req) {
  gate_.set_host_ident(host_for_log());
  AclDecision d = co_await gate_.check(where, name, req);
  write_acl_logs(d);
  co_return d;
}

void Session::write_acl_logs(const AclDecision& d) {
  for (const acl::LogLine& l : d.logs) server_.log.acl(l);
}

// A refusing ACL: its reject log line, then its reply. True when the
// connection must close (drop).
bool Session::refuse(const AclDecision& d, const std::string& message_id) {
  if (!d.reject_log.empty() && d.reject_targets != 0) {
    log::Line line;
    line.text = peer_.address.empty() && d.reject_log.starts_with("F=") ? d.reject_log : host_for_log() + " " + d.reject_log;
    line.targets = d.reject_targets;
    line.message_id = message_id;
    server_.log.write(line);
  }
  send(d.reply);
  return d.verdict == AclDecision::Verdict::kDrop;
}

// ---- events ----

boost::asio::awaitable<std::string> Session::raise_event(std::string_view name, std::string data) {
  const module_host::EventBus& bus = server_.runtime.modules().events();
  if (!bus.has_listeners(name)) co_return std::string();
  auto run = [&] { return bus.raise(name, data, env_); };
  co_return co_await offload(server_.acl_threads, std::move(run));
}

boost::asio::awaitable<void> Session::report_errors() {
  for (smtp::SynprotError& e : state_.take_errors()) {
    // Named: GCC 12 mishandles temporaries inside a co_await expression.
    const std::string_view event = e.protocol ? "smtp:fail:protocol" : "smtp:fail:syntax";
    co_await raise_event(event, e.message);
    const log::Peer peer = log_peer();
    server_.log.write(e.protocol ? log::protocol_error(peer, e.command_line, e.message, server_.log.selectors())
                                 : log::syntax_error(peer, e.command_line, e.message, server_.log.selectors()));
  }
}

// Exim 4.96 raises tls:fail:connect (its result is not used), then logs.
boost::asio::awaitable<void> Session::tls_failed(const std::string& error) {
  static constexpr std::string_view kEvent = "tls:fail:connect";
  co_await raise_event(kEvent, error);
  server_.log.main("TLS error on connection from " + host_for_log().substr(2) + " " + error);
}

// ---- the conversation ----

boost::asio::awaitable<void> Session::run() {
  co_await pre_banner();
  if (co_await banner()) {
    for (;;) {
      auto cl = smtp::next_command_line(buffered());
      if (!cl) {
        if (co_await fill()) continue;
        if (timed_out_) {
          send(smtp::Reply::make(421, settings_.primary_hostname +
                                          " SMTP incoming data timeout - closing connection."));
          server_.log.main("SMTP command timeout on connection from " + host_for_log().substr(2));
        } else if (!closed_) {
          server_.log.main("unexpected disconnection while reading SMTP command from " +
                           host_for_log().substr(2));
        }
        break;
      }
      std::string line(cl->text);
      const bool overlong = cl->overlong;
      consume(cl->consumed);
      smtp::Command c = smtp::identify(line, overlong);
      set_var("smtp_command", std::string(c.line));
      set_var("smtp_command_argument", std::string(c.argument));
      // After a failed pre-banner negotiation only QUIT is served (Exim's
      // proxy_session_failed: nothing is counted, no ACL runs).
      if (negotiation_refusal_ && c.verb != smtp::Verb::kQuit) {
        send(*negotiation_refusal_);
        continue;
      }

      if (state_.chunking_active()) {
        smtp::Outcome o = state_.in_chunking(c);
        if (!o.proceed) {
          co_await report_errors();
          if (o.reply) send(*o.reply);
          if (o.drop) {
            dropped(c, o);
            break;
          }
          continue;
        }
      }
      const bool pipelining = state_.pipelining_advertised();
      if (sync_checks() && smtp::sync_violation(c, pipelining, input_pending(), true)) {
        send(smtp::replies::sync_error());
        server_.log.reject("SMTP protocol synchronization error (" +
                           std::string(pipelining ? "input sent without waiting for reply"
                                                  : "next input sent too soon: pipelining was not advertised") +
                           "): rejected \"" + text::string_printing(c.line, false) + "\" " + host_for_log() +
                           " next input=\"" + text::string_printing(buffered(), false) + "\"");
        break;
      }
      smtp::Outcome o = state_.on_command(c);
      if (!o.proceed) {
        co_await report_errors();
        if (o.reply) send(*o.reply);
        if (o.drop) {
          dropped(c, o);
          break;
        }
        continue;
      }

      history_.record(smtp::verb_name(c.verb));
      bool keep = true;
      switch (c.verb) {
        case smtp::Verb::kHelo:
        case smtp::Verb::kEhlo: co_await on_helo(c); break;
        case smtp::Verb::kMail: co_await on_mail(c); break;
        case smtp::Verb::kRcpt: co_await on_rcpt(c); break;
        case smtp::Verb::kData: keep = co_await on_data(c); break;
        case smtp::Verb::kBdat: keep = co_await on_bdat(c); break;
        case smtp::Verb::kRset:
          reset_transaction();
          state_.rset();
          send(smtp::replies::reset_ok());
          break;
        case smtp::Verb::kNoop: send(smtp::replies::ok()); break;
        case smtp::Verb::kQuit: co_await on_quit(); break;
        case smtp::Verb::kVrfy:
        case smtp::Verb::kExpn: co_await on_vrfy_expn(c); break;
        case smtp::Verb::kEtrn: co_await on_etrn(c); break;
        case smtp::Verb::kHelp:
          send(smtp::help_reply(false, !settings_.acl_etrn.empty(), !settings_.acl_expn.empty(),
                                !settings_.acl_vrfy.empty()));
          break;
        case smtp::Verb::kStarttls: keep = co_await on_starttls(); break;
        case smtp::Verb::kAuth: keep = co_await on_auth(c); break;
        default: break;
      }
      co_await report_errors();
      if (!keep || quit_ || closed_) break;
    }
  }
  co_await report_errors();
  if (!quit_ && !settings_.acl_notquit.empty()) co_await acl(AclWhere::kNotquit, settings_.acl_notquit, kNoRequest);
  co_await flush();
  stream_->close();
}

boost::asio::awaitable<void> Session::pre_banner() {
  const module_host::HookRegistry& hooks = server_.runtime.modules().hooks();
  auto* plain = dynamic_cast<SocketStream*>(stream_.get());
  if (plain == nullptr || peer_.address.empty() || peer_.fake || !hooks.has(TERN_HOOK_PRE_BANNER)) co_return;
  // The raw reads stop at smtp_receive_timeout, and before a may-block
  // hook's call would be abandoned (a module may shorten it further).
  auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.receive_timeout);
  if (auto shortest = hooks.shortest_deadline(TERN_HOOK_PRE_BANNER)) limit = std::min(limit, *shortest);
  auto conn = std::make_shared<tern_conn>(module_host::make_conn(
      plain->socket().native_handle(), limit, peer_.address, peer_.port, peer_.local_address, peer_.local_port));
  // The hooks wait for the client: off the I/O thread, as blocking ACLs.
  auto executor = co_await boost::asio::this_coro::executor;
  module_host::HookResult r =
      co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(module_host::HookResult)>(
          [&](auto handler) {
            auto h = std::make_shared<decltype(handler)>(std::move(handler));
            boost::asio::post(server_.acl_threads, [this, h, executor, conn, &hooks] {
              module_host::HookResult result = hooks.run(TERN_HOOK_PRE_BANNER, env_, conn.get(), conn);
              boost::asio::post(executor, [h, result = std::move(result)]() mutable { (*h)(std::move(result)); });
            });
          },
          boost::asio::use_awaitable);
  if (r.status != TERN_OK && r.status != TERN_DECLINE) {
    negotiation_refusal_ = smtp::Reply::make(503, r.verdict.empty() ? "Command refused, negotiation failed" : r.verdict);
    server_.log.main("negotiation before the banner failed for [" + peer_.address + "]:" + std::to_string(peer_.port) +
                     " (module " + r.module + "): " + (r.error.empty() ? "no reason given" : r.error));
    co_return;
  }
  if (!conn->addresses_replaced) co_return;
  connected_from_ = peer_.address;
  peer_.address = conn->client_ip;
  peer_.port = conn->client_port;
  peer_.local_address = conn->local_ip;
  peer_.local_port = conn->local_port;
  client_known();
}

boost::asio::awaitable<bool> Session::banner() {
  // tls_on_connect_ports: the handshake comes before anything else.
  if (peer_.tls_on_connect && !co_await start_tls()) co_return false;
  AclDecision d = co_await acl(AclWhere::kConnect, settings_.acl_connect, kNoRequest);
  if (!d.accepted_verdict()) {
    send(d.reply);
    co_await flush();
    co_return false;
  }
  // Exim's greeting synchronisation check: a client that talks before the
  // banner is refused (after a failed negotiation, what is left of it is
  // read as commands and refused).
  if (sync_checks() && !negotiation_refusal_ && input_pending()) {
    send(smtp::replies::sync_error());
    server_.log.reject("SMTP protocol synchronization error (input sent without waiting for greeting): "
                       "rejected connection from " +
                       host_for_log() + " input=\"" + text::string_printing(buffered(), false) + "\"");
    co_await flush();
    co_return false;
  }
  std::string text;
  if (auto r = expand::evaluate(settings_.smtp_banner, ctx_)) {
    text = *r;
  } else {
    server_.log.panic("Expansion of \"" + settings_.smtp_banner.source() +
                      "\" (smtp_banner) failed: " + r.error().message);
    text = settings_.primary_hostname + " ESMTP";
  }
  smtp::Reply b = smtp::Reply::make(220, "");
  b.lines.clear();
  size_t pos = 0;
  for (;;) {
    size_t nl = text.find('\n', pos);
    b.lines.push_back(text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  send(b);
  co_return co_await flush();
}

boost::asio::awaitable<void> Session::on_helo(const smtp::Command& c) {
  smtp::HeloOptions ho;
  ho.accept_junk = host_in(settings_.helo_accept_junk_hosts);
  ho.allow_chars = settings_.helo_allow_chars;
  auto p = smtp::parse_helo(c.verb, c.argument, ho);
  if (!p.ok()) {
    smtp::Outcome o = state_.helo_error(p.rejection->reply);
    send(*o.reply);
    server_.log.reject("rejected " + std::string(smtp::verb_name(c.verb)) + " from " + host_for_log().substr(2) +
                       ": syntactically invalid argument(s): " + text::string_printing(c.argument, false));
    if (o.drop) dropped(c, o);
    co_return;
  }
  reset_transaction();
  helo_name_ = *p.value;
  set_var("sender_helo_name", helo_name_);
  if (!peer_.address.empty()) {
    set_host_variables();
  }
  const AclRequest request{"", helo_name_};
  AclDecision d = co_await acl(AclWhere::kHelo, settings_.acl_helo, request);
  if (!d.accepted_verdict()) {
    if (refuse(d)) closed_ = true;
    co_return;
  }
  esmtp_ = c.verb == smtp::Verb::kEhlo;
  std::string greeting = smtp::hello_text(settings_.primary_hostname, peer_.address.empty() ? peer_.login : "",
                                          helo_name_, peer_.address);
  const bool remote = !peer_.address.empty();
  pipelining_offered_ = esmtp_ && (remote ? host_in(settings_.pipelining_advertise_hosts)
                                          : settings_.pipelining_advertise_hosts == "*") &&
                        !gate_.state().controls.no_pipelining;
  chunking_offered_ = esmtp_ && (remote ? host_in(settings_.chunking_advertise_hosts)
                                        : settings_.chunking_advertise_hosts == "*");
  set_var("received_protocol",
          log::received_protocol(!remote, esmtp_, tls_active_, authenticated_by_ != nullptr));
  if (!esmtp_) {
    auth_advertised_.clear();
    send(smtp::helo_reply(greeting));
  } else {
    smtp::EhloFeatures f;
    f.size_limit = settings_.message_size_limit;
    f.accept_8bitmime = settings_.accept_8bitmime;
    f.dsn = remote && host_in(settings_.dsn_advertise_hosts);
    f.etrn = !settings_.acl_etrn.empty();
    f.vrfy = !settings_.acl_vrfy.empty();
    f.expn = !settings_.acl_expn.empty();
    f.pipelining = pipelining_offered_;
    f.pipe_connect = false;
    f.chunking = chunking_offered_;
    tls_offered_ = !tls_active_ && server_.tls != nullptr && dynamic_cast<SocketStream*>(stream_.get()) &&
                   host_in(settings_.tls_advertise_hosts);
    f.starttls = tls_offered_;
    f.prdr = settings_.prdr_enable;
    f.smtputf8 = settings_.accept_8bitmime && (remote ? host_in(settings_.smtputf8_advertise_hosts)
                                                      : settings_.smtputf8_advertise_hosts == "*");
    f.auth = advertise_auth();
    send(smtp::ehlo_reply(greeting, f));
  }
  state_.helo_accepted(esmtp_, pipelining_offered_, chunking_offered_);
}

void Session::reset_transaction() {
  msg_.reset();
  verifier_->reset();
  gate_.state().new_message();
  authenticated_sender_.clear();
  set_var("authenticated_sender", "");
  set_var("sender_address", "");
  set_var("local_part", "");
  set_var("domain", "");
  vars_.set_headers(nullptr);
  // $acl_m* live for one message.
  for (auto it = ctx_.acl_vars.begin(); it != ctx_.acl_vars.end();)
    it = it->first.starts_with("m") ? ctx_.acl_vars.erase(it) : std::next(it);
}

boost::asio::awaitable<void> Session::on_mail(const smtp::Command& c) {
  if (smtp::Outcome o = state_.check_mail(); !o.proceed) {
    send(*o.reply);
    if (o.drop) dropped(c, o);
    co_return;
  }
  reset_transaction();
  smtp::MailOptions mo;
  mo.esmtp = esmtp_;
  mo.accept_8bitmime = settings_.accept_8bitmime;
  mo.dsn_advertised = !peer_.address.empty() && host_in(settings_.dsn_advertise_hosts);
  mo.prdr_enable = settings_.prdr_enable;
  mo.size_limit = settings_.message_size_limit;
  auto p = smtp::parse_mail(c.argument, mo);
  if (!p.ok()) {
    state_.mail_rejected();
    smtp::Outcome o = state_.reject(*p.rejection);
    send(*o.reply);
    if (o.drop) dropped(c, o);
    co_return;
  }
  smtp::MailCommand mail = std::move(*p.value);
  if (!co_await check_mail_auth(mail, c.argument)) {
    state_.mail_rejected();
    co_return;
  }
  const bool allow_unqualified = peer_.address.empty() || host_in(settings_.sender_unqualified_hosts);
  if (auto r = smtp::check_qualified(mail.sender, mail.data, "sender", allow_unqualified)) {
    state_.mail_rejected();
    send(*r);
    co_return;
  }
  if (!mail.sender.address.empty() && !mail.sender.has_domain())
    mail.sender.address += "@" + settings_.qualify_domain;
  set_var("sender_address", mail.sender.address);
  const AclRequest request{"", "<" + std::string(mail.sender.address) + ">"};
  AclDecision d = co_await acl(AclWhere::kMail, settings_.acl_mail, request);
  if (!d.accepted_verdict()) {
    state_.mail_rejected();
    set_var("sender_address", "");
    if (refuse(d)) closed_ = true;
    co_return;
  }
  msg_ = std::make_unique<Message>();
  msg_->discard = d.verdict == AclDecision::Verdict::kDiscard;
  msg_->mail = std::move(mail);
  state_.mail_accepted();
  send(d.accepted ? *d.accepted : smtp::mail_accepted(msg_->mail.prdr));
}

boost::asio::awaitable<void> Session::on_rcpt(const smtp::Command& c) {
  if (smtp::Outcome o = state_.check_rcpt(); !o.proceed) {
    send(*o.reply);
    if (o.drop) dropped(c, o);
    co_return;
  }
  smtp::RcptOptions ro;
  ro.esmtp = esmtp_;
  ro.dsn_advertised = !peer_.address.empty() && host_in(settings_.dsn_advertise_hosts);
  auto p = smtp::parse_rcpt(c.argument, ro);
  if (!p.ok()) {
    smtp::Outcome o = state_.reject(*p.rejection);
    state_.rcpt_response(smtp::format(p.rejection->reply), false);
    send(*o.reply);
    if (o.drop) dropped(c, o);
    co_return;
  }
  smtp::RcptCommand rcpt = std::move(*p.value);
  const bool allow_unqualified = peer_.address.empty() || host_in(settings_.recipient_unqualified_hosts);
  if (auto r = smtp::check_qualified(rcpt.recipient, rcpt.data, "recipient", allow_unqualified)) {
    state_.rcpt_response(r->text(), false);
    send(*r);
    co_return;
  }
  if (!rcpt.recipient.has_domain()) rcpt.recipient.address += "@" + settings_.qualify_recipient;
  if (settings_.recipients_max > 0 && static_cast<int>(msg_->recipients.size()) >= settings_.recipients_max) {
    smtp::Reply r = smtp::Reply::make(settings_.recipients_max_reject ? 552 : 452, "too many recipients");
    state_.rcpt_response(r.text(), false);
    send(r);
    co_return;
  }
  const std::string& addr = rcpt.recipient.address;
  smtp::SplitAddress split = smtp::split_address(addr);
  set_var("local_part", split.local_part);
  set_var("domain", split.domain);
  const AclRequest request{addr, "<" + addr + ">"};
  AclDecision d = co_await acl(AclWhere::kRcpt, settings_.acl_rcpt, request);
  if (!d.accepted_verdict()) {
    state_.rcpt_response(d.reply.text(), false);
    if (refuse(d)) closed_ = true;
    co_return;
  }
  if (d.verdict == AclDecision::Verdict::kDiscard) {
    msg_->discard = true;
  } else {
    spool::Recipient r;
    r.address = addr;
    if (rcpt.orcpt) r.orcpt = *rcpt.orcpt;
    r.dsn_flags = rcpt.notify;
    msg_->recipients.push_back(std::move(r));
  }
  smtp::Reply ok = d.accepted ? *d.accepted : smtp::replies::accepted();
  state_.rcpt_response(ok.text(), true);
  send(ok);
}

boost::asio::awaitable<void> Session::on_vrfy_expn(const smtp::Command& c) {
  const bool vrfy = c.verb == smtp::Verb::kVrfy;
  auto p = smtp::parse_vrfy(c.argument);
  if (!p.ok()) {
    send(p.rejection->reply);
    co_return;
  }
  const AclRequest request{p.value->address, std::string(c.argument)};
  AclDecision d;  // (no co_await inside ?: : GCC 12 miscompiles it)
  if (vrfy)
    d = co_await acl(AclWhere::kVrfy, settings_.acl_vrfy, request);
  else
    d = co_await acl(AclWhere::kExpn, settings_.acl_expn, request);
  if (!d.accepted_verdict()) {
    if (refuse(d)) closed_ = true;
    co_return;
  }
  // Accepted by the ACL: the address would be routed; with no router to take
  // it, Exim answers as for any unroutable address.
  send(smtp::Reply::make(550, "<" + p.value->address + "> Unrouteable address"));
}

boost::asio::awaitable<void> Session::on_etrn(const smtp::Command& c) {
  (void)c;
  if (msg_) {
    send(smtp::Reply::make(503, "ETRN is not permitted inside a transaction"));
    co_return;
  }
  const AclRequest request{"", std::string(c.argument)};
  AclDecision d = co_await acl(AclWhere::kEtrn, settings_.acl_etrn, request);
  if (!d.accepted_verdict()) {
    if (refuse(d)) closed_ = true;
    co_return;
  }
  send(smtp::replies::ok());
}

boost::asio::awaitable<bool> Session::on_starttls() {
  if (!tls_offered_) {
    smtp::Outcome e = state_.synprot_error(smtp::Reply::make(503, "STARTTLS command used when not advertised"));
    send(*e.reply);
    co_return !e.drop;
  }
  AclDecision d = co_await acl(AclWhere::kStarttls, settings_.acl_starttls, kNoRequest);
  if (!d.accepted_verdict()) {
    co_return !refuse(d);
  }
  // Whatever the client pipelined after STARTTLS was sent in the clear:
  // it must never be read as if it came over TLS (CVE-2011-0411's class).
  consume(smtp::starttls_discard(buffered()));
  co_return co_await start_tls();
}

boost::asio::awaitable<bool> Session::start_tls() {
  auto* plain = dynamic_cast<SocketStream*>(stream_.get());
  if (plain == nullptr || server_.tls == nullptr) {
    send(smtp::Reply::make(454, "TLS currently unavailable"));
    co_return true;
  }
  tls::ServerConnection conn;
  conn.expand = &ctx_;
  conn.hooks = &server_.runtime.modules().hooks();
  conn.env = &env_;
  // Exim asks the hosts of tls_verify_hosts for a certificate that must verify, those of
  // tls_try_verify_hosts for one that may.
  conn.client_certificate = host_in(settings_.tls_verify_hosts)       ? tls::ClientCertificate::kRequire
                            : host_in(settings_.tls_try_verify_hosts) ? tls::ClientCertificate::kTry
                                                                      : tls::ClientCertificate::kNone;
  conn.keep_passed_certificates = server_.runtime.modules().events().has_listeners("tls:cert");
  auto started = server_.tls->start(plain->socket(), conn);
  if (!started) {
    co_await tls_failed(started.error().message);
    if (peer_.tls_on_connect) co_return false;
    send(smtp::Reply::make(454, "TLS currently unavailable"));
    co_return true;
  }
  if (!peer_.tls_on_connect) {
    send(smtp::replies::ready_for_tls());
    if (!co_await flush()) co_return false;
  }
  std::unique_ptr<SocketStream> socket_stream(static_cast<SocketStream*>(stream_.release()));
  auto secure = std::make_unique<TlsSessionStream>(std::move(socket_stream), std::move(*started));
  tls::TlsStream& t = secure->tls();
  error_code ec = co_await t.handshake(settings_.receive_timeout);
  stream_ = std::move(secure);
  for (const tls::LogLine& line : t.take_log()) {
    std::string text = "[" + peer_.address + "] " + line.text;
    if (line.panic) server_.log.panic(text);
    else server_.log.main(text);
  }
  if (ec) {
    const std::string error = t.error_text();
    co_await tls_failed(error);
    closed_ = output_broken_ = true;
    co_return false;
  }
  // tls:cert for the client's certificates, now that the handshake is done (the events'
  // listeners never run on the I/O thread): a non-empty answer refuses the certificate.
  bool refused_by_event = false;
  for (const auto& [depth, dn] : t.passed_certificates()) {
    set_var("tls_in_peercert", "<cert>");
    static constexpr std::string_view kCertEvent = "tls:cert";
    std::string verdict = co_await raise_event(kCertEvent, std::to_string(depth));
    set_var("tls_in_peercert", "");
    if (verdict.empty()) continue;
    server_.log.main("[" + peer_.address + "] SSL verify denied by event-action: depth=" + std::to_string(depth) +
                     " cert=" + dn + ": " + verdict);
    refused_by_event = true;
    break;
  }
  if (refused_by_event && !t.verification_optional()) {  // tls_verify_hosts: no session
    const std::string error = "(SSL_accept): certificate refused by event-action";
    co_await tls_failed(error);
    closed_ = output_broken_ = true;
    co_return false;
  }
  const tls::SessionInfo& info = t.info();
  for (const char* name : {"tls_in_ver", "tls_in_cipher", "tls_in_cipher_std", "tls_in_bits", "tls_in_peerdn",
                           "tls_in_sni", "tls_in_certificate_verified", "tls_cipher", "tls_peerdn", "tls_sni",
                           "tls_bits", "tls_certificate_verified"}) {
    std::string value;
    if (info.append_variable(name, value)) set_var(name, std::move(value));
  }
  tls_info_.cipher = info.cipher;
  tls_info_.certificate_verified = info.certificate_verified && !refused_by_event;
  if (refused_by_event) {  // tls_try_verify_hosts: the session goes on, unverified
    set_var("tls_in_certificate_verified", "0");
    set_var("tls_certificate_verified", "0");
  }
  tls_info_.peer_dn = info.peerdn;
  tls_info_.sni = info.sni;
  tls_active_ = true;
  tls_offered_ = false;
  // A new EHLO is needed; nothing said in the clear carries over.
  state_.tls_started();
  reset_transaction();
  forget_authentication();
  esmtp_ = false;
  co_return true;
}

boost::asio::awaitable<void> Session::on_quit() {
  if (!settings_.acl_quit.empty()) co_await acl(AclWhere::kQuit, settings_.acl_quit, kNoRequest);
  send(smtp::replies::closing(settings_.primary_hostname));
  quit_ = true;
}

// ---- the message content ----

bool Session::start_message(smtp::MessageReader::Framing framing) {
  Message& m = *msg_;
  gettimeofday(&m.received, nullptr);
  m.id = server_.ids.next().text();
  set_var("message_exim_id", m.id);
  set_var("message_id", m.id);
  if (!peer_.fake) {
    auto in = spool::IncomingMessage::create(server_.spool, m.id);
    if (!in) {
      server_.log.panic("failed to create spool file for " + m.id + ": " + in.error().message);
      return false;
    }
    m.incoming.emplace(std::move(*in));
  }
  m.reader.emplace(framing, static_cast<uint64_t>(settings_.message_size_limit));
  return true;
}

// Moves what the reader produced to the header section or the spool's body.
void Session::take_message_output() {
  Message& m = *msg_;
  smtp::MessageReader& r = *m.reader;
  if (!m.in_body) {
    if (!r.in_body() && !r.done()) {
      m.header_section += r.take();
      return;
    }
    std::string out = r.take();
    size_t header_part = r.in_body() ? r.stats().header_size - m.header_section.size() : out.size();
    m.header_section.append(out, 0, header_part);
    out.erase(0, header_part);
    m.in_body = r.in_body();
    if (m.incoming && !out.empty() && !m.incoming->write_body(out)) m.write_failed = true;
    return;
  }
  std::string out = r.take();
  if (m.incoming && !out.empty() && !m.incoming->write_body(out)) m.write_failed = true;
}

// DATA or the first BDAT: the sequence check, the predata ACL, then the
// message's id and spool files. nullopt: read the content; otherwise the
// command is answered and the value says whether the connection stays.
boost::asio::awaitable<std::optional<bool>> Session::open_message(smtp::Verb verb) {
  if (smtp::Outcome o = state_.check_data(verb, msg_ && msg_->discard); !o.proceed) {
    send(*o.reply);
    co_return !o.drop;
  }
  AclDecision d = co_await acl(AclWhere::kPredata, settings_.acl_predata, kNoRequest);
  if (!d.accepted_verdict()) co_return !refuse(d);
  if (!start_message(verb == smtp::Verb::kBdat ? smtp::MessageReader::Framing::kBdat
                                               : smtp::MessageReader::Framing::kData)) {
    send(smtp::Reply::make(451, "Temporary local problem - please try later"));
    co_return true;
  }
  co_return std::nullopt;
}

boost::asio::awaitable<bool> Session::on_data(const smtp::Command& c) {
  (void)c;
  if (std::optional<bool> keep = co_await open_message(smtp::Verb::kData)) co_return *keep;
  send(smtp::replies::start_data());
  smtp::MessageReader& reader = *msg_->reader;
  while (!reader.done()) {
    size_t used = reader.feed(buffered());
    consume(used);
    take_message_output();
    if (reader.done()) break;
    if (!co_await fill()) {
      if (timed_out_) {
        send(smtp::Reply::make(421, settings_.primary_hostname +
                                        " SMTP incoming data timeout - closing connection."));
        server_.log.main("SMTP data timeout (message abandoned) on connection from " + host_for_log().substr(2) +
                         " F=<" + msg_->mail.sender.address + ">");
      } else {
        server_.log.main("SMTP connection from " + host_for_log().substr(2) +
                         " lost while reading message data");
      }
      msg_.reset();  // its temporary files go with it
      co_return false;
    }
  }
  take_message_output();
  co_return co_await finish_message(false, 0);
}

boost::asio::awaitable<bool> Session::on_bdat(const smtp::Command& c) {
  const bool first = !state_.chunking_active();
  if (first) {
    if (smtp::Outcome o = state_.check_bdat_allowed(); !o.proceed) {
      send(*o.reply);
      co_return !o.drop;
    }
  }
  auto p = smtp::parse_bdat(c.argument);
  if (!p.ok()) {
    smtp::Outcome o = state_.reject(*p.rejection);
    send(*o.reply);
    co_return !o.drop;
  }
  if (first) {
    if (std::optional<bool> keep = co_await open_message(smtp::Verb::kBdat)) co_return *keep;
    state_.chunk_started(p.value->last);
  } else {
    if (p.value->size == 0 && !p.value->last) {
      send(smtp::bdat_zero_size());
      co_return true;
    }
    state_.chunk_started(p.value->last);
  }
  smtp::BdatChunk chunk(*p.value);
  smtp::MessageReader& reader = *msg_->reader;
  while (!chunk.complete()) {
    std::string_view part = chunk.take(buffered());
    reader.feed(part);
    consume(part.size());
    take_message_output();
    if (chunk.complete()) break;
    if (!co_await fill()) {
      server_.log.main("SMTP connection from " + host_for_log().substr(2) + " lost while reading message data");
      msg_.reset();
      co_return false;
    }
  }
  msg_->bdat_total += chunk.size();
  if (!chunk.last()) {
    send(smtp::replies::chunk_received(chunk.size()));
    if (sync_checks() && smtp::bdat_sync_violation(state_.pipelining_advertised(), input_pending(), true)) {
      send(smtp::replies::sync_error());
      co_return false;
    }
    co_return true;
  }
  reader.finish();
  take_message_output();
  co_return co_await finish_message(true, chunk.size());
}

std::string Session::received_header() {
  if (msg_->recipients.size() == 1) set_var("received_for", msg_->recipients.front().address);
  else set_var("received_for", "");
  auto r = expand::evaluate(settings_.received_header_text, ctx_);
  std::string text;
  if (r) {
    text = *r;
  } else {
    server_.log.panic("Expansion of \"" + settings_.received_header_text.source() +
                      "\" (received_header_text) failed: " + r.error().message);
    text = "Received: by " + settings_.primary_hostname + " id " + msg_->id;
  }
  text += "; " + now_tod_full() + "\n";
  return text;
}

spool::Envelope Session::make_envelope() {
  Message& m = *msg_;
  spool::Envelope e;
  e.id = m.id;
  e.originator_login = peer_.address.empty() ? peer_.login : "mail";
  e.originator_uid = static_cast<int64_t>(getuid());
  e.originator_gid = static_cast<int64_t>(getgid());
  e.sender = m.mail.sender.address;
  e.received_time = m.received.tv_sec;
  char usec[16];
  std::snprintf(usec, sizeof usec, ".%06ld", static_cast<long>(m.received.tv_usec));
  e.set_var("received_time_usec", usec);
  if (!helo_name_.empty()) e.set_var("helo_name", helo_name_, true);
  if (!peer_.address.empty()) {
    e.set_var("host_address", "[" + peer_.address + "]:" + std::to_string(peer_.port), true);
    e.set_var("interface_address", "[" + peer_.local_address + "]:" + std::to_string(peer_.local_port));
  } else {
    e.set_var("ident", peer_.login);
  }
  e.set_var("received_protocol", *vars_.get("received_protocol"));
  const smtp::MessageStats& st = m.reader->stats();
  e.set_var("body_linecount", std::to_string(st.body_linecount));
  e.set_var("max_received_linelength", std::to_string(st.max_received_linelength));
  if (st.body_zerocount) e.set_var("body_zerocount", std::to_string(st.body_zerocount));
  for (const auto& [name, value] : ctx_.acl_vars)
    if (!name.empty() && (name[0] == 'c' || name[0] == 'm')) e.set_acl_var(name[0], name.substr(1), value);
  if (!tls_info_.cipher.empty()) {
    e.set_var("tls_cipher", tls_info_.cipher);
    if (const std::string* v = vars_.get("tls_in_ver")) e.set_var("tls_ver", *v);
    if (!tls_info_.sni.empty()) e.set_var("tls_sni", tls_info_.sni, true);
    if (!tls_info_.peer_dn.empty()) e.set_var("tls_peerdn", tls_info_.peer_dn, true);
    if (tls_info_.certificate_verified) e.set_flag("tls_certificate_verified");
  }
  auth_to_envelope(e);
  if (gate_.state().controls.freeze) e.set_flag("frozen");
  e.set_flag("deliver_firsttime");
  if (m.mail.smtputf8) e.set_flag("smtputf8");
  e.recipients = m.recipients;

  e.headers.push_back({'P', received_header()});
  // add_header: Exim puts them at the end unless told otherwise (":at_start:"
  // and friends come first, after Received:).
  for (const acl::AddedHeader& h : gate_.state().added_headers)
    if (h.position != acl::AddedHeader::Position::kBottom)
      e.headers.push_back({spool::header_type_for(h.text), h.text});
  for (const std::string& h : m.headers) e.headers.push_back({spool::header_type_for(h), h});
  for (const acl::AddedHeader& h : gate_.state().added_headers)
    if (h.position == acl::AddedHeader::Position::kBottom)
      e.headers.push_back({spool::header_type_for(h.text), h.text});
  // Exim's fix-ups for a local submission: a missing Message-Id and Date.
  if (peer_.address.empty()) {
    auto has = [&](std::string_view name) {
      for (const auto& h : m.headers)
        if (h.size() > name.size() && strncasecmp(h.data(), name.data(), name.size()) == 0) return true;
      return false;
    };
    if (!has("message-id:"))
      e.headers.push_back({'I', "Message-Id: <E" + m.id + "@" + settings_.primary_hostname + ">\n"});
    if (!has("from:")) e.headers.push_back({'F', "From: " + m.mail.sender.address + "\n"});
    if (!has("date:")) e.headers.push_back({' ', "Date: " + now_tod_full() + "\n"});
  }
  return e;
}

log::Peer Session::log_peer() const {
  log::Peer p;
  p.address = peer_.address;
  p.port = peer_.port;
  p.helo = helo_name_;
  p.name = host_name_;
  p.ident = peer_.address.empty() ? peer_.login : "";
  p.local_address = peer_.local_address;
  p.local_port = peer_.local_port;
  return p;
}

log::Reception Session::reception_facts(int64_t size) const {
  const Message& m = *msg_;
  log::Reception r;
  r.message_id = m.id;
  r.sender = m.mail.sender.address;
  r.peer = log_peer();
  r.protocol = *vars_.get("received_protocol");
  r.pipelining_advertised = pipelining_offered_;
  r.tls = tls_info_;
  r.auth = auth_info();
  r.proxy_local_address = connected_from_;
  r.chunking = m.bdat_total > 0;
  r.size = size;
  r.body_8bitmime = m.mail.body == smtp::Body::k8bitmime ? 8 : m.mail.body == smtp::Body::k7bit ? 7 : 0;
  for (const auto& h : m.headers) {
    if (strncasecmp(h.c_str(), "message-id:", 11) == 0 && r.header_message_id.empty()) {
      std::string v = h.substr(11);
      size_t lt = v.find('<'), gt = v.rfind('>');
      if (lt != std::string::npos && gt != std::string::npos && gt > lt) r.header_message_id = v.substr(lt + 1, gt - lt - 1);
    } else if (strncasecmp(h.c_str(), "subject:", 8) == 0 && !r.subject) {
      std::string v = h.substr(8);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(0, 1);
      while (!v.empty() && v.back() == '\n') v.pop_back();
      r.subject = v;
    }
  }
  for (const auto& rc : m.recipients) r.recipients.push_back(rc.address);
  return r;
}

boost::asio::awaitable<std::optional<AclDecision>> Session::after_data_hooks() {
  Message& m = *msg_;
  const module_host::HookRegistry& hooks = server_.runtime.modules().hooks();
  if (!hooks.has(TERN_HOOK_AFTER_DATA)) co_return std::nullopt;
  auto body = m.incoming->open_body_for_reading();
  if (!body) {
    server_.log.panic("spool read error for " + m.id + ": " + body.error().message);
    co_return gate_.refusal(AclWhere::kData, AclDecision::Verdict::kError, std::nullopt, body.error().message);
  }
  module_host::AfterDataMessage message;
  message.id = m.id;
  message.sender = m.mail.sender.address;
  message.headers = m.header_section;
  for (const auto& r : m.recipients) message.recipients.push_back(r.address);
  message.data_fd = body->release();
  auto run = [&] { return module_host::run_after_data(hooks, env_, std::move(message)); };
  module_host::AfterData r = co_await offload(server_.acl_threads, std::move(run));
  if (r.hook.status == TERN_OK || r.hook.status == TERN_DECLINE) {
    for (auto& [index, values] : r.values) m.recipient_data[index] = std::move(values);
    co_return std::nullopt;
  }
  // As acl_smtp_data's deny or defer: the verdict is the message, the error the log_message.
  const auto verdict = r.hook.status == TERN_FAIL    ? AclDecision::Verdict::kDeny
                       : r.hook.status == TERN_DEFER ? AclDecision::Verdict::kDefer
                                                     : AclDecision::Verdict::kError;
  std::optional<std::string> text, log_text;
  if (!r.hook.verdict.empty()) text = r.hook.verdict;
  if (!r.hook.error.empty()) log_text = "module " + r.hook.module + ": " + r.hook.error;
  co_return gate_.refusal(AclWhere::kData, verdict, std::move(text), std::move(log_text));
}

boost::asio::awaitable<bool> Session::finish_message(bool bdat, uint64_t last_chunk) {
  Message& m = *msg_;
  const smtp::MessageStats& st = m.reader->stats();
  m.headers = split_headers(m.header_section);
  vars_.set_headers(&m.headers);
  set_var("message_size", std::to_string(st.message_size));
  set_var("message_body_size", std::to_string(st.message_size - st.header_size));
  set_var("body_linecount", std::to_string(st.body_linecount));
  set_var("recipients_count", std::to_string(m.recipients.size()));

  auto done = [&] {
    state_.message_done();
    msg_.reset();
    vars_.set_headers(nullptr);
  };
  auto reply_final = [&](smtp::Reply r) {
    if (bdat) r.lines.insert(r.lines.begin(), " " + std::to_string(last_chunk) + " byte chunk, total " +
                                                  std::to_string(m.bdat_total));
    send(r);
  };

  if (st.too_big) {
    server_.log.reject(host_for_log() + " F=<" + m.mail.sender.address +
                       "> rejected after DATA: message too big: read=" + std::to_string(st.message_size) +
                       " max=" + std::to_string(settings_.message_size_limit));
    send(smtp::replies::size_exceeded());
    done();
    co_return true;
  }
  std::vector<std::string> recipient_list;
  for (const auto& r : m.recipients) recipient_list.push_back(r.address);
  AclRequest data_request;
  data_request.header_lines = &m.headers;
  data_request.recipients = &recipient_list;
  data_request.message_size = static_cast<long long>(st.message_size);
  AclDecision d = co_await acl(AclWhere::kData, settings_.acl_data, data_request);
  if (!d.accepted_verdict()) {
    bool drop = refuse(d, m.id);
    done();
    co_return !drop;
  }
  if (d.verdict == AclDecision::Verdict::kDiscard) m.discard = true;
  if (!m.discard && !m.recipients.empty() && m.incoming && !m.write_failed) {
    if (std::optional<AclDecision> refused = co_await after_data_hooks()) {
      bool drop = refuse(*refused, m.id);
      done();  // the message's spool files go with it
      co_return !drop;
    }
  }

  if (m.discard || m.recipients.empty() || peer_.fake) {
    reply_final(smtp::Reply::make(250, "OK id=" + m.id));
    done();
    co_return true;
  }
  if (m.write_failed) {
    server_.log.panic("spool write error for " + m.id);
    reply_final(smtp::Reply::make(451, "Error while writing spool file"));
    done();
    co_return true;
  }
  spool::Envelope env = make_envelope();
  spool::store_recipient_data(env, m.recipient_data);
  int64_t size = st.message_size;
  for (const auto& h : env.headers)
    if (h.type == 'P') size += static_cast<int64_t>(h.text.size());
  if (Status s = m.incoming->finish(env); !s) {
    server_.log.panic("spool write error for " + m.id + ": " + s.error().message);
    reply_final(smtp::Reply::make(451, "Error while writing spool file"));
    done();
    co_return true;
  }
  // Durable before the 250: the committer fsyncs this message with any
  // others finishing now, and resumes us on our own loop.
  auto executor = co_await boost::asio::this_coro::executor;
  Status committed = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(Status)>(
      [&](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        server_.committer.submit(
            std::move(*m.incoming),
            [executor](std::function<void()> f) { boost::asio::post(executor, std::move(f)); },
            [h](Status s) { (*h)(std::move(s)); });
      },
      boost::asio::use_awaitable);
  m.incoming.reset();
  if (!committed) {
    server_.log.panic("failed to make " + m.id + " durable: " + committed.error().message);
    reply_final(smtp::Reply::make(451, "Error while writing spool file"));
    done();
    co_return true;
  }
  server_.log.write(log::reception(reception_facts(size), server_.log.selectors()));
  reply_final(smtp::Reply::make(250, "OK id=" + m.id));
  // Immediate delivery (Exim's default): a `tern -Mc id` of its own, unless queue_only
  // or the load is above queue_only_load.
  if (!settings_.queue_only && !gate_.state().controls.queue_only && !gate_.state().controls.freeze) {
    if (auto held = deliver::load_defers_delivery(server_.runtime.config().main)) {
      log::Line line;
      line.text = *held;
      line.gate = log::Selectors::of({log::Selector::kDelayDelivery});
      server_.log.write(line);
    } else
      server_.start_delivery(m.id);
  }
  ++messages_accepted_;
  done();
  co_return true;
}

}  // namespace tern::server
