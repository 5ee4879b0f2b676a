// core/lookup/match_test.cpp: list matching for every list kind.
//
// Each row's expectation was produced by the reference Exim 4.96 with
// ${if match_domain{S}{LIST}{y}{n}} (match_address, match_local_part,
// match_ip likewise) and a configuration with
//   primary_hostname = test.example
//   domainlist dl = a.b : c.d
//   hostlist hl = 1.2.3.4
//   localpartlist cf = +caseful : xyz
// and copies of core/lookup/testdata/ ("@D/" below stands for that path).
// Rows marked "no-DNS" depend on tern doing no DNS in list matching.
#include "core/lookup/match.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace tern::lookup {
namespace {

const std::string kData = std::string(TERN_SOURCE_DIR) + "/core/lookup/testdata/";

std::string with_data(std::string s) {
  for (size_t p; (p = s.find("@D/")) != std::string::npos;) s.replace(p, 3, kData);
  return s;
}

class MatchTest : public ::testing::Test {
 protected:
  MatchTest() {
    env_.searcher = &searcher_;
    env_.registry = &registry_;
    env_.primary_hostname = "test.example";
    env_.interface_addresses = {"127.0.0.1", "::1"};
    env_.named_list = [this](ListKind kind, std::string_view name) -> const std::string* {
      auto it = named_.find({kind, std::string(name)});
      return it == named_.end() ? nullptr : &it->second;
    };
    named_[{ListKind::kDomain, "dl"}] = "a.b : c.d";
    named_[{ListKind::kHost, "hl"}] = "1.2.3.4";
    named_[{ListKind::kLocalPart, "cf"}] = "+caseful : xyz";
  }
  Registry registry_ = Registry::with_core_types();
  Searcher searcher_{registry_};
  MatchEnv env_;
  std::map<std::pair<ListKind, std::string>, std::string> named_;
};

struct Row {
  ListKind kind;  // kHost rows run through match_ip
  const char* subject;
  const char* list;
  char want;  // 'y' match, 'n' no match, 'd' defer
  const char* data = nullptr;     // wanted MatchResult.data, when not null
  const char* dollar1 = nullptr;  // wanted $1, when not null
  const char* dollar2 = nullptr;  // wanted $2, when not null
};

constexpr ListKind D = ListKind::kDomain, H = ListKind::kHost, A = ListKind::kAddress,
                   L = ListKind::kLocalPart;

const Row kRows[] = {
    // Domain lists (match_domain is caseless).
    {D, "abc", "lsearch;@D/basic.lsearch", 'y', "data1"},
    {D, "x", "lsearch;@D/basic.lsearch", 'n'},
    {D, "x.b.c", "partial-lsearch;@D/basic.lsearch", 'y', "star-bc", "x", "b.c"},
    {D, "b.c", "partial-lsearch;@D/basic.lsearch", 'y', "plain-bc", "", "b.c"},
    {D, "u@x.y", "lsearch*@;@D/basic.lsearch", 'y', "staratxy", "u", ""},
    {D, "zz", "lsearch*;@D/basic.lsearch", 'y', "star", "zz", ""},
    {D, "a.b", "+dl", 'y'},
    {D, "a.b", "!+dl", 'n'},
    {D, "test.example", "@", 'y'},
    {D, "x.b.c", "*.b.c", 'y', nullptr, "x"},
    {D, "X.B.C", "*.b.c", 'y'},
    {D, "x.b.c", "*b.c", 'y', nullptr, "x."},
    {D, "x.b.c", "^x\\.(.*)", 'y', nullptr, "b.c"},
    {D, "X.B.C", "^x", 'y'},
    {D, "x", "!a", 'y'},
    {D, "x", "!a : b", 'n'},
    {D, "x", "! ! x", 'y'},
    {D, "x", "b : !a", 'y'},
    {D, "a.b", "a.b.", 'n'},
    {D, "[1.2.3.4]", "[1.2.3.4]", 'y'},
    {D, "test.example", "@mx_any", 'n'},
    // $value (MatchResult.data) of a non-lookup item: the item as written,
    // also when it is negated; `@`: the primary host name.
    {D, "foo.x.example", "*.X.example", 'y', "*.X.example"},
    {D, "a.b", "!a.b : *", 'n', "a.b"},
    {D, "A.B.C", "x.y.z : ! a.b.c", 'n', "a.b.c"},
    {D, "TEST.example", "@", 'y', "test.example"},
    {D, "rx9.example", "^rx[0-9]+\\.example$", 'y', "^rx[0-9]+\\.example$"},
    {D, "[127.0.0.1]", "@[]", 'y', "@[]"},
    {D, "a.b", "+dl", 'y', "a.b"},
    {D, "x", "!y", 'y', ""},
    {D, "c.d", "x : +dl", 'y', "c.d"},
    {D, "a.b", "lsearch;@D/basic.lsearch : a.b", 'y', "a.b"},
    // Local part lists (match_local_part passes caseless).
    {L, "User", "user", 'y'},
    {L, "user", "U*", 'n'},
    {L, "X", "^x", 'y'},
    {L, "X", "*x", 'y'},
    {L, "x.b.c", "partial-lsearch;@D/basic.lsearch", 'y', "star-bc", "x", "b.c"},
    // +caseful: local parts caseful for the rest of the list (and of the
    // list that includes a named list using it); `!+caseful` is a named list.
    {L, "ABC", "+caseful : abc", 'n', ""},
    {L, "ABC", "+caseful : ABC", 'y', "ABC"},
    {L, "ABC", "abc", 'y', "abc"},
    {L, "ABC", "*c", 'y', "*c"},
    {L, "ABC", "+caseful : *c", 'n', ""},
    {L, "ABC", "+caseful : ^a", 'n', ""},
    {L, "ABC", "xyz : +caseful : ABC", 'y', "ABC"},
    {L, "ABC", "+caseful : !xyz", 'y', ""},
    {L, "ABC", "+cf : abc", 'n', ""},
    {L, "ABC", "+cf : ABC", 'y', "ABC"},
    {L, "ABC", "!+caseful : ABC", 'd'},
    // Address lists (match_address passes caseless).
    {A, "User@Dom.Ain", "user@dom.ain", 'y'},
    {A, "user@dom.ain", "USER@dom.ain", 'y'},
    {A, "user@dom.ain", "*@dom.ain", 'y'},
    {A, "user@dom.ain", "@dom.ain", 'n'},
    {A, "user@x.dom.ain", "*.dom.ain", 'y'},
    {A, "user@dom.ain", "dom.ain", 'y'},
    {A, "user@dom.ain", "u*@dom.ain", 'n'},
    {A, "user@dom.ain", "*r@*.ain", 'y'},
    {A, "user@dom.ain", "^u.*@dom\\.ain$", 'y'},
    {A, "user@dom.ain", "lsearch;@D/addresses.lsearch", 'y', "full"},
    {A, "x@star.dom", "lsearch*@;@D/addresses.lsearch", 'y', "starat"},
    {A, "user@dom.ain", "partial-lsearch;@D/addresses.lsearch", 'y', "full"},
    {A, "x@dom.ain", "@@lsearch;@D/localparts.lsearch", 'n'},
    {A, "b@dom.ain", "@@lsearch;@D/localparts.lsearch", 'n'},
    {A, "xyz@dom.ain", "@@lsearch;@D/localparts.lsearch", 'y'},
    {A, "a@dom.ain", "@@lsearch;@D/localparts.lsearch", 'y'},
    {A, "user", "user", 'n'},
    {A, "user", "user@dom", 'n'},
    {A, "user@dom.ain", "user@", 'n'},
    {A, "user@dom.ain", "@", 'n'},
    {A, "user@test.example", "user@@", 'y'},
    {A, "user@dom.ain", "user@+dl", 'n'},
    {A, "user@a.b", "user@+dl", 'y'},
    // $value of address items: as many bytes of the pattern as the subject's
    // local part has, `@`, the domain part's value; none for a whole-address
    // regex; the matching entry of an @@ list; +caseful as for local parts.
    {A, "root@test.example", "root@test.example", 'y', "root@test.example"},
    {A, "postmaster@x.y", "postmaster@*", 'y', "postmaster@*"},
    {A, "joe@a.example", "joe@*.example", 'y', "joe@*.example"},
    {A, "bob@admin.example", "*@admin.example", 'y', "*@a@admin.example"},
    {A, "ab@admin.example", "*@admin.example", 'y', "*@@admin.example"},
    {A, "verylongname@x.example", "*name@x.example", 'y', "*name@x.exam@x.example"},
    {A, "bob@x.example", "x.example", 'y', "@x.example"},
    {A, "bulk-x@x.example", "^bulk-", 'y', ""},
    {A, "bob@a.b", "*@+dl", 'y', "*@+@a.b"},
    {A, "bob@c.d", "bob@+dl", 'y', "bob@c.d"},
    {A, "bob@test.example", "bob@@", 'y', "bob@test.example"},
    {A, "xyz@dom.ain", "@@lsearch;@D/localparts.lsearch", 'y', "^xy"},
    {A, "a@dom.ain", "@@lsearch;@D/localparts.lsearch", 'y', "a"},
    {A, "A@dom.ain", "+caseful : @@lsearch;@D/localparts.lsearch", 'n', ""},
    {A, "ROOT@TEST.example", "+caseful : root@test.example", 'n', ""},
    {A, "ROOT@TEST.example", "+caseful : ROOT@test.example", 'y', "ROOT@test.example"},
    {A, "ROOT@TEST.example", "+caseful : *T@test.example", 'y', "*T@t@test.example"},
    {A, "ROOT@x", "+caseful : ^root", 'n', ""},
    {A, "ROOT@x", "^root", 'y', ""},
    {A, "bob@", "bob@", 'n'},
    {A, "user@dom.ain", "lsearch;@D/addresses.lsearch", 'y', "full"},
    // match_ip
    {H, "1.2.3.4", "+hl", 'y'},
    {H, "192.168.4.5", "net-iplsearch;@D/nets.iplsearch", 'y'},
    {H, "192.168.4.5", "iplsearch;@D/nets.iplsearch", 'y'},
    {H, "10.1.2.3", "net24-lsearch;@D/nets.iplsearch", 'n'},
    {H, "10.1.2.3", "net32-lsearch;@D/nets.iplsearch", 'n'},
    {H, "10.1.2.3", "lsearch;@D/nets.iplsearch", 'y'},
    {H, "2001:db8::5", "net-iplsearch;@D/nets.iplsearch", 'y'},
    {H, "1.2.3.4", "<; 1.2.3.0/24; ::1", 'y'},
    {H, "::1", "<; 1.2.3.0/24; ::1", 'y'},
    {H, "1.2.3.4", "*", 'y'},
    {H, "1.2.3.4", "foo.bar", 'n'},
    {H, "1.2.3.4", "1.2.3/24", 'n'},
    {H, "1.2.3.4", "1.2.3.4/33", 'y'},
    {H, "1.2.3.4", "1.2.3.0/24", 'y'},
    {H, "1.2.3.4", "@[]", 'n'},
    {H, "127.0.0.1", "@[]", 'y'},
    {H, "1.2.3.4", "^1", 'n'},
    {H, "1.2.3.4", "!1.2.3.4", 'n'},
    {H, "1.2.3.4", "net-lsearch;@D/nets.iplsearch", 'n'},
    {H, "1.2.3.4", "@", 'n'},
    {H, "1.2.3.4", "foo.bar : 1.2.3.4", 'n'},
    {H, "1.2.3.4", "!foo.bar : 1.2.3.4", 'n'},
    {H, "1.2.3.4", "+include_unknown : foo.bar : 1.2.3.4", 'y'},
    {H, "1.2.3.4", "+include_unknown : !foo.bar : 1.2.3.4", 'y'},
    {H, "1.2.3.4", "+ignore_unknown : foo.bar : 1.2.3.4", 'y'},
    {H, "1.2.3.4", "1.2.3 : 1.2.3.4", 'n'},
    {H, "1.2.3.4", " : 1.2.3.4", 'y'},
    {H, "::ffff:1.2.3.4", "1.2.3.4", 'y'},
    {H, "1.2.3.4", "*.bar", 'n'},
    {H, "1.2.3.4", "!*.bar", 'n'},
    {H, "", "1.2.3.4", 'n'},
    {H, "", ":", 'y'},
    {H, "1.2.3.4", "+include_defer : net-iplsearch;@D/nets.iplsearch : 1.2.3.4", 'y'},
    {H, "1.2.3.4", "+include_defer : net24-iplsearch;@D/nets.iplsearch : 1.2.3.4", 'y'},
    {H, "1.2.3.4", "+ignore_defer : net24-iplsearch;@D/nets.iplsearch : 1.2.3.4", 'y'},
    {H, "1.2.3.4", "net24-iplsearch;@D/nets.iplsearch", 'd'},
};

TEST_F(MatchTest, Table) {
  for (const Row& r : kRows) {
    std::string list = with_data(r.list);
    SCOPED_TRACE(std::string(r.subject) + " against " + list);
    auto m = r.kind == H ? match_ip(r.subject, list, env_) : match_list(r.subject, list, r.kind, env_, true);
    ASSERT_TRUE(m.ok()) << m.error().message;
    char got = m->outcome == MatchResult::Outcome::kMatch ? 'y' : m->outcome == MatchResult::Outcome::kDefer ? 'd' : 'n';
    EXPECT_EQ(got, r.want) << m->error;
    if (r.data) {
      EXPECT_EQ(m->data, r.data);
    }
    if (r.dollar1) {
      ASSERT_GT(m->captures.size(), 1u);
      EXPECT_EQ(m->captures[1], r.dollar1);
    }
    if (r.dollar2) {
      ASSERT_GT(m->captures.size(), 2u);
      EXPECT_EQ(m->captures[2], r.dollar2);
    }
  }
}

// Messages, as Exim 4.96 prints or logs them.
TEST_F(MatchTest, MessageTexts) {
  struct {
    ListKind kind;
    const char* name;
  } unknown[] = {{D, "domain"}, {H, "host"}, {A, "address"}, {L, "local part"}};
  for (const auto& u : unknown) {
    auto m = u.kind == H ? match_ip("1.2.3.4", "+xx", env_) : match_list("a@b", "+xx", u.kind, env_, true);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->outcome, MatchResult::Outcome::kDefer);
    EXPECT_EQ(m->error, "NULL");  // "unable to complete match against "+xx": NULL"
    ASSERT_EQ(m->log.size(), 1u);
    EXPECT_EQ(m->log[0], std::string("unknown named ") + u.name + " list \"+xx\"");
  }
  // +include_unknown is only special in host lists.
  auto m = match_list("x", "+include_unknown", D, env_, true);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->log.at(0), "unknown named domain list \"+include_unknown\"");

  m = match_ip("1.2.3.4", with_data("net24-iplsearch;@D/nets.iplsearch"), env_);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->error,
            "\"1.2.3.0/24\" is not a valid iplsearch key (an IP address, with optional CIDR mask, is wanted): "
            "in a host list, use net-iplsearch as the search type");
  m = match_list("abc", with_data("iplsearch;@D/basic.lsearch"), D, env_, true);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->outcome, MatchResult::Outcome::kDefer);
  EXPECT_EQ(m->error,
            "\"abc\" is not a valid iplsearch key (an IP address, with optional CIDR mask, is wanted): "
            "in a host list, use net-iplsearch as the search type");

  m = match_ip("1.2.3.4", "+include_unknown : foo.bar", env_);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->log.at(0), "cannot match host name in match_ip list: accepted by +include_unknown");
  m = match_ip("1.2.3.4", with_data("+include_defer : net24-iplsearch;@D/nets.iplsearch"), env_);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->log.at(0), with_data("DNS lookup of \"net24-iplsearch;@D/nets.iplsearch\" deferred: accepted by +include_defer"));
  m = match_list("user", "user", A, env_, true);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->log.at(0), "no @ found in the subject of an address list match: subject=\"user\" pattern=\"user\"");
  m = match_list("user@dom.ain", with_data("partial-lsearch;@D/addresses.lsearch"), A, env_, true);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->log.at(0), with_data("partial matching is not applicable to whole-address lookups: ignored "
                                    "\"partial-\" in \"partial-lsearch;@D/addresses.lsearch\""));

  // Fatal in Exim (it logs and dies): returned as errors.
  auto e = match_list("abc", "lsearch;f1", D, env_, true);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "failed to open f1 for linear search: No such file or directory");
  e = match_ip("1.2.3.4", "foo;x", env_);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "unknown lookup type \"foo\"");
  e = match_ip("1.2.3.4", "net-foo;x", env_);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "unknown lookup type \"foo\"");
  e = match_ip("abc", "1.2.3.0/24", env_);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "\"abc\" is not an IP address");
  e = match_ip(" 1.2.3.4", "1.2.3.4", env_);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "\" 1.2.3.4\" is not an IP address");
}

// Host lists with a known host name (no DNS: tern does not look names up).
TEST_F(MatchTest, HostNames) {
  auto m = match_list("1.2.3.4", "*.example.com", H, env_, false, "mail.example.com");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->matched());
  m = match_list("1.2.3.4", "*.example.com : 1.2.3.4", H, env_, false, "");
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->matched());  // no name: Exim's "failed to find host name" ends the list
  env_.resolve_host = [](std::string_view name) -> Result<std::vector<std::string>> {
    if (name == "mail.example.com") return std::vector<std::string>{"1.2.3.4"};
    return Error::failed("none");
  };
  m = match_list("1.2.3.4", "mail.example.com", H, env_, false, "");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->matched());
}

}  // namespace
}  // namespace tern::lookup
