// core/deliver/smtp_transport.cpp: the `smtp` transport: hosts in order, the SMTP client per host.
//
// Exim 4.96's smtp transport on top of SmtpClient (smtp_client.hpp). For a batch it takes
// the router's hosts (in MX order), or its own `hosts` when the router gave none or
// hosts_override is set, and tries them in turn: a host that cannot be reached, refuses
// at connect/EHLO with a 4xx, times out, drops the connection or answers MAIL with a 4xx
// is recorded for retry (AddressResult::hosts_tried) and the next host gets the addresses
// not yet done; a 5xx greeting fails them; a 5xx to RCPT fails that address, a 4xx defers
// it. Per host the options are expanded and the host lists (hosts_require_tls,
// hosts_avoid_tls, hosts_avoid_pipelining, hosts_try_chunking, tls_verify_hosts,
// tls_try_verify_hosts, tls_verify_cert_hostnames) matched against its IP and name. The
// open connection stays for the next batch to the same host (RSET, then the next MAIL):
// the delivery process calls deliver() once per batch and finish() at the end.
//
// The delivery process is synchronous (transport.hpp), so the transport runs the client's
// coroutines on an io_context of its own until each batch is done.
//
// Events (Exim's transport event_action), through TransportCall::events: the client raises
// tcp:connect, smtp:connect, smtp:ehlo and tcp:close (with $sending_ip_address and
// $sending_port), the TLS layer tls:cert per certificate that passed verification (a
// non-empty answer refuses it: the handshake fails under tls_verify_hosts, the certificate
// is unverified under tls_try_verify_hosts); the transport raises msg:rcpt:host:defer per
// recipient refused with a 4xx to RCPT, msg:host:defer per host that failed as a whole
// (not for a 4xx to MAIL, as in Exim) and msg:defer when the last host left the message
// deferred, with the first address's $local_part, $domain and $router_name, Exim's
// $event_defer_errno and its $event_data (the error text, ": strerror" added for a system
// errno). $host, $host_address and $host_port are set before each host is tried.

// clang-format off
#include <utility>  // before Boost: 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <netdb.h>
#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <cstring>
#include <map>

#include "core/deliver/message_writer.hpp"
#include "core/deliver/smtp_client.hpp"
#include "core/deliver/transport.hpp"
#include "core/lookup/match.hpp"
#include "core/text/list.hpp"

namespace tern::deliver {

namespace asio = boost::asio;

namespace {

std::chrono::seconds seconds_option(const config::DriverInstance& t, std::string_view name) {
  return std::chrono::seconds(t.options.get_int(name));
}

// A host with its address (looked up when the router gave none).
struct Target {
  Host host;
  asio::ip::address ip;
};

// The client's events through the call being served, with the connection's own end as
// $sending_ip_address and $sending_port. Bound to a call only while the transport serves
// one: a client closed outside a call raises nothing.
class ClientEvents final : public SmtpEvents {
 public:
  void bind(const TransportCall* call) { call_ = call; }
  const TransportCall* call() const { return call_; }
  bool observed(std::string_view event) const override {
    return call_ != nullptr && call_->events != nullptr && call_->events->observed(event);
  }
  std::string raise(std::string_view event, std::string_view data,
                    const std::optional<asio::ip::tcp::endpoint>& local) override {
    if (call_ == nullptr || call_->events == nullptr) return {};
    call_->set_variable("sending_ip_address", local ? local->address().to_string() : "");
    call_->set_variable("sending_port", local ? std::to_string(local->port()) : "-1");
    return call_->events->raise(event, data);
  }
  void set_variable(std::string_view name, std::string value) override {
    if (call_ != nullptr) call_->set_variable(name, std::move(value));
  }
  void log(std::string_view line) override {
    if (call_ != nullptr && call_->log_main) call_->log_main(line);
  }
  void host_deferred(const std::string& message) override {
    if (call_ != nullptr && on_host_deferred) on_host_deferred(message);
  }
  // Set by the transport around each connection attempt: what host_deferred raises.
  std::function<void(const std::string&)> on_host_deferred;

