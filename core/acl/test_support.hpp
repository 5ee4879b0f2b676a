// core/acl/test_support.hpp: what the ACL engine's unit tests share: a configuration made from
// text, fake session pieces.
//
// AclLab writes a configuration to a scratch file (so traces and errors
// carry a real file name), compiles its ACLs and runs them with a
// MapVariables session, a fake Verifier and a fake resolver whose answers
// the test sets, a fixed clock and a trace collector. Exim's -bh output
// recorded in the tests names the configuration file; norm() turns both
// sides' file names into "CONF".
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/acl/acl.hpp"
#include "core/acl/ratelimit.hpp"
#include "core/config/config.hpp"
#include "core/config/options.hpp"
#include "core/expand/named_lists.hpp"
#include "core/dns/resolver.hpp"
#include "core/lookup/lookup.hpp"

namespace tern::acl::testing {

// A resolver answering from a table: name and type -> answer, or a defer.
class FakeDns final : public module_host::DnsResolver {
 public:
  void a(const std::string& name, std::vector<std::string> ips, uint32_t ttl = 300) {
    Answer ans;
    ans.ttl = ttl;
    for (const auto& ip : ips) {
      unsigned b[4];
      sscanf(ip.c_str(), "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]);
      ans.rdata.push_back(std::string{static_cast<char>(b[0]), static_cast<char>(b[1]),
                                      static_cast<char>(b[2]), static_cast<char>(b[3])});
    }
    answers_[{name, dns::kTypeA}] = ans;
  }
  void txt(const std::string& name, const std::string& text) {
    Answer ans;
    ans.rdata.push_back(std::string(1, static_cast<char>(text.size())) + text);
    answers_[{name, dns::kTypeTxt}] = ans;
  }
  void defer(const std::string& name) { defers_.insert(name); }
  Result<Answer> query(std::string_view name, uint16_t rrtype) override {
    queries.push_back(std::string(name) + "/" + std::to_string(rrtype));
    if (defers_.count(std::string(name))) return Error::defer("timeout");
    auto it = answers_.find({std::string(name), rrtype});
    if (it != answers_.end()) return it->second;
    Answer nx;
    nx.rcode = 3;
    return nx;
  }
  std::vector<std::string> queries;

 private:
  std::map<std::pair<std::string, uint16_t>, Answer> answers_;
  std::set<std::string> defers_;
};

// A verifier with set outcomes, recording what it was asked.
class FakeVerifier final : public Verifier {
 public:
  std::map<std::string, VerifyOutcome> recipients, senders;  // by address; missing: kOk
  bool helo = true;
  HostName name{VerifyOutcome::Rc::kFail, "", " (failed to find host name from IP address)"};
  std::vector<VerifyRequest> asked;
  VerifyOutcome verify_recipient(const VerifyRequest& r) override {
    asked.push_back(r);
    auto it = recipients.find(r.address);
    return it == recipients.end() ? VerifyOutcome{} : it->second;
  }
  VerifyOutcome verify_sender(const VerifyRequest& r) override {
    asked.push_back(r);
    auto it = senders.find(r.address);
    return it == senders.end() ? VerifyOutcome{} : it->second;
  }
  bool verify_helo() override { return helo; }
  HostName host_name() override { return name; }
};

inline const config::OptionRegistry& option_registry() {
  static config::OptionRegistry* reg = [] {
    auto* r = new config::OptionRegistry;
    Status st = config::register_exim_options(*r);
    EXPECT_TRUE(st.ok()) << st.error().message;
    return r;
  }();
  return *reg;
}

class AclLab {
 public:
  // `text`: the configuration (its main part and `begin acl`).
  // `defines`: -D macros, as for `exim -DNAME=value`.
  explicit AclLab(const std::string& text, const module_host::AclRegistry* modules = nullptr,
                  const expand::Extensions* extensions = nullptr,
                  std::vector<std::pair<std::string, std::string>> defines = {})
      : env(ctx, state),
        path_(::testing::TempDir() + "tern-acl-test-" + std::to_string(getpid()) + "-" +
              std::to_string(counter()++) + ".conf"),
        lookups_(lookup::Registry::with_core_types()),
        searcher_(lookups_) {
    std::ofstream(path_) << text;
    config::LoadRequest req;
    req.path = path_;
    req.defines = std::move(defines);
    req.registry = &option_registry();
    auto c = config::load(req);
    if (!c) {
      load_error = c.error().message;
      return;
    }
    config_ = std::move(*c);
    auto s = AclSet::compile(config_, modules, extensions, &lookups_);
    if (!s) {
      load_error = s.error().message;
      return;
    }
    acls = std::move(*s);
    ctx.variables = &vars;
    ctx.registry = &lookups_;
    ctx.searcher = &searcher_;
    ctx.primary_hostname = "test.example";
    ctx.named_list = expand::named_lists_of(config_);
    ctx.clock = [this] { return now; };
    env.verifier = &verifier;
    env.dns = &dns;
    env.ratelimits = &store;
    env.host_checking = true;
    env.host_ident = "H=(x) [10.0.0.1]";
    env.trace = [this](std::string_view line) { trace.push_back(norm(line)); };
    vars.set("sender_host_address", "10.0.0.1");
    vars.set("sender_helo_name", "x");
    vars.set("sender_address", "a@test.example");
  }
  ~AclLab() { unlink(path_.c_str()); }

  // Run `acl` for RCPT <recipient> (or another ACL when where says so).
  AclResult rcpt(const std::string& recipient, const std::string& acl = "acl_rcpt") {
    size_t at = recipient.rfind('@');
    vars.set("local_part", recipient.substr(0, at));
    vars.set("domain", recipient.substr(at + 1));
    env.recipient = recipient;
    env.command_data = "<" + recipient + ">";
    return run(acl, Where::kRcpt);
  }
  AclResult run(const std::string& acl, Where where) {
    trace.clear();
    return acls.run(acl, where, env);
  }

  // The file name in `s` replaced by CONF.
  std::string norm(std::string_view s) const {
    std::string out(s);
    for (size_t p; (p = out.find(path_)) != std::string::npos;)
      out.replace(p, path_.size(), "CONF");
    return out;
  }
  const std::string& path() const { return path_; }

  std::string load_error;
  AclSet acls;
  expand::MapVariables vars;
  expand::Context ctx;
  SessionState state;
  FakeVerifier verifier;
  FakeDns dns;
  RateLimitStore store;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::from_time_t(1795000000);
  std::vector<std::string> trace;
  RunEnv env;

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::string path_;
  config::Config config_;
  lookup::Registry lookups_;
  lookup::Searcher searcher_;
};

// Lines of `text` (recorded Exim output), without the ">>> " prefix and with
// Exim's file name turned into CONF.
inline std::vector<std::string> exim_lines(std::string_view text, std::string_view exim_file) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line(text.substr(start, nl - start));
    if (line.rfind(">>> ", 0) == 0)
      line.erase(0, 4);
    else if (line == ">>>")
      line.clear();
    for (size_t p; (p = line.find(exim_file)) != std::string::npos;)
      line.replace(p, exim_file.size(), "CONF");
    out.push_back(line);
    start = nl + 1;
  }
  return out;
}

}  // namespace tern::acl::testing
