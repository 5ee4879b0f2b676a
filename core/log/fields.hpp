// core/log/fields.hpp: the pieces Exim's log lines share: who the client is, TLS, AUTH, the
// SMTP command history.
//
// The client as Exim names it ($sender_fullhost), from what the session knows:
//
//   no HELO yet, no verified name     [192.0.2.1]
//   HELO only                         (helo.example) [192.0.2.1]
//   verified name, HELO the same      mx.example [192.0.2.1]       (compared ignoring case)
//   verified name, another HELO       mx.example (helo.example) [192.0.2.1]
//   +incoming_port                    ... [192.0.2.1]:51234
//
// host_and_ident() adds " I=[local]:port" (+incoming_interface) and " U=ident" as Exim's
// host_and_ident() does; for input that is not TCP/IP (no address) it is "U=login".
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/log/selector.hpp"

namespace tern::log {

struct Peer {
  std::string address;        // the client's IP ($sender_host_address); empty: local input
  int port = 0;               // its port
  std::string name;           // verified host name ($sender_host_name); empty: none
  std::string helo;           // the HELO/EHLO argument accepted; empty: none
  std::string ident;          // RFC 1413 identity, or for local input the caller's login
  std::string local_address;  // the interface the connection came in on ($received_ip_address)
  int local_port = 0;
  bool dnssec = false;  // the host name was verified with DNSSEC (" DS" with +dnssec)
};

// $sender_fullhost ("(helo) [ip]:port"); empty for local input.
std::string sender_fullhost(const Peer& peer, const Selectors& selectors);
// $sender_rcvhost, as used in Received: ("[ip] (port=N helo=h ident=u)", "name (ip helo=h)").
std::string sender_rcvhost(const Peer& peer, const Selectors& selectors);
// Exim's host_and_ident(): "H=fullhost[ I=[ip]:port][ U=ident]" (with_flag) or the same
// without "H="; for local input "U=login" / "login" ("unknown" without a login).
std::string host_and_ident(const Peer& peer, const Selectors& selectors, bool with_flag);
// Exim's smtp_get_connection_info(): "SMTP connection from (helo) [ip] I=[ip]:port", or
// "SMTP connection from login" for local input.
std::string connection_info(const Peer& peer, const Selectors& selectors);

struct TlsInfo {
  std::string
      cipher;  // empty: no TLS ("TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256")
  bool resumed = false;
  bool certificate_verified = false;
  bool dane = false;    // outgoing only: verified by DANE (CV=dane)
  std::string peer_dn;  // the peer certificate's DN; empty: none
  std::string sni;      // incoming only: the SNI the client sent
};
// " X=cipher[*] CV=yes|no DN=\"...\" SNI=name", each as its selector says (incoming side:
// tls_cipher, tls_resumption, tls_certificate_verified, tls_peerdn, tls_sni).
std::string tls_fields(const TlsInfo& tls, const Selectors& selectors);

struct AuthInfo {
  std::string authenticator;  // the public name's driver instance ("plain"); empty: none
  std::string id;             // server_set_id ($authenticated_id)
  std::string sender;         // AUTH= of MAIL ($authenticated_sender), with +smtp_mailauth
};
// " A=plain:id[:sender]" or "".
std::string auth_field(const AuthInfo& auth, const Selectors& selectors);

// The last 20 SMTP commands of a connection for the " C=" field (Exim's
// smtp_connection_had[], SMTP_HBUFF_SIZE 20): names as Exim's ("EHLO", "MAIL", "RCPT",
// "DATA", "BDAT", "QUIT", "RSET", "NOOP", "HELP", "VRFY", "EXPN", "ETRN", "AUTH", "STARTTLS",
// "HELO"). Unrecognised and refused-syntax commands are not recorded, as in Exim.
class CommandHistory {
 public:
  static constexpr size_t kSize = 20;
  void record(std::string_view command);
  // " C=EHLO,MAIL"; " C=...HELP,NOOP" once kSize were recorded (Exim marks the list as
  // cut as soon as its last slot is used); "" when empty.
  std::string field() const;

 private:
  std::array<std::string_view, kSize> ring_{};
  size_t next_ = 0;
  size_t count_ = 0;
};

// Exim's string_printing2(s, SP_TAB|SP_SPACE): as string_printing but tab and space are
// escaped too (used for SNI=).
std::string printing_no_space(std::string_view s);

}  // namespace tern::log
