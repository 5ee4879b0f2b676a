// core/server/server_context.cpp: ServerSettings from the main options, and
// the shared pieces of a ServerContext.
#include "core/server/server_context.hpp"

#include <unistd.h>

#include "core/config/options.hpp"
#include "core/deliver/spawn.hpp"
#include "core/server/listen.hpp"
#include "core/server/privileges.hpp"
#include "core/text/list.hpp"

namespace tern::server {

namespace {

// An expanded size option ("50M", "0"): Exim's integer rules.
Result<int64_t> expanded_size(cli::Runtime& rt, std::string_view name) {
  std::string raw = rt.config().main.get_string(name);
  auto text = expand::expand(raw, rt.context());
  if (!text) return Error::failed("failed to expand " + std::string(name) + " \"" + raw + "\": " + text.error().message);
  if (text->empty()) return int64_t{0};
  config::OptionDef def;
  def.name = std::string(name);
  def.type = config::OptionType::kInt;
  auto v = config::parse_option_value(def, *text);
  if (!v) return Error::failed("invalid " + std::string(name) + " \"" + *text + "\": " + v.error().message);
  return v->number;
}

}  // namespace

Result<ServerSettings> ServerSettings::from(cli::Runtime& rt) {
  const config::OptionSet& m = rt.config().main;
  ServerSettings s;
  auto size = expanded_size(rt, "message_size_limit");
  if (!size) return size.take_error();
  s.message_size_limit = *size;
  s.recipients_max = static_cast<int>(m.get_int("recipients_max"));
  s.recipients_max_reject = m.get_bool("recipients_max_reject");
  s.receive_timeout = std::chrono::seconds(m.get_int("smtp_receive_timeout"));
  if (s.receive_timeout.count() <= 0) s.receive_timeout = std::chrono::hours(24 * 365);
  s.enforce_sync = m.get_bool("smtp_enforce_sync");
  s.accept_8bitmime = m.get_bool("accept_8bitmime");
  s.queue_only = m.get_bool("queue_only");
  s.max_unknown_commands = static_cast<int>(m.get_int("smtp_max_unknown_commands"));
  s.max_synprot_errors = static_cast<int>(m.get_int("smtp_max_synprot_errors"));
  s.max_nonmail = static_cast<int>(m.get_int("smtp_accept_max_nonmail"));
  s.primary_hostname = rt.context().primary_hostname;
  std::string qd;
  rt.config_variables().append("qualify_domain", qd);
  s.qualify_domain = qd;
  std::string qr;
  rt.config_variables().append("qualify_recipient", qr);
  s.qualify_recipient = qr;
  s.pipelining_advertise_hosts = m.get_string("pipelining_advertise_hosts");
  s.chunking_advertise_hosts = m.get_string("chunking_advertise_hosts");
  s.tls_advertise_hosts = m.get_string("tls_advertise_hosts");
  s.tls_verify_hosts = m.get_string("tls_verify_hosts");
  s.tls_try_verify_hosts = m.get_string("tls_try_verify_hosts");
  s.smtputf8_advertise_hosts = m.get_string("smtputf8_advertise_hosts");
  s.dsn_advertise_hosts = m.get_string("dsn_advertise_hosts");
  s.pipelining_connect_advertise_hosts = m.get_string("pipelining_connect_advertise_hosts");
  s.helo_accept_junk_hosts = m.get_string("helo_accept_junk_hosts");
  s.helo_verify_hosts = m.get_string("helo_verify_hosts");
  s.helo_allow_chars = m.get_string("helo_allow_chars");
  s.sender_unqualified_hosts = m.get_string("sender_unqualified_hosts");
  s.recipient_unqualified_hosts = m.get_string("recipient_unqualified_hosts");
  s.smtp_accept_max_nonmail_hosts = m.get_string("smtp_accept_max_nonmail_hosts");
  s.prdr_enable = m.get_bool("prdr_enable");
  s.tls_available = !m.get_string("tls_certificate").empty();
  const expand::Extensions* ext = rt.context().extensions;
  s.smtp_banner = expand::compile(m.get_string("smtp_banner"), ext);
  s.received_header_text = expand::compile(m.get_string("received_header_text"), ext);
  for (const std::string& p : text::list_items(m.get_string("tls_on_connect_ports"))) {
    auto port = parse_port(p);
    if (!port) return Error::failed("tls_on_connect_ports: " + port.error().message);
    s.tls_on_connect_ports.push_back(*port);
  }
  s.acl_connect = m.get_string("acl_smtp_connect");
  s.acl_helo = m.get_string("acl_smtp_helo");
  s.acl_mail = m.get_string("acl_smtp_mail");
  s.acl_rcpt = m.get_string("acl_smtp_rcpt");
  s.acl_predata = m.get_string("acl_smtp_predata");
  s.acl_data = m.get_string("acl_smtp_data");
  s.acl_quit = m.get_string("acl_smtp_quit");
  s.acl_notquit = m.get_string("acl_smtp_notquit");
  s.acl_vrfy = m.get_string("acl_smtp_vrfy");
  s.acl_expn = m.get_string("acl_smtp_expn");
  s.acl_etrn = m.get_string("acl_smtp_etrn");
  s.acl_starttls = m.get_string("acl_smtp_starttls");
  s.acl_auth = m.get_string("acl_smtp_auth");
  s.acl_mailauth = m.get_string("acl_smtp_mailauth");
  s.auth_advertise_hosts = m.get_string("auth_advertise_hosts");
  auto authenticators = auth::AuthenticatorSet::from(rt.config());
  if (!authenticators) return authenticators.take_error();
  s.authenticators = std::move(*authenticators);
  return s;
}

namespace {

Result<log::LoggerOptions> logger_options(cli::Runtime& rt) {
  const config::OptionSet& main = rt.config().main;
  auto options = log::options_from_config(main, main.get_string("spool_directory"),
                                          [&rt](std::string_view s) { return expand::expand(s, rt.context()); });
  if (!options) return options.take_error();
  if (::getuid() == 0) {
    if (auto who = resolve_run_as(main.get_string("exim_user"), main.get_string("exim_group"))) {
      options->owner_uid = who->uid;
      options->owner_gid = who->gid;
    }
  }
  return options;
}

}  // namespace

Result<ServerSetup> ServerSetup::load(const cli::CommandLine& cl) {
  auto rt = cli::Runtime::load(cl);
  if (!rt) return rt.take_error();
  auto settings = ServerSettings::from(**rt);
  if (!settings) return settings.take_error();
  auto tls = tls::ServerTls::create(tls::ServerOptions::from_main((*rt)->config().main, settings->primary_hostname),
                                    (*rt)->context().extensions);
  if (!tls) return tls.take_error();
  auto log_options = logger_options(**rt);
  if (!log_options) return log_options.take_error();
  auto routers = deliver::RouterSet::build((*rt)->config());
  if (!routers) return routers.take_error();
  return ServerSetup{std::move(*rt), std::move(*settings), std::move(*tls), std::move(*log_options),
                     std::move(*routers)};
}

namespace {
spool::SpoolConfig spool_config(cli::Runtime& rt) {
  spool::SpoolConfig c;
  c.directory = rt.config().main.get_string("spool_directory");
  c.split = rt.config().main.get_bool("split_spool_directory");
  return c;
}
}  // namespace

ServerContext::ServerContext(ServerSetup& setup, boost::asio::io_context& io_, ServerLog& log_)
    : runtime(*setup.runtime),
      io(io_),
      log(log_),
      settings(std::move(setup.settings)),
      spool(spool_config(*setup.runtime)),
      tls(setup.tls),
      routers(setup.routers),
      module_log([this](std::string_view, unsigned targets, std::string_view text) {
        log::Line line;
        line.text = std::string(text);
        line.targets = ((targets & TERN_LOG_MAIN) ? log::kToMain : 0u) |
                       ((targets & TERN_LOG_REJECT) ? log::kToReject : 0u) |
                       ((targets & TERN_LOG_PANIC) ? log::kToPanic : 0u);
        log.write(line);
      }) {
  // ${acl} in expansions outside the ACLs (event_action, ...): its logwrite lines here.
  runtime.set_acl_log([this](const acl::LogLine& l) { log.acl(l); });
  acl_services.acls = &runtime.acls();
  acl_services.ratelimits = &runtime.ratelimits();
  acl_services.dns = &runtime.resolver();
  acl_services.blocking = &acl_threads;
  start_delivery = [this](std::string_view id) { deliver::spawn_delivery(runtime, id); };
}

ServerContext::~ServerContext() { runtime.set_acl_log({}); }

}  // namespace tern::server
