// core/log/fields.cpp: host naming (host.c host_build_sender_fullhost, host_and_ident,
// smtp_in.c smtp_get_connection_info), TLS/AUTH fields and the command history.
#include "core/log/fields.hpp"

#include <strings.h>

#include <cctype>
#include <cstdio>

#include "core/text/ipaddr.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::log {
namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// "[ip]" or "[ip]:port" (with +incoming_port and a port).
std::string bracketed_address(const Peer& p, const Selectors& sel) {
  std::string a = "[" + p.address + "]";
  if (sel.on(Selector::kIncomingPort) && p.port > 0) a += ":" + std::to_string(p.port);
  return a;
}

// Exim shows the HELO argument unless it is an address literal equal to the client's
// address ("[IPv6:...]" and "[IPv4:...]" forms included, compared canonically).
bool show_helo(const Peer& p) {
  const std::string& h = p.helo;
  if (h.empty()) return false;
  if (h.size() < 2 || h.front() != '[' || h.back() != ']') return true;
  size_t offset = 1;
  if (h.size() > 6 && strncasecmp(h.c_str() + 1, "IPv6:", 5) == 0) offset += 5;
  if (h.size() > 6 && strncasecmp(h.c_str() + 1, "IPv4:", 5) == 0) offset += 5;
  std::string ip = h.substr(offset, h.size() - offset - 1);
  if (text::ip_version(ip) == 0) return true;
  std::string x = text::format_full(text::host_aton(ip), -1, ':');
  std::string y = text::format_full(text::host_aton(p.address), -1, ':');
  return !equal_ignoring_case(x, y);
}

}  // namespace

std::string sender_fullhost(const Peer& p, const Selectors& sel) {
  if (p.address.empty()) return {};
  std::string address = bracketed_address(p, sel);
  if (p.name.empty()) return p.helo.empty() ? address : "(" + p.helo + ") " + address;
  if (show_helo(p) && !equal_ignoring_case(p.name, p.helo))
    return p.name + " (" + p.helo + ") " + address;
  return p.name + " " + address;
}

std::string sender_rcvhost(const Peer& p, const Selectors& sel) {
  if (p.address.empty()) return {};
  std::string address = bracketed_address(p, sel);
  bool helo = show_helo(p);
  if (p.name.empty()) {
    std::string g = "[" + p.address + "]";
    bool with_port = sel.on(Selector::kIncomingPort) && p.port > 0;
    if (!p.ident.empty() || helo || with_port) {
      std::string inner;
      if (with_port) inner = "port=" + std::to_string(p.port);
      if (helo) inner += (inner.empty() ? "helo=" : " helo=") + p.helo;
      if (!p.ident.empty()) inner += (inner.empty() ? "ident=" : " ident=") + p.ident;
      g += " (" + inner + ")";
    }
    return g;
  }
  if (helo && equal_ignoring_case(p.name, p.helo)) helo = false;
  if (helo)
    return p.ident.empty()
               ? p.name + " (" + address + " helo=" + p.helo + ")"
               : p.name + "\n\t(" + address + " helo=" + p.helo + " ident=" + p.ident + ")";
  return p.ident.empty() ? p.name + " (" + address + ")"
                         : p.name + " (" + address + " ident=" + p.ident + ")";
}

std::string host_and_ident(const Peer& p, const Selectors& sel, bool with_flag) {
  if (p.address.empty())
    return std::string(with_flag ? "U=" : "") + (p.ident.empty() ? "unknown" : p.ident);
  std::string s = with_flag ? "H=" : "";
  s += sender_fullhost(p, sel);
  if (sel.on(Selector::kIncomingInterface) && !p.local_address.empty())
    s += " I=[" + p.local_address + "]:" + std::to_string(p.local_port);
  if (!p.ident.empty()) s += " U=" + p.ident;
  return s;
}

std::string connection_info(const Peer& p, const Selectors& sel) {
  if (p.address.empty()) return "SMTP connection from " + p.ident;
  std::string s = "SMTP connection from " + sender_fullhost(p, sel);
  if (sel.on(Selector::kIncomingInterface) && !p.local_address.empty())
    s += " I=[" + p.local_address + "]:" + std::to_string(p.local_port);
  return s;
}

std::string printing_no_space(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == ' ') {
      out += "\\040";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += text::string_printing(std::string_view(reinterpret_cast<const char*>(&c), 1));
    }
  }
  return out;
}

std::string tls_fields(const TlsInfo& t, const Selectors& sel) {
  std::string s;
  if (t.cipher.empty()) return s;
  if (sel.on(Selector::kTlsCipher)) {
    s += " X=" + t.cipher;
    if (sel.on(Selector::kTlsResumption) && t.resumed) s += "*";
  }
  if (sel.on(Selector::kTlsCertificateVerified))
    s += std::string(" CV=") + (t.certificate_verified ? (t.dane ? "dane" : "yes") : "no");
  if (sel.on(Selector::kTlsPeerdn) && !t.peer_dn.empty())
    s += " DN=\"" + text::string_printing(t.peer_dn) + "\"";
  if (sel.on(Selector::kTlsSni) && !t.sni.empty()) s += " SNI=" + printing_no_space(t.sni);
  return s;
}

std::string auth_field(const AuthInfo& a, const Selectors& sel) {
  if (a.authenticator.empty()) return {};
  std::string s = " A=" + a.authenticator;
  if (!a.id.empty()) {
    s += ":" + a.id;
    if (sel.on(Selector::kSmtpMailauth) && !a.sender.empty()) s += ":" + a.sender;
  }
  return s;
}

void CommandHistory::record(std::string_view command) {
  static constexpr std::string_view kNames[] = {"AUTH", "DATA", "BDAT", "EHLO",     "ETRN",
                                                "EXPN", "HELO", "HELP", "MAIL",     "NOOP",
                                                "QUIT", "RCPT", "RSET", "STARTTLS", "VRFY"};
  for (std::string_view n : kNames) {
    if (equal_ignoring_case(n, command)) {
      ring_[next_] = n;  // static storage: the caller's string need not live on
      next_ = (next_ + 1) % kSize;
      ++count_;
      return;
    }
  }
}

std::string CommandHistory::field() const {
  if (count_ == 0) return {};
  // Exim marks the list "..." as soon as the last slot has been used: at 20 commands.
  bool full = count_ >= kSize;
  std::string s = full ? " C=..." : " C=";
  size_t n = full ? kSize : count_;
  size_t start = full ? next_ : 0;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) s += ",";
    s += ring_[(start + i) % kSize];
  }
  return s;
}

}  // namespace tern::log
