// core/lookup/lookup_test.cpp: lookup types, lookup names and the Searcher.
//
// Expected values were produced by the reference Exim 4.96
// (scripts/exim-ref.sh exim -C conf -be '${lookup{KEY}TYPE{FILE}{[$value]}{no}}')
// against copies of the fixture files in core/lookup/testdata/.
#include "core/lookup/lookup.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

namespace tern::lookup {
namespace {

const std::string kData = std::string(TERN_SOURCE_DIR) + "/core/lookup/testdata/";

struct Row {
  const char* type;  // as written between } and { in ${lookup}
  const char* file;  // under testdata/
  const char* key;
  const char* want;  // nullptr: not found
};

class LookupTest : public ::testing::Test {
 protected:
  Found run(std::string_view type, std::string_view file, std::string_view key,
            std::string* matched = nullptr, PartialVars* vars = nullptr) {
    auto spec = parse_lookup_name(registry_, type);
    EXPECT_TRUE(spec.ok()) << type << ": " << (spec.ok() ? "" : spec.error().message);
    if (!spec.ok()) return Found::defer("bad spec");
    return searcher_.find(spec.value(), file, key, matched, vars);
  }
  Registry registry_ = Registry::with_core_types();
  Searcher searcher_{registry_};
};

// Checked against Exim 4.96 (see the file comment).
const Row kRows[] = {
    {"lsearch", "basic.lsearch", "abc", "data1"},
    {"lsearch", "basic.lsearch", "ABC", "data1"},
    {"lsearch", "basic.lsearch", "key2", "data2"},
    {"lsearch", "basic.lsearch", "quoted:key\t", "qdata"},
    {"lsearch", "basic.lsearch", "k3", ""},
    {"lsearch", "basic.lsearch", "k4", "line1 line2"},
    {"lsearch", "basic.lsearch", "k5", "spaced"},
    {"lsearch", "basic.lsearch", "colon", "key: ck"},
    {"lsearch", "basic.lsearch", "x.b.c", nullptr},
    {"lsearch", "basic.lsearch", "", nullptr},
    {"partial-lsearch", "basic.lsearch", "x.b.c", "star-bc"},
    {"partial-lsearch", "basic.lsearch", "a.x.b.c", "star-bc"},
    {"partial(*.)lsearch", "basic.lsearch", "x.b.c", "star-bc"},
    {"partial2(*.)lsearch", "basic.lsearch", "x.b.c", "star-bc"},
    {"partial3-lsearch", "basic.lsearch", "x.b.c", nullptr},
    {"partial0-lsearch", "basic.lsearch", "x.b.c", "star-bc"},
    {"partial-lsearch*@", "basic.lsearch", "abc", "data1"},
    {"lsearch*@", "basic.lsearch", "u@x.y", "staratxy"},
    {"lsearch*@", "basic.lsearch", "u@x.z", "star"},
    {"lsearch*x", "basic.lsearch", "abc", "data1"},
    {"lsearch,ret=key", "basic.lsearch", "abc", "abc"},
    {"lsearch*,ret=key", "basic.lsearch", "abc", "abc"},
    {"lsearch*,ret=key", "basic.lsearch", "zzz", "zzz"},
    // ret=full: the entry's key as read (unquoted), the rest of its line
    // and the joined continuation lines; ret=key wins.
    {"lsearch,ret=full", "basic.lsearch", "abc", "abc: data1"},
    {"lsearch,ret=full", "basic.lsearch", "KEY2", "Key2   data2"},
    {"lsearch,ret=full", "basic.lsearch", "k3", "k3:"},
    {"lsearch,ret=full", "basic.lsearch", "k4", "k4: line1 line2"},
    {"lsearch,ret=full", "basic.lsearch", "k5", "k5:   spaced"},
    {"lsearch,ret=full", "basic.lsearch", "colon", "colon:key: ck"},
    {"lsearch*,ret=full", "basic.lsearch", "zzz", "*: star"},
    {"lsearch*@,ret=full", "basic.lsearch", "u@x.y", "*@x.y: staratxy"},
    {"partial-lsearch,ret=full", "basic.lsearch", "x.b.c", "*.b.c: star-bc"},
    {"lsearch,ret=full,ret=key", "basic.lsearch", "abc", "abc"},
    {"nwildlsearch,ret=full", "wild.lsearch", "ABBC", "^ab+c$: regex"},
    {"nwildlsearch,ret=full", "wild.lsearch", "other", "!neg: negated"},
    {"iplsearch,ret=full", "nets.iplsearch", "192.168.4.5", "192.168.0.0/16: net16"},
    {"iplsearch,ret=full", "nets.iplsearch", "10.1.2.3", "10.1.2.3 host10"},
    {"iplsearch,ret=full", "nets.iplsearch", "2001:db8::1", "2001:db8::/32 v6net"},
    {"lsearch,foo=bar", "basic.lsearch", "abc", "data1"},
    {"lsearch,cache=no_rd", "basic.lsearch", "abc", "data1"},
    {"nwildlsearch", "wild.lsearch", "ABBC", "regex"},
    {"nwildlsearch", "wild.lsearch", "x.Wild.example", "starsuffix"},
    {"nwildlsearch", "wild.lsearch", "EXACT.example", "negated"},
    {"nwildlsearch", "wild.lsearch", "neg", nullptr},
    {"nwildlsearch", "wild.lsearch", "other", "negated"},
    {"iplsearch", "nets.iplsearch", "192.168.4.5", "net16"},
    {"iplsearch", "nets.iplsearch", "2001:db8::1", "v6net"},
    {"iplsearch", "nets.iplsearch", "10.1.2.3", "host10"},
    {"iplsearch", "nets.iplsearch", "10.1.2.4", nullptr},
    {"iplsearch", "nets.iplsearch", "*", "ipstar"},
    {"dsearch", "dir", "file1", "file1"},
    {"dsearch", "dir", "FILE1", nullptr},
    {"dsearch,filter=file", "dir", "sub", nullptr},
    {"dsearch,filter=file", "dir", "file1", "file1"},
    {"dsearch,filter=file", "dir", "link1", nullptr},
    {"dsearch,filter=dir", "dir", "sub", "sub"},
    {"dsearch,filter=dir", "dir", ".", "."},
    {"dsearch,filter=subdir", "dir", ".", nullptr},
    {"dsearch,filter=subdir", "dir", "..", nullptr},
    {"dsearch,filter=subdir", "dir", "sub", "sub"},
    {"dsearch,filter=bad", "dir", "file1", "file1"},
    {"dsearch,ret=bad", "dir", "file1", "file1"},
};

TEST_F(LookupTest, Table) {
  for (const Row& r : kRows) {
    Found f = run(r.type, kData + r.file, r.key);
    SCOPED_TRACE(std::string(r.type) + " " + r.file + " key=" + r.key);
    if (r.want) {
      ASSERT_EQ(f.status, Found::Status::kFound) << f.error;
      EXPECT_EQ(f.data, r.want);
    } else {
      EXPECT_EQ(f.status, Found::Status::kNotFound) << f.data << f.error;
    }
  }
}

TEST_F(LookupTest, DsearchRetFull) {
  Found f = run("dsearch,ret=full", kData + "dir", "file1");
  ASSERT_EQ(f.status, Found::Status::kFound);
  EXPECT_EQ(f.data, kData + "dir/file1");
}

// Exim's texts for bad lookup names (checked against Exim 4.96; dnsdb there
// stands for any query-style type, here a fake one).
TEST(LookupName, Errors) {
  struct QueryType final : LookupType {
    std::string_view name() const override { return "dnsdb"; }
    Style style() const override { return Style::kQuery; }
    Result<std::unique_ptr<Handle>> open(std::string_view) override { return std::make_unique<Handle>(); }
    Found find(Handle&, std::string_view, std::string_view, std::string_view) override {
      return Found::not_found();
    }
  };
  Registry reg = Registry::with_core_types();
  ASSERT_TRUE(reg.add(std::make_unique<QueryType>()).ok());
  struct {
    const char* written;
    const char* error;
  } rows[] = {
      {"foo", "unknown lookup type \"foo\""},
      {"partialx-lsearch", "format error in lookup type \"partialx-lsearch\""},
      {"partial(xy)-lsearch", "format error in lookup type \"partial(xy)-lsearch\""},
      {"partial(xy-lsearch", "format error in lookup type \"partial(xy-lsearch\""},
      {"partial()-lsearch", "unknown lookup type \"-lsearch\""},
      {"partial(*.)-lsearch", "unknown lookup type \"-lsearch\""},
      {"partial-dnsdb", "\"partial\" is not permitted for lookup type \"dnsdb\""},
      {"dnsdb*", "defaults using \"*\" or \"*@\" are not permitted for lookup type \"dnsdb*\""},
  };
  for (const auto& r : rows) {
    auto spec = parse_lookup_name(reg, r.written);
    ASSERT_FALSE(spec.ok()) << r.written;
    EXPECT_EQ(spec.error().message, r.error);
  }
  Status dup = reg.add(std::make_unique<QueryType>());
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().message, "lookup type \"dnsdb\" is already registered");
}

TEST(LookupName, Parts) {
  Registry reg = Registry::with_core_types();
  auto s = parse_lookup_name(reg, "partial3(.)lsearch*@,ret=key,cache=no_rd");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->type->name(), "lsearch");
  EXPECT_EQ(s->partial, 3);
  EXPECT_EQ(s->partial_prefix, ".");
  EXPECT_TRUE(s->star_at);
  EXPECT_FALSE(s->star);
  EXPECT_EQ(s->opts, "ret=key,cache=no_rd");
  auto d = parse_lookup_name(reg, "partial-lsearch");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->partial, 2);
  EXPECT_EQ(d->partial_prefix, "*.");
}

