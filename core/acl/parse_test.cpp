// core/acl/parse_test.cpp: reading ACL text from files and options (acl_getline) and acl =
// arguments (string_dequote).
#include <gtest/gtest.h>

#include "core/acl/internal.hpp"

namespace tern::acl::detail {
namespace {

std::vector<std::string> texts(std::string_view acl) {
  std::vector<std::string> out;
  for (auto& l : split_acl_text(acl, {"f", 1})) out.push_back(l.text);
  return out;
}

TEST(Parse, AclText) {
  EXPECT_EQ(texts("accept hosts = x\n  deny"),
            (std::vector<std::string>{"accept hosts = x", "deny"}));
  // Comments and blank lines go; a backslash continues (trailing white
  // space allowed), the next line's leading white space and comment lines
  // in between dropped.
  EXPECT_EQ(texts("# c\n\naccept  local_parts = a\n  message = from \\  \n# inside\n     file\n"),
            (std::vector<std::string>{"accept  local_parts = a", "message = from file"}));
  EXPECT_EQ(texts("accept \\"), (std::vector<std::string>{"accept "}));
  EXPECT_TRUE(texts("").empty());
  EXPECT_TRUE(texts("  \n# only\n").empty());
}

TEST(Parse, Dequote) {
  std::string_view s = "name \"two words\" \"esc\\\"aped\\t\\x41\\101\" last";
  std::vector<std::string> words;
  while (true) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    if (s.empty()) break;
    words.push_back(dequote(s));
  }
  EXPECT_EQ(words, (std::vector<std::string>{"name", "two words", "esc\"aped\tAA", "last"}));
  std::string_view open = "\"unterminated";
  EXPECT_EQ(dequote(open), "unterminated");
  EXPECT_TRUE(open.empty());
}

TEST(Parse, Statements) {
  ParseError err;
  std::vector<config::SourceLine> lines = {{{"f", 1}, "accept hosts = a"},
                                           {{"f", 2}, "  !domains=b"},
                                           {{"f", 3}, "deny"},
                                           {{"f", 4}, "set acl_m_x=1"},
                                           {{"f", 5}, "endpass"}};
  auto r = parse_statements(lines, {}, &err);
  ASSERT_FALSE(r.ok());  // endpass on deny
  EXPECT_EQ(err.where.line, 5);
  lines.pop_back();
  r = parse_statements(lines, {}, &err);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].verb, Verb::kAccept);
  ASSERT_EQ((*r)[0].conditions.size(), 2u);
  EXPECT_TRUE((*r)[0].conditions[1].negated);
  EXPECT_EQ((*r)[0].conditions[1].arg, "b");
  EXPECT_EQ((*r)[1].conditions[0].varname, "m_x");
  EXPECT_EQ((*r)[1].conditions[0].arg, "1");
  EXPECT_EQ((*r)[1].where.line, 3);
}

}  // namespace
}  // namespace tern::acl::detail
