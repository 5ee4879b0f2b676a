// core/text/list_test.cpp: ListReader against Exim 4.96's string_nextinlist.
//
// The expected items come from the reference Exim 4.96 (scripts/exim-ref.sh),
// read with ${reduce{LIST}{}{$value<$item>}}, which walks a list the same way.
#include "core/text/list.hpp"

#include <gtest/gtest.h>

namespace tern::text {
namespace {

struct ListCase {
  std::string input;
  std::vector<std::string> want;
};

TEST(ListReader, MatchesExim) {
  // Oracle: Exim 4.96 (Debian 4.96-15+deb12u11).
  const ListCase cases[] = {
      {std::string("a:b:c"), {"a", "b", "c"}},
      {std::string(""), {}},
      {std::string(" "), {}},
      {std::string("a"), {"a"}},
      {std::string(" a : b "), {"a", "b"}},
      {std::string("a::b"), {"a:b"}},
      {std::string("a: :b"), {"a", "", "b"}},
      {std::string("a:"), {"a"}},
      {std::string("a: "), {"a"}},
      {std::string(":a"), {"", "a"}},
      {std::string("::a"), {":a"}},
      {std::string("a::"), {"a:"}},
      {std::string("<;a;b:c"), {"a", "b:c"}},
      {std::string("<; a ; ;b"), {"a", "", "b"}},
      {std::string("<;a;;b"), {"a;b"}},
      {std::string("< a:b"), {"< a", "b"}},
      {std::string("<a:b"), {"<a", "b"}},
      {std::string("<\012a\012b"), {"a", "b"}},
      {std::string("<\012a\012\012b"), {"a", "", "b"}},
      {std::string(" <;a;b"), {"a", "b"}},
      {std::string("<"), {}},
      {std::string("<;"), {}},
      {std::string("a\\ :b"), {"a\\ ", "b"}},
      {std::string("a\\\\ :b"), {"a\\\\ ", "b"}},
      {std::string("a  \011:b"), {"a", "b"}},
      {std::string("<,a,,b,c"), {"a,b", "c"}},
      {std::string("<|a||b"), {"a|b"}},
      {std::string(":"), {""}},
      {std::string("::"), {":"}},
      {std::string(":::"), {":"}},
      {std::string("a:::b"), {"a:", "b"}},
      {std::string("<:a:b"), {"a", "b"}},
      {std::string("a :  b  : c"), {"a", "b", "c"}},
      {std::string("<\011a\011b"), {"a", "b"}},
      {std::string("<; ;a"), {"", "a"}},
      {std::string("a\\"), {"a\\"}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(list_items(c.input), c.want) << "list: " << c.input;
  }
}

TEST(ListReader, SeparatorIsReported) {
  ListReader r("<; a;b");
  std::string item;
  ASSERT_TRUE(r.next(item));
  EXPECT_EQ(r.separator(), ';');
  EXPECT_EQ(item, "a");
}

TEST(ListReader, FixedSeparatorIgnoresAngle) {
  auto r = ListReader::with_fixed_separator("<;a_b", '_');
  std::string item;
  ASSERT_TRUE(r.next(item));
  EXPECT_EQ(item, "<;a");
  ASSERT_TRUE(r.next(item));
  EXPECT_EQ(item, "b");
  EXPECT_FALSE(r.next(item));
}

TEST(ListAppend, DoublesSeparatorAndSkipsFirstSeparator) {
  std::string list;
  list_append(list, "a:b");
  list_append(list, "c");
  EXPECT_EQ(list, "a::b:c");
  std::string semi;
  list_append(semi, "", ';');  // nothing to separate from yet, as in Exim
  list_append(semi, "x;y", ';');
  EXPECT_EQ(semi, "x;;y");
  EXPECT_EQ(list_items(list), (std::vector<std::string>{"a:b", "c"}));
}

}  // namespace
}  // namespace tern::text
