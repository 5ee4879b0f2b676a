// core/text/strfuncs_test.cpp: the shared string functions against Exim 4.96.
//
// Every expected value and error text in the tables below was produced by
// the reference Exim 4.96 (scripts/exim-ref.sh, `exim -be`), through the
// matching expansion (${eval:..}, ${substr{..}..}, ${if crypteq..}, ...).
#include "core/text/strfuncs.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace tern::text {
namespace {

// ok: the function succeeds; want: its value, or else the error message.
template <class T>
void expect_result(const Result<T>& got, bool ok, const std::string& want, const std::string& what) {
  ASSERT_EQ(got.ok(), ok) << what << (got.ok() ? "" : ": " + got.error().message);
  if (!ok) {
    EXPECT_EQ(got.error().message, want) << what;
  } else if constexpr (std::is_same_v<T, bool>) {
    EXPECT_EQ(*got ? "true" : "false", want) << what;
  } else {
    EXPECT_EQ(std::string(*got), want) << what;
  }
}

struct EvalCase {
  std::string expr;
  bool decimal;
  bool ok;
  std::string want;
};

TEST(Eval, MatchesExim) {
  const EvalCase cases[] = {
    // eval
      {"1+2", false, true, "3"},
      {" 2 * (3 + 4) ", false, true, "14"},
      {"1/0", false, false, "error in expression evaluation: divide by zero (after processing \"1/0\")"},
      {"5%0", false, false, "error in expression evaluation: modulo by zero (after processing \"5%0\")"},
      {"(1", false, false, "error in expression evaluation: expecting closing parenthesis (after processing \"(1\")"},
      {"1)", false, false, "error in expression evaluation: expecting operator (after processing \"1\")"},
      {"", false, false, "error in expression evaluation: expecting number or opening parenthesis (after processing \"\")"},
      {"abc", false, false, "error in expression evaluation: expecting number or opening parenthesis (after processing \"\")"},
      {"08", false, false, "error in expression evaluation: expecting operator (after processing \"0\")"},
      {"0x10", false, true, "16"},
      {"010", false, true, "8"},
      {"1k+1m", false, true, "1049600"},
      {"1g", false, true, "1073741824"},
      {"3000000000*4000000000", false, true, "-6446744073709551616"},
      {"9223372036854775807+1", false, false, "error in expression evaluation: overflow in sum (after processing \"9223372036854775807+1\")"},
      {"4611686018427387904+1", false, false, "error in expression evaluation: overflow in sum (after processing \"4611686018427387904+1\")"},
      {"1+4611686018427387904", false, true, "4611686018427387905"},
      {"-9223372036854775807-1", false, true, "-9223372036854775808"},
      {"(-9223372036854775807-1)/-1", false, true, "9223372036854775807"},
      {"(-9223372036854775807-1)%-1", false, true, "9223372036854775807"},
      {"~0", false, true, "-1"},
      {"2^3|4&5", false, true, "5"},
      {"1<<3", false, true, "8"},
      {"1<<64", false, true, "1"},
      {"-8>>1", false, true, "-4"},
      {"1<3", false, false, "error in expression evaluation: expecting operator (after processing \"1\")"},
      {"1< <2", false, false, "error in expression evaluation: expecting operator (after processing \"1\")"},
      {"--5", false, true, "5"},
      {" 1 + ", false, false, "error in expression evaluation: expecting number or opening parenthesis (after processing \" 1 + \")"},
      {"1 2", false, false, "error in expression evaluation: expecting operator (after processing \"1 \")"},
      {"7/-2", false, true, "-3"},
      {"-7%3", false, true, "-1"},
      {"0xg", false, true, "0"},
      {"99999999999999999999", false, true, "9223372036854775807"},
      {"-(-3)", false, true, "3"},
      {"+4", false, true, "4"},
      {"~~5", false, true, "5"},
      {"2*-3", false, true, "-6"},
      {"(((1)))", false, true, "1"},
      {"((1)", false, false, "error in expression evaluation: expecting closing parenthesis (after processing \"((1)\")"},
      {"1+(2", false, false, "error in expression evaluation: expecting closing parenthesis (after processing \"1+(2\")"},
      {"12abc", false, false, "error in expression evaluation: expecting operator (after processing \"12\")"},
      {"1 - - 1", false, true, "2"},
      {"0x7fffffffffffffff", false, true, "9223372036854775807"},
      {"1 <<2", false, true, "4"},
    // eval10
      {"1+2", true, true, "3"},
      {" 2 * (3 + 4) ", true, true, "14"},
      {"1/0", true, false, "error in expression evaluation: divide by zero (after processing \"1/0\")"},
      {"5%0", true, false, "error in expression evaluation: modulo by zero (after processing \"5%0\")"},
      {"(1", true, false, "error in expression evaluation: expecting closing parenthesis (after processing \"(1\")"},
      {"1)", true, false, "error in expression evaluation: expecting operator (after processing \"1\")"},
      {"", true, false, "error in expression evaluation: expecting number or opening parenthesis (after processing \"\")"},
      {"abc", true, false, "error in expression evaluation: expecting number or opening parenthesis (after processing \"\")"},
      {"08", true, true, "8"},
      {"0x10", true, false, "error in expression evaluation: expecting operator (after processing \"0\")"},
      {"010", true, true, "10"},
      {"1k+1m", true, true, "1049600"},
      {"1g", true, true, "1073741824"},
      {"3000000000*4000000000", true, true, "-6446744073709551616"},
      {"9223372036854775807+1", true, false, "error in expression evaluation: overflow in sum (after processing \"9223372036854775807+1\")"},
      {"4611686018427387904+1", true, false, "error in expression evaluation: overflow in sum (after processing \"4611686018427387904+1\")"},
      {"1+4611686018427387904", true, true, "4611686018427387905"},
      {"-9223372036854775807-1", true, true, "-9223372036854775808"},
      {"(-9223372036854775807-1)/-1", true, true, "9223372036854775807"},
      {"(-9223372036854775807-1)%-1", true, true, "9223372036854775807"},
      {"~0", true, true, "-1"},
      {"2^3|4&5", true, true, "5"},
      {"1<<3", true, true, "8"},
      {"1<<64", true, true, "1"},
      {"-8>>1", true, true, "-4"},
      {"1<3", true, false, "error in expression evaluation: expecting operator (after processing \"1\")"},
      {"1< <2", true, false, "error in expression evaluation: expecting operator (after processing \"1\")"},
      {"--5", true, true, "5"},
      {" 1 + ", true, false, "error in expression evaluation: expecting number or opening parenthesis (after processing \" 1 + \")"},
      {"1 2", true, false, "error in expression evaluation: expecting operator (after processing \"1 \")"},
      {"7/-2", true, true, "-3"},
      {"-7%3", true, true, "-1"},
      {"0xg", true, false, "error in expression evaluation: expecting operator (after processing \"0\")"},
      {"99999999999999999999", true, true, "9223372036854775807"},
      {"-(-3)", true, true, "3"},
      {"+4", true, true, "4"},
      {"~~5", true, true, "5"},
      {"2*-3", true, true, "-6"},
      {"(((1)))", true, true, "1"},
      {"((1)", true, false, "error in expression evaluation: expecting closing parenthesis (after processing \"((1)\")"},
      {"1+(2", true, false, "error in expression evaluation: expecting closing parenthesis (after processing \"1+(2\")"},
      {"12abc", true, false, "error in expression evaluation: expecting operator (after processing \"12\")"},
      {"1 - - 1", true, true, "2"},
      {"0x7fffffffffffffff", true, false, "error in expression evaluation: expecting operator (after processing \"0\")"},
      {"1 <<2", true, true, "4"},
  };
  for (const auto& c : cases)
    expect_result(eval(c.expr, c.decimal), c.ok, c.want, (c.decimal ? "eval10:" : "eval:") + c.expr);
}

struct ItemCase {
  std::string item;
  std::vector<std::string> args;
  std::string subject;
  bool ok;
  std::string want;
};

Result<std::string> run_item(const ItemCase& c) {
  auto second = [&]() -> std::optional<std::string_view> {
    if (c.args.size() < 2) return std::nullopt;
    return c.args[1];
  };
  if (c.item == "substr") return substr_item(c.subject, c.args[0], second());
  if (c.item == "length") return length(c.subject, c.args[0]);
  if (c.item == "hash") return hash_item(c.subject, c.args[0], second());
  if (c.item == "nhash") return nhash_item(c.subject, c.args[0], second());
  return hmac(c.args[0], c.args[1], c.subject);
}

TEST(Items, MatchExim) {
  const ItemCase cases[] = {
      {"substr", {"1", "2"}, "abcdef", true, "bc"},
      {"substr", {"-1"}, "abcdef", true, "abcde"},
      {"substr", {"a", "2"}, "abcdef", false, "\"a\" is not a number (in \"substr\" expansion)"},
      {"substr", {"1", "-2"}, "abcdef", false, "\"-2\" is not a positive number (in \"substr\" expansion)"},
      {"substr", {"", "2"}, "abcdef", true, "ab"},
      {"substr", {"1", ""}, "abcdef", true, ""},
      {"substr", {"-99999999999"}, "abc", true, ""},
      {"substr", {"-3", "2"}, "abcdef", true, "de"},
      {"substr", {"-10", "8"}, "abcdef", true, "abcd"},
      {"substr", {"10"}, "abcdef", true, ""},
      {"substr", {" 2"}, "abcdef", true, "cdef"},
      {"substr", {"2 "}, "abcdef", false, "\"2 \" is not a number (in \"substr\" expansion)"},
      {"length", {"2"}, "abc", true, "ab"},
      {"length", {"-1"}, "abc", false, "\"-1\" is not a positive number (in \"length\" expansion)"},
      {"length", {"+2"}, "abc", true, "ab"},
      {"length", {"0x2"}, "abc", false, "\"0x2\" is not a positive number (in \"length\" expansion)"},
      {"length", {"99999999999"}, "abc", true, "abc"},
      {"hash", {"3"}, "abcdef", true, "fmc"},
      {"hash", {"3", "5"}, "abcdef", true, "dda"},
      {"hash", {"3", "99"}, "abcdef", false, "hash count \"99\" too big"},
      {"hash", {"3", "62"}, "abcdefgh", true, "fGt"},
      {"hash", {"10"}, "abc", true, "abc"},
      {"hash", {"x"}, "abc", false, "\"x\" is not a number (in \"hash\" expansion)"},
      {"hash", {"3", "-1"}, "abcdef", false, "\"-1\" is not a positive number (in \"hash\" expansion)"},
      {"hash", {"0"}, "abc", true, ""},
      {"nhash", {"3"}, "abcdef", true, "0"},
      {"nhash", {"3", "5"}, "abcdef", true, "1/1"},
      {"nhash", {"8"}, "abcdef", true, "7"},
      {"nhash", {"8", "4"}, "abcdef", true, "1/3"},
      {"nhash", {"1000"}, "The quick brown fox", true, "143"},
      {"nhash", {"x"}, "a", false, "\"x\" is not a number (in \"nhash\" expansion)"},
      {"nhash", {"3", "x"}, "a", false, "\"x\" is not a positive number (in \"nhash\" expansion)"},
      {"hmac", {"md5", "key"}, "text", true, "d0ca6177c61c975fd2f8c07d8c6528c6"},
      {"hmac", {"sha1", "key"}, "text", true, "369e2959eb49450338b212748f77d8ded74847bb"},
      {"hmac", {"sha256", "key"}, "text", false, "hmac algorithm \"sha256\" is not recognised"},
      {"hmac", {"md5", "0123456789012345678901234567890123456789012345678901234567890123456789"}, "text", true, "4465ad82f6730b34d2ce78e4ca78a420"},
      {"hmac", {"sha1", ""}, "", true, "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d"},
      {"hmac", {"MD5", "k"}, "t", false, "hmac algorithm \"MD5\" is not recognised"},
  };
  for (const auto& c : cases) expect_result(run_item(c), c.ok, c.want, c.item + " of " + c.subject);
}

TEST(Items, EmptyStringMeansAbsentInTheShortForms) {
  EXPECT_EQ(*substr("abcdef", "2", ""), "cdef");
  EXPECT_EQ(*hash("abcdefgh", "3", ""), *hash_item("abcdefgh", "3", std::nullopt));
  EXPECT_EQ(*nhash("abcdef", "8", ""), "7");
}

TEST(Items, CrashCasesOfEximAreErrorsHere) {
  EXPECT_FALSE(nhash_values("abc", 0, -1).ok());
  EXPECT_FALSE(nhash_values("abc", 3, 0).ok());
  EXPECT_FALSE(hash_values("abcdef", 3, 0).ok());
  EXPECT_EQ(*hash_values("abc", 3, 0), "abc");  // too short to hash: unchanged
  EXPECT_FALSE(hash_values("abcdef", -3, -1).ok());
}

struct IntCase {
  std::string input;
  bool ok;
  std::string want;  // "ok" or the message
};

TEST(ParseInt, MessagesMatchExim) {
  // Oracle: ${if >{INPUT}{...}} (numeric comparison reads through the same code).
  const IntCase cases[] = {
      {"x", false, "integer expected but \"x\" found"},
      {"-5", true, "ok"},
      {"5x", false, "invalid integer \"5x\""},
      {"99999999999999999999", false, "absolute value of integer \"99999999999999999999\" is too large (overflow)"},
      {"12k", true, "ok"},
      {"12K ", true, "ok"},
      {" 7", true, "ok"},
      {"  ", true, "ok"},
      {"9223372036854775807k", false, "absolute value of integer \"9223372036854775807k\" is too large (overflow)"},
      {"1 2", false, "invalid integer \"1 2\""},
      {"0x10", false, "invalid integer \"0x10\""},
      {"-", false, "integer expected but \"-\" found"},
      {"3m", true, "ok"},
      {"2g", true, "ok"},
  };
  for (const auto& c : cases) {
    auto got = parse_int(c.input);
    ASSERT_EQ(got.ok(), c.ok) << c.input;
    if (!c.ok) {
      EXPECT_EQ(got.error().message, c.want) << c.input;
    }
  }
}

TEST(ParseInt, Values) {
  EXPECT_EQ(*parse_int("12k"), 12 * 1024);
  EXPECT_EQ(*parse_int("3m"), 3 * 1024 * 1024);
  EXPECT_EQ(*parse_int("2g"), 2LL * 1024 * 1024 * 1024);
  EXPECT_EQ(*parse_int("  "), 0);
  EXPECT_EQ(*parse_int(" 7 "), 7);
  EXPECT_EQ(*parse_int("-5"), -5);
  EXPECT_EQ(parse_int("-5", true).error().message, "non-negative integer expected but \"-5\" found");
  EXPECT_EQ(parse_int(" x", false).error().message, "integer expected but \"x\" found");
}

struct CryptCase {
  std::string plain;
  std::string stored;
  bool ok;
  std::string want;
};

TEST(Crypteq, MatchesExim) {
  const CryptCase cases[] = {
      {"abc", "{md5}kAFQmDzST7DWlj99KOF/cg==", true, "true"},
      {"abc", "{md5}900150983cd24fb0d6963f7d28e17f72", true, "true"},
      {"abc", "{MD5}900150983CD24FB0D6963F7D28E17F72", true, "true"},
      {"abc", "{md5}900150983cd24fb0d6963f7d28e17f7", true, "false"},
      {"abd", "{md5}kAFQmDzST7DWlj99KOF/cg==", true, "false"},
      {"abc", "{md5}kafqmdzst7dwlj99kof/cg==", true, "false"},
      {"abc", "{sha1}qZk+NkcGgWq6PiVxeFDCbJzQ2J0=", true, "true"},
      {"abc", "{sha1}a9993e364706816aba3e25717850c26c9cd0d89d", true, "true"},
      {"abc", "{sha256}ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=", false, "unknown encryption mechanism in \"{sha256}ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=\""},
      {"abc", "{foo}x", false, "unknown encryption mechanism in \"{foo}x\""},
      {"abc", "abFZSxKKdq5s6", true, "true"},
      {"abc", "{crypt}abFZSxKKdq5s6", true, "true"},
      {"abd", "abFZSxKKdq5s6", true, "false"},
      {"abc", "a", true, "false"},
      {"", "", true, "false"},
      {"abcdefghijkl", "{crypt16}abYH7TYgEKz2Qsx1Yikkf/7c", true, "true"},
      {"abcdefghijkX", "{crypt16}abYH7TYgEKz2Qsx1Yikkf/7c", true, "false"},
      {"abc", "{crypt}$1$salt$Ix0K7gMcCieLMZGthf6yT1", true, "true"},
      {"abc", "{crypt}$5$salt$xAbmSIArpYqWsnnMlsuwKzEyaXMLg.e0d.gjjUHRUC7", true, "false"},
  };
  for (const auto& c : cases) expect_result(crypteq(c.plain, c.stored), c.ok, c.want, c.stored);
}

TEST(Digests, HexForms) {
  // Oracle: ${md5:abc}, ${sha1:abc} (upper case there), ${sha256:abc}.
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(digest("sha3-256", "abc"), true),
            "3A985DA74FE225B2045C172D6BD390BD855F086E3E9D525B46BFE24511431532");
}

TEST(Base64, EncodeDecode) {
  EXPECT_EQ(base64_encode("abc"), "YWJj");
  EXPECT_EQ(base64_encode("ab"), "YWI=");
  EXPECT_EQ(base64_encode("a"), "YQ==");
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(*base64_decode("Y W J j"), "abc");
  EXPECT_EQ(*base64_decode("YWJjZA=="), "abcd");
  EXPECT_FALSE(base64_decode("YWI").has_value());
  EXPECT_FALSE(base64_decode("YQ==YQ==").has_value());
  EXPECT_FALSE(base64_decode("YWJjZA=").has_value());
  EXPECT_EQ(*base64_decode(""), "");
}

}  // namespace
}  // namespace tern::text
