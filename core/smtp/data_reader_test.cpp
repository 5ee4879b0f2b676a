// core/smtp/data_reader_test.cpp: DATA/BDAT content, every smuggling variant.
// Expected stored forms were read back from the reference Exim (Debian
// 4.96-15+deb12u11, which carries the 4.97.1 fix) with `exim -Mvh/-Mvb`.
#include "core/smtp/data_reader.hpp"

#include <gtest/gtest.h>

namespace tern::smtp {
namespace {

struct DataRun {
  std::string out;
  size_t used;
  bool done;
  MessageStats stats;
};

// Feeds `in` one byte at a time and all at once; both must agree.
DataRun read_data(std::string_view in, uint64_t limit = 0) {
  MessageReader a(MessageReader::Framing::kData, limit), b(MessageReader::Framing::kData, limit);
  size_t used_a = 0;
  for (size_t i = 0; i < in.size() && !a.done(); ++i) used_a += a.feed(in.substr(i, 1));
  size_t used_b = b.feed(in);
  EXPECT_EQ(used_a, used_b) << in;
  EXPECT_EQ(a.output(), b.output()) << in;
  return {b.take(), used_b, b.done(), b.stats()};
}

struct Case {
  const char* name;
  std::string in;
  std::string out;   // the stored form
  std::string rest;  // what follows the end (the next command), "" if all used
};

TEST(DataReader, SmugglingAndLineEndings) {
  const Case cases[] = {
      {"plain", "Subject: t\r\n\r\nbody\r\n.\r\nQUIT\r\n", "Subject: t\n\nbody\n", "QUIT\r\n"},
      {"LF.LF in CRLF message", "Subject: t\r\n\r\nline1\n.\nMAIL FROM:<x@y>\r\n.\r\n",
       "Subject: t\n\nline1 . MAIL FROM:<x@y>\n", ""},
      {"CRLF.LF", "Subject: t\r\n\r\nl1\r\n.\nl2\r\n.\r\n", "Subject: t\n\nl1\n l2\n", ""},
      {"LF.CRLF", "Subject: t\r\n\r\nl1\n.\r\nl2\r\n.\r\n", "Subject: t\n\nl1 .\nl2\n", ""},
      {"LF-only message ends at LF.LF", "Subject: t\n\nl1\n.\nMAIL FROM:<x@y>\n",
       "Subject: t\n\nl1\n", "MAIL FROM:<x@y>\n"},
      {"bare CR and dot stuffing", "Subject: t\r\n\r\na\rb\r\n..dot\r\n.\r\n",
       "Subject: t\n\na\nb\n.dot\n", ""},
      {"CR after the dot", "Subject: t\r\n\r\nx\r\n.\r\r\n.\r\n", "Subject: t\n\nx\n\n\n", ""},
      {"bare LF in a header folds", "Subject: t\r\nX: a\nY: b\r\n\r\nbody\r\n.\r\n",
       "Subject: t\nX: a\n Y: b\n\nbody\n", ""},
      {"bare CR in a header folds", "Subject: t\r\nX: a\rY: b\r\n\r\nbody\r\n.\r\n",
       "Subject: t\nX: a\n Y: b\n\nbody\n", ""},
      {"dot LF in the headers", "Subject: t\r\n.\nMAIL FROM:<x@y>\r\n.\r\n",
       "Subject: t\n\n MAIL FROM:<x@y>\n", ""},
      {"empty body", "Subject: t\r\n.\r\n", "Subject: t\n", ""},
      {"LF-only headers end", "Subject: t\nX: a\r\n.\n", "Subject: t\nX: a\n", ""},
      {"empty message", ".\r\nNOOP\r\n", "", "NOOP\r\n"},
      {"smuggled CRLF.CR", "S: t\r\n\r\na\r\n.\rMAIL\r\n.\r\n", "S: t\n\na\n\nMAIL\n", ""},
  };
  for (const auto& c : cases) {
    DataRun r = read_data(c.in);
    EXPECT_TRUE(r.done) << c.name;
    EXPECT_EQ(r.out, c.out) << c.name;
    EXPECT_EQ(std::string(c.in).substr(r.used), c.rest) << c.name;
  }
}

TEST(DataReader, NeverEndsWithoutCrlfDotCrlfInCrlfMode) {
  for (std::string tail : {"\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r", "\n.\r\r\n"}) {
    DataRun r = read_data("Subject: t\r\n\r\nx" + tail + "MAIL FROM:<e@vil>\r\n");
    EXPECT_FALSE(r.done) << tail;
  }
}

TEST(DataReader, Counts) {
  std::string in =
      std::string("Subject: t\r\n\r\nab\r\nabcd\r\n", 24) + std::string("\0x\r\n", 4) + ".\r\n";
  DataRun s = read_data(in);
  EXPECT_EQ(s.stats.body_linecount, 3u);
  EXPECT_EQ(s.stats.max_received_linelength, 4u);
  EXPECT_EQ(s.stats.body_zerocount, 1u);
  EXPECT_EQ(s.stats.header_size, 12u);
  EXPECT_EQ(s.stats.message_size, s.out.size());
  EXPECT_TRUE(s.stats.crlf_mode);
}

TEST(DataReader, NonHeaderLineStartsTheBody) {
  DataRun r = read_data("not a header\r\nSubject: x\r\n.\r\n");
  EXPECT_EQ(r.out, "not a header\nSubject: x\n");
  EXPECT_EQ(r.stats.header_size, 0u);
  EXPECT_EQ(r.stats.body_linecount, 2u);
}

TEST(DataReader, SizeLimit) {
  DataRun r = read_data("Subject: t\r\n\r\n0123456789\r\n.\r\nNOOP\r\n", 15);
  EXPECT_TRUE(r.done);
  EXPECT_TRUE(r.stats.too_big);
  EXPECT_LE(r.out.size(), 15u);
}

TEST(BdatReader, NoDotsAndMissingNewline) {
  MessageReader m(MessageReader::Framing::kBdat);
  std::string in = "Subject: t\r\n\r\n.x\r\n.\r\nlast";
  EXPECT_EQ(m.feed(in), in.size());
  m.finish();
  EXPECT_EQ(m.take(), "Subject: t\n\n.x\n.\nlast\n");
  EXPECT_EQ(m.stats().body_linecount, 3u);
}

TEST(BdatReader, TrailingCr) {
  MessageReader m(MessageReader::Framing::kBdat);
  m.feed("S: t\r\n\r\nx\r");
  m.finish();
  EXPECT_EQ(m.take(), "S: t\n\nx\n");
}

}  // namespace
}  // namespace tern::smtp