// Error texts, checked against Exim 4.96: open failures fail the expansion
// as they are; find defers become "lookup of "k" gave DEFER: <text>".
TEST_F(LookupTest, ErrorTexts) {
  Found f = run("lsearch", "f1", "abc");
  EXPECT_TRUE(f.open_failed);
  EXPECT_EQ(f.error, "failed to open f1 for linear search: No such file or directory");
  f = run("lsearch", kData + "nofile", "abc");
  EXPECT_EQ(f.error, "failed to open " + kData + "nofile for linear search: No such file or directory");
  f = run("lsearch", kData + "dir", "x");
  EXPECT_TRUE(f.open_failed);
  EXPECT_EQ(f.error, kData + "dir is not a regular file (lsearch lookup)");
  f = run("dsearch", kData + "nodir", "x");
  EXPECT_EQ(f.error, "failed to open " + kData + "nodir for directory search: No such file or directory");
  f = run("dsearch", kData + "basic.lsearch", "x");
  EXPECT_EQ(f.error, "failed to open " + kData + "basic.lsearch for directory search: Not a directory");
  f = run("dsearch", kData + "dir", "a/b");
  EXPECT_EQ(f.status, Found::Status::kDefer);
  EXPECT_FALSE(f.open_failed);
  EXPECT_EQ(f.error, "key for dsearch lookup contains a slash: a/b");
  for (const char* key : {"abc", "192.168.0.0/16"}) {
    f = run("iplsearch", kData + "nets.iplsearch", key);
    EXPECT_EQ(f.status, Found::Status::kDefer);
    EXPECT_EQ(f.error, "\"" + std::string(key) +
                           "\" is not a valid iplsearch key (an IP address, with optional CIDR mask, is "
                           "wanted): in a host list, use net-iplsearch as the search type");
  }
}

