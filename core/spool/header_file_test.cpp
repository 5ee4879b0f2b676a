// core/spool/header_file_test.cpp: the -H format: tern's own round trip and Exim's files.
//
// testdata/ holds -H/-D files written by the reference Exim 4.96 (testdata/exim.conf and
// exim-deliver.conf; the second after one delivery attempt, so it has a non-recipients
// tree and a DSN recipient) and its -bp output.
#include "core/spool/header_file.hpp"

#include <gtest/gtest.h>

#include "core/spool/fs_util.hpp"
#include "core/spool/test_util.hpp"

namespace tern::spool {
namespace {

std::string fixture(const std::string& name) {
  auto r = read_file(std::string(TERN_SOURCE_DIR) + "/core/spool/testdata/" + name);
  EXPECT_TRUE(r.ok()) << name;
  return r.ok() ? *r : "";
}

TEST(HeaderFile, WritesEximLayout) {
  Envelope e = testing::sample_envelope("1xXbfI-0000000001p-1Zab");
  EXPECT_EQ(format_header_file(e),
            "1xXbfI-0000000001p-1Zab-H\n"
            "mail 8 12\n"
            "<sender@client.example>\n"
            "1795946268 0\n"
            "-received_time_usec .485475\n"
            "--helo_name client.example\n"
            "--host_address [192.0.2.7]:4242\n"
            "-received_protocol esmtp\n"
            "-aclc 0 16\nconnection value\n"
            "--aclm _flag 9\ntwo\nlines\n"
            "-body_linecount 4\n"
            "-deliver_firsttime\n"
            "XX\n"
            "2\n"
            "alice@test.example\n"
            "bob@other.example rfc822;bob@orig.example 23,6  0,-1#3\n"
            "\n"
            "083P Received: from client.example\n\tby mx.test.example; Sun, 29 Nov 2026 09:57:48 +0000\n"
            "037F From: Sender <sender@client.example>\n"
            "015  Subject: hello\n");
}

TEST(HeaderFile, RoundTrip) {
  Envelope e = testing::sample_envelope("1xXbfI-0000000001p-1Zab");
  e.nonrecipients = {"a@x", "b@x", "c@x", "d@x", "e@x"};
  e.recipients.push_back({"one time@x", "", 0, "errors@x", 3});
  e.headers.push_back({'*', "X-Old: gone\n"});
  std::string text = format_header_file(e);
  auto back = parse_header_file(text, e.id + "-H");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->vars, e.vars);
  EXPECT_EQ(back->nonrecipients, e.nonrecipients);
  EXPECT_EQ(back->recipients, e.recipients);
  EXPECT_EQ(back->headers, e.headers);
  EXPECT_EQ(format_header_file(*back), text);
}

TEST(HeaderFile, RecipientLines) {
  struct Case {
    const char* line;
    Recipient want;
  } cases[] = {
      {"a@b", {"a@b", "", 0, "", -1}},
      {"a b@c 12", {"a b@c", "", 0, "", 12}},                               // early Exim 4
      {"a@b 0,5,0", {"a@b", "", 0, "", 5}},                                 // Exim 3
      {"bob@x rfc822;bob@y 12,12  0,-1#3", {"bob@x", "rfc822;bob@y", 12, "", -1}},
      {"with space@x  0,0 e@r 3,2#3", {"with space@x", "", 0, "e@r", 2}},
  };
  for (const auto& c : cases) {
    auto r = parse_recipient(c.line);
    ASSERT_TRUE(r.ok()) << c.line;
    EXPECT_EQ(*r, c.want) << c.line;
  }
  EXPECT_FALSE(parse_recipient("x 99,0 #3").ok());
}

TEST(HeaderFile, RefusesDamage) {
  std::string good = format_header_file(testing::sample_envelope("1xXbfI-0000000001p-1Zab"));
  for (std::size_t cut : {std::size_t(0), std::size_t(10), std::size_t(60), good.find("XX"),
                          good.find("\n\n") + 1, good.size() - 3})
    EXPECT_FALSE(parse_header_file(good.substr(0, cut)).ok()) << cut;
  std::string zeros = good;
  zeros.replace(zeros.size() - 5, 3, std::string(3, '\0'));
  EXPECT_FALSE(parse_header_file(zeros).ok());
  auto wrong = parse_header_file(good, "1xXbfI-0000000001p-1Zac-H");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message,
            "spool file 1xXbfI-0000000001p-1Zac-H: format error: first line names another file");
}

