// core/text/regex_test.cpp: the PCRE2 wrapper and Exim's compile error texts.
//
// The error texts were produced by the reference Exim 4.96 with
// ${if match{a}{PATTERN}...} and ${sg{abc}{PATTERN}{x}}.
#include "core/text/regex.hpp"

#include <gtest/gtest.h>

namespace tern::text {
namespace {

struct ErrorCase {
  std::string pattern;
  std::string want;
};

TEST(Regex, CompileErrorsMatchExim) {
  const ErrorCase cases[] = {
      {"(", "regular expression error in \"(\": missing closing parenthesis at offset 1"},
      {"[", "regular expression error in \"[\": missing terminating ] for character class at offset 1"},
      {"*", "regular expression error in \"*\": quantifier does not follow a repeatable item at offset 0"},
  };
  for (const auto& c : cases) {
    auto re = Regex::compile(c.pattern);
    ASSERT_FALSE(re.ok()) << c.pattern;
    EXPECT_EQ(re.error().message, c.want);
  }
}

TEST(Regex, SearchAndCaptures) {
  auto re = Regex::compile("a(?<x>b)c(d)?");
  ASSERT_TRUE(re.ok());
  std::vector<std::string> caps;
  EXPECT_TRUE(re->search("xxabcz", &caps));
  ASSERT_EQ(caps.size(), 2u);  // the unset trailing group is not reported
  EXPECT_EQ(caps[0], "abc");
  EXPECT_EQ(caps[1], "b");
  EXPECT_FALSE(re->search("ABC"));
  EXPECT_EQ(re->pattern(), "a(?<x>b)c(d)?");
}

TEST(Regex, BytesNotUtf8) {
  // Oracle: ${if match{é}{^.\$}} is false and {^..\$} true: one byte per dot.
  auto one = Regex::compile("^.$");
  auto two = Regex::compile("^..$");
  EXPECT_FALSE(one->search("\xc3\xa9"));
  EXPECT_TRUE(two->search("\xc3\xa9"));
}

TEST(Regex, Caseless) {
  auto re = Regex::compile("abc", true);
  EXPECT_TRUE(re->search("xABCx"));
}

TEST(Regex, SearchAtForSg) {
  auto re = Regex::compile("x*");
  std::vector<long> ov;
  ASSERT_TRUE(re->search_at("ab", 1, ov));
  EXPECT_EQ(ov[0], 1);
  EXPECT_EQ(ov[1], 1);
  EXPECT_FALSE(re->search_at("ab", 1, ov, true));  // empty match refused, anchored
  EXPECT_FALSE(re->search_at("ab", 3, ov));
}

}  // namespace
}  // namespace tern::text
