// core/text/ipaddr_test.cpp: IP address reading and printing.
//
// Expected values from the reference Exim 4.96: ${if isip{..}},
// ${mask:..}, ${mask_n:..}, ${ipv6norm:..}, ${ipv6denorm:..}, ${reverse_ip:..}.
#include "core/text/ipaddr.hpp"

#include <gtest/gtest.h>

namespace tern::text {
namespace {

struct ValidCase {
  std::string input;
  bool with_mask;
  int want;  // 0: not an address, else 4 or 6
};

TEST(IpAddress, ValidityMatchesExim) {
  const ValidCase cases[] = {
      {"1.2.3.4", false, 4},       {"1.2.3.4/8", false, 0},    {"1.2.3.4/8", true, 4},
      {"1.2.3.4/", true, 4},       {"1.2.3.4/ 5", true, 4},    {"1.2.3.4/-1", true, 0},
      {"1.2.3.4/x", true, 0},      {"1.2.3.4/5/6", true, 0},   {"01.2.3.4", false, 0},
      {"1.2.3", false, 0},         {"1.2.3.256", false, 0},    {" 1.2.3.4", false, 0},
      {"::", false, 6},            {":::", false, 0},          {"1::2::3", false, 0},
      {"fe80::1%eth0", false, 6},  {"fe80::1%", false, 6},     {"::1%eth0/64", true, 0},
      {"1.2.3.4%x", false, 0},     {"::1.2.3.4", false, 6},    {"1:2:3:4:5:6:7:8:9", false, 0},
      {"1:2:3:4:5:6:1.2.3.4", false, 6}, {"12345::1", false, 0}, {"", false, 0},
  };
  for (const auto& c : cases) {
    auto ip = parse_ip_address(c.input, c.with_mask);
    EXPECT_EQ(ip ? ip->family : 0, c.want) << c.input;
  }
}

TEST(IpAddress, Formats) {
  auto v6 = parse_ip_address("2001:db8:0:0:1:0:0:1", false);
  ASSERT_TRUE(v6);
  EXPECT_EQ(format_ipv6_compressed(*v6), "2001:db8::1:0:0:1");
  EXPECT_EQ(format_full(*v6, -1, ':'), "2001:0db8:0000:0000:0001:0000:0000:0001");
  EXPECT_EQ(format_ipv6_compressed(*parse_ip_address("::", false)), ":");  // sic
  EXPECT_EQ(format_ipv6_compressed(*parse_ip_address("1:0:2:0:3:0:4:0", false)), "1::2:0:3:0:4:0");
  EXPECT_EQ(format_ipv6_compressed(*parse_ip_address("1::", false)), "1::");
  auto v4 = parse_ip_address("192.168.10.206/28", true);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->mask_offset, 14u);
  apply_mask(*v4, 28);
  EXPECT_EQ(format_full(*v4, 28, '.'), "192.168.10.192/28");
  EXPECT_EQ(reverse_ip(*parse_ip_address("1.2.3.4", false)), "4.3.2.1");
  EXPECT_EQ(reverse_ip(*parse_ip_address("2001:db8::1", false)),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2");
}

}  // namespace
}  // namespace tern::text