TEST(EximFixture, ReceivedMessageReadsAndWritesBack) {
  std::string text = fixture("1xXbfI-0001p6-1Z-H");
  auto e = parse_header_file(text, "1xXbfI-0001p6-1Z-H");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->id, "1xXbfI-0001p6-1Z");
  EXPECT_EQ(e->originator_login, "root");
  EXPECT_EQ(e->sender, "sender@client.example");
  EXPECT_EQ(e->received_time, 1795946268);
  ASSERT_NE(e->var("host_address"), nullptr);
  EXPECT_EQ(e->var("host_address")->value, "[192.0.2.7]:4242");
  EXPECT_TRUE(e->var("host_address")->tainted);
  EXPECT_FALSE(e->var("ident")->tainted);
  EXPECT_EQ(e->var("body_linecount")->value, "4");
  EXPECT_FALSE(e->var("deliver_firsttime")->has_value);
  int acl = 0;
  for (const auto& v : e->vars)
    if (v.is_acl()) {
      ++acl;
      if (v.name == "aclm" && v.value == "1") {
        EXPECT_EQ(v.acl_value, "multi\nline");
      }
      if (v.name == "aclm" && v.value == "_flag") {
        EXPECT_EQ(v.acl_value, "rcpt seen for alice");
      }
    }
  EXPECT_EQ(acl, 3);
  ASSERT_EQ(e->recipients.size(), 1u);
  EXPECT_EQ(e->recipients[0].address, "alice@test.example");
  ASSERT_EQ(e->headers.size(), 7u);
  EXPECT_EQ(e->headers[0].type, 'P');
  EXPECT_EQ(e->headers[3].type, ' ');
  EXPECT_EQ(e->headers[4].type, 'R');
  EXPECT_EQ(e->headers[5].type, 'C');
  EXPECT_EQ(e->headers[6].type, 'I');
  for (const auto& h : e->headers) EXPECT_EQ(header_type_for(h.text), h.type) << h.text;
  EXPECT_EQ(format_header_file(*e), text);  // byte for byte
}

TEST(EximFixture, DeliveredOnceHasTreeAndDsn) {
  std::string text = fixture("1xXbgc-0002Wd-2P-H");
  auto e = parse_header_file(text, "1xXbgc-0002Wd-2P-H");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->nonrecipients,
            (std::set<std::string>{"alice@test.example", "carol@test.example", "erin@test.example"}));
  ASSERT_EQ(e->recipients.size(), 5u);
  EXPECT_EQ(e->recipients[1],
            (Recipient{"bob@other.example", "rfc822;bob@orig.example", 12, "", -1}));
  EXPECT_EQ(e->var("dsn_envid")->value, "env-42");
  std::vector<std::string> pending;
  for (auto* r : e->pending_recipients()) pending.push_back(r->address);
  EXPECT_EQ(pending, (std::vector<std::string>{"bob@other.example", "dave@other.example"}));
  // Written back, only the tree's shape may differ; read again it is the same envelope.
  auto again = parse_header_file(format_header_file(*e));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->nonrecipients, e->nonrecipients);
  EXPECT_EQ(format_header_file(*again), format_header_file(*e));
}

TEST(EximFixture, SpoolReadsEximFilesAndSizesAsBp) {
  testing::ScratchSpool s;
  for (const char* f : {"1xXbfI-0001p6-1Z-H", "1xXbfI-0001p6-1Z-D", "1xXbgc-0002Wd-2P-H",
                        "1xXbgc-0002Wd-2P-D"})
    ASSERT_TRUE(write_durably(s.spool().input_root(), s.spool().input_root() + "/tmp",
                              s.spool().input_root() + "/" + f, fixture(f)).ok());
  auto ids = s.spool().list();
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"1xXbfI-0001p6-1Z", "1xXbgc-0002Wd-2P"}));
  // Exim's -bp (testdata/bp.txt) shows 451 and 368.
  EXPECT_EQ(*s.spool().message_size("1xXbfI-0001p6-1Z"), 451);
  EXPECT_EQ(*s.spool().message_size("1xXbgc-0002Wd-2P"), 368);
  EXPECT_EQ(*s.spool().read_body("1xXbfI-0001p6-1Z"), "line one\n\nline three with dot\n.leading dot\n");
}

}  // namespace
}  // namespace tern::spool
