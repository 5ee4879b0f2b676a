// core/log/smtp_lines_test.cpp: reception-side log lines against the reference Exim 4.96.
//
// Every expected string below was written by Exim 4.96 (Debian's exim4-daemon-heavy, run by
// scripts/exim-ref.sh) for the SMTP session the test's name describes; the captures are in
// testdata/exim_capture/out/, next to the configuration and scripts that drove the sessions
// (the timestamps are cut off here: the Logger adds them). Facts such as ports and durations
// are the ones that run had. Selector sets of the runs:
//   kDefault  log_selector = +smtp_connection        (default.txt)
//   kAll      log_selector = +all                    (all.txt)
//   kPlain    log_selector =                         (plain.txt, sync-300.txt)
//   kAllNoPid log_selector = +all -pid -millisec     (all-nopid.txt)
// and -bs runs (bs-history.txt, bs-errors.txt) for local input.
#include "core/log/smtp_lines.hpp"

#include <gtest/gtest.h>

#include "core/log/exim_quotes.hpp"

namespace tern::log {
namespace {

using testing::exim;
using testing::rendered;
const auto sel = testing::selectors;

const Selectors kDefault = sel("+smtp_connection");
const Selectors kAll = sel("+all");
const Selectors kPlain = sel("");
const Selectors kAllNoPid = sel("+all -pid -millisec");

Peer client(int port = 0, const char* helo = "client.example", const char* ip = "127.0.0.3") {
  Peer p;
  p.address = ip;
  p.port = port;
  p.helo = helo;
  p.local_address = "127.0.0.1";
  p.local_port = 33853;
  return p;
}

Peer local_root() {
  Peer p;
  p.ident = "root";
  return p;
}

const char* const kGnuTlsCipher = "TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256";

Reception basic_reception(const char* id, const Peer& peer, int64_t size) {
  Reception m;
  m.message_id = id;
  m.sender = "alice@sender.example";
  m.peer = peer;
  m.protocol = "esmtp";
  m.pipelining_advertised = true;
  m.size = size;
  m.header_message_id = "m1@sender.example";
  m.subject = "Hello world";
  m.recipients = {"bob@local.example"};
  return m;
}

// ---- host naming ------------------------------------------------------------------------

TEST(Fields, FullhostForms) {
  Peer p = client();
  EXPECT_EQ(sender_fullhost(p, kPlain), "(client.example) [127.0.0.3]");
  p.helo.clear();
  EXPECT_EQ(sender_fullhost(p, kPlain), "[127.0.0.3]");
  p = client(41881, "localhost", "127.0.0.1");
  p.name = "localhost";
  EXPECT_EQ(sender_fullhost(p, kPlain), "localhost [127.0.0.1]");
  EXPECT_EQ(sender_fullhost(p, kAll), "localhost [127.0.0.1]:41881");
  p.helo = "LOCALHOST";  // compared ignoring case
  EXPECT_EQ(sender_fullhost(p, kPlain), "localhost [127.0.0.1]");
  p.helo = "other.example";
  EXPECT_EQ(sender_fullhost(p, kPlain), "localhost (other.example) [127.0.0.1]");
  p.helo = "[127.0.0.1]";  // a literal of the client's own address is not shown after a name
  EXPECT_EQ(sender_fullhost(p, kPlain), "localhost [127.0.0.1]");
  p.helo = "[IPv4:127.0.0.1]";
  EXPECT_EQ(sender_fullhost(p, kPlain), "localhost [127.0.0.1]");
  // ... but is without one (Exim 4.96: "H=([127.0.0.3]) [127.0.0.3]").
  EXPECT_EQ(sender_fullhost(client(0, "[127.0.0.3]"), kPlain), "([127.0.0.3]) [127.0.0.3]");
  Peer v6 = client(0, "[IPv6:2001:db8::1]", "2001:DB8:0:0::1");
  v6.name = "six.example";
  EXPECT_EQ(sender_fullhost(v6, kPlain), "six.example [2001:DB8:0:0::1]");
  EXPECT_EQ(sender_fullhost(local_root(), kPlain), "");
}

TEST(Fields, RcvhostForReceivedHeaders) {
  // Exim 4.96's Received: lines: "from [127.0.0.3] (helo=client.example)" and with
  // +incoming_port "from [127.0.0.3] (port=38153 helo=client.example)".
  EXPECT_EQ(sender_rcvhost(client(38153), kPlain), "[127.0.0.3] (helo=client.example)");
  EXPECT_EQ(sender_rcvhost(client(38153), kAll), "[127.0.0.3] (port=38153 helo=client.example)");
  Peer named = client(0, "other.example", "127.0.0.1");
  named.name = "localhost";
  EXPECT_EQ(sender_rcvhost(named, kPlain), "localhost ([127.0.0.1] helo=other.example)");
  named.helo = "localhost";
  named.ident = "joe";
  EXPECT_EQ(sender_rcvhost(named, kPlain), "localhost ([127.0.0.1] ident=joe)");
}

TEST(Fields, CommandHistory) {
  CommandHistory h;
  EXPECT_EQ(h.field(), "");
  h.record("EHLO");
  h.record("bogus");  // not a command Exim records
  h.record("mail");
  EXPECT_EQ(h.field(), " C=EHLO,MAIL");
  // Exim 4.96 after EHLO, 8 x (NOOP RSET HELP), VRFY EXPN ETRN, BOGUS, QUIT on -bs:
  // "no MAIL in SMTP connection from root D=0s C=...HELP,NOOP,RSET,...,ETRN,QUIT"
  CommandHistory full;
  full.record("EHLO");
  for (int i = 0; i < 8; ++i) {
    full.record("NOOP");
    full.record("RSET");
    full.record("HELP");
  }
  for (const char* c : {"VRFY", "EXPN", "ETRN", "BOGUS", "QUIT"}) full.record(c);
  EXPECT_EQ(full.field(),
            " C=...HELP,NOOP,RSET,HELP,NOOP,RSET,HELP,NOOP,RSET,HELP,NOOP,RSET,HELP,NOOP,RSET,"
            "HELP,VRFY,EXPN,ETRN,QUIT");
  CommandHistory twenty;  // Exim marks the list cut as soon as its last slot is used
  for (int i = 0; i < 20; ++i) twenty.record("NOOP");
  EXPECT_EQ(twenty.field().substr(0, 11), " C=...NOOP,");
}

AclRejection rcpt_rejection(const char* rcpt, const char* message, bool temporary = false) {
  AclRejection r;
  r.peer = client();
  r.where = AclWhere::kRcpt;
  r.argument = std::string("<") + rcpt + ">";
  r.sender = "alice@sender.example";
  r.temporary = temporary;
  r.log_message = message;
  return r;
}

// ---- reception ---------------------------------------------------------------------------

TEST(Reception, DefaultSelectors) {
  Reception m = basic_reception("1xXdOJ-0003ck-33", client(), 327);
  EXPECT_EQ(rendered(reception(m, kDefault)),
            exim("1xXdOJ-0003ck-33 <= alice@sender.example H=(client.example) [127.0.0.3] P=esmtp "
                 "S=327 id=m1@sender.example"));

  Peer verified = client(0, "localhost", "127.0.0.1");
  verified.name = "localhost";
  m = basic_reception("1xXdOM-0003e0-0X", verified, 316);
  m.protocol = "smtp";
  EXPECT_EQ(rendered(reception(m, kDefault)),
            exim("1xXdOM-0003e0-0X <= alice@sender.example H=localhost [127.0.0.1] P=smtp S=316 "
                 "id=m1@sender.example"));
  verified.helo = "other.example";
  m = basic_reception("1xXdOO-0003em-1G", verified, 336);
  EXPECT_EQ(rendered(reception(m, kDefault)),
            exim("1xXdOO-0003em-1G <= alice@sender.example H=localhost (other.example) [127.0.0.1] "
                 "P=esmtp S=336 id=m1@sender.example"));

  m = basic_reception("1xXdOd-0003oe-32", client(), 323);
  m.chunking = true;  // BDAT 123 LAST
  EXPECT_EQ(
      rendered(reception(m, kDefault)),
      exim("1xXdOd-0003oe-32 <= alice@sender.example H=(client.example) [127.0.0.3] P=esmtp K "
           "S=323 id=m1@sender.example"));

  m = basic_reception("1xXdPc-0004Du-0c", client(), 274);  // no Message-ID:, no Subject:
  m.header_message_id.clear();
  m.subject.reset();
  m.body_8bitmime = 7;
  EXPECT_EQ(rendered(reception(m, kDefault)),
            exim("1xXdPc-0004Du-0c <= alice@sender.example H=(client.example) [127.0.0.3] P=esmtp "
                 "S=274"));

  m = basic_reception("1xXdPe-0004F7-1J", client(), 287);
  m.sender.clear();
  EXPECT_EQ(rendered(reception(m, kDefault)),
            exim("1xXdPe-0004F7-1J <= <> H=(client.example) [127.0.0.3] P=esmtp S=287 "
                 "id=m1@sender.example"));

  m = basic_reception("1xXdUp-0006GR-35", client(0, "[127.0.0.3]"), 305);
  EXPECT_EQ(
      rendered(reception(m, kPlain)),
      exim("1xXdUp-0006GR-35 <= alice@sender.example H=([127.0.0.3]) [127.0.0.3] P=esmtp S=305 "
           "id=m1@sender.example"));

  m = basic_reception("1xXdUs-0006GZ-0j", client(), 462);
  m.header_message_id = "\"quoted id\"@sender.example";
  EXPECT_EQ(rendered(reception(m, kPlain)),
            exim("1xXdUs-0006GZ-0j <= alice@sender.example H=(client.example) [127.0.0.3] P=esmtp "
                 "S=462 id=\"quoted id\"@sender.example"));
}

TEST(Reception, TlsAndAuth) {
  Reception m = basic_reception("1xXdOg-0003rT-0t", client(), 379);
  m.protocol = received_protocol(false, true, true, true);
  m.tls.cipher = kGnuTlsCipher;
  m.tls.sni = "ref.example";
  m.auth = {"plain", "u1", ""};
  EXPECT_EQ(m.protocol, "esmtpsa");
  EXPECT_EQ(
      rendered(reception(m, kDefault)),
      exim("1xXdOg-0003rT-0t <= alice@sender.example H=(client.example) [127.0.0.3] P=esmtpsa "
           "X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no A=plain:u1 "
           "S=379 id=m1@sender.example"));

  m = basic_reception("1xXdOi-0003vb-0z", client(), 321);
  m.protocol = received_protocol(false, true, false, true);
  m.auth = {"plain", "u1", ""};
  EXPECT_EQ(rendered(reception(m, kDefault)),
            exim("1xXdOi-0003vb-0z <= alice@sender.example H=(client.example) [127.0.0.3] P=esmtpa "
                 "A=plain:u1 S=321 id=m1@sender.example"));

  m = basic_reception("1xXdOm-0003zv-2d", client(), 373);
  m.protocol = received_protocol(false, true, true, false);
  m.tls.cipher = kGnuTlsCipher;
  EXPECT_EQ(rendered(reception(m, kDefault)),
            exim("1xXdOm-0003zv-2d <= alice@sender.example H=(client.example) [127.0.0.3] P=esmtps "
                 "X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no S=373 "
                 "id=m1@sender.example"));

  // +all: L-, SNI=, M8S=, RT=, T=, from, for.
  m = basic_reception("1xXdQK-0004Rz-0q", client(41307), 390);
  m.protocol = "esmtpsa";
  m.tls.cipher = kGnuTlsCipher;
  m.tls.sni = "ref.example";
  m.auth = {"plain", "u1", ""};
  m.receive_time_us = 2400;
  m.subject = "tls auth";
  EXPECT_EQ(
      rendered(reception(m, kAll)),
      exim("1xXdQK-0004Rz-0q <= alice@sender.example H=(client.example) [127.0.0.3]:41307 "
           "I=[127.0.0.1]:33853 P=esmtpsa L- "
           "X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no SNI=ref.example "
           "A=plain:u1 S=390 M8S=0 RT=0.002s id=m1@sender.example T=\"tls auth\" "
           "from <alice@sender.example> for bob@local.example"));
}

TEST(Reception, AllSelectors) {
  Reception m = basic_reception("1xXdPx-0004Lm-33", client(42021), 338);
  m.receive_time_us = 1200;
  EXPECT_EQ(rendered(reception(m, kAll)),
            exim("1xXdPx-0004Lm-33 <= alice@sender.example H=(client.example) [127.0.0.3]:42021 "
                 "I=[127.0.0.1]:33853 P=esmtp L- S=338 M8S=0 RT=0.001s id=m1@sender.example "
                 "T=\"Hello world\" from <alice@sender.example> for bob@local.example"));

  Peer verified = client(41881, "localhost", "127.0.0.1");
  verified.name = "localhost";
  m = basic_reception("1xXdQ0-0004MF-0W", verified, 322);
  m.protocol = "smtp";
  m.pipelining_advertised = false;  // HELO: nothing advertised, no L
  m.receive_time_us = 1000;
  EXPECT_EQ(rendered(reception(m, kAll)),
            exim("1xXdQ0-0004MF-0W <= alice@sender.example H=localhost [127.0.0.1]:41881 "
                 "I=[127.0.0.1]:33853 P=smtp S=322 M8S=0 RT=0.001s id=m1@sender.example "
                 "T=\"Hello world\" from <alice@sender.example> for bob@local.example"));

  m = basic_reception("1xXdQ9-0004Oh-06", client(60177), 315);
  m.receive_time_us = 1000;
  m.recipients = {"carol@remote.example", "dave@remote.example"};
  EXPECT_EQ(rendered(reception(m, kAll)),
            exim("1xXdQ9-0004Oh-06 <= alice@sender.example H=(client.example) [127.0.0.3]:60177 "
                 "I=[127.0.0.1]:33853 P=esmtp L- S=315 M8S=0 RT=0.001s id=m1@sender.example "
                 "T=\"Hello world\" from <alice@sender.example> for carol@remote.example "
                 "dave@remote.example"));

  m = basic_reception("1xXdQF-0004RH-2M", client(44035), 336);
  m.pipelining_used = true;  // MAIL, RCPT and DATA in one packet
  m.receive_time_us = 1000;
  m.subject = "pipelined";
  EXPECT_EQ(rendered(reception(m, kAll)),
            exim("1xXdQF-0004RH-2M <= alice@sender.example H=(client.example) [127.0.0.3]:44035 "
                 "I=[127.0.0.1]:33853 P=esmtp L S=336 M8S=0 RT=0.001s id=m1@sender.example "
                 "T=\"pipelined\" from <alice@sender.example> for bob@local.example"));

  m = basic_reception("1xXdQH-0004Rq-33", client(55027), 334);
  m.chunking = true;
  m.receive_time_us = 2000;
  m.subject = "chunked";
  EXPECT_EQ(rendered(reception(m, kAll)),
            exim("1xXdQH-0004Rq-33 <= alice@sender.example H=(client.example) [127.0.0.3]:55027 "
                 "I=[127.0.0.1]:33853 P=esmtp L- K S=334 M8S=0 RT=0.002s id=m1@sender.example "
                 "T=\"chunked\" from <alice@sender.example> for bob@local.example"));

  m = basic_reception("1xXdRG-0004nS-1B", client(57163), 285);
  m.header_message_id.clear();
  m.subject.reset();
  m.body_8bitmime = 7;
  m.receive_time_us = 4000;
  EXPECT_EQ(rendered(reception(m, kAll)),
            exim("1xXdRG-0004nS-1B <= alice@sender.example H=(client.example) [127.0.0.3]:57163 "
                 "I=[127.0.0.1]:33853 P=esmtp L- S=285 M8S=7 RT=0.004s from <alice@sender.example> "
                 "for bob@local.example"));

  m = basic_reception("1xXdRI-0004nV-1x", client(41705), 298);
  m.sender.clear();
  m.receive_time_us = 1000;
  EXPECT_EQ(rendered(reception(m, kAll)),
            exim("1xXdRI-0004nV-1x <= <> H=(client.example) [127.0.0.3]:41705 I=[127.0.0.1]:33853 "
                 "P=esmtp L- S=298 M8S=0 RT=0.001s id=m1@sender.example T=\"Hello world\" from <> "
                 "for bob@local.example"));
}

TEST(Reception, SubjectQuotingAndLimit) {
  // Subject: He said "hi" =?utf-8?q?caf=C3=A9?= \ back   (BODY=8BITMIME); $h_subject:
  // decodes the encoded word to UTF-8, Exim escapes the quotes, the backslash and the
  // top-bit bytes.
  Reception m = basic_reception("1xXdRE-0004n9-0O", client(41227), 368);
  m.body_8bitmime = 8;
  m.receive_time_us = 2000;
  m.subject = "He said \"hi\" caf\xC3\xA9 \\ back";
  EXPECT_EQ(rendered(reception(m, kAll)),
            exim("1xXdRE-0004n9-0O <= alice@sender.example H=(client.example) [127.0.0.3]:41227 "
                 "I=[127.0.0.1]:33853 P=esmtp L- S=368 M8S=8 RT=0.002s id=m1@sender.example "
                 "T=\"He said \\\"hi\\\" caf\\303\\251 \\\\ back\" from <alice@sender.example> for "
                 "bob@local.example"));

  // A folded subject: $h_subject: keeps the "\n\t"; Exim logs the first 100 characters,
  // the newline escaped and the tab as it is.
  Peer p = client(41829);
  p.local_port = 41067;
  m = basic_reception("1xXdVK-0006Kd-0B", p, 473);
  m.header_message_id = "\"quoted id\"@sender.example";
  m.subject = "A folded\n\tsubject line that is rather long " + std::string(90, 'x') + " end";
  EXPECT_EQ(rendered(reception(m, kAllNoPid)),
            exim("1xXdVK-0006Kd-0B <= alice@sender.example H=(client.example) [127.0.0.3]:41829 "
                 "I=[127.0.0.1]:41067 P=esmtp L- S=473 M8S=0 RT=0s id=\"quoted id\"@sender.example "
                 "T=\"A folded\\n\tsubject line that is rather long " +
                 std::string(57, 'x') + "\" from <alice@sender.example> for bob@local.example"));
}

TEST(Reception, LocalInput) {
  // exim -odi -f local@sender.example bob@local.example < message
  Reception m;
  m.message_id = "1xXdPn-0004Gu-1I";
  m.sender = "local@sender.example";
  m.peer = local_root();
  m.protocol = "local";
  m.size = 329;
  m.header_message_id = "m1@sender.example";
  m.subject = "local";
  m.recipients = {"bob@local.example"};
  EXPECT_EQ(
      rendered(reception(m, kDefault)),
      exim("1xXdPn-0004Gu-1I <= local@sender.example U=root P=local S=329 id=m1@sender.example"));
  m.message_id = "1xXdRR-0004t5-2T";
  m.receive_time_us = 6000;
  EXPECT_EQ(
      rendered(reception(m, kAll)),
      exim("1xXdRR-0004t5-2T <= local@sender.example U=root P=local S=329 M8S=0 RT=0.006s "
           "id=m1@sender.example T=\"local\" from <local@sender.example> for bob@local.example"));

  // exim -bs: SMTP on stdin.
  m.message_id = "1xXdPp-0004IC-1c";
  m.sender = "ls@sender.example";
  m.protocol = received_protocol(true, true, false, false);
  m.size = 340;
  EXPECT_EQ(rendered(reception(m, kDefault)),
            exim("1xXdPp-0004IC-1c <= ls@sender.example U=root P=local-esmtp S=340 "
                 "id=m1@sender.example"));
  EXPECT_EQ(rendered(smtp_connection(local_root(), 0, kDefault)),
            exim("SMTP connection from root"));
  EXPECT_EQ(rendered(connection_closed(local_root(), "QUIT", kDefault)),
            exim("SMTP connection from root closed by QUIT"));
  EXPECT_EQ(received_protocol(true, false, false, false), "local-smtp");

  // A bounce Exim generated (R= is the message it is about); the Message-ID: it added shows
  // only with +msg_id_created, as id*=.
  Reception b;
  b.message_id = "1xXdOX-0003hS-1B";
  b.reference = "1xXdOX-0003hO-0r";
  b.peer.ident = "Debian-exim";
  b.protocol = "local";
  b.size = 1732;
  b.header_message_id = "E1xXdOX-0003hS-1B@ref.example";
  b.message_id_created = true;
  b.subject = "Mail delivery failed: returning message to sender";
  b.recipients = {"alice@sender.example"};
  EXPECT_EQ(rendered(reception(b, kDefault)),
            exim("1xXdOX-0003hS-1B <= <> R=1xXdOX-0003hO-0r U=Debian-exim P=local S=1732"));
  b.message_id = "1xXdQB-0004Pt-17";
  b.reference = "1xXdQB-0004Po-0o";
  b.size = 1872;
  b.header_message_id = "E1xXdQB-0004Pt-17@ref.example";
  b.receive_time_us = 1000;
  EXPECT_EQ(rendered(reception(b, kAll)),
            exim("1xXdQB-0004Pt-17 <= <> R=1xXdQB-0004Po-0o U=Debian-exim P=local S=1872 M8S=0 "
                 "RT=0.001s id*=E1xXdQB-0004Pt-17@ref.example T=\"Mail delivery failed: returning "
                 "message to sender\" from <> for alice@sender.example"));
}

TEST(Reception, CompletedAndFlags) {
  EXPECT_EQ(rendered(completed("1xXdOJ-0003ck-33", 35000, kDefault)),
            exim("1xXdOJ-0003ck-33 Completed"));
  EXPECT_EQ(rendered(completed("1xXdPx-0004Lm-33", 35400, kAll)),
            exim("1xXdPx-0004Lm-33 Completed QT=0.035s"));
  EXPECT_EQ(rendered(completed("1xXdVH-0006Jh-2S", 400000, kAllNoPid)),
            exim("1xXdVH-0006Jh-2S Completed QT=0s"));
  Reception m = basic_reception("1xXdPx-0004Lm-33", client(), 1);
  m.fake_reject = true;
  m.pipelining_advertised = m.early_pipe_advertised = true;
  EXPECT_EQ(reception(m, kAll).text.substr(0, 3), "(= ");
  EXPECT_NE(reception(m, kAll).text.find(" P=esmtp L.- "), std::string::npos);
  m.early_pipe_used = m.pipelining_used = true;
  EXPECT_NE(reception(m, kAll).text.find(" P=esmtp L* "), std::string::npos);
  m.queue_name = "slow";
  m.proxy_local_address = "127.0.0.9";
  m.prdr = true;
  EXPECT_NE(reception(m, kAll).text.find(" PRDR PRX=127.0.0.9 S=1 M8S=0 RT=0.000s Q=slow "),
            std::string::npos);
  EXPECT_EQ(reception(m, kAll).targets, unsigned{kToMain});
  EXPECT_TRUE(reception(m, kAll).gate.empty());
}

// ---- connections ---------------------------------------------------------------------------

TEST(Connection, StartCloseLose) {
  EXPECT_EQ(rendered(smtp_connection(client(), 1, kDefault)),
            exim("SMTP connection from [127.0.0.3] (TCP/IP connection count = 1)"));
  EXPECT_EQ(rendered(smtp_connection(client(42021), 1, kAll)),
            exim("SMTP connection from [127.0.0.3]:42021 I=[127.0.0.1]:33853 "
                 "(TCP/IP connection count = 1)"));
  EXPECT_EQ(smtp_connection(client(), 1, kDefault).gate,
            Selectors::of({Selector::kSmtpConnection}));

  Peer named = client(0, "other.example", "127.0.0.1");
  named.name = "localhost";
  EXPECT_EQ(rendered(connection_closed(named, "QUIT", kDefault)),
            exim("SMTP connection from localhost (other.example) [127.0.0.1] closed by QUIT"));
  EXPECT_EQ(
      rendered(connection_closed(client(42021), "QUIT", kAll)),
      exim("SMTP connection from (client.example) [127.0.0.3]:42021 I=[127.0.0.1]:33853 closed "
           "by QUIT"));
  EXPECT_EQ(rendered(connection_closed(client(), "EOF", kDefault)),
            exim("SMTP connection from (client.example) [127.0.0.3] closed by EOF"));

  EXPECT_EQ(rendered(connection_lost(client(), false, "", 400000, kDefault)),
            exim("SMTP connection from (client.example) [127.0.0.3] lost D=0s"));
  EXPECT_EQ(rendered(connection_lost(client(0, ""), false, "", 0, kDefault)),
            exim("SMTP connection from [127.0.0.3] lost D=0s"));
  EXPECT_EQ(rendered(connection_lost(client(47441), false, "", 3400, kAll)),
            exim("SMTP connection from (client.example) [127.0.0.3]:47441 I=[127.0.0.1]:33853 lost "
                 "D=0.003s"));
  EXPECT_EQ(rendered(connection_lost(client(35347, ""), false, "", 5100, kAll)),
            exim("SMTP connection from [127.0.0.3]:35347 I=[127.0.0.1]:33853 lost D=0.005s"));
  Peer rst = client(55143);
  rst.local_port = 41067;
  EXPECT_EQ(rendered(connection_lost(rst, false, "Connection reset by peer", 1000, kAllNoPid)),
            exim("SMTP connection from (client.example) [127.0.0.3]:55143 I=[127.0.0.1]:41067 lost "
                 "(error: Connection reset by peer) D=0s"));

  Line lost = connection_lost(client(), true, "", 100, kDefault);
  EXPECT_EQ(rendered(lost),
            exim("unexpected disconnection while reading SMTP command from (client.example) "
                 "[127.0.0.3] D=0s"));
  EXPECT_EQ(lost.gate, Selectors::of({Selector::kLostIncomingConnection}));
  EXPECT_EQ(rendered(connection_lost(client(), true, "Connection reset by peer", 0, kPlain)),
            exim("unexpected disconnection while reading SMTP command from (client.example) "
                 "[127.0.0.3] (error: Connection reset by peer) D=0s"));
  EXPECT_EQ(rendered(connection_lost(client(35921), true, "", 8000, kAll)),
            exim("unexpected disconnection while reading SMTP command from (client.example) "
                 "[127.0.0.3]:35921 I=[127.0.0.1]:33853 D=0.008s"));
  // Not from Exim's runs: 65 s is past the 5 s under which +millisec shows milliseconds.
  EXPECT_EQ(rendered(connection_lost(client(), false, "", 65000000, kAll)),
            "SMTP connection from (client.example) [127.0.0.3] I=[127.0.0.1]:33853 lost D=1m5s");

  EXPECT_EQ(
      rendered(lost_in_data(client(), DataPhase::kBody, kDefault)),
      exim("SMTP connection from (client.example) [127.0.0.3] lost while reading message data"));
  EXPECT_EQ(rendered(lost_in_data(client(34909), DataPhase::kBody, kAll)),
            exim("SMTP connection from (client.example) [127.0.0.3]:34909 I=[127.0.0.1]:33853 lost "
                 "while reading message data"));
  // lost-header.txt, extra-plain.txt: EOF right after DATA or in a header line; EOF after
  // "Subject: partial\r\n" (waiting to see whether a continuation follows).
  EXPECT_EQ(rendered(lost_in_data(client(), DataPhase::kHeader, kDefault)),
            exim("SMTP connection from (client.example) [127.0.0.3] lost while reading message "
                 "data (header)"));
  EXPECT_EQ(rendered(lost_in_data(client(), DataPhase::kAfterHeaderLine, kPlain)),
            exim("SMTP connection from (client.example) [127.0.0.3] lost while reading message "
                 "data (after header)"));

  EXPECT_EQ(rendered(command_timeout(client(), false, kDefault)),
            exim("SMTP command timeout on connection from (client.example) [127.0.0.3]"));
  EXPECT_EQ(rendered(command_timeout(client(45079), false, kAll)),
            exim("SMTP command timeout on connection from (client.example) [127.0.0.3]:45079 "
                 "I=[127.0.0.1]:33853"));
  EXPECT_EQ(rendered(command_timeout(client(), true, kPlain)),
            exim("SMTP command timeout on TLS connection from (client.example) [127.0.0.3]"));

  EXPECT_EQ(rendered(data_timeout(client(), "alice@sender.example", "1xXdPA-00047c-2S", kDefault)),
            exim("1xXdPA-00047c-2S SMTP data timeout (message abandoned) on connection from "
                 "(client.example) [127.0.0.3] F=<alice@sender.example>"));
  EXPECT_EQ(rendered(data_timeout(client(33481), "alice@sender.example", "1xXdQo-0004fu-2U", kAll)),
            exim("1xXdQo-0004fu-2U SMTP data timeout (message abandoned) on connection from "
                 "(client.example) [127.0.0.3]:33481 F=<alice@sender.example>"));

  EXPECT_EQ(rendered(tls_error(client(), "gnutls_handshake",
                               "An unexpected TLS packet was received.", kDefault)),
            exim("TLS error on connection from (client.example) [127.0.0.3] (gnutls_handshake): An "
                 "unexpected TLS packet was received."));
  EXPECT_EQ(
      rendered(tls_error(client(59731), "gnutls_handshake",
                         "An unexpected TLS packet was received.", kAll)),
      exim("TLS error on connection from (client.example) [127.0.0.3]:59731 I=[127.0.0.1]:33853 "
           "(gnutls_handshake): An unexpected TLS packet was received."));
  EXPECT_EQ(rendered(host_lookup_failed("127.0.0.5")),
            exim("no host name found for IP address 127.0.0.5"));
}

// ---- protocol problems -------------------------------------------------------------------

TEST(Protocol, SynchronizationErrors) {
  Line g = sync_error_at_greeting(client(0, "", "127.0.0.4"), "EHLO early.example\r\n", kDefault);
  EXPECT_EQ(rendered(g),
            exim("SMTP protocol synchronization error (input sent without waiting for greeting): "
                 "rejected connection from H=[127.0.0.4] input=\"EHLO early.example\\r\\n\""));
  EXPECT_EQ(g.targets, unsigned{kToMain | kToReject});
  Peer p4 = client(47555, "", "127.0.0.4");
  EXPECT_EQ(rendered(sync_error_at_greeting(p4, "EHLO early.example\r\n", kAll)),
            exim("SMTP protocol synchronization error (input sent without waiting for greeting): "
                 "rejected connection from H=[127.0.0.4]:47555 I=[127.0.0.1]:33853 "
                 "input=\"EHLO early.example\\r\\n\""));
  // 300 letters after EHLO: Exim logs the first 128 bytes.
  std::string letters;
  for (int i = 0; i < 300; ++i) letters += static_cast<char>('a' + i % 26);
  std::string logged = "EHLO " + letters.substr(0, 123);
  EXPECT_EQ(rendered(sync_error_at_greeting(client(0, "", "127.0.0.4"), "EHLO " + letters + "\r\n",
                                            kPlain)),
            exim("SMTP protocol synchronization error (input sent without waiting for greeting): "
                 "rejected connection from H=[127.0.0.4] input=\"" +
                 logged + "\""));

  EXPECT_EQ(
      rendered(sync_error_pipelining(client(), false, "MAIL FROM:<alice@sender.example>",
                                     "RCPT TO:<bob@local.example>\r\n", kDefault)),
      exim("SMTP protocol synchronization error (next input sent too soon: pipelining was not "
           "advertised): rejected \"MAIL FROM:<alice@sender.example>\" H=(client.example) "
           "[127.0.0.3] next input=\"RCPT TO:<bob@local.example>\\r\\n\""));
  // The rest of the input: 150 bytes of it.
  std::string rest = "RCPT TO:<" + letters + "@local.example>\r\n";
  EXPECT_EQ(
      rendered(
          sync_error_pipelining(client(), false, "MAIL FROM:<alice@sender.example>", rest, kPlain)),
      exim("SMTP protocol synchronization error (next input sent too soon: pipelining was not "
           "advertised): rejected \"MAIL FROM:<alice@sender.example>\" H=(client.example) "
           "[127.0.0.3] next input=\"RCPT TO:<" +
           letters.substr(0, 141) + "\""));
  EXPECT_NE(sync_error_pipelining(client(), true, "EHLO x", "", kPlain)
                .text.find("(next input sent too soon: pipelining was advertised)"),
            std::string::npos);
}

TEST(Protocol, SyntaxAndProtocolErrors) {
  Peer p = client(57629);
  Line l = syntax_error(p, "FOO bar", "unrecognized command", kAll);
  EXPECT_EQ(rendered(l),
            exim("SMTP syntax error in \"FOO bar\" H=(client.example) [127.0.0.3]:57629 "
                 "I=[127.0.0.1]:33853 unrecognized command"));
  EXPECT_EQ(l.gate, Selectors::of({Selector::kSmtpSyntaxError}));
  EXPECT_EQ(l.targets, unsigned{kToMain});
  EXPECT_EQ(rendered(syntax_error(p, "MAIL FROM:<broken",
                                  "\"@\" or \".\" expected after \"broken\"", kAll)),
            exim("SMTP syntax error in \"MAIL FROM:<broken\" H=(client.example) [127.0.0.3]:57629 "
                 "I=[127.0.0.1]:33853 \"@\" or \".\" expected after \"broken\""));
  EXPECT_EQ(rendered(syntax_error(local_root(), "BOGUS", "unrecognized command", kPlain)),
            exim("SMTP syntax error in \"BOGUS\" U=root unrecognized command"));
  Line pe =
      protocol_error(client(53997), "RCPT TO:<bob@local.example>", "sender not yet given", kAll);
  EXPECT_EQ(rendered(pe),
            exim("SMTP protocol error in \"RCPT TO:<bob@local.example>\" H=(client.example) "
                 "[127.0.0.3]:53997 I=[127.0.0.1]:33853 sender not yet given"));
  EXPECT_EQ(pe.gate, Selectors::of({Selector::kSmtpProtocolError}));

  CommandHistory h;
  h.record("EHLO");
  h.record("MAIL");
  Line t = too_many_errors(client(), "BAZ \"quoted\"", h, kDefault);
  EXPECT_EQ(rendered(t),
            exim("SMTP call from (client.example) [127.0.0.3] dropped: too many syntax or protocol "
                 "errors (last command was \"BAZ \"quoted\"\",  C=EHLO,MAIL)"));
  EXPECT_EQ(t.targets, unsigned{kToMain | kToReject});
  EXPECT_EQ(
      rendered(too_many_errors(p, "BAZ \"quoted\"", h, kAll)),
      exim("SMTP call from (client.example) [127.0.0.3]:57629 I=[127.0.0.1]:33853 dropped: too "
           "many syntax or protocol errors (last command was \"BAZ \"quoted\"\",  C=EHLO,MAIL)"));
  // exim -bs (bs-errors.txt): ONE, TWO, THREE, body after the message.
  Line u = too_many_unrecognized(local_root(), "body", kPlain);
  EXPECT_EQ(
      rendered(u),
      exim("SMTP call from root dropped: too many unrecognized commands (last was \"body\")"));
  EXPECT_EQ(u.targets, unsigned{kToMain | kToReject});

  Line n = too_many_nonmail(client(), "EHLO client.example", kDefault);
  EXPECT_EQ(rendered(n),
            exim("SMTP call from (client.example) [127.0.0.3] dropped: too many nonmail commands "
                 "(last was \"EHLO\")"));
  EXPECT_EQ(n.targets, unsigned{kToMain | kToReject});
}

TEST(Protocol, NoMailAndIncompleteTransactions) {
  CommandHistory h;
  for (const char* c : {"EHLO", "AUTH", "QUIT"}) h.record(c);
  Line nm = no_mail(client(36827), {}, {}, h, 204000, kAll);
  EXPECT_EQ(rendered(nm), exim("no MAIL in SMTP connection from (client.example) [127.0.0.3]:36827 "
                               "I=[127.0.0.1]:33853 D=0.204s C=EHLO,AUTH,QUIT"));
  EXPECT_EQ(nm.gate, Selectors::of({Selector::kSmtpNoMail}));
  EXPECT_EQ(rendered(no_mail(client(35347, ""), {}, {}, CommandHistory(), 5000, kAll)),
            exim("no MAIL in SMTP connection from [127.0.0.3]:35347 I=[127.0.0.1]:33853 D=0.005s"));
  CommandHistory eleven;
  for (int i = 0; i < 11; ++i) eleven.record("EHLO");
  EXPECT_EQ(
      rendered(no_mail(client(47131), {}, {}, eleven, 4000, kAll)),
      exim(
          "no MAIL in SMTP connection from (client.example) [127.0.0.3]:47131 "
          "I=[127.0.0.1]:33853 D=0.004s C=EHLO,EHLO,EHLO,EHLO,EHLO,EHLO,EHLO,EHLO,EHLO,EHLO,EHLO"));
  TlsInfo tls;
  tls.cipher = kGnuTlsCipher;
  tls.sni = "ref.example";
  CommandHistory th;
  for (const char* c : {"EHLO", "STARTTLS", "EHLO", "AUTH", "QUIT"}) th.record(c);
  Peer tp = client(43931);  // extra-all-nopid.txt
  tp.local_port = 53291;
  EXPECT_EQ(rendered(no_mail(tp, tls, {"plain", "u1", ""}, th, 100, kAllNoPid)),
            exim("no MAIL in SMTP connection from (client.example) [127.0.0.3]:43931 "
                 "I=[127.0.0.1]:53291 D=0s A=plain:u1 "
                 "X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no "
                 "SNI=ref.example C=EHLO,STARTTLS,EHLO,AUTH,QUIT"));

  Line it = incomplete_transaction(client(53323), "RSET", "alice@sender.example", {}, kAll);
  EXPECT_EQ(rendered(it),
            exim("H=(client.example) [127.0.0.3]:53323 I=[127.0.0.1]:33853 incomplete transaction "
                 "(RSET) from <alice@sender.example>"));
  EXPECT_EQ(it.gate, Selectors::of({Selector::kSmtpIncompleteTransaction}));
  EXPECT_EQ(rendered(incomplete_transaction(client(46105), "QUIT", "alice@sender.example",
                                            {"bob@local.example", "carol@local.example"}, kAll)),
            exim("H=(client.example) [127.0.0.3]:46105 I=[127.0.0.1]:33853 incomplete transaction "
                 "(QUIT) from <alice@sender.example> for bob@local.example carol@local.example"));
  EXPECT_EQ(rendered(incomplete_transaction(client(35921), "connection lost",
                                            "alice@sender.example", {"bob@local.example"}, kAll)),
            exim("H=(client.example) [127.0.0.3]:35921 I=[127.0.0.1]:33853 incomplete transaction "
                 "(connection lost) from <alice@sender.example> for bob@local.example"));
  Peer p = client(42297);
  p.local_port = 41067;
  EXPECT_EQ(rendered(incomplete_transaction(p, "QUIT", "", {"bob@local.example"}, kAllNoPid)),
            exim("H=(client.example) [127.0.0.3]:42297 I=[127.0.0.1]:41067 incomplete transaction "
                 "(QUIT) from <> for bob@local.example"));
}

TEST(Protocol, AuthEtrnSizeAndSenderVerify) {
  Line a = auth_failed(client(), "plain", "535 Incorrect authentication data", "u1", kDefault);
  EXPECT_EQ(rendered(a),
            exim("plain authenticator failed for (client.example) [127.0.0.3]: 535 Incorrect "
                 "authentication data (set_id=u1)"));
  EXPECT_EQ(a.targets, unsigned{kToMain | kToReject});
  EXPECT_EQ(rendered(auth_failed(client(36827), "plain", "535 Incorrect authentication data", "u1",
                                 kAll)),
            exim("plain authenticator failed for (client.example) [127.0.0.3]:36827 "
                 "I=[127.0.0.1]:33853: 535 Incorrect authentication data (set_id=u1)"));

  Line e = etrn_received(client(), "other.example", kDefault);
  EXPECT_EQ(rendered(e), exim("ETRN other.example received from (client.example) [127.0.0.3]"));
  EXPECT_EQ(e.gate, Selectors::of({Selector::kEtrn}));
  EXPECT_EQ(rendered(etrn_received(local_root(), "c", kPlain)), exim("ETRN c received from root"));

  Line big =
      message_too_big(client(), "alice@sender.example", 28503, 20480, "1xXdPX-0004Be-2R", kDefault);
  EXPECT_EQ(rendered(big),
            exim("1xXdPX-0004Be-2R rejected from <alice@sender.example> H=(client.example) "
                 "[127.0.0.3]: message too big: read=28503 max=20480"));
  EXPECT_EQ(big.targets, unsigned{kToMain | kToReject});
  EXPECT_EQ(big.gate, Selectors::of({Selector::kSizeReject}));
  // Exim uses $sender_fullhost here: the port with +incoming_port, but no I=.
  EXPECT_EQ(rendered(message_too_big(client(35365), "alice@sender.example", 28503, 20480,
                                     "1xXdRB-0004n4-2r", kAll)),
            exim("1xXdRB-0004n4-2r rejected from <alice@sender.example> H=(client.example) "
                 "[127.0.0.3]:35365: message too big: read=28503 max=20480"));

  Line svf = sender_verify_failure(client(), false, "x@unrouteable.example", "Unrouteable address",
                                   kDefault);  // extra-plain.txt
  EXPECT_EQ(rendered(svf), exim("H=(client.example) [127.0.0.3] sender verify fail for "
                                "<x@unrouteable.example>: Unrouteable address"));
  EXPECT_EQ(svf.targets, unsigned{kToMain | kToReject});
  AclRejection after = rcpt_rejection("bob@local.example", "Sender verify failed");
  after.sender = "x@unrouteable.example";
  after.peer.port = 38165;
  after.peer.local_port = 53291;
  EXPECT_EQ(rendered(acl_rejection(after, kAllNoPid)),
            exim("H=(client.example) [127.0.0.3]:38165 I=[127.0.0.1]:53291 "
                 "F=<x@unrouteable.example> rejected RCPT <bob@local.example>: Sender verify "
                 "failed"));
  EXPECT_TRUE(sender_verify_failure(client(), true, "x@y", "", kDefault).gate.empty());
}

// ---- ACL rejections ----------------------------------------------------------------------

TEST(Acl, Rejections) {
  Line l = acl_rejection(rcpt_rejection("nobody@local.example", "no such user"), kDefault);
  EXPECT_EQ(rendered(l),
            exim("H=(client.example) [127.0.0.3] F=<alice@sender.example> rejected RCPT "
                 "<nobody@local.example>: no such user"));
  EXPECT_EQ(l.targets, unsigned{kToMain | kToReject});
  EXPECT_TRUE(l.gate.empty());
  EXPECT_EQ(
      rendered(acl_rejection(rcpt_rejection("x@other.example", "relay not permitted"), kDefault)),
      exim("H=(client.example) [127.0.0.3] F=<alice@sender.example> rejected RCPT "
           "<x@other.example>: relay not permitted"));
  EXPECT_EQ(
      rendered(acl_rejection(rcpt_rejection("later@local.example", "try later", true), kDefault)),
      exim("H=(client.example) [127.0.0.3] F=<alice@sender.example> temporarily rejected RCPT "
           "<later@local.example>: try later"));
  AclRejection ported = rcpt_rejection("nobody@local.example", "no such user");
  ported.peer.port = 53323;
  EXPECT_EQ(
      rendered(acl_rejection(ported, kAll)),
      exim("H=(client.example) [127.0.0.3]:53323 I=[127.0.0.1]:33853 F=<alice@sender.example> "
           "rejected RCPT <nobody@local.example>: no such user"));

  AclRejection mail;
  mail.peer = client();
  mail.where = AclWhere::kMail;
  mail.argument = "<bad@sender.example>";
  mail.sender = "bad@sender.example";
  mail.log_message = "sender refused";
  EXPECT_EQ(
      rendered(acl_rejection(mail, kDefault)),
      exim("H=(client.example) [127.0.0.3] rejected MAIL <bad@sender.example>: sender refused"));

  AclRejection data = rcpt_rejection("", "content refused\nsecond line not logged");
  data.where = AclWhere::kData;
  data.message_id = "1xXdOt-00040v-0r";
  EXPECT_EQ(
      rendered(acl_rejection(data, kDefault)),
      exim("1xXdOt-00040v-0r H=(client.example) [127.0.0.3] F=<alice@sender.example> rejected "
           "after DATA: content refused"));

  AclRejection conn;
  conn.peer = client(0, "", "127.0.0.2");
  conn.where = AclWhere::kConnect;
  conn.log_message = "go away";
  Line c = acl_rejection(conn, kDefault);
  EXPECT_EQ(rendered(c), exim("H=[127.0.0.2] rejected connection in \"connect\" ACL: go away"));
  EXPECT_EQ(c.gate, Selectors::of({Selector::kConnectionReject}));
  conn.peer.port = 33813;
  EXPECT_EQ(
      rendered(acl_rejection(conn, kAll)),
      exim("H=[127.0.0.2]:33813 I=[127.0.0.1]:33853 rejected connection in \"connect\" ACL: go "
           "away"));

  AclRejection etrn;
  etrn.peer = client();
  etrn.where = AclWhere::kEtrn;
  etrn.argument = "other.example";
  EXPECT_EQ(rendered(acl_rejection(etrn, kDefault)),
            exim("H=(client.example) [127.0.0.3] rejected ETRN other.example"));
  AclRejection vrfy;
  vrfy.peer = local_root();
  vrfy.where = AclWhere::kVrfy;
  vrfy.argument = "a";
  EXPECT_EQ(rendered(acl_rejection(vrfy, kPlain)), exim("U=root rejected VRFY a"));
  AclRejection local_rcpt = rcpt_rejection("nobody@local.example", "no such user");
  local_rcpt.peer = local_root();
  local_rcpt.sender = "bad@x";
  EXPECT_EQ(rendered(acl_rejection(local_rcpt, kPlain)),
            exim(  // bs-errors.txt
                "U=root F=<bad@x> rejected RCPT <nobody@local.example>: no such user"));
  // Not from Exim's runs: an ACL without a message has nothing after the what (as the
  // VRFY line above).
  AclRejection no_message = local_rcpt;
  no_message.log_message.clear();
  EXPECT_EQ(rendered(acl_rejection(no_message, kPlain)),
            "U=root F=<bad@x> rejected RCPT <nobody@local.example>");
}

TEST(Acl, RejectionsOverTlsWithAuth) {
  AclRejection r = rcpt_rejection("nobody@local.example", "no such user");
  r.tls.cipher = kGnuTlsCipher;
  r.tls.sni = "ref.example";
  r.auth = {"plain", "u1", "ignored@sender.example"};
  EXPECT_EQ(
      rendered(acl_rejection(r, kPlain)),
      exim("H=(client.example) [127.0.0.3] "
           "X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no "
           "F=<alice@sender.example> A=plain:u1 rejected RCPT <nobody@local.example>: no such "
           "user"));
  r.peer.port = 40877;
  r.peer.local_port = 41067;
  EXPECT_EQ(
      rendered(acl_rejection(r, kAllNoPid)),
      exim("H=(client.example) [127.0.0.3]:40877 I=[127.0.0.1]:41067 "
           "X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no SNI=ref.example "
           "F=<alice@sender.example> A=plain:u1 rejected RCPT <nobody@local.example>: no such "
           "user"));
  r.where = AclWhere::kData;
  r.message_id = "1xXdUY-0006EH-1p";
  r.peer.port = 0;
  r.log_message = "content refused";
  EXPECT_EQ(rendered(acl_rejection(r, kPlain)),
            exim("1xXdUY-0006EH-1p H=(client.example) [127.0.0.3] "
                 "X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no "
                 "F=<alice@sender.example> A=plain:u1 rejected after DATA: content refused"));
}

}  // namespace
}  // namespace tern::log
