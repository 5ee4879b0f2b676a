// core/log/delivery_lines_test.cpp: delivery lines against the reference Exim 4.96.
//
// Every expected string was written by Exim 4.96 delivering to a local file, through its
// smtp transport to a small SMTP sink (STARTTLS; 550/451 for chosen local parts), to a
// closed port, and through a redirect router to an address, a pipe and a file
// (testdata/exim_capture/out/: default.txt, all.txt, redirect-*.txt).
#include "core/log/delivery_lines.hpp"

#include <gtest/gtest.h>

#include "core/log/exim_quotes.hpp"

namespace tern::log {
namespace {

using testing::exim;
using testing::rendered;
const auto sel = testing::selectors;

const Selectors kDefault = sel("");
const Selectors kAll = sel("+all");
const Selectors kAllNoPid = sel("+all -pid -millisec");
const Selectors kAllParents = sel("+all_parents");

const char* const kSinkCipher = "TLS1.3:ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM:256";

Delivery local_delivery(const char* id, const char* local_part, const char* original) {
  Delivery d;
  d.message_id = id;
  d.address.address = std::string(local_part) + "@local.example";
  d.address.local_part = local_part;
  d.address.original = original;
  d.address.log_as_local = true;
  d.sender = "alice@sender.example";
  d.return_path = "alice@sender.example";
  d.router = "local";
  d.transport = "local_file";
  d.local_transport = true;
  return d;
}

Delivery remote_delivery(const char* id, const char* rcpt) {
  Delivery d;
  d.message_id = id;
  d.address.address = rcpt;
  d.sender = "alice@sender.example";
  d.return_path = "alice@sender.example";
  d.router = "remote";
  d.transport = "remote_smtp";
  d.host = DeliveryHost{"127.0.0.1", "127.0.0.1", 37549, false, false};
  d.sending_address = "127.0.0.1";
  d.sending_port = 60728;
  d.tls.cipher = kSinkCipher;
  d.tls.peer_dn = "CN=ref.example";
  d.pipelining = true;
  return d;
}

TEST(Delivery, Local) {
  Delivery d = local_delivery("1xXdOJ-0003ck-33", "bob", "bob@local.example");
  EXPECT_EQ(rendered(delivered(d, kDefault)),
            exim("1xXdOJ-0003ck-33 => bob <bob@local.example> R=local T=local_file"));
  d.message_id = "1xXdPx-0004Lm-33";
  d.size = 504;
  d.queue_time_us = 33000;
  d.delivery_time_us = 7000;
  EXPECT_EQ(rendered(delivered(d, kAll)),
            exim("1xXdPx-0004Lm-33 => bob <bob@local.example> F=<alice@sender.example> "
                 "P=<alice@sender.example> R=local T=local_file S=504 QT=0.033s DT=0.007s"));
  d.message_id = "1xXdRI-0004nV-1x";
  d.sender = "";
  d.return_path = "";
  d.size = 437;
  d.queue_time_us = 157000;
  d.delivery_time_us = 27000;
  EXPECT_EQ(rendered(delivered(d, kAll)),
            exim("1xXdRI-0004nV-1x => bob <bob@local.example> F=<> P=<> R=local T=local_file S=437 "
                 "QT=0.157s DT=0.027s"));
  EXPECT_EQ(delivered(d, kAll).targets, unsigned{kToMain});
}

TEST(Delivery, RemoteOverTls) {
  Delivery d = remote_delivery("1xXdOV-0003gL-0A", "carol@remote.example");
  d.confirmation = "250 OK id=sink-1";
  EXPECT_EQ(rendered(delivered(d, kDefault)),
            exim("1xXdOV-0003gL-0A => carol@remote.example R=remote T=remote_smtp H=127.0.0.1 "
                 "[127.0.0.1] X=TLS1.3:ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no "
                 "C=\"250 OK id=sink-1\""));
  Delivery second = remote_delivery("1xXdOV-0003gL-0A", "dave@remote.example");
  second.mark = DeliveryMark::kAdditional;
  second.confirmation = "250 OK id=sink-1";
  EXPECT_EQ(rendered(delivered(second, kDefault)),
            exim("1xXdOV-0003gL-0A -> dave@remote.example R=remote T=remote_smtp H=127.0.0.1 "
                 "[127.0.0.1] X=TLS1.3:ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no "
                 "C=\"250 OK id=sink-1\""));

  d.message_id = "1xXdQ9-0004Oh-06";
  d.size = 329;
  d.queue_time_us = 49000;
  d.delivery_time_us = 11000;
  EXPECT_EQ(rendered(delivered(d, kAll)),
            exim("1xXdQ9-0004Oh-06 => carol@remote.example F=<alice@sender.example> "
                 "P=<alice@sender.example> R=remote T=remote_smtp S=329 H=127.0.0.1 "
                 "[127.0.0.1]:37549 I=[127.0.0.1]:60728 "
                 "X=TLS1.3:ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no "
                 "DN=\"CN=ref.example\" L C=\"250 OK id=sink-1\" QT=0.049s DT=0.011s"));

  // Not from Exim's runs (deliver.c's rules): quotes and backslashes in the reply are escaped; a
  // later message on the same connection marks the address with "*"; A=, K, PRDR and CV=yes/dane.
  Delivery q = remote_delivery("id", "x@remote.example");
  q.confirmation = "250 \"ok\" \\o/";
  q.host->continued = true;
  q.tls.certificate_verified = true;
  q.tls.dane = true;
  q.auth = {"login", "user", ""};
  q.chunking = q.prdr = true;
  EXPECT_EQ(rendered(delivered(q, kDefault)),
            "id => x@remote.example R=remote T=remote_smtp H=127.0.0.1 [127.0.0.1]* "
            "X=TLS1.3:ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=dane A=login:user "
            "PRDR K C=\"250 \\\"ok\\\" \\\\o/\"");
  q.tls.cipher.clear();
  q.confirmation.clear();
  EXPECT_EQ(rendered(delivered(q, sel("-smtp_confirmation"))),
            "id => x@remote.example R=remote T=remote_smtp H=127.0.0.1 [127.0.0.1]* "
            "A=login:user PRDR K");
}

TEST(Delivery, FailuresAndDeferrals) {
  Delivery r = remote_delivery("1xXdOX-0003hO-0r", "rej550@remote.example");
  r.error_message =
      "SMTP error from remote mail server after RCPT TO:<rej550@remote.example>: 550 5.1.1 no "
      "such user here";
  EXPECT_EQ(
      rendered(failed(r, kDefault)),
      exim("1xXdOX-0003hO-0r ** rej550@remote.example R=remote T=remote_smtp H=127.0.0.1 "
           "[127.0.0.1] X=TLS1.3:ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no: "
           "SMTP error from remote mail server after RCPT TO:<rej550@remote.example>: 550 5.1.1 "
           "no such user here"));
  r.message_id = "1xXdQB-0004Po-0o";
  r.sending_port = 60732;
  EXPECT_EQ(
      rendered(failed(r, kAll)),
      exim("1xXdQB-0004Po-0o ** rej550@remote.example F=<alice@sender.example> "
           "P=<alice@sender.example> R=remote T=remote_smtp H=127.0.0.1 [127.0.0.1]:37549 "
           "I=[127.0.0.1]:60732 X=TLS1.3:ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 "
           "CV=no DN=\"CN=ref.example\": SMTP error from remote mail server after RCPT "
           "TO:<rej550@remote.example>: 550 5.1.1 no such user here DT=0.000s"));

  Delivery t = remote_delivery("1xXdOX-0003hO-0r", "tmp451@remote.example");
  t.basic_errno = -44;  // Exim's ERRNO_RCPT4XX
  t.error_message =
      "SMTP error from remote mail server after RCPT TO:<tmp451@remote.example>: 451 4.3.0 try "
      "again later";
  EXPECT_EQ(rendered(deferred(t, kDefault)),
            exim("1xXdOX-0003hO-0r == tmp451@remote.example R=remote T=remote_smtp defer (-44) "
                 "H=127.0.0.1 [127.0.0.1]: SMTP error from remote mail server after RCPT "
                 "TO:<tmp451@remote.example>: 451 4.3.0 try again later"));
  t.message_id = "1xXdQB-0004Po-0o";
  t.sending_port = 60732;
  EXPECT_EQ(
      rendered(deferred(t, kAll)),
      exim("1xXdQB-0004Po-0o == tmp451@remote.example R=remote T=remote_smtp defer (-44) "
           "H=127.0.0.1 [127.0.0.1]:37549 I=[127.0.0.1]:60732 DT=0.000s: SMTP error from remote "
           "mail server after RCPT TO:<tmp451@remote.example>: 451 4.3.0 try again later"));

  Delivery refused;
  refused.message_id = "1xXdOX-0003hO-0r";
  refused.address.address = "x@nowhere.example";
  refused.router = "nowhere";
  refused.transport = "remote_smtp";
  refused.basic_errno = 111;  // ECONNREFUSED: ": Connection refused"
  EXPECT_EQ(rendered(deferred(refused, kDefault)),
            exim("1xXdOX-0003hO-0r == x@nowhere.example R=nowhere T=remote_smtp defer (111): "
                 "Connection refused"));
  refused.message_id = "1xXdQB-0004Po-0o";
  EXPECT_EQ(rendered(deferred(refused, kAll)),
            exim("1xXdQB-0004Po-0o == x@nowhere.example R=nowhere T=remote_smtp defer (111): "
                 "Connection refused DT=0.000s"));

  Delivery redirect_defer;
  redirect_defer.message_id = "1xXdOX-0003hO-0r";
  redirect_defer.address.address = "y@fail.example";
  redirect_defer.router = "fail_router";
  redirect_defer.basic_errno = -17;  // ERRNO_BADREDIRECT
  redirect_defer.error_message =
      "error in redirect data: \":fail: no such mailbox\" is not permitted";
  EXPECT_EQ(rendered(deferred(redirect_defer, kDefault)),
            exim("1xXdOX-0003hO-0r == y@fail.example R=fail_router defer (-17): error in redirect "
                 "data: \":fail: no such mailbox\" is not permitted"));

  Delivery routed_fail;
  routed_fail.message_id = "1xXdQB-0004Po-0o";
  routed_fail.address.address = "y@fail.example";
  routed_fail.sender = "alice@sender.example";
  routed_fail.router = "fail_router";
  routed_fail.error_message = "no such mailbox";
  EXPECT_EQ(
      rendered(failed(routed_fail, kAll)),
      exim("1xXdQB-0004Po-0o ** y@fail.example F=<alice@sender.example> R=fail_router: no such "
           "mailbox DT=0.000s"));

  Delivery unrouteable;
  unrouteable.message_id = "1xXdOX-0003hS-1B";
  unrouteable.address.address = "alice@sender.example";
  unrouteable.error_message = "Unrouteable address";
  EXPECT_EQ(rendered(failed(unrouteable, kDefault)),
            exim("1xXdOX-0003hS-1B ** alice@sender.example: Unrouteable address"));
  unrouteable.message_id = "1xXdQB-0004Pt-17";
  EXPECT_EQ(rendered(failed(unrouteable, kAll)),
            exim("1xXdQB-0004Pt-17 ** alice@sender.example F=<>: Unrouteable address DT=0.000s"));
}

TEST(Delivery, RedirectedAddresses) {
  // list@alias.example -> bob@local.example, sub@alias.example;
  // sub@alias.example -> carol@local.example, /dir/file-sub, |/bin/cat
  const char* id = "1xXdqo-0004m4-1d";  // redirect-plain.txt
  Delivery bob = local_delivery(id, "bob", "list@alias.example");
  Delivery carol = local_delivery(id, "carol", "list@alias.example");
  carol.address.intermediates = {"sub@alias.example"};
  Delivery pipe;
  pipe.message_id = id;
  pipe.address.address = "|/bin/cat";
  pipe.address.local_part = "|/bin/cat";
  pipe.address.pipe_file_reply = true;
  pipe.address.original = "list@alias.example";
  pipe.address.intermediates = {"sub@alias.example"};
  pipe.router = "aliases";
  pipe.transport = "address_pipe";
  pipe.local_transport = true;
  Delivery file = pipe;
  file.address.address = file.address.local_part = "/tmp/exim-capture.neBvi2/run/mail/file-sub";
  file.address.file = true;
  file.transport = "address_file";

  EXPECT_EQ(rendered(delivered(carol, kDefault)),
            exim("1xXdqo-0004m4-1d => carol <list@alias.example> R=local T=local_file"));
  EXPECT_EQ(rendered(delivered(pipe, kDefault)),
            exim("1xXdqo-0004m4-1d => |/bin/cat (sub@alias.example) <list@alias.example> R=aliases "
                 "T=address_pipe"));
  EXPECT_EQ(
      rendered(delivered(file, kDefault)),
      exim("1xXdqo-0004m4-1d => /tmp/exim-capture.neBvi2/run/mail/file-sub (sub@alias.example) "
           "<list@alias.example> R=aliases T=address_file"));
  EXPECT_EQ(rendered(delivered(bob, kDefault)),
            exim("1xXdqo-0004m4-1d => bob <list@alias.example> R=local T=local_file"));
  EXPECT_EQ(delivered(carol, kAllParents).text,  // redirect-all-parents.txt
            "=> carol (sub@alias.example) <list@alias.example> R=local T=local_file");
  carol.size = 506;
  EXPECT_EQ(delivered(carol, kAllNoPid).text,  // redirect-all-nopid.txt
            "=> carol (sub@alias.example) <list@alias.example> F=<alice@sender.example> "
            "P=<alice@sender.example> R=local T=local_file S=506 QT=0s DT=0s");

  // Not from Exim's runs: the remaining rules of string_log_address().
  LoggedAddress a;
  a.address = "x@remote.example";
  a.original = "X@Remote.Example";  // the domain differs in case only: the same address
  EXPECT_EQ(logged_address(a, false, true), "x@remote.example <X@Remote.Example>");
  a.original = "x@REMOTE.example";
  EXPECT_EQ(logged_address(a, false, true), "x@remote.example");
  a.onetime_parent = "alias@one.example";
  EXPECT_EQ(logged_address(a, false, true), "x@remote.example <alias@one.example>");
  LoggedAddress f;
  f.local_part = "mail/inbox";
  f.pipe_file_reply = f.file = true;
  f.original = "u@local.example";
  EXPECT_EQ(logged_address(f, false, true), "save mail/inbox <u@local.example>");
  LoggedAddress deep;
  deep.address = "z@x.example";
  deep.original = "top@x.example";
  deep.intermediates = {"mid2@x.example", "mid1@x.example"};
  EXPECT_EQ(logged_address(deep, true, false),
            "z@x.example (mid2@x.example, mid1@x.example) <top@x.example>");
}

}  // namespace
}  // namespace tern::log
