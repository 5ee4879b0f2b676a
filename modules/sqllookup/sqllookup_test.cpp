// modules/sqllookup/sqllookup_test.cpp: the parts the SQL modules share, on
// their own: trying the servers in turn (lf_sqlperform), the server item
// split, and the result text (lf_quote and the row rules). Lists and the
// pool are tested in lookup_servers/lookup_servers_test.cpp.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "result_text.hpp"
#include "servers.hpp"

namespace tern::sqllookup {
namespace {

using Items = std::vector<std::string>;

TEST(ServerItem, SplitAtTheLastThreeSlashes) {
  std::string error;
  auto f = split_server("(/run/pg/.s.PGSQL.5432)/mail/exim/pw", "pgSQL", error);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->host, "(/run/pg/.s.PGSQL.5432)");
  EXPECT_EQ(f->database, "mail");
  EXPECT_EQ(f->user, "exim");
  EXPECT_EQ(f->password, "pw");
  EXPECT_EQ(f->sans_password, "(/run/pg/.s.PGSQL.5432)/mail/exim");
  f = split_server("h//u/", "MySQL", error);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->host, "h");
  EXPECT_EQ(f->database, "");
  EXPECT_EQ(f->password, "");
}

TEST(ServerItem, IncompleteItemsInEximsWords) {
  struct Case {
    const char* item;
    const char* want;
  } cases[] = {
      {"host", "incomplete pgSQL server data: host"},
      {"a/b", "incomplete pgSQL server data: a"},
      {"x/y/z", "incomplete pgSQL server data: x/y"},  // without the password
      {"127.0.0.1:5432/db/", "incomplete pgSQL server data: 127.0.0.1:5432/db"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(split_server(c.item, "pgSQL", error)) << c.item;
    EXPECT_EQ(error, c.want);
  }
}

// A fake server run: records the calls; answers by server name.
struct Recorder {
  std::vector<std::pair<std::string, std::string>> calls;  // (query, server)
  std::map<std::string, Outcome> answers;
  PerformFn fn() {
    return [this](std::string_view q, std::string_view s) {
      calls.emplace_back(q, s);
      auto it = answers.find(std::string(s));
      return it != answers.end() ? it->second : Outcome::defer("refused by " + std::string(s));
    };
  }
};

const Flavor kPg{"PostgreSQL", "pgsql_servers"};

TEST(ChoiceOfServers, MainOptionInOrderUntilOneAnswers) {
  Recorder r;
  r.answers["b/d/u/p"] = Outcome::found("data");
  Outcome o = perform_on_servers(kPg, "a/d/u/p : b/d/u/p : c/d/u/p", "select 1", "", r.fn());
  EXPECT_EQ(o.kind, Outcome::Kind::kFound);
  EXPECT_EQ(o.data, "data");
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0], std::make_pair(std::string("select 1"), std::string("a/d/u/p")));
}

TEST(ChoiceOfServers, AllDeferTheLastReasonWins) {
  Recorder r;
  Outcome o = perform_on_servers(kPg, "a/d/u/p : b/d/u/p", "q", "", r.fn());
  EXPECT_EQ(o.kind, Outcome::Kind::kDefer);
  EXPECT_EQ(o.error, "refused by b/d/u/p");
}

TEST(ChoiceOfServers, NotFoundIsAnAnswer) {
  Recorder r;
  r.answers["a/d/u/p"] = Outcome::not_found(true);
  Outcome o = perform_on_servers(kPg, "a/d/u/p : b/d/u/p", "q", "", r.fn());
  EXPECT_EQ(o.kind, Outcome::Kind::kNotFound);
  EXPECT_TRUE(o.no_cache);
  EXPECT_EQ(r.calls.size(), 1u);
}

TEST(ChoiceOfServers, AStoppingDeferralEndsTheList) {
  Recorder r;
  r.answers["a/d/u/p"] = Outcome::defer("malformed", true);
  Outcome o = perform_on_servers(kPg, "a/d/u/p : b/d/u/p", "q", "", r.fn());
  EXPECT_EQ(o.error, "malformed");
  EXPECT_EQ(r.calls.size(), 1u);
}

TEST(ChoiceOfServers, NoServers) {
  Recorder r;
  Outcome o = perform_on_servers(kPg, std::nullopt, "q", "", r.fn());
  EXPECT_EQ(o.kind, Outcome::Kind::kDefer);
  EXPECT_EQ(o.error, "no PostgreSQL servers defined (pgsql_servers option)");
  o = perform_on_servers(kPg, std::nullopt, "q", "cache=no_rd", r.fn());
  EXPECT_EQ(o.error, "no PostgreSQL servers defined (pgsql_servers option)");
  EXPECT_TRUE(r.calls.empty());
}

