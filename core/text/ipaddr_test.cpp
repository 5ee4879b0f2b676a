// core/text/ipaddr_test.cpp: IP address reading and printing.
//
// Expected values from the reference Exim 4.96: ${if isip{..}},
// ${mask:..}, ${mask_n:..}, ${ipv6norm:..}, ${ipv6denorm:..}, ${reverse_ip:..}.
#include "core/text/ipaddr.hpp"

#include <gtest/gtest.h>

#include <utility>

namespace tern::text {
namespace {

struct ValidCase {
  std::string input;
  bool with_mask;
  int want;  // 0: not an address, else 4 or 6
};

TEST(IpAddress, ValidityMatchesExim) {
  const ValidCase cases[] = {
      {"1.2.3.4", false, 4},
      {"1.2.3.4/8", false, 0},
      {"1.2.3.4/8", true, 4},
      {"1.2.3.4/", true, 4},
      {"1.2.3.4/ 5", true, 4},
      {"1.2.3.4/-1", true, 0},
      {"1.2.3.4/x", true, 0},
      {"1.2.3.4/5/6", true, 0},
      {"01.2.3.4", false, 0},
      {"1.2.3", false, 0},
      {"1.2.3.256", false, 0},
      {" 1.2.3.4", false, 0},
      {"::", false, 6},
      {":::", false, 0},
      {"1::2::3", false, 0},
      {"fe80::1%eth0", false, 6},
      {"fe80::1%", false, 6},
      {"::1%eth0/64", true, 0},
      {"1.2.3.4%x", false, 0},
      {"::1.2.3.4", false, 6},
      {"1:2:3:4:5:6:7:8:9", false, 0},
      {"1:2:3:4:5:6:1.2.3.4", false, 6},
      {"12345::1", false, 0},
      {"", false, 0},
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
}

TEST(IpAddress, ReverseAsInvertAddress) {
  const std::pair<std::string, std::string> cases[] = {
      {"1.2.3.4", "4.3.2.1"},
      {"1.2.3.4/24", "4.3.2.1"},
      {"2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"},
      {"::ffff:1.2.3.4/24", "4.3.2.1"},
      {"::ffff:1:2", "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0"},
      {"::ffff:abcd:1.2.3.4", "4.0.3.0.2.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(reverse_ip(in), want) << in;
}

TEST(IpAddress, VersionWithoutMask) {
  EXPECT_EQ(ip_version("1.2.3.4"), 4);
  EXPECT_EQ(ip_version("::1"), 6);
  EXPECT_EQ(ip_version("1.2.3.4/24"), 0);
  EXPECT_EQ(ip_version("01.2.3.4"), 0);
  EXPECT_EQ(ip_version("12345::1"), 0);
}

TEST(IpAddress, HostAtonMatchesValidation) {
  for (const char* s : {"1.2.3.4", "::", "::1", "1::", "fe80::1%eth0", "2001:db8::1/64",
                        "1:2:3:4:5:6:7:8", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1::2:3"}) {
    auto checked = parse_ip_address(s, true);
    ASSERT_TRUE(checked) << s;
    IpAddress a = host_aton(s);
    EXPECT_EQ(a.family, checked->family) << s;
    EXPECT_EQ(a.words, checked->words) << s;
  }
}

struct NetCase {
  std::string host, net;
  bool want;
};

TEST(IpAddress, HostIsInNet) {
  const NetCase cases[] = {
      {"1.2.3.4", "1.2.3.4", true},
      {"1.2.3.4", "1.2.3.5", false},
      {"1.2.3.4", "1.2.3.0/24", true},
      {"1.2.4.4", "1.2.3.0/24", false},
      {"1.2.3.4", "0.0.0.0/0", true},
      {"::ffff:1.2.3.4", "1.2.3.0/24", true},
      {"1.2.3.4", "::ffff:1.2.3.4", false},
      {"2001:db8::1", "2001:db8::/32", true},
      {"2001:db9::1", "2001:db8::/32", false},
      {"::1", "1.2.3.4", false},
  };
  for (const auto& c : cases) {
    auto net = parse_ip_address(c.net, true);
    ASSERT_TRUE(net) << c.net;
    EXPECT_EQ(host_is_in_net(c.host, c.net, net->mask_offset), c.want) << c.host << " in " << c.net;
  }
}

TEST(IpAddress, MaskedKeyForNetLookups) {
  IpAddress a = host_aton("2001:db8::1");
  apply_mask(a, 48);
  EXPECT_EQ(format_full(a, 48, ':'), "2001:0db8:0000:0000:0000:0000:0000:0000/48");
  a = host_aton("1.2.3.4");
  apply_mask(a, 24);
  EXPECT_EQ(format_full(a, 24, '.'), "1.2.3.0/24");
}

}  // namespace
}  // namespace tern::text
