// core/deliver/test_support.hpp: a configuration, expansion context and fake resolver for
// the router and transport unit tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/config/options.hpp"
#include "core/expand/named_lists.hpp"
#include "core/deliver/router.hpp"
#include "core/deliver/variables.hpp"
#include "core/dns/resolver.hpp"
#include "core/lookup/lookup.hpp"

namespace tern::deliver::testing {

// Answers from a table: name/type -> records (wire format built by the helpers below).
class FakeResolver final : public module_host::DnsResolver {
 public:
  std::map<std::pair<std::string, uint16_t>, Answer> answers;
  bool fail_all = false;
  int queries = 0;
  Result<Answer> query(std::string_view name, uint16_t type) override {
    ++queries;
    if (fail_all) return Error::defer("timeout after 10000 ms");
    auto it = answers.find({std::string(name), type});
    if (it != answers.end()) return it->second;
    Answer nx;
    nx.rcode = 3;
    return nx;
  }
  static std::string wire_name(const std::string& name) {
    std::string out;
    std::size_t p = 0;
    while (p < name.size()) {
      auto dot = name.find('.', p);
      std::string label = name.substr(p, dot == std::string::npos ? std::string::npos : dot - p);
      out += static_cast<char>(label.size());
      out += label;
      if (dot == std::string::npos) break;
      p = dot + 1;
    }
    return out + '\0';
  }
  void mx(const std::string& domain, int pref, const std::string& target) {
    auto& a = answers[{domain, dns::kTypeMx}];
    std::string rd;
    rd += static_cast<char>(pref >> 8);
    rd += static_cast<char>(pref & 0xff);
    rd += target.empty() ? std::string(1, '\0') : wire_name(target);
    a.rdata.push_back(rd);
  }
  void no_mx(const std::string& domain) { answers[{domain, dns::kTypeMx}] = Answer{}; }
  void a(const std::string& name, std::initializer_list<unsigned char> ip) {
    answers[{name, dns::kTypeA}].rdata.push_back(std::string(ip.begin(), ip.end()));
    answers.emplace(std::make_pair(name, dns::kTypeAaaa), Answer{});
  }
  void aaaa(const std::string& name, std::string bytes16) {
    answers[{name, dns::kTypeAaaa}].rdata.push_back(std::move(bytes16));
    answers.emplace(std::make_pair(name, dns::kTypeA), Answer{});
  }
};

inline config::OptionRegistry& registry() {
  static config::OptionRegistry* reg = [] {
    auto* r = new config::OptionRegistry();
    EXPECT_TRUE(config::register_exim_options(*r).ok());
    return r;
  }();
  return *reg;
}

// A loaded configuration with routers, the expansion context to route in and a fake DNS.
class Lab {
 public:
  explicit Lab(const std::string& text)
      : dir_(::testing::TempDir() + "tern-deliver-test-" + std::to_string(getpid()) + "-" +
             std::to_string(counter()++)),
        lookups_(lookup::Registry::with_core_types()),
        searcher_(lookups_),
        vars_(&config_vars_) {
    std::string conf = dir_ + ".conf";
    std::ofstream(conf) << text;
    config::LoadRequest req;
    req.path = conf;
    req.registry = &registry();
    auto c = config::load(req);
    if (!c) {
      error = c.error().message;
      return;
    }
    config_ = std::move(*c);
    auto r = RouterSet::build(config_);
    if (!r) {
      error = r.error().message;
      return;
    }
    routers = std::move(*r);
    config_vars_.set("primary_hostname", "test.example");
    config_vars_.set("qualify_domain", "test.example");
    config_vars_.set("qualify_recipient", "test.example");
    ctx.variables = &vars_;
    ctx.registry = &lookups_;
    ctx.searcher = &searcher_;
    ctx.primary_hostname = "test.example";
    ctx.named_list = expand::named_lists_of(config_);
    env.ctx = &ctx;
    env.vars = &vars_;
    env.resolver = &dns;
    env.qualify_domain = "test.example";
    env.sender = "sender@client.example";
  }

  // Routes `address` and its children as a delivery does; returns every address.
  std::vector<Address> route(const std::string& address) {
    Address a;
    a.address = address;
    auto at = address.rfind('@');
    a.local_part = address.substr(0, at);
    a.domain = address.substr(at + 1);
    std::vector<Address> all{a};
    routers->route_all(all, env);
    return all;
  }

  const config::Config& config() const { return config_; }
  std::string file(const std::string& name, const std::string& text) {
    std::string path = dir_ + "-" + name;
    std::ofstream(path) << text;
    return path;
  }

  std::string error;
  std::shared_ptr<const RouterSet> routers;
  FakeResolver dns;
  expand::Context ctx;
  RouteEnv env;
  DeliveryVariables& vars() { return vars_; }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::string dir_;
  config::Config config_;
  lookup::Registry lookups_;
  lookup::Searcher searcher_;
  expand::MapVariables config_vars_;
  DeliveryVariables vars_;
};

}  // namespace tern::deliver::testing
