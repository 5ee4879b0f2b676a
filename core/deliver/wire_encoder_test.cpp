// core/deliver/wire_encoder_test.cpp: CRLF and dot-stuffing, whole and split at every byte.
#include "core/deliver/wire_encoder.hpp"

#include <gtest/gtest.h>

namespace tern::deliver {
namespace {

struct Case {
  std::string name, in, data, bdat;
};

const Case kCases[] = {
    {"lf lines", "a\nb\n", "a\r\nb\r\n.\r\n", "a\r\nb\r\n"},
    {"crlf kept", "a\r\nb\r\n", "a\r\nb\r\n.\r\n", "a\r\nb\r\n"},
    {"last line unterminated", "a\nb", "a\r\nb\r\n.\r\n", "a\r\nb\r\n"},
    {"leading dots doubled", ".a\n..b\nc.d\n.\n", "..a\r\n...b\r\nc.d\r\n..\r\n.\r\n",
     ".a\r\n..b\r\nc.d\r\n.\r\n"},
    {"dot at very start after crlf", "x\r\n.\r\n", "x\r\n..\r\n.\r\n", "x\r\n.\r\n"},
    {"lone cr passes", "a\rb\n", "a\rb\r\n.\r\n", "a\rb\r\n"},
    {"ends in cr", "a\r", "a\r\n.\r\n", "a\r\n"},
    {"empty message", "", ".\r\n", ""},
    {"empty lines", "\n\n", "\r\n\r\n.\r\n", "\r\n\r\n"},
};

TEST(WireEncoder, WholeMessage) {
  for (const Case& c : kCases) {
    EXPECT_EQ(encode_for_wire(c.in, WireEncoder::Mode::kData), c.data) << c.name;
    EXPECT_EQ(encode_for_wire(c.in, WireEncoder::Mode::kBdat), c.bdat) << c.name;
  }
}

TEST(WireEncoder, SplitAnywhere) {
  for (const Case& c : kCases) {
    for (size_t cut = 0; cut <= c.in.size(); ++cut) {
      WireEncoder e(WireEncoder::Mode::kData);
      std::string out;
      e.encode(std::string_view(c.in).substr(0, cut), out);
      e.encode(std::string_view(c.in).substr(cut), out);
      e.finish(out);
      EXPECT_EQ(out, c.data) << c.name << " cut at " << cut;
    }
  }
}

}  // namespace
}  // namespace tern::deliver
