// core/config/config_test.cpp: tests of the configuration reader and -bP output.
//
// Fixtures live in core/config/testdata; testdata/oracle holds what the
// reference Exim 4.96 printed for the same input (see tools/gen_options.py),
// so the -bP tests compare tern's output with Exim's own.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "core/config/config.hpp"

namespace tern::config {
namespace {

const std::string kData = std::string(TERN_SOURCE_DIR) + "/core/config/testdata";

const OptionRegistry& registry() {
  static OptionRegistry* reg = [] {
    auto* r = new OptionRegistry;
    Status st = register_exim_options(*r);
    EXPECT_TRUE(st.ok()) << st.error().message;
    r->add_unloaded({"hosts_try_made_up", Scope::kTransport, "madeup", "smtp"});
    r->add_unloaded({"made_up_main", Scope::kMain, "madeup", ""});
    for (auto& u : first_party_module_options()) r->add_unloaded(u);
    return r;
  }();
  return *reg;
}

Result<Config> load_file(const std::string& path, std::vector<std::pair<std::string, std::string>> defines = {}) {
  LoadRequest req;
  req.path = path;
  req.defines = std::move(defines);
  req.defines.insert(req.defines.begin(), {"TESTDATA", kData});
  req.registry = &registry();
  req.builtin_macros = {{"_HAVE_TLS", "y"}};
  return load(req);
}

// A scratch file of this test process: ctest runs tests in parallel.
std::string scratch_path() {
  return ::testing::TempDir() + "tern-config-test-" + std::to_string(getpid()) + ".conf";
}

// Writes `text` to a scratch file and loads it.
Result<Config> load_text(const std::string& text, std::vector<std::pair<std::string, std::string>> defines = {}) {
  std::string path = scratch_path();
  std::ofstream(path) << text;
  return load_file(path, std::move(defines));
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string main_opt(const Config& c, const char* name) {
  auto r = format_main_option(c, name);
  return r ? *r : r.error().message;
}

TEST(Config, MainFixture) {
  auto c = load_file(kData + "/main.conf");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(main_opt(*c, "qualify_domain"), "qualify_domain = example.org\n");
  EXPECT_EQ(main_opt(*c, "primary_hostname"), "primary_hostname = host.example.org\n");
  EXPECT_EQ(main_opt(*c, "qualify_recipient"), "qualify_recipient = example.org\n");
  EXPECT_EQ(main_opt(*c, "accept_8bitmime"), "no_accept_8bitmime\n");
  EXPECT_EQ(main_opt(*c, "message_logs"), "no_message_logs\n");
  EXPECT_EQ(main_opt(*c, "check_log_inodes"), "check_log_inodes = 16\n");
  EXPECT_EQ(main_opt(*c, "check_log_space"), "check_log_space = 2G\n");
  EXPECT_EQ(main_opt(*c, "auto_thaw"), "auto_thaw = 1h30m\n");
  EXPECT_EQ(main_opt(*c, "delay_warning"), "delay_warning = 1h:2d\n");
  EXPECT_EQ(main_opt(*c, "queue_only_load"), "queue_only_load = 1.234\n");
  EXPECT_EQ(main_opt(*c, "smtp_banner"), "smtp_banner = hi\\tthere\n");
  EXPECT_EQ(c->main.get_string("smtp_banner"), "hi\tthere");
  EXPECT_EQ(main_opt(*c, "received_header_text"), "received_header_text = a b c\n");
  EXPECT_EQ(main_opt(*c, "nonesuch"), "nonesuch is not a known option");
  EXPECT_EQ(c->main.set_at("auto_thaw")->line, 9);

  ASSERT_EQ(c->named_lists.size(), 2u);
  EXPECT_EQ(c->find_list(ListKind::kDomain, "local_domains")->value, "@ : example.org");
  const NamedList* relay = c->find_list(ListKind::kHost, "relay");
  ASSERT_NE(relay, nullptr);
  EXPECT_TRUE(relay->cache);
  EXPECT_EQ(relay->value, "<; 127.0.0.1 ; ::1");

  const Acl* acl = c->find_acl("acl_rcpt");
  ASSERT_NE(acl, nullptr);
  ASSERT_EQ(acl->statements.size(), 3u);
  EXPECT_EQ(acl->statements[1].verb, "deny");
  ASSERT_EQ(acl->statements[1].lines.size(), 2u);
  EXPECT_EQ(acl->statements[1].lines[1].text, "!domains = +local_domains");
  EXPECT_EQ(acl->statements[1].lines[1].where.line, 29);

  ASSERT_EQ(c->routers.size(), 2u);
  EXPECT_EQ(c->routers[0].driver, "dnslookup");
  EXPECT_FALSE(c->routers[0].options.get_bool("more"));
  EXPECT_TRUE(c->find_router("local")->options.get_bool("verify_sender"));
  EXPECT_TRUE(c->find_router("local")->options.get_bool("log_as_local"));
  EXPECT_FALSE(c->routers[0].options.get_bool("log_as_local"));
  const DriverInstance* ld = c->find_transport("local_delivery");
  ASSERT_NE(ld, nullptr);
  EXPECT_EQ(ld->options.get_int("mode"), 0640);
  EXPECT_TRUE(ld->options.get_bool("maildir_format"));
  EXPECT_TRUE(ld->options.get_bool("retry_use_local_part"));
  EXPECT_FALSE(c->find_transport("remote_smtp")->options.get_bool("retry_use_local_part"));

  ASSERT_EQ(c->retry.size(), 1u);
  EXPECT_EQ(c->retry[0].pattern, "*");
  EXPECT_EQ(c->retry[0].error, "*");
  EXPECT_EQ(c->retry[0].rules, (std::vector<std::string>{"F,2h,15m;", "G,16h,1h,1.5"}));
  ASSERT_EQ(c->rewrite.size(), 1u);
  EXPECT_EQ(c->rewrite[0].replacement, "$1@new.example");
  EXPECT_EQ(c->rewrite[0].flags, "F");

  EXPECT_EQ(c->find_authenticator("tls")->options.get_string("public_name"), "tls");
  EXPECT_EQ(c->find_authenticator("plain")->options.get_string("public_name"), "plain");
}

// One configuration text in, one option's -bP line (or the error) out.
struct Case {
  const char* name;
  std::string text;
  std::string option;  // main option to print, or "" when an error is wanted
  std::string want;
  std::vector<std::pair<std::string, std::string>> defines = {};
};

TEST(Config, Table) {
  const std::string F = scratch_path();
  const std::vector<Case> cases = {
      // booleans
      {"bool bare", "accept_8bitmime\n", "accept_8bitmime", "accept_8bitmime\n"},
      {"bool no_", "no_accept_8bitmime\n", "accept_8bitmime", "no_accept_8bitmime\n"},
      {"bool not_", "not_accept_8bitmime\n", "accept_8bitmime", "no_accept_8bitmime\n"},
      {"bool yes", "accept_8bitmime = YES\n", "accept_8bitmime", "accept_8bitmime\n"},
      {"bool false", "accept_8bitmime = false\n", "accept_8bitmime", "no_accept_8bitmime\n"},
      {"bool bad", "accept_8bitmime = xyz\n", "", F + ":1: \"xyz\" is not a valid value for the \"accept_8bitmime\" option"},
      {"bool number", "accept_8bitmime = 1\n", "", F + ":1: \"\" is not a valid value for the \"accept_8bitmime\" option"},
      {"no_ with value", "no_accept_8bitmime = true\n", "", F + ":1: extra characters follow boolean option no_accept_8bitmime"},
      {"no_ non-bool", "no_qualify_domain\n", "", F + ":1: negation prefix applied to a non-boolean option"},
      // integers
      {"int hex", "check_log_inodes = 0x10\n", "check_log_inodes", "check_log_inodes = 16\n"},
      {"int octal", "check_log_inodes = 010\n", "check_log_inodes", "check_log_inodes = 8\n"},
      {"int K", "check_log_inodes = 1k\n", "check_log_inodes", "check_log_inodes = 1024\n"},
      {"int G", "check_log_inodes = 1G\n", "check_log_inodes", "check_log_inodes = 1073741824\n"},
      {"int negative", "check_log_inodes = -5\n", "check_log_inodes", "check_log_inodes = -5\n"},
      {"int bad", "check_log_inodes = xyz\n", "", F + ":1: integer expected for check_log_inodes"},
      {"int extra", "check_log_inodes = 08\n", "", F + ":1: extra characters follow integer value for check_log_inodes"},
      {"int overflow", "bounce_return_size_limit = 3G\n", "", F + ":1: absolute value of integer \"3G\" is too large (overflow)"},
      {"mkint K", "bounce_return_size_limit = 2048\n", "bounce_return_size_limit", "bounce_return_size_limit = 2K\n"},
      {"mkint M", "bounce_return_size_limit = 1048576\n", "bounce_return_size_limit", "bounce_return_size_limit = 1M\n"},
      {"mkint plain", "bounce_return_size_limit = 1536\n", "bounce_return_size_limit", "bounce_return_size_limit = 1536\n"},
      {"Kint plain", "check_log_space = 3\n", "check_log_space", "check_log_space = 3K\n"},
      {"Kint M", "check_log_space = 1024K\n", "check_log_space", "check_log_space = 1M\n"},
      {"Kint K", "check_log_space = 1536K\n", "check_log_space", "check_log_space = 1536K\n"},
      {"alias", "return_size_limit = 2M\n", "bounce_return_size_limit", "bounce_return_size_limit = 2M\n"},
      // times
      {"time", "auto_thaw = 1h30m\n", "auto_thaw", "auto_thaw = 1h30m\n"},
      {"time week", "auto_thaw = 1w\n", "auto_thaw", "auto_thaw = 1w\n"},
      {"time sums", "auto_thaw = 1s1s\n", "auto_thaw", "auto_thaw = 2s\n"},
      {"time 90m", "auto_thaw = 90m\n", "auto_thaw", "auto_thaw = 1h30m\n"},
      {"time no unit", "auto_thaw = 90\n", "", F + ":1: invalid time value for auto_thaw"},
      {"time space", "auto_thaw = 1h 30m\n", "", F + ":1: invalid time value for auto_thaw"},
      {"time list", "delay_warning = 1h:2h:3h\n", "delay_warning", "delay_warning = 1h:2h:3h\n"},
      // fixed point
      {"fixed", "queue_only_load = 1.5\n", "queue_only_load", "queue_only_load = 1.5\n"},
      {"fixed whole", "queue_only_load = 2\n", "queue_only_load", "queue_only_load = 2.0\n"},
      {"fixed 3 decimals", "queue_only_load = 1.2345\n", "queue_only_load", "queue_only_load = 1.234\n"},
      {"fixed bad", "queue_only_load = .5\n", "", F + ":1: fixed-point number expected for queue_only_load"},
      {"fixed unset", "", "queue_only_load", "queue_only_load =\n"},
      // strings
      {"string", "qualify_domain = a.b\n", "qualify_domain", "qualify_domain = a.b\n"},
      {"string quoted", "qualify_domain = \"a\\tb\\x41\\101\"\n", "qualify_domain", "qualify_domain = a\\tbAA\n"},
      {"string single quotes", "qualify_domain = 'a'\n", "qualify_domain", "qualify_domain = 'a'\n"},
      {"string after quote", "qualify_domain = \"abc\" def\n", "", F + ":1: extra characters follow string value for qualify_domain"},
      {"string unset", "", "bi_command", "bi_command = \n"},
      {"string hash", "qualify_domain = a # b\n", "qualify_domain", "qualify_domain = a # b\n"},
      // uid/gid and lists
      {"uid number", "never_users = 0\n", "never_users", "never_users = root\n"},
      {"uid list", "trusted_users = root : 0\n", "trusted_users", "trusted_users = root:root\n"},
      {"uid unknown", "exim_user = nosuchuserx\n", "", F + ":1: user nosuchuserx was not found"},
      {"gid unknown", "admin_groups = nosuchgroupx\n", "", F + ":1: group nosuchgroupx was not found"},
      {"gid", "exim_group = root\n", "exim_group", "exim_group = root\n"},
      {"uid list unset", "", "never_users", "never_users =\n"},
      // option syntax errors
      {"unknown", "foo = bar\n", "", F + ":1: main option \"foo\" unknown"},
      {"set twice", "qualify_domain = a\nqualify_domain = b\n", "", F + ":2: \"qualify_domain\" option set for the second time"},
      {"missing =", "qualify_domain x\n", "", F + ":1: missing \"=\" after qualify_domain"},
      {"data missing", "check_log_inodes\n", "", F + ":1: unexpected end of line (data missing) after check_log_inodes"},
      {"not a name", "1abc = x\n", "", F + ":1: option setting expected: 1abc = x"},
      {"unknown directive", ".foo\n", "", F + ":1: option setting expected: .foo"},
      {"module not loaded", "made_up_main = 1\n", "", F + ":1: option \"made_up_main\" belongs to module \"madeup\", which is not loaded: add it to \"modules\""},
      {"first-party module", "\n\nhosts_proxy = *\n", "", F + ":3: option \"hosts_proxy\" belongs to module \"proxy\", which is not loaded: add it to \"modules\""},
      {"skipped option", "ldap_version = 3\n", "", F + ":1: main option \"ldap_version\" is not supported: tern has no LDAP lookups"},
      // macros
      {"macro", "D = x.y\nqualify_domain = D\n", "qualify_domain", "qualify_domain = x.y\n"},
      {"macro in value of later macro", "B = c\nA = xBx\nqualify_domain = A\n", "qualify_domain", "qualify_domain = xcx\n"},
      {"macro order", "ABCD = y\nABC = x\nqualify_domain = ABCD.ABC\n", "qualify_domain", "qualify_domain = y.x\n"},
      {"macro no word boundary", "ABC = x\nqualify_domain = ABC_ABC1 XABC ABC\n", "qualify_domain", "qualify_domain = x_x1 Xx x\n"},
      {"macro self", "A = zAz\nqualify_domain = A\n", "qualify_domain", "qualify_domain = zAz\n"},
      {"macro later defined", "A = B\nB = zAz\nqualify_domain = A\n", "qualify_domain", "qualify_domain = zBz\n"},
      {"macro two", "B = c\nA = B\nqualify_domain = A B\n", "qualify_domain", "qualify_domain = c c\n"},
      {"macro redefine", "A = 1\nqualify_domain = A\nA == 2\nqualify_recipient = A\n", "qualify_recipient", "qualify_recipient = 2\n"},
      {"macro redefine refused", "X = 1\nX = 2\n", "", F + ":2: macro \"X\" is already defined (use \"==\" if you want to redefine it)"},
      {"macro substring", "ABC = x\nABCD = y\n", "", F + ":2: \"ABCD\" cannot be defined as a macro because previously defined macro \"ABC\" is a substring"},
      {"macro malformed", "Ab-c = x\n", "", F + ":1: malformed macro definition"},
      {"-D overrides", "A = 1\nqualify_domain = A\n", "qualify_domain", "qualify_domain = 5\n", {{"A", "5"}}},
      {"-D overrides ==", "A == 1\nqualify_domain = A\n", "qualify_domain", "qualify_domain = 5\n", {{"A", "5"}}},
      {"builtin macro", "qualify_domain = _HAVE_TLS x\n", "qualify_domain", "qualify_domain = y x\n"},
      {"_OPT macro", ".ifdef _OPT_MAIN_QUALIFY_DOMAIN\nqualify_domain = opt\n.endif\n", "qualify_domain", "qualify_domain = opt\n"},
      {"_DRIVER macro", ".ifdef _DRIVER_ROUTER_ACCEPT\nqualify_domain = drv\n.endif\n", "qualify_domain", "qualify_domain = drv\n"},
      // conditionals
      {"ifdef", "X = 1\n.ifdef X\nqualify_domain = a\n.else\nqualify_domain = b\n.endif\n", "qualify_domain", "qualify_domain = a\n"},
      {"ifdef false", ".ifdef X\nqualify_domain = a\n.else\nqualify_domain = b\n.endif\n", "qualify_domain", "qualify_domain = b\n"},
      {"ifdef any macro", "X = 1\n.ifdef FOO X\nqualify_domain = a\n.endif\n", "qualify_domain", "qualify_domain = a\n"},
      {"nested", ".ifndef X\n.ifdef Y\n.else\nqualify_domain = a\n.endif\n.elifdef Z\n.else\n.endif\n", "qualify_domain", "qualify_domain = a\n"},
      {"elifdef", "Z = 1\n.ifdef X\nqualify_domain = a\n.elifdef Z\nqualify_domain = z\n.else\nqualify_domain = b\n.endif\n", "qualify_domain", "qualify_domain = z\n"},
      {"elifndef", ".ifdef X\nqualify_domain = a\n.elifndef Z\nqualify_domain = nz\n.endif\n", "qualify_domain", "qualify_domain = nz\n"},
      {"unterminated", "qualify_domain = a\n.ifdef X\n", "", F + ":2: .ifdef without matching .endif"},
      {"endif alone", ".endif\n", "", F + ":1: .endif without matching .ifdef"},
      {"else alone", ".else\n", "", F + ":1: .else without matching .ifdef"},
      {"elifdef alone", ".elifdef X\n", "", F + ":1: .elifdef without matching .ifdef"},
      {"too deep", [] { std::string s; for (int i = 0; i < 11; ++i) s += ".ifdef A\n"; return s; }(), "", F + ":11: .ifdef nested too deeply"},
      // lines
      {"continuation", "qualify_domain = a \\\n  b\n", "qualify_domain", "qualify_domain = a b\n"},
      {"continuation comment", "qualify_domain = a\\\n# c\n  b\n", "qualify_domain", "qualify_domain = ab\n"},
      {"continuation blank", "qualify_domain = a \\\n\n  b = 1\n", "", F + ":3: main option \"b\" unknown"},
      {"continuation line number", "qualify_domain = a \\\n  b\nfoo = 1\n", "", F + ":3: main option \"foo\" unknown"},
      {"indented", "  # foo\n   qualify_domain=a\n", "qualify_domain", "qualify_domain = a\n"},
      // includes
      {"include relative", ".include inc.conf\n", "", F + ":1: .include specifies a non-absolute path \"inc.conf\""},
      {"include missing", ".include /nonexistent/x.conf\n", "", F + ":1: failed to open included configuration file /nonexistent/x.conf"},
      {"include_if_exists missing", ".include_if_exists /nonexistent/x\nqualify_domain = z\n", "qualify_domain", "qualify_domain = z\n"},
      {"include quoted", ".include \"" + kData + "/inc.conf\"\n", "primary_hostname", "primary_hostname = host.DOMAIN\n"},
      {"error in include", ".include " + kData + "/bad.conf\n", "", kData + "/bad.conf:3: main option \"nonesuch\" unknown"},
      // named lists
      {"list duplicate", "domainlist d = a\ndomainlist d = b\n", "", F + ":2: duplicate name \"d\" for a named domain list"},
      {"list missing =", "hostlist h\n", "", F + ":1: missing '=' after \"h\""},
      {"list bad name", "domainlist d-x = a\n", "", F + ":1: missing '=' after \"d\""},
      // sections
      {"unknown section", "begin foo\n", "", F + ":1: \"foo\" is not a known configuration section name"},
      {"repeated section", "begin routers\nbegin routers\n", "", F + ":2: \"routers\" section is repeated in the configuration file"},
      {"acl name missing", "begin acl\n  accept\n", "", F + ":2: missing or malformed ACL name"},
      {"acl twice", "begin acl\na:\n  accept\na:\n  deny\n", "", F + ":4: there are two ACLs called \"a\""},
      {"acl verb", "begin acl\na:\n  hosts = *\n", "", F + ":3: unknown ACL verb \"hosts\" in \"hosts = *\""},
      {"router name missing", "begin routers\n  driver = accept\n", "", F + ":2: router name missing"},
      {"router driver unknown", "begin routers\nr1:\n  driver = foo\n", "", F + ":3: router r1: cannot find router driver \"foo\""},
      {"transport driver unknown", "begin transports\nt:\n  driver = bar\n", "", F + ":3: transport t: cannot find transport driver \"bar\""},
      {"auth driver unknown", "begin authenticators\na:\n  driver = bar\n", "", F + ":3: authenticator a: cannot find authenticator driver \"bar\""},
      {"no driver", "begin routers\nr1:\n  domains = x\n", "", F + ":2: no driver defined for router \"r1\""},
      {"two routers", "begin routers\nr1:\n  driver = accept\nr1:\n  driver = accept\n", "", F + ":4: there are two routers called \"r1\""},
      {"driver twice", "begin routers\nr1:\n  driver = accept\n  driver = accept\n", "", F + ":4: \"driver\" option set for the second time"},
      {"router option twice", "begin routers\nr1:\n  driver = accept\n  domains = a\n  domains = b\n", "", F + ":5: \"domains\" option set for the second time"},
      {"private before driver", "begin routers\nr1:\n  foo = 1\n", "", F + ":3: option \"foo\" unknown (\"driver\" must be specified before any private options)"},
      {"router unknown option", "begin routers\nr1:\n  driver = accept\n  foo = 1\n", "", F + ":4: option \"foo\" unknown"},
      {"router negation", "begin routers\nr1:\n  driver = accept\n  no_domains\n", "", F + ":4: negation prefix applied to a non-boolean option"},
      {"extra after name", "begin routers\nr1: driver = accept\n", "", F + ":2: extra characters follow driver name r1"},
      {"transport module option", "begin transports\nt:\n  driver = smtp\n  hosts_try_made_up = *\n", "", F + ":4: option \"hosts_try_made_up\" belongs to module \"madeup\", which is not loaded: add it to \"modules\""},
      {"dane not loaded", "begin transports\nt:\n  driver = smtp\n  hosts_try_dane = *\n", "", F + ":4: option \"hosts_try_dane\" belongs to module \"dane\", which is not loaded: add it to \"modules\""},
      {"octal", "begin transports\nt:\n  driver = appendfile\n  mode = 0x\n", "", F + ":4: extra characters follow octal integer value for mode"},
      {"octal bad", "begin transports\nt:\n  driver = appendfile\n  mode = xyz\n", "", F + ":4: octal integer expected for mode"},
      {"rewrite missing", "begin rewrite\n*@a\n", "", F + ":2: missing rewrite replacement string"},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    auto c = load_text(tc.text, tc.defines);
    if (tc.option.empty()) {
      ASSERT_FALSE(c.ok()) << tc.name;
      EXPECT_EQ(c.error().message, tc.want);
      continue;
    }
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(main_opt(*c, tc.option.c_str()), tc.want);
  }
}

// Drops from Exim's -bP output the lines of options tern does not have in
// the core (skipped features, module-owned, hidden '*' ones).
std::string without_missing(const std::string& text, Scope scope) {
  const OptionRegistry& reg = registry();
  std::set<std::string> gone;
  for (const auto& s : reg.skipped())
    if (s.scope == scope) gone.insert(s.name);
  for (const auto& u : first_party_module_options())
    if (u.scope == scope) gone.insert(u.name);
  std::stringstream in(text);
  std::string out, line;
  while (std::getline(in, line)) {
    std::string n = line.substr(0, line.find(' '));
    if (n.rfind("no_", 0) == 0 && !reg.find(scope, "", n)) n = n.substr(3);
    if (gone.count(n) || (!line.empty() && line[0] == '*')) continue;
    out += line + "\n";
  }
  return out;
}

TEST(Config, BpAllMatchesExim) {
  auto c = load_file(kData + "/oracle/min.conf");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(format_main_options(*c), without_missing(read(kData + "/oracle/bp_all.txt"), Scope::kMain));
}

TEST(Config, BpDriversMatchExim) {
  auto c = load_file(kData + "/oracle/drv.conf");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(format_drivers(*c, Scope::kRouter), without_missing(read(kData + "/oracle/routers.txt"), Scope::kRouter));
  EXPECT_EQ(format_drivers(*c, Scope::kTransport),
            without_missing(read(kData + "/oracle/transports.txt"), Scope::kTransport));
  EXPECT_EQ(format_drivers(*c, Scope::kAuthenticator),
            without_missing(read(kData + "/oracle/authenticators.txt"), Scope::kAuthenticator));
}

TEST(Config, Macros) {
  auto c = load_text("ZZ = 1\n", {{"DEF", "v"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(*format_macro(*c, "ZZ"), "ZZ=1\n");
  EXPECT_EQ(*format_macro(*c, "DEF"), "DEF=v\n");
  EXPECT_EQ(format_macro(*c, "NOPE").error().message, "macro NOPE not found");
  EXPECT_NE(format_macros(*c).find("_OPT_MAIN_QUALIFY_DOMAIN=y\n"), std::string::npos);
}

TEST(Registry, DuplicateNamesBothOwners) {
  OptionRegistry reg;
  ASSERT_TRUE(reg.add(Scope::kMain, "", "x_opt", OptionType::kString, nullptr, "core").ok());
  Status st = reg.add(Scope::kMain, "", "x_opt", OptionType::kString, nullptr, "events");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "main option \"x_opt\" is registered twice: by \"core\" and by \"events\"");
}

TEST(Registry, MissingFile) {
  auto c = load_file("/nonexistent/tern.conf");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "/nonexistent/tern.conf: failed to open configuration file: No such file or directory");
}

// The pre-scan for `modules` and friends: same line rules, nothing else checked.
TEST(Config, ScanMainSettings) {
  struct Case {
    std::string name, text;
    std::vector<std::pair<std::string, std::string>> defines;
    std::string want_modules;  // "<unset>" when not set
    int want_line;
  } cases[] = {
      {"plain", "modules = a : b\nunknown_option_of_a_module = 1\n", {}, "a : b", 1},
      {"macro", "MODS = x : y\nmodules = MODS\n", {}, "x : y", 2},
      {"ifdef", ".ifdef WITH\nmodules = on\n.else\nmodules = off\n.endif\n", {{"WITH", "1"}}, "on", 2},
      {"ifdef-not", ".ifdef WITH\nmodules = on\n.else\nmodules = off\n.endif\n", {}, "off", 4},
      {"after-begin", "begin routers\nmodules = no\n", {}, "<unset>", 0},
      {"continued", "modules = a : \\\n  b\n", {}, "a : b", 1},
  };
  for (const auto& c : cases) {
    std::string path = scratch_path();
    std::ofstream(path) << c.text;
    LoadRequest req;
    req.path = path;
    req.defines = c.defines;
    req.registry = &registry();
    auto r = scan_main_settings(req, {"modules", "module_path"});
    ASSERT_TRUE(r.ok()) << c.name << ": " << r.error().message;
    auto it = r->find("modules");
    EXPECT_EQ(it == r->end() ? "<unset>" : it->second.value, c.want_modules) << c.name;
    if (it != r->end()) {
      EXPECT_EQ(it->second.where.line, c.want_line) << c.name;
    }
    EXPECT_EQ(r->count("module_path"), 0u) << c.name;
  }
  auto missing = scan_main_settings({"/nonexistent/tern.conf", {}, &registry(), {}}, {"modules"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            "/nonexistent/tern.conf: failed to open configuration file: No such file or directory");
}

}  // namespace
}  // namespace tern::config