TEST(ChoiceOfServers, ServersOptionOfTheLookup) {
  Recorder r;
  r.answers["h:5432/d/u/p"] = Outcome::found("named");
  r.answers["x/d/u/p"] = Outcome::found("full");
  const std::string main = "h::5432/d/u/p : other/d/u/p";
  // A bare name is the main option's item that starts with "name/".
  Outcome o = perform_on_servers(kPg, main, "q", "servers=h::5432", r.fn());
  EXPECT_EQ(o.data, "named");
  // A full item needs no main option; the first servers= counts.
  o = perform_on_servers(kPg, std::nullopt, "q", "cache=no_rd,servers=x/d/u/p,servers=y/d/u/p", r.fn());
  EXPECT_EQ(o.data, "full");
  o = perform_on_servers(kPg, main, "q", "servers=h", r.fn());
  EXPECT_EQ(o.error, "PostgreSQL server \"h\" not found in pgsql_servers");
  // An empty list: no attempt, no reason (as Exim).
  o = perform_on_servers(kPg, main, "q", "servers=", r.fn());
  EXPECT_EQ(o.kind, Outcome::Kind::kDefer);
  EXPECT_EQ(o.error, "");
}

TEST(ChoiceOfServers, ServersPrefixOfTheQuery) {
  Recorder r;
  r.answers["h:1/d/u/p"] = Outcome::found("old form");
  Outcome o = perform_on_servers(kPg, std::nullopt, "servers = h::1/d/u/p ; select 1", "", r.fn());
  EXPECT_EQ(o.data, "old form");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].first, " select 1");
  // The prefix's own syntax errors: lookup_servers_test.cpp; a name is
  // resolved when its turn comes.
  EXPECT_EQ(perform_on_servers(kPg, "a/b/c/d", "servers=nohost;select 1", "", r.fn()).error,
            "PostgreSQL server \"nohost\" not found in pgsql_servers");
}

TEST(ResultText, FieldsQuotedAsLfQuote) {
  struct Case {
    const char* value;  // null: SQL NULL
    const char* want;
  } cases[] = {
      {"plain", "n=plain "},
      {"", "n=\"\" "},
      {nullptr, "n=\"\" "},
      {"has space", "n=\"has space\" "},
      {"tab\there", "n=\"tab\there\" "},
      {"\"starts", "n=\"\\\"starts\" "},
      {"in\"side", "n=in\"side "},  // a quote inside alone does not quote
      {"back\\slash", "n=back\\slash "},
      {"back\\ slash \"", "n=\"back\\\\ slash \\\"\" "},
  };
  for (const auto& c : cases) {
    std::string out;
    append_field(out, "n", c.value, c.value ? std::strlen(c.value) : 0);
    EXPECT_EQ(out, c.want) << (c.value ? c.value : "(null)");
  }
}

Cell cell(const char* s) { return s ? Cell{s, std::strlen(s)} : Cell{}; }

std::string single_rows(SingleNull rule, std::vector<const char*> values, bool* found) {
  RowsText rows(rule);
  const std::string_view names[] = {"x"};
  for (const char* v : values) {
    const Cell c[] = {cell(v)};
    rows.add_row(names, c);
  }
  *found = rows.found();
  return rows.take();
}

TEST(ResultText, OneColumnRowsAndTheirNulls) {
  bool found = false;
  EXPECT_EQ(single_rows(SingleNull::kEmptyRow, {"a", "b"}, &found), "a\nb");
  EXPECT_EQ(single_rows(SingleNull::kEmptyRow, {nullptr, "b"}, &found), "\nb");
  EXPECT_EQ(single_rows(SingleNull::kEmptyRow, {nullptr}, &found), "");
  EXPECT_TRUE(found);  // pgsql: a NULL row is an empty value
  // mysql: a NULL adds nothing, not even its row's newline when first.
  EXPECT_EQ(single_rows(SingleNull::kNothing, {nullptr, "b"}, &found), "b");
  EXPECT_EQ(single_rows(SingleNull::kNothing, {"b", nullptr, "c"}, &found), "b\n\nc");
  EXPECT_EQ(single_rows(SingleNull::kNothing, {nullptr, nullptr}, &found), "");
  EXPECT_FALSE(found);
  EXPECT_EQ(single_rows(SingleNull::kNothing, {"", "b"}, &found), "\nb");
  EXPECT_TRUE(found);
  EXPECT_EQ(single_rows(SingleNull::kNothing, {}, &found), "");
  EXPECT_FALSE(found);
}

TEST(ResultText, SeveralColumnsAndCounts) {
  RowsText rows(SingleNull::kNothing);
  const std::string_view names[] = {"id", "note"};
  const Cell r1[] = {cell("1"), cell(nullptr)};
  const Cell r2[] = {cell("2"), cell("a b")};
  rows.add_row(names, r1);
  rows.add_row(names, r2);
  EXPECT_TRUE(rows.found());
  EXPECT_EQ(rows.take(), "id=1 note=\"\" \nid=2 note=\"a b\" ");

  RowsText count(SingleNull::kEmptyRow);
  count.add_count("");  // pgsql's count of a CREATE: nothing
  EXPECT_FALSE(count.found());
  count.add_count("3");
  EXPECT_TRUE(count.found());
  EXPECT_EQ(count.take(), "3");
}

TEST(ResultText, DataEndsAtANul) {
  RowsText rows(SingleNull::kNothing);
  const std::string_view names[] = {"x"};
  const char bytes[] = {'a', '\0', 'b'};
  const Cell c[] = {Cell{bytes, 3}};
  rows.add_row(names, c);
  EXPECT_EQ(rows.take(), "a");
}

}  // namespace
}  // namespace tern::sqllookup