// $1/$2 after partial and default matches (Exim 4.96:
// ${lookup{x.b.c}partial-lsearch{f}{[$1][$2]}} gives [x][b.c]).
TEST_F(LookupTest, PartialVars) {
  struct {
    const char* type;
    const char* key;
    const char* matched;
    const char* wild;
    const char* fixed;
  } rows[] = {
      {"partial-lsearch", "x.b.c", "*.b.c", "x", "b.c"},
      {"partial-lsearch", "b.c", "b.c", "", "b.c"},
      {"lsearch*@", "u@x.y", "*@x.y", "u", ""},
      {"lsearch*", "qq", "*", "qq", ""},
  };
  for (const auto& r : rows) {
    std::string matched;
    PartialVars vars;
    Found f = run(r.type, kData + "basic.lsearch", r.key, &matched, &vars);
    ASSERT_EQ(f.status, Found::Status::kFound) << r.key;
    EXPECT_EQ(matched, r.matched);
    EXPECT_TRUE(vars.set);
    EXPECT_EQ(vars.wild, r.wild) << r.key;
    EXPECT_EQ(vars.fixed, r.fixed) << r.key;
  }
}

TEST_F(LookupTest, WildlsearchExpandsKeys) {
  Registry reg = Registry::with_core_types([](std::string_view s) -> Result<std::string> {
    if (s == "^ab+c$") return Error::failed("$ not followed by letter, digit, or {");
    return std::string(s);
  });
  Searcher searcher(reg);
  auto spec = parse_lookup_name(reg, "wildlsearch");
  ASSERT_TRUE(spec.ok());
  // Exim 4.96: lookup of "abc" gave DEFER: (empty message)
  Found f = searcher.find(spec.value(), kData + "wild.lsearch", "abc");
  EXPECT_EQ(f.status, Found::Status::kDefer);
  EXPECT_EQ(f.error, "");
}

