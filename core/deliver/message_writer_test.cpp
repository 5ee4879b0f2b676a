// core/deliver/message_writer_test.cpp: the line rules of write_message().
#include "core/deliver/message_writer.hpp"

#include <gtest/gtest.h>

namespace tern::deliver {
namespace {

std::string written(const Message& m, const WriteOptions& o) {
  std::string out;
  std::int64_t bytes = 0;
  auto st = write_message(m, o, [&](std::string_view s) -> Status { out += s; return {}; }, &bytes);
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(bytes, static_cast<std::int64_t>(out.size()));
  return out;
}

Message sample(std::string_view body) {
  Message m;
  m.headers = {"From: a@b\n", "Subject: x\n y\n"};
  m.body = body;
  return m;
}

TEST(MessageWriter, PlainWritesHeadersBlankLineBody) {
  EXPECT_EQ(written(sample("hello\n"), {}), "From: a@b\nSubject: x\n y\n\nhello\n");
}

TEST(MessageWriter, CrlfAndDotStuffingAndEndDot) {
  WriteOptions o;
  o.crlf = o.dot_stuff = o.end_dot = true;
  EXPECT_EQ(written(sample(".x\n..\nend"), o),
            "From: a@b\r\nSubject: x\r\n y\r\n\r\n..x\r\n...\r\nend\r\n.\r\n");
}

TEST(MessageWriter, MboxEscapeAfterNewlinesOnly) {
  WriteOptions o;
  o.check_string = "From ";
  o.escape_string = ">From ";
  Message m;
  m.headers = {"From x\n"};  // the first line: never checked, as Exim
  m.body = "From me\nFrom\nFro\nxFrom y\nFrom ";
  EXPECT_EQ(written(m, o), "From x\n\n>From me\nFrom\nFro\nxFrom y\n>From ");
}

TEST(MessageWriter, SinkErrorStops) {
  Message m = sample("b\n");
  int calls = 0;
  auto st = write_message(m, {}, [&](std::string_view) -> Status {
    ++calls;
    return Error::failed("disk full");
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "disk full");
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace tern::deliver