 private:
  const TransportCall* call_ = nullptr;
};

class SmtpTransport final : public Transport {
 public:
  SmtpTransport(const config::DriverInstance& t, const TransportEnv& env) : t_(t), env_(env) {}

  void deliver(const TransportCall& call, std::vector<AddressResult>& results) override {
    results.assign(call.addresses->size(), AddressResult{});
    events_.bind(&call);
    asio::co_spawn(io_, run(call, results), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    io_.restart();
    io_.run();
    events_.bind(nullptr);
  }

  void finish(const TransportCall& closing) override {
    if (!client_) return;
    events_.bind(&closing);
    asio::co_spawn(io_, close_connection(), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    io_.restart();
    io_.run();
    events_.bind(nullptr);
  }

 private:
  // QUIT and close; tcp:close then has the closed connection's $host.
  asio::awaitable<void> close_connection() {
    if (!client_) co_return;
    if (const TransportCall* call = events_.call()) {
      set_host_variables(*call, client_->host().name, client_->host().ip, client_->host().port);
    }
    co_await client_->quit();
    client_.reset();
  }

  Result<std::string> expanded(std::string_view name, expand::Context& ctx) const {
    std::string text = t_.options.get_string(name);
    if (text.empty()) return text;
    auto r = expand::expand(text, ctx);
    if (!r) {
      if (r.error().is_forced()) return std::string();
      return Error::defer("failed to expand \"" + text + "\" (" + std::string(name) + " for the " +
                          t_.name + " transport): " + r.error().message);
    }
    return r;
  }

  // Exim's verify_check_given_host(): the expanded list against the host's IP and name.
  bool host_in(std::string_view option, const Target& target, expand::Context& ctx) const {
    Result<std::string> list = expanded(option, ctx);
    if (!list || list->empty()) return false;
    lookup::MatchEnv env = expand::match_env(ctx);
    auto r = lookup::match_list(target.ip.to_string(), *list, lookup::ListKind::kHost, env, false,
                                target.host.name);
    return r && r->matched();
  }

  Result<std::vector<Target>> targets(const TransportCall& call, expand::Context& ctx) const {
    const RoutedAddress& first = call.addresses->front();
    std::vector<Host> hosts = first.hosts;
    bool own = hosts.empty() || (t_.options.get_bool("hosts_override") &&
                                 !t_.options.get_string("hosts").empty());
    if (own) {
      hosts.clear();
      Result<std::string> list = expanded("hosts", ctx);
      if (!list) return list.take_error();
      for (const std::string& item : text::list_items(*list)) {
        Host h;
        h.name = item;
        hosts.push_back(h);
      }
      if (hosts.empty()) {
        return Error::defer("no hosts (router gave none and the " + t_.name +
                            " transport's hosts option is unset)");
      }
    }
    Result<std::string> port_text = expanded("port", ctx);
    if (!port_text) return port_text.take_error();
    int default_port = 25;
    if (!port_text->empty() && *port_text != "smtp") {
      default_port = std::atoi(port_text->c_str());
      if (default_port <= 0 || default_port > 65535) {
        return Error::defer("invalid port \"" + *port_text + "\" for the " + t_.name + " transport");
      }
    }
    std::vector<Target> out;
    for (Host& h : hosts) {
      if (h.port == 0) h.port = default_port;
      if (!h.address.empty()) {
        boost::system::error_code ec;
        auto ip = asio::ip::make_address(h.address, ec);
        if (!ec) out.push_back({h, ip});
        continue;
      }
      // The transport's own host names: the system's resolver (as Exim's gethostbyname).
      boost::system::error_code ec;
      auto literal = asio::ip::make_address(h.name, ec);
      if (!ec) {
        h.address = h.name;
        out.push_back({h, literal});
        continue;
      }
      addrinfo hints{};
      hints.ai_socktype = SOCK_STREAM;
      addrinfo* res = nullptr;
      if (::getaddrinfo(h.name.c_str(), nullptr, &hints, &res) != 0) continue;
      for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
        asio::ip::tcp::endpoint ep;
        std::memcpy(ep.data(), a->ai_addr, a->ai_addrlen);
        Host copy = h;
        copy.address = ep.address().to_string();
        out.push_back({copy, ep.address()});
      }
      ::freeaddrinfo(res);
    }
    if (out.empty()) return Error::defer("all hosts have no IP address");
    return out;
  }

  // The TLS options expanded now; the context itself is made by client_tls() when a
  // server offers STARTTLS (SmtpOptions::make_tls).
  Result<tls::ClientOptions> client_tls_options(expand::Context& ctx) {
    tls::ClientOptions o;
    for (auto [name, field] : {std::pair{"tls_certificate", &o.certificate},
                               std::pair{"tls_privatekey", &o.privatekey},
                               std::pair{"tls_require_ciphers", &o.require_ciphers},
                               std::pair{"tls_verify_certificates", &o.verify_certificates},
                               std::pair{"tls_crl", &o.crl}}) {
      Result<std::string> v = expanded(name, ctx);
      if (!v) return v.take_error();
      *field = *v;
    }
    if (env_.config != nullptr) o.openssl_options = env_.config->main.get_string("openssl_options");
    return o;
  }

  // One context per set of options for the life of the transport: loading the trust
  // store is most of a delivery's CPU time when it is done.
  Result<std::shared_ptr<const tls::ClientTls>> client_tls(const tls::ClientOptions& o) {
    std::string key = o.certificate + '\0' + o.privatekey + '\0' + o.require_ciphers + '\0' +
                      o.verify_certificates + '\0' + o.crl + '\0' + o.openssl_options;
    if (auto it = tls_cache_.find(key); it != tls_cache_.end()) return it->second;
    auto made = tls::ClientTls::create(o);
    if (!made) return Error::defer("TLS error: " + made.error().message);
    std::shared_ptr<const tls::ClientTls> tls = *made;
    tls_cache_[key] = tls;
    return tls;
  }

  Result<SmtpOptions> options_for(const Target& target, expand::Context& ctx) {
    SmtpOptions o;
    Result<std::string> helo = expanded("helo_data", ctx);
    if (!helo) return helo.take_error();
    o.helo_data = helo->empty() ? env_.primary_hostname : *helo;
    o.connect_timeout = seconds_option(t_, "connect_timeout");
    o.command_timeout = seconds_option(t_, "command_timeout");
    o.data_timeout = seconds_option(t_, "data_timeout");
    int64_t max_rcpt = t_.options.get_int("max_rcpt");
    o.max_rcpt = max_rcpt > 0 ? static_cast<size_t>(max_rcpt) : 0;
    Result<std::string> iface = expanded("interface", ctx);
    if (!iface) return iface.take_error();
    for (const std::string& a : text::list_items(*iface)) {
      boost::system::error_code ec;
      auto ip = asio::ip::make_address(a, ec);
      if (ec) return Error::defer("\"" + a + "\" is not a valid IP address for the \"interface\" option for " +
                                  t_.name + " transport");
      o.interface.push_back(ip);
    }
    o.avoid_pipelining = host_in("hosts_avoid_pipelining", target, ctx);
    o.try_chunking = host_in("hosts_try_chunking", target, ctx);
    o.avoid_tls = host_in("hosts_avoid_tls", target, ctx);
    o.require_tls = host_in("hosts_require_tls", target, ctx);
    o.auth.require = host_in("hosts_require_auth", target, ctx);
    o.auth.try_auth = host_in("hosts_try_auth", target, ctx);
    if (o.auth.require || o.auth.try_auth) {
      if (!authenticators_) {
        auto set = env_.config != nullptr ? auth::AuthenticatorSet::from(*env_.config)
                                          : Result<auth::AuthenticatorSet>(auth::AuthenticatorSet());
        if (!set) return set.take_error();
        authenticators_ = std::make_unique<auth::AuthenticatorSet>(std::move(*set));
      }
      o.auth.authenticators = authenticators_.get();
      o.auth.expand = &ctx;
      o.auth.hostname = env_.primary_hostname;
    }
    if (!o.avoid_tls) {
      auto tls_options = client_tls_options(ctx);
      if (!tls_options) {
        if (o.require_tls) return tls_options.take_error();
      } else {
        o.make_tls = [this, tls_options = std::move(*tls_options)] { return client_tls(tls_options); };
      }
      Result<std::string> sni = expanded("tls_sni", ctx);
      if (sni) o.tls_connection.sni = *sni;
      o.tls_connection.verify = host_in("tls_verify_hosts", target, ctx)       ? tls::ClientVerify::kRequire
                                : host_in("tls_try_verify_hosts", target, ctx) ? tls::ClientVerify::kTry
                                                                               : tls::ClientVerify::kNone;
      if (host_in("tls_verify_cert_hostnames", target, ctx)) {
        o.tls_connection.verify_hostnames = {target.host.name};
      }
      o.tls_connection.env = env_.modules;
    }
    return o;
  }

  static void set_host_variables(const TransportCall& call, const std::string& name, const asio::ip::address& ip,
                                 int port) {
    call.set_variable("host", name);
    call.set_variable("host_address", ip.to_string());
    call.set_variable("host_port", std::to_string(port));
  }

  // Raises a msg:* event for address `i` of the batch (its $local_part, $domain and
  // $router_name, Exim's $event_defer_errno), then puts the batch's first address back.
  void raise_for_address(const TransportCall& call, std::string_view event, size_t i, int defer_errno,
                         const std::function<std::string()>& data) {
    if (call.events == nullptr || !call.events->observed(event)) return;
    const RoutedAddress& a = (*call.addresses)[i];
    const RoutedAddress& first = call.addresses->front();
    call.set_variable("local_part", a.local_part);
    call.set_variable("domain", a.domain);
    call.set_variable("router_name", a.router);
    call.set_variable("event_defer_errno", std::to_string(defer_errno));
    (void)call.events->raise(event, data());
    call.set_variable("local_part", first.local_part);
    call.set_variable("domain", first.domain);
    call.set_variable("router_name", "");
    call.set_variable("event_defer_errno", "0");
  }

  // Exim's deferred_event_raise(): msg:host:defer or msg:defer for the first address still
  // pending, its text with the system errno's added ("Connection refused" alone when that
  // is all there is).
  void raise_defer(const TransportCall& call, std::string_view event, size_t first, int basic_errno,
                   const std::string& message) {
    int err = exim_errno(basic_errno);
    raise_for_address(call, event, first, err, [&] {
      if (err <= 0) return message;
      std::string sys = std::strerror(err);
      return message.empty() || message == sys ? sys : message + ": " + sys;
    });
  }

  // Exim's write_logs(): the main log's line for a host that failed as a whole, before the
  // addresses' own "==" lines: "H=name [ip] Connection refused" (the error number's text
  // when there is no message), "H=name [ip]: message[: strerror]" otherwise.
  static void log_host_failure(const TransportCall& call, const Host& host, const asio::ip::address& ip,
                               int basic_errno, const std::string& message) {
    if (!call.log_main || basic_errno == kErrTlsFailure) return;
    std::string line = "H=" + host.name + " [" + ip.to_string() + "]";
    int err = exim_errno(basic_errno);
    if (!message.empty()) {
      line += ": " + message;
      if (err > 0) line += std::string(": ") + std::strerror(err);
    } else if (err > 0) {
      line += std::string(" ") + std::strerror(err);
    } else if (basic_errno == kErrEvent) {
      line += " " + std::string(kEventDeclinedConnect);
    } else {
      return;
    }
    call.log_main(line);
  }

  static int errno_for_open(const Error& e) {
    const std::string& m = e.message;
    if (m == kEventDeclinedConnect) return kErrEvent;
    if (m.starts_with(kEventDeclinedBanner)) return kErrExpandFail;
    // As Exim: the system's errno for a failed connect ("defer (111): Connection refused").
    if (m == "Connection refused") return ECONNREFUSED;
    if (m == "Connection timed out") return ETIMEDOUT;
    if (m.starts_with("a TLS session is required")) return kErrTlsRequired;
    if (m.starts_with("TLS session:")) return kErrTlsFailure;
    if (m.starts_with("SMTP timeout")) return kErrTimeout;
    if (m.starts_with("authentication required but")) return kErrAuthFail;
    if (m.starts_with("Remote host closed")) return kErrSmtpClosed;
    return kErrUnknown;
  }

  static void set_errno(AddressResult& a, const RecipientResult& r) {
    using Stage = RecipientResult::Stage;
    if (r.code >= 400 && r.code < 500) {
      a.basic_errno = r.stage == Stage::kMail ? kErrMail4xx
                      : r.stage == Stage::kRcpt ? kErrRcpt4xx
                                                : kErrData4xx;
      a.more_errno = r.code;
    } else if (r.code == 0) {
      a.basic_errno = r.timed_out ? kErrTimeout : kErrSmtpClosed;
    }
  }

  asio::awaitable<void> run(const TransportCall& call, std::vector<AddressResult>& results) {
    expand::Context& ctx = *call.expand;
    auto all_deferred = [&](const std::string& why, int err) {
      for (AddressResult& r : results) {
        r.outcome = Outcome::kDeferred;
        r.message = why;
        r.basic_errno = err;
      }
    };
    Result<std::vector<Target>> hosts = targets(call, ctx);
    if (!hosts) {
      all_deferred(hosts.error().message, kErrUnknownHost);
      co_return;
    }
    const Message& m = *call.message;
    std::vector<size_t> pending(call.addresses->size());
    for (size_t i = 0; i < pending.size(); ++i) pending[i] = i;
    std::vector<HostAttempt> tried;
    std::string last_error = "all hosts failed";
    int last_errno = kErrUnknown;

    for (const Target& target : *hosts) {
      if (pending.empty()) break;
      bool last_host = &target == &hosts->back();
      set_host_variables(call, target.host.name, target.ip, target.host.port);
      Result<SmtpOptions> options = options_for(target, ctx);
      if (!options) {
        all_deferred(options.error().message, kErrExpandFail);
        co_return;
      }
      bool continued = false;
      if (client_ && client_->usable() && client_->host().ip == target.ip &&
          client_->host().port == target.host.port) {
        continued = true;
      } else {
        if (client_) {
          co_await close_connection();
          set_host_variables(call, target.host.name, target.ip, target.host.port);
        }
        SmtpHost h{target.host.name, target.ip, static_cast<uint16_t>(target.host.port)};
        options->events = &events_;
        if (call.events != nullptr && call.events->observed("tls:cert")) {
          // Used only during this call's handshakes. $tls_out_peercert is the certificate
          // being checked (Exim's "<cert>"), $event_data its depth in the chain.
          options->tls_connection.cert_event = [&call](int depth) {
            call.set_variable("tls_out_peercert", "<cert>");
            std::string verdict = call.events->raise("tls:cert", std::to_string(depth));
            call.set_variable("tls_out_peercert", "");
            return verdict;
          };
        }
        // A failed TLS handshake before the retry in clear: msg:host:defer, as Exim.
        events_.on_host_deferred = [&](const std::string& message) {
          raise_defer(call, "msg:host:defer", pending.front(), errno_for_open(Error::defer(message)), message);
        };
        auto opened = co_await SmtpClient::open(io_.get_executor(), h, *options);
        events_.on_host_deferred = nullptr;
        if (!opened) {
          last_error = opened.error().message;
          last_errno = errno_for_open(opened.error());
          tried.push_back({target.host, last_errno, 0, last_error});
          // Exim's message: none for a refused connect (the errno says it), none for tcp:connect's.
          std::string text = last_errno > 0 || last_errno == kErrEvent ? std::string() : last_error;
          log_host_failure(call, target.host, target.ip, last_errno, text);
          if (opened.error().is_defer()) {
            raise_defer(call, "msg:host:defer", pending.front(), last_errno, text);
            if (last_host) raise_defer(call, "msg:defer", pending.front(), last_errno, text);
          }
          if (!opened.error().is_defer()) {  // a 5xx greeting: no other host
            for (size_t i : pending) {
              results[i].outcome = Outcome::kFailed;
              results[i].message = last_error;
              results[i].host_used = target.host;
            }
            pending.clear();
          }
          continue;
        }
        client_ = std::move(*opened);
      }

      SmtpEnvelope env;
      env.sender = m.return_path;
      for (size_t i : pending) {
        const RoutedAddress& a = (*call.addresses)[i];
        SmtpRecipient r{a.address, notify_of(a.dsn_flags), a.orcpt};
        env.recipients.push_back(std::move(r));
      }
      if (m.envelope != nullptr) {
        if (const auto* ret = m.envelope->var("dsn_ret")) env.dsn_ret = dsn_ret_name(ret->value);
        if (const auto* envid = m.envelope->var("dsn_envid")) env.dsn_envid = envid->value;
        // BODY=8BITMIME as received ("-8bitmime" or "-body_8bitmime" in the -H file).
        env.body_8bit = m.envelope->var("8bitmime") != nullptr ||
                        m.envelope->var("body_8bitmime") != nullptr;
        if (const auto* sender = m.envelope->var("auth_sender")) env.auth_sender = sender->value;
      }
      // authenticated_sender: the transport's own value replaces the message's.
      if (Result<std::string> own = expanded("authenticated_sender", ctx); !own) {
        all_deferred("failed to expand authenticated_sender: " + own.error().message, kErrExpandFail);
        co_return;
      } else if (!own->empty()) {
        env.auth_sender = *own;
      }
      env.auth_sender_force = t_.options.get_bool("authenticated_sender_force");
      std::int64_t size = 0;
      for (const std::string& h : m.headers) size += static_cast<std::int64_t>(h.size());
      size += 1 + static_cast<std::int64_t>(m.body.size());
      env.size = static_cast<size_t>(size);
      env.wire_message = [&m](bool dot_stuffed) {
        WriteOptions w;
        w.crlf = true;
        w.dot_stuff = dot_stuffed;
        w.end_dot = dot_stuffed;
        std::string out;
        (void)write_message(m, w, [&out](std::string_view piece) {
          out.append(piece);
          return Status();
        });
        return out;
      };

      DeliveryResult d = co_await client_->deliver(env);
      log::TlsInfo tls;
      if (const tls::SessionInfo* info = client_->tls_info()) {
        tls.cipher = info->cipher;
        tls.certificate_verified = info->certificate_verified;
        tls.dane = info->verified_by == "dane";
        tls.peer_dn = info->peerdn;
      }
      const Capabilities& caps = client_->capabilities();
      std::vector<size_t> still;
      for (size_t k = 0; k < pending.size(); ++k) {
        size_t i = pending[k];
        const RecipientResult& r = d.recipients[k];
        AddressResult& a = results[i];
        a.host_used = target.host;
        a.continued_connection = continued;
        a.tls = tls;
        a.auth.authenticator = client_->authenticator();
        a.auth.id = client_->authenticated_id();
        if (!client_->authenticator().empty() || env.auth_sender_force) a.auth.sender = env.auth_sender;
        a.pipelining = caps.pipelining && !options->avoid_pipelining;
        a.chunking = caps.chunking && options->try_chunking;
        a.message = r.outcome == SmtpOutcome::kDelivered ? std::string() : r.message;
        if (r.outcome == SmtpOutcome::kDelivered) {
          a.outcome = Outcome::kDelivered;
          a.confirmation = r.message;
          a.bytes_written = size;
        } else if (r.outcome == SmtpOutcome::kFailed) {
          a.outcome = Outcome::kFailed;
        } else {
          a.outcome = Outcome::kDeferred;
          set_errno(a, r);
          // A host problem (not this address's own 4xx): the next host may take it.
          if (d.host_error && r.stage != RecipientResult::Stage::kRcpt) still.push_back(i);
        }
      }
      for (size_t k = 0; k < pending.size(); ++k) {
        const RecipientResult& r = d.recipients[k];
        if (r.outcome != SmtpOutcome::kDeferred || r.stage != RecipientResult::Stage::kRcpt || r.code == 0) continue;
        // Exim's more_errno: the reply's last two digits, and how the host was found.
        int more = (r.code % 100) << 8 | (target.host.mx >= 0 ? 'M' : 'A');
        raise_for_address(call, "msg:rcpt:host:defer", pending[k], more, [&r] { return r.message; });
      }
      if (d.host_error) {
        int basic = still.empty() ? kErrUnknown : results[still.front()].basic_errno;
        int more = still.empty() ? 0 : results[still.front()].more_errno;
        tried.push_back({target.host, basic, more, d.host_message});
        log_host_failure(call, target.host, target.ip, basic, d.host_message);
        last_error = d.host_message;
        last_errno = basic;
        // A 4xx to MAIL defers the message, not the host (Exim raises only msg:defer).
        bool mail_refused = !still.empty() && results[still.front()].basic_errno == kErrMail4xx;
        if (!still.empty() && !mail_refused) raise_defer(call, "msg:host:defer", still.front(), basic, d.host_message);
        if (!still.empty() && last_host) raise_defer(call, "msg:defer", still.front(), basic, d.host_message);
      }
      pending = std::move(still);
      if (!client_->usable()) client_.reset();
    }
    for (size_t i : pending) {
      if (results[i].message.empty() && results[i].basic_errno == 0) {
        results[i].outcome = Outcome::kDeferred;
        // A system errno stands alone: the log line adds its text ("defer (111): Connection refused");
        // tcp:connect's refusal is its errno alone too ("defer (-58)").
        results[i].message = last_errno > 0 || last_errno == kErrEvent ? std::string() : last_error;
        results[i].basic_errno = last_errno;
      }
    }
    for (AddressResult& r : results) r.hosts_tried = tried;
  }

  static std::string notify_of(int flags) {
    std::string out;
    auto add = [&](int bit, const char* name) {
      if (flags & bit) out += out.empty() ? name : std::string(",") + name;
    };
    add(spool::kDsnNotifyNever, "NEVER");
    add(spool::kDsnNotifySuccess, "SUCCESS");
    add(spool::kDsnNotifyFailure, "FAILURE");
    add(spool::kDsnNotifyDelay, "DELAY");
    return out;
  }

  static std::string dsn_ret_name(const std::string& value) {
    // The -H file's -dsn_ret: 1 = HDRS, 2 = FULL (Exim's dsn_ret_hdrs/dsn_ret_full).
    if (value == "1") return "HDRS";
    if (value == "2") return "FULL";
    return "";
  }

  const config::DriverInstance& t_;
  TransportEnv env_;
  asio::io_context io_;
  ClientEvents events_;  // before client_: the client refers to it until it is gone
  std::unique_ptr<SmtpClient> client_;
  std::map<std::string, std::shared_ptr<const tls::ClientTls>> tls_cache_;
  std::unique_ptr<auth::AuthenticatorSet> authenticators_;  // read when a host wants AUTH
};

}  // namespace

void add_smtp_transport(TransportRegistry& registry) {
  TransportDriver d;
  d.local = false;
  d.make = [](const config::DriverInstance& instance,
              const TransportEnv& env) -> Result<std::unique_ptr<Transport>> {
    return std::unique_ptr<Transport>(new SmtpTransport(instance, env));
  };
  registry.add("smtp", std::move(d));
}

}  // namespace tern::deliver