std::string temp_file(const std::string& content) {
  char name[] = "/tmp/tern_lookup_XXXXXX";
  int fd = mkstemp(name);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  close(fd);
  return name;
}

TEST_F(LookupTest, RereadsChangedFile) {
  std::string path = temp_file("a: 1\n");
  EXPECT_EQ(run("lsearch", path, "a").data, "1");
  {
    std::ofstream out(path, std::ios::trunc);
    out << "a: 2\nb: 3\n";
  }
  EXPECT_EQ(run("lsearch", path, "b").data, "3");
  // The result cache keeps an answer until tidyup, as in Exim.
  EXPECT_EQ(run("lsearch", path, "a").data, "1");
  EXPECT_EQ(run("lsearch,cache=no_rd", path, "a").data, "2");
  searcher_.tidyup();
  EXPECT_EQ(run("lsearch", path, "a").data, "2");
  std::remove(path.c_str());
}

// 100,000 lookups in a 10,000-key file must not scan the file each time.
// 100,000 lookups in a 10,000-line file, each answered right (hits and misses, any
// case). How fast the index makes them is the lookup benchmark's business (README).
TEST_F(LookupTest, IndexedLookupAnswersEveryKey) {
  std::string content;
  for (int i = 0; i < 10000; ++i) content += "key" + std::to_string(i) + ": value" + std::to_string(i) + "\n";
  std::string path = temp_file(content);
  auto spec = parse_lookup_name(registry_, "lsearch");
  ASSERT_TRUE(spec.ok());
  for (int i = 0; i < 100000; ++i) {
    std::string key = "KEY" + std::to_string((i * 7919) % 12000);
    Found f = searcher_.find(spec.value(), path, key);
    if ((i * 7919) % 12000 < 10000) {
      ASSERT_EQ(f.status, Found::Status::kFound);
    } else {
      ASSERT_EQ(f.status, Found::Status::kNotFound);
    }
  }
  std::remove(path.c_str());
}

// A query type whose "write" changes what "read" answers, as an SQL
// table would: reads are cacheable, writes are not.
class CounterType final : public LookupType {
 public:
  std::string_view name() const override { return "counter"; }
  Style style() const override { return Style::kQuery; }
  Result<std::unique_ptr<Handle>> open(std::string_view) override {
    return std::unique_ptr<Handle>(new Handle);
  }
  Found find(Handle&, std::string_view, std::string_view key, std::string_view) override {
    if (key == "write") return Found::found(std::to_string(++n_), false);
    if (key == "write nothing") {
      Found f = Found::not_found();
      f.cacheable = false;
      return f;
    }
    return Found::found("n=" + std::to_string(n_));
  }

 private:
  int n_ = 0;
};

// Exim 4.96 (search.c): an answer that must not be cached (mysql and pgsql
// after INSERT, UPDATE, DELETE) also empties the cache of its lookup type,
// so a read after a write is asked again; a write is never answered from
// the cache.
TEST(Searcher, AnUncacheableAnswerEmptiesTheCache) {
  Registry reg = Registry::with_core_types();
  ASSERT_TRUE(reg.add(std::make_unique<CounterType>()).ok());
  Searcher searcher(reg);
  auto spec = parse_lookup_name(reg, "counter");
  ASSERT_TRUE(spec.ok());
  auto query = [&](std::string_view q) { return searcher.query(spec.value(), q).data; };
  EXPECT_EQ(query("read"), "n=0");
  EXPECT_EQ(query("write"), "1");
  EXPECT_EQ(query("write"), "2");
  EXPECT_EQ(query("read"), "n=2");
  EXPECT_EQ(query("read"), "n=2");  // cached again
  EXPECT_EQ(query("write"), "3");
  EXPECT_EQ(query("write nothing"), "");
  EXPECT_EQ(query("read"), "n=3");
}

}  // namespace
}  // namespace tern::lookup
