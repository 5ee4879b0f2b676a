// core/deliver/local_message.cpp: spool a message tern writes itself (see local_message.hpp).
#include "core/deliver/local_message.hpp"

#include <pwd.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "core/deliver/variables.hpp"
#include "core/log/smtp_lines.hpp"
#include "core/spool/committer.hpp"
#include "core/spool/incoming.hpp"

namespace tern::deliver {

std::string caller_login() {
  if (struct passwd* pw = getpwuid(getuid())) return pw->pw_name;
  return std::to_string(getuid());
}

namespace {

bool has_header(const std::vector<std::string>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const std::string& h) {
    return h.size() > name.size() && strncasecmp(h.data(), name.data(), name.size()) == 0;
  });
}

}  // namespace

Result<std::string> spool_local_message(cli::Runtime& rt, const spool::Spool& spool, log::Logger& logger,
                                        const LocalMessage& m) {
  if (auto st = spool.create_dirs(); !st) return st.take_error();
  std::string id = m.id;
  if (id.empty()) id = spool::IdGenerator().next().text();
  struct timeval now;
  gettimeofday(&now, nullptr);
  std::string login = caller_login();
  std::string primary = rt.config().main.get_string("primary_hostname");

  DeliveryVariables vars(&rt.config_variables());
  expand::Context ctx = rt.context();
  ctx.variables = &vars;
  vars.set("sender_ident", login);
  vars.set("received_protocol", "local");
  vars.set("sender_address", m.sender);
  vars.set("message_exim_id", id);
  vars.set("message_id", id);
  vars.set("received_for", m.recipients.size() == 1 ? m.recipients.front() : "");
  for (const char* empty : {"sender_rcvhost", "sender_helo_name", "sender_host_address", "tls_in_ver", "tls_in_cipher_std",
                            "tls_in_cipher"})
    vars.set(empty, "");
  if (primary.empty()) rt.config_variables().append("primary_hostname", primary);
  auto tod = expand::expand("$tod_full", ctx);
  std::string date = tod ? *tod : std::string();
  auto received = expand::expand(rt.config().main.get_string("received_header_text"), ctx);
  std::string received_text = received ? *received : "Received: by " + primary + " id " + id;
  if (!received) logger.panic("Expansion of received_header_text failed: " + received.error().message, id);

  spool::Envelope env;
  env.id = id;
  env.originator_login = login;
  env.originator_uid = static_cast<std::int64_t>(getuid());
  env.originator_gid = static_cast<std::int64_t>(getgid());
  env.sender = m.sender;
  env.received_time = now.tv_sec;
  char usec[16];
  std::snprintf(usec, sizeof usec, ".%06ld", static_cast<long>(now.tv_usec));
  env.set_var("received_time_usec", usec);
  env.set_var("ident", login);
  env.set_var("received_protocol", "local");
  std::int64_t lines = std::count(m.body.begin(), m.body.end(), '\n');
  std::int64_t longest = 0, cur = 0;
  for (char c : m.body) {
    if (c == '\n') longest = std::max(longest, cur), cur = 0;
    else ++cur;
  }
  env.set_var("body_linecount", std::to_string(lines));
  if (m.longest_line >= 0) longest = m.longest_line;
  env.set_var("max_received_linelength", std::to_string(longest));
  if (m.sender_local) {
    env.set_var("auth_id", login);
    env.set_var("auth_sender", login + "@" + m.qualify_domain);
  }
  if (m.submission) {
    env.set_flag("allow_unqualified_recipient");
    env.set_flag("allow_unqualified_sender");
  }
  env.set_flag("deliver_firsttime");
  if (m.sender_local) env.set_flag("local");
  env.nonrecipients = m.nonrecipients;
  for (const std::string& r : m.recipients) {
    spool::Recipient rc;
    rc.address = r;
    env.recipients.push_back(rc);
  }
  env.headers.push_back({'P', received_text + ";\n\t" + date + "\n"});  // Exim folds before the date
  if (!m.typed_headers.empty()) {
    env.headers.insert(env.headers.end(), m.typed_headers.begin(), m.typed_headers.end());
  } else {
    for (const std::string& h : m.headers) env.headers.push_back({spool::header_type_for(h), h});
    if (!has_header(m.headers, "message-id:"))
      env.headers.push_back({'I', "Message-Id: <E" + id + "@" + primary + ">\n"});
    if (!has_header(m.headers, "date:")) env.headers.push_back({' ', "Date: " + date + "\n"});
  }

  auto incoming = spool::IncomingMessage::create(spool, id);
  if (!incoming) return incoming.take_error();
  if (auto st = incoming->write_body(m.body); !st) return st.take_error();
  if (auto st = incoming->finish(env); !st) return st.take_error();
  spool::CommitOptions copts;
  copts.sync_threads = 1;
  spool::Committer committer(copts);
  if (auto st = committer.commit(std::move(*incoming)); !st) return st.take_error();

  log::Reception rec;
  rec.message_id = id;
  rec.sender = m.sender;
  rec.reference = m.reference;
  rec.peer.ident = login;
  rec.protocol = "local";
  rec.size = env.header_size() + static_cast<std::int64_t>(m.body.size()) + 1;
  rec.recipients = m.recipients;
  logger.write(log::reception(rec, logger.selectors()));
  return id;
}

}  // namespace tern::deliver
