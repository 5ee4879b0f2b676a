// core/smtp/reply.cpp: wire form of replies and Exim 4.96's fixed texts.
//
// Texts were checked against the reference Exim (core/smtp/testdata/exim.conf);
// reply_test.cpp pins each one.
#include "core/smtp/reply.hpp"

#include <cctype>

namespace tern::smtp {

std::string format(const Reply& r) {
  std::string out;
  const std::string code = std::to_string(r.code);
  const size_t n = r.lines.empty() ? 1 : r.lines.size();
  for (size_t i = 0; i < n; ++i) {
    std::string_view line = r.lines.empty() ? std::string_view() : std::string_view(r.lines[i]);
    if (size_t cut = line.find_first_of("\r\n"); cut != std::string_view::npos)
      line = line.substr(0, cut);
    out += code;
    out += i + 1 < n ? '-' : ' ';
    if (!r.esc.empty()) {
      out += r.esc;
      out += ' ';
    }
    out += line;
    out += "\r\n";
  }
  return out;
}

std::string hello_text(std::string_view hostname, std::string_view ident, std::string_view name,
                       std::string_view address) {
  std::string s(hostname);
  s += " Hello ";
  if (!ident.empty()) {
    s += ident;
    s += " at ";
  }
  s += name;
  if (!address.empty()) {
    s += " [";
    s += address;
    s += ']';
  }
  return s;
}

Reply helo_reply(std::string greeting) { return Reply::make(250, std::move(greeting)); }

Reply ehlo_reply(std::string greeting, const EhloFeatures& f) {
  Reply r = Reply::make(250, std::move(greeting));
  auto add = [&](std::string s) { r.lines.push_back(std::move(s)); };
  add(f.size_limit > 0 ? "SIZE " + std::to_string(f.size_limit) : "SIZE");
  if (f.accept_8bitmime) add("8BITMIME");
  if (f.dsn) add("DSN");
  if (f.etrn) add("ETRN");
  if (f.vrfy) add("VRFY");
  if (f.expn) add("EXPN");
  if (f.pipelining) add("PIPELINING");
  if (f.pipelining && f.pipe_connect) add("PIPECONNECT");
  if (!f.auth.empty()) {
    std::string s = "AUTH";
    for (const auto& name : f.auth) {
      s += ' ';
      for (char c : name) s += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    add(std::move(s));
  }
  if (f.chunking) add("CHUNKING");
  if (f.starttls) add("STARTTLS");
  if (f.prdr) add("PRDR");
  if (f.accept_8bitmime && f.smtputf8) add("SMTPUTF8");
  add("HELP");
  return r;
}

Reply banner(std::string_view hostname, std::string_view version, std::string_view tod_full) {
  std::string s(hostname);
  s += " ESMTP Exim ";
  s += version;
  s += ' ';
  s += tod_full;
  return Reply::make(220, std::move(s));
}

Reply help_reply(bool starttls, bool etrn, bool expn, bool vrfy) {
  std::string s = " AUTH";  // Exim lists AUTH whether or not it is advertised
  if (starttls) s += " STARTTLS";
  s += " HELO EHLO MAIL RCPT DATA BDAT NOOP QUIT RSET HELP";
  if (etrn) s += " ETRN";
  if (expn) s += " EXPN";
  if (vrfy) s += " VRFY";
  Reply r = Reply::make(214, "Commands supported:");
  r.lines.push_back(s.substr(1));
  return r;
}

namespace replies {
Reply ok() { return Reply::make(250, "OK"); }
Reply accepted() { return Reply::make(250, "Accepted"); }
Reply reset_ok() { return Reply::make(250, "Reset OK"); }
Reply closing(std::string_view hostname) {
  return Reply::make(221, std::string(hostname) + " closing connection");
}
Reply start_data() {
  return Reply::make(354, "Enter message, ending with \".\" on a line by itself");
}
Reply chunk_received(unsigned long long bytes) {
  return Reply::make(250, std::to_string(bytes) + " byte chunk received");
}
Reply sync_error() { return Reply::make(554, "SMTP synchronization error"); }
Reply unrecognized() { return Reply::make(500, "unrecognized command"); }
Reply too_many_unrecognized() { return Reply::make(500, "Too many unrecognized commands"); }
Reply nul_in_command() {
  return Reply::make(501, "NUL characters are not allowed in SMTP commands");
}
Reply unexpected_argument() { return Reply::make(501, "unexpected argument data"); }
Reply too_many_nonmail() { return Reply::make(554, "Too many nonmail commands"); }
Reply size_exceeded() { return Reply::make(552, "Message size exceeds maximum permitted"); }
Reply ready_for_tls() { return Reply::make(220, "TLS go ahead"); }
Reply auth_not_advertised() { return Reply::make(503, "AUTH command used when not advertised"); }
Reply lost_connection(std::string_view hostname) {
  return Reply::make(421, std::string(hostname) + " lost input connection");
}
}  // namespace replies

}  // namespace tern::smtp
