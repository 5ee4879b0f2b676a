// core/spool/recipient_data_test.cpp: per-recipient module data in the -H file, both ways.
#include "core/spool/recipient_data.hpp"

#include <gtest/gtest.h>

#include "core/spool/header_file.hpp"
#include "core/spool/test_util.hpp"

namespace tern::spool {
namespace {

TEST(RecipientData, XtextRoundTripsEveryByte) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string enc = xtext_encode(all);
  EXPECT_EQ(enc.find_first_of(" \n="), std::string::npos);
  auto back = xtext_decode_strict(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, all);
  EXPECT_EQ(xtext_encode("a b=c+d"), "a+20b+3Dc+2Bd");
}

TEST(RecipientData, XtextRefusesBadEscapes) {
  for (const char* bad : {"+", "+4", "+4g", "ab+zz", "+4a"}) EXPECT_FALSE(xtext_decode_strict(bad).ok()) << bad;
}

TEST(RecipientData, SurvivesTheHeaderFile) {
  Envelope e = testing::sample_envelope("1xXbfI-0000000001p-1Zab");
  RecipientData d;
  d[1]["verdict"] = "spam 7.5";
  d[1]["tag"] = "x=y\nz";
  d[0]["tag"] = "";
  store_recipient_data(e, d);
  std::string text = format_header_file(e);
  EXPECT_NE(text.find("-tern_rcpt_0 tag=\n"), std::string::npos) << text;
  EXPECT_NE(text.find("-tern_rcpt_1 tag=x+3Dy+0Az verdict=spam+207.5\n"), std::string::npos) << text;
  auto parsed = parse_header_file(text, "1xXbfI-0000000001p-1Zab-H");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  auto back = recipient_data_of(*parsed);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, d);
  // Rewritten (as a delivery does) and stored again: still one line each.
  store_recipient_data(*parsed, *back);
  EXPECT_EQ(format_header_file(*parsed), text);
}

TEST(RecipientData, RefusesMalformedLines) {
  Envelope e = testing::sample_envelope("1xXbfI-0000000001p-1Zab");
  e.set_var("tern_rcpt_x", "a=b");
  auto r = recipient_data_of(e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "malformed per-recipient data line \"-tern_rcpt_x\": no recipient number");
  e.erase_var("tern_rcpt_x");
  e.set_var("tern_rcpt_5", "a=b");
  EXPECT_EQ(recipient_data_of(e).error().message, "per-recipient data line \"-tern_rcpt_5\" names recipient 5 of 2");
  e.erase_var("tern_rcpt_5");
  e.set_var("tern_rcpt_0", "novalue");
  EXPECT_EQ(recipient_data_of(e).error().message,
            "malformed per-recipient data in \"-tern_rcpt_0\": \"novalue\" has no '='");
}

}  // namespace
}  // namespace tern::spool
