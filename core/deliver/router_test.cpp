// core/deliver/router_test.cpp: the router engine and the router drivers.
#include "core/deliver/router.hpp"

#include <gtest/gtest.h>

#include <set>

#include "core/deliver/test_support.hpp"
#include "core/module_host/boundary.hpp"
#include "core/module_host/host.hpp"

namespace tern::deliver {
namespace {

using testing::Lab;

const char* kHead =
    "domainlist local_domains = test.example\n"
    "begin routers\n";

std::vector<const Address*> leaves(const std::vector<Address>& all) {
  std::vector<const Address*> out;
  for (const auto& a : all)
    if (a.status != RouteStatus::kRedirected) out.push_back(&a);
  return out;
}

TEST(Routers, AcceptWithPreconditions) {
  Lab lab(std::string(kHead) +
          "r1:\n  driver = accept\n  domains = +local_domains\n  local_parts = alice : bob\n"
          "  senders = *@client.example\n  condition = ${if eq{$local_part}{bob}{no}{yes}}\n  transport = t1\n"
          "r2:\n  driver = accept\n  verify_only\n  transport = t2\n"
          "r3:\n  driver = accept\n  domains = test.example\n  transport = t3\n"
          "begin transports\nt1:\n  driver = appendfile\n  file = /dev/null\n"
          "t2:\n  driver = appendfile\n  file = /dev/null\nt3:\n  driver = appendfile\n  file = /dev/null\n");
  ASSERT_EQ(lab.error, "");
  auto a = lab.route("alice@test.example");
  EXPECT_EQ(a[0].status, RouteStatus::kRouted);
  EXPECT_EQ(a[0].router, "r1");
  EXPECT_EQ(a[0].transport, "t1");
  auto b = lab.route("bob@test.example");  // condition false: r2 is verify_only: r3
  EXPECT_EQ(b[0].router, "r3");
  lab.env.sender = "x@elsewhere.example";  // senders does not match
  EXPECT_EQ(lab.route("alice@test.example")[0].router, "r3");
  lab.env.verifying = true;
  EXPECT_EQ(lab.route("bob@test.example")[0].router, "r2");
  lab.env.verifying = false;
  auto c = lab.route("carol@other.example");
  EXPECT_EQ(c[0].status, RouteStatus::kFailed);
  EXPECT_EQ(c[0].message, "Unrouteable address");
}

TEST(Routers, NoMoreFailsOnDecline) {
  Lab lab(std::string(kHead) +
          "r1:\n  driver = redirect\n  data = ${lookup{$local_part}lsearch{/nonexistent}{$value}}\n  no_more\n"
          "r2:\n  driver = accept\n  transport = t\nbegin transports\nt:\n  driver = appendfile\n  file = /dev/null\n");
  ASSERT_EQ(lab.error, "");
  auto a = lab.route("x@test.example");  // the lookup defers (no file): not a decline
  EXPECT_EQ(a[0].status, RouteStatus::kDeferred);
  Lab lab2(std::string(kHead) + "r1:\n  driver = redirect\n  data = ${if eq{1}{0}{x}}\n  no_more\n"
           "r2:\n  driver = accept\n  transport = t\nbegin transports\nt:\n  driver = appendfile\n  file = /dev/null\n");
  ASSERT_EQ(lab2.error, "");
  auto b = lab2.route("x@test.example");
  EXPECT_EQ(b[0].status, RouteStatus::kFailed);
  EXPECT_EQ(b[0].message, "Unrouteable address");
}

TEST(Routers, CheckLocalUser) {
  Lab lab(std::string(kHead) + "r1:\n  driver = accept\n  check_local_user\n  transport = t\n"
          "begin transports\nt:\n  driver = appendfile\n  file = /dev/null\n");
  ASSERT_EQ(lab.error, "");
  auto a = lab.route("root@test.example");
  EXPECT_EQ(a[0].status, RouteStatus::kRouted);
  EXPECT_EQ(a[0].home, "/root");
  EXPECT_EQ(a[0].uid, 0);
  EXPECT_EQ(lab.route("no-such-user-here@test.example")[0].status, RouteStatus::kFailed);
}

class Redirect : public ::testing::Test {
 protected:
  Lab make(const std::string& options, const std::string& data) {
    return Lab(std::string(kHead) + "aliases:\n  driver = redirect\n  data = " + data + "\n" + options +
               "  headers_add = X-A: 1\n  errors_to = owner@test.example\n  address_data = from-aliases\n"
               "local:\n  driver = accept\n  transport = t\n"
               "begin transports\nt:\n  driver = appendfile\n  file = /dev/null\n"
               "f:\n  driver = appendfile\np:\n  driver = appendfile\n");
  }
};

TEST_F(Redirect, ListWithQuotesNamesAndUnqualified) {
  Lab lab = make("", "${if eq{$local_part}{list}{a, \"b c\"@test.example,\\n Name <d@x.example>, e}{}}");
  ASSERT_EQ(lab.error, "");
  auto all = lab.route("list@test.example");
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].status, RouteStatus::kRedirected);
  std::vector<std::string> got;
  for (const auto* a : leaves(all)) got.push_back(a->address);
  EXPECT_EQ(got, (std::vector<std::string>{"a@test.example", "\"b c\"@test.example", "d@x.example", "e@test.example"}));
  for (const auto* a : leaves(all)) {
    EXPECT_EQ(a->parent, 0);
    EXPECT_EQ(a->router, "local");
    EXPECT_EQ(a->extra_headers, std::vector<std::string>{"X-A: 1\n"});  // inherited
    EXPECT_EQ(a->errors_to, "owner@test.example");
  }
}

TEST_F(Redirect, SelfReferenceDoesNotLoop) {
  Lab lab = make("", "${if eq{$local_part}{me}{me@test.example, other}{}}");
  ASSERT_EQ(lab.error, "");
  auto all = lab.route("me@test.example");
  std::set<std::string> got;
  for (const auto* a : leaves(all)) got.insert(a->address + "/" + a->router);
  EXPECT_EQ(got, (std::set<std::string>{"me@test.example/local", "other@test.example/local"}));
}

TEST_F(Redirect, FailDeferBlackholeNeedPermission) {
  Lab denied = make("", "${if eq{$local_part}{gone}{:fail: left}{}}");
  auto d = denied.route("gone@test.example");
  EXPECT_EQ(d[0].status, RouteStatus::kDeferred);
  EXPECT_EQ(d[0].message, "error in redirect data: \":fail: left\" is not permitted");
  Lab lab = make("  allow_fail\n  allow_defer\n",
                 "${if eq{$local_part}{gone}{:fail: left}{${if eq{$local_part}{later}{:defer: busy}{"
                 "${if eq{$local_part}{null}{:blackhole:}{}}}}}}");
  ASSERT_EQ(lab.error, "");
  auto g = lab.route("gone@test.example");
  EXPECT_EQ(g[0].status, RouteStatus::kFailed);
  EXPECT_EQ(g[0].message, "left");
  auto l = lab.route("later@test.example");
  EXPECT_EQ(l[0].status, RouteStatus::kDeferred);
  EXPECT_EQ(l[0].message, "busy");
  EXPECT_EQ(lab.route("null@test.example")[0].status, RouteStatus::kDiscarded);
}

TEST_F(Redirect, FileAndPipeTargets) {
  Lab unset = make("", "${if eq{$local_part}{f}{/var/mail/x, |/bin/cat}{}}");
  auto u = unset.route("f@test.example");
  ASSERT_EQ(u.size(), 3u);
  EXPECT_TRUE(u[1].is_file);
  EXPECT_EQ(u[1].status, RouteStatus::kDeferred);
  EXPECT_EQ(u[1].message, "file_transport unset in aliases router");
  EXPECT_TRUE(u[2].is_pipe);
  EXPECT_EQ(u[2].message, "pipe_transport unset in aliases router");
  Lab lab = make("  file_transport = f\n  pipe_transport = p\n", "${if eq{$local_part}{f}{/var/mail/x, |/bin/cat}{}}");
  auto a = lab.route("f@test.example");
  EXPECT_EQ(a[1].status, RouteStatus::kRouted);
  EXPECT_EQ(a[1].transport, "f");
  EXPECT_EQ(a[2].transport, "p");
  Lab forbid = make("  forbid_pipe\n  pipe_transport = p\n", "${if eq{$local_part}{f}{|/bin/cat}{}}");
  auto b = forbid.route("f@test.example");
  EXPECT_EQ(b[0].status, RouteStatus::kDeferred);
  EXPECT_EQ(b[0].message, "error in redirect data: pipe delivery is not permitted (\"|/bin/cat\")");
}

TEST_F(Redirect, FileOptionAndInclude) {
  Lab probe = make("", "x");
  std::string inc = probe.file("inc", "i1, i2\n");
  std::string aliases = probe.file("aliases", "a, :include:" + inc + "\n");
  Lab lab(std::string(kHead) + "aliases:\n  driver = redirect\n  file = " + aliases +
          "${if eq{$local_part}{x}{}{.missing}}\n"
          "local:\n  driver = accept\n  transport = t\nbegin transports\nt:\n  driver = appendfile\n  file = /dev/null\n");
  ASSERT_EQ(lab.error, "");
  // The file is the redirection list (a forward file): a, then what :include: brings.
  auto all = lab.route("x@test.example");
  std::vector<std::string> got;
  for (const auto* a : leaves(all)) got.push_back(a->address);
  EXPECT_EQ(got.size(), 3u);
  // A missing file: the router declines.
  EXPECT_EQ(lab.route("y@test.example")[0].router, "local");
}

TEST(Manualroute, RouteListHostsAndPorts) {
  Lab lab(std::string(kHead) +
          "r:\n  driver = manualroute\n  route_list = a.example 127.0.0.2::2525:127.0.0.3 ; *.b.example 192.0.2.9 randomize\n"
          "  transport = smtp\nrd:\n  driver = manualroute\n  domains = c.example\n"
          "  route_data = ${if eq{$domain}{c.example}{192.0.2.7:192.0.2.8}}\n  hosts_randomize\n  transport = smtp\n"
          "begin transports\nsmtp:\n  driver = smtp\n");
  ASSERT_EQ(lab.error, "");
  auto a = lab.route("x@a.example");
  ASSERT_EQ(a[0].status, RouteStatus::kRouted);
  ASSERT_EQ(a[0].hosts.size(), 2u);
  EXPECT_EQ(a[0].hosts[0].name, "127.0.0.2");
  EXPECT_EQ(a[0].hosts[0].address, "127.0.0.2");
  EXPECT_EQ(a[0].hosts[0].port, 2525);
  EXPECT_EQ(a[0].hosts[0].mx, kMxNone);
  EXPECT_EQ(a[0].hosts[1].port, 0);
  EXPECT_EQ(lab.route("x@z.b.example")[0].hosts[0].address, "192.0.2.9");
  std::set<std::string> firsts;
  for (int i = 0; i < 64; ++i) firsts.insert(lab.route("x@c.example")[0].hosts[0].address);
  EXPECT_EQ(firsts, (std::set<std::string>{"192.0.2.7", "192.0.2.8"}));  // hosts_randomize
  EXPECT_EQ(lab.route("x@d.example")[0].status, RouteStatus::kFailed);
}

TEST(Manualroute, NamesThroughTheResolver) {
  Lab lab(std::string(kHead) + "r:\n  driver = manualroute\n  route_list = * relay.example\n  transport = smtp\n"
          "begin transports\nsmtp:\n  driver = smtp\n");
  ASSERT_EQ(lab.error, "");
  lab.dns.a("relay.example", {192, 0, 2, 1});
  auto a = lab.route("x@any.example");
  ASSERT_EQ(a[0].hosts.size(), 1u);
  EXPECT_EQ(a[0].hosts[0].name, "relay.example");
  EXPECT_EQ(a[0].hosts[0].address, "192.0.2.1");
  lab.dns.fail_all = true;
  EXPECT_EQ(lab.route("x@any.example")[0].status, RouteStatus::kDeferred);
}

class Dnslookup : public ::testing::Test {
 protected:
  Lab lab{std::string(kHead) + "r:\n  driver = dnslookup\n  mx_domains = strict.example\n"
          "  widen_domains = wide.example\n  transport = smtp\n"
          "begin transports\nsmtp:\n  driver = smtp\n"};
};

TEST_F(Dnslookup, MxInPreferenceOrderRandomAmongEquals) {
  ASSERT_EQ(lab.error, "");
  lab.dns.mx("d.example", 20, "mx3.d.example");
  lab.dns.mx("d.example", 10, "mx1.d.example");
  lab.dns.mx("d.example", 10, "mx2.d.example");
  lab.dns.a("mx1.d.example", {192, 0, 2, 1});
  lab.dns.a("mx2.d.example", {192, 0, 2, 2});
  lab.dns.a("mx3.d.example", {192, 0, 2, 3});
  lab.dns.aaaa("mx3.d.example", std::string("\x20\x01\x0d\xb8", 4) + std::string(11, '\0') + "\x01");
  std::set<std::string> firsts;
  for (int i = 0; i < 64; ++i) {
    auto a = lab.route("x@d.example");
    ASSERT_EQ(a[0].status, RouteStatus::kRouted);
    ASSERT_EQ(a[0].hosts.size(), 4u);
    firsts.insert(a[0].hosts[0].name);
    EXPECT_EQ(a[0].hosts[0].mx, 10);
    EXPECT_EQ(a[0].hosts[1].mx, 10);
    EXPECT_EQ(a[0].hosts[2].name, "mx3.d.example");
    EXPECT_EQ(a[0].hosts[2].address, "2001:db8::1");  // AAAA before A, as Exim
    EXPECT_EQ(a[0].hosts[3].address, "192.0.2.3");
    EXPECT_EQ(a[0].hosts[3].mx, 20);
  }
  EXPECT_EQ(firsts, (std::set<std::string>{"mx1.d.example", "mx2.d.example"}));
}

TEST_F(Dnslookup, ImplicitMxWideningAndFailures) {
  ASSERT_EQ(lab.error, "");
  lab.dns.no_mx("plain.example");
  lab.dns.a("plain.example", {192, 0, 2, 5});
  auto a = lab.route("x@plain.example");
  ASSERT_EQ(a[0].status, RouteStatus::kRouted);
  EXPECT_EQ(a[0].hosts[0].mx, kMxImplicit);
  EXPECT_EQ(a[0].hosts[0].name, "plain.example");
  lab.dns.no_mx("strict.example");
  lab.dns.a("strict.example", {192, 0, 2, 6});
  EXPECT_EQ(lab.route("x@strict.example")[0].message, "Unrouteable address");  // mx_domains
  lab.dns.mx("short.wide.example", 5, "mx.wide.example");
  lab.dns.a("mx.wide.example", {192, 0, 2, 7});
  auto w = lab.route("x@short");
  ASSERT_EQ(w[0].status, RouteStatus::kRouted);
  EXPECT_EQ(w[0].hosts[0].name, "mx.wide.example");
  lab.dns.mx("nullmx.example", 0, "");
  auto n = lab.route("x@nullmx.example");
  EXPECT_EQ(n[0].status, RouteStatus::kFailed);
  EXPECT_EQ(n[0].message, "an MX or SRV record indicated no SMTP service");
  EXPECT_EQ(lab.route("x@nxdomain.example")[0].message, "Unrouteable address");
  lab.dns.fail_all = true;
  EXPECT_EQ(lab.route("x@plain.example")[0].status, RouteStatus::kDeferred);
}

TEST(Ipliteral, AddressLiterals) {
  Lab lab(std::string(kHead) + "r:\n  driver = ipliteral\n  transport = smtp\nbegin transports\nsmtp:\n  driver = smtp\n");
  ASSERT_EQ(lab.error, "");
  auto a = lab.route("x@[192.0.2.1]");
  ASSERT_EQ(a[0].status, RouteStatus::kRouted);
  EXPECT_EQ(a[0].hosts[0].name, "[192.0.2.1]");
  EXPECT_EQ(a[0].hosts[0].address, "192.0.2.1");
  EXPECT_EQ(lab.route("x@[IPv6:2001:db8::1]")[0].hosts[0].address, "2001:db8::1");
  EXPECT_EQ(lab.route("x@[300.1.1.1]")[0].status, RouteStatus::kFailed);
  EXPECT_EQ(lab.route("x@example.com")[0].status, RouteStatus::kFailed);
}

TEST(Routers, ConfigurationErrors) {
  EXPECT_EQ(Lab(std::string(kHead) + "r:\n  driver = accept\n").error, "a transport is required for the r router");
  EXPECT_TRUE(Lab(std::string(kHead) + "r:\n  driver = redirect\n")
                  .error.ends_with(".conf:3: one of \"file\" or \"data\" must be specified for the r router"));
}


// A module's router precondition: the recipient's data "want" names what it does at
// router r1 ("skip", "fail", "defer"); anything else runs the router. It also checks that
// the hook's argument is the router's name.
tern_status want_hook(tern_ctx* ctx, void*, tern_call* call, void* arg, tern_buf* verdict) {
  const auto* router = static_cast<const tern_str*>(arg);
  if (std::string_view(router->ptr, router->len) != "r1") return TERN_OK;
  tern_str want{};
  if (ctx->host->recipient_data(call, {"want", 4}, &want) != TERN_OK) return TERN_OK;
  std::string_view w(want.ptr, want.len);
  if (w == "skip") return TERN_DECLINE;
  ctx->host->buf_append(verdict, {"not for r1", 10});
  if (w == "fail") return TERN_FAIL;
  if (w == "defer") return TERN_DEFER;
  return TERN_OK;
}

TEST(Routers, ModulePreconditionsReadThePerRecipientData) {
  Lab lab(std::string(kHead) +
          "team:\n  driver = redirect\n  local_parts = team\n  data = dave@test.example\n"
          "r1:\n  driver = accept\n  transport = t\n"
          "r2:\n  driver = accept\n  transport = t\n"
          "begin transports\nt:\n  driver = appendfile\n  file = /dev/null\n");
  ASSERT_EQ(lab.error, "");
  module_host::ModuleCtx ctx;
  ctx.host = module_host::host_table(false);
  module_host::HookRegistry hooks;
  module_host::Hook h;
  h.module = "m";
  h.ctx = &ctx;
  h.run = want_hook;
  hooks.add(TERN_HOOK_ROUTER_PRECONDITION, h);
  hooks.freeze();
  module_host::RecipientValues values;
  values[1]["want"] = "skip";
  values[2]["want"] = "fail";
  values[3]["want"] = "defer";
  values[4]["want"] = "skip";  // team: its child dave reads it
  auto store = module_host::MessageRecipients::for_routing(5, values);
  lab.env.hooks = &hooks;
  lab.env.recipients = &store;
  std::vector<Address> all;
  for (const char* lp : {"alice", "bob", "carol", "dan", "team"}) {
    Address a;
    a.address = std::string(lp) + "@test.example";
    a.local_part = lp;
    a.domain = "test.example";
    a.spool_recipient = all.size();
    all.push_back(a);
  }
  lab.routers->route_all(all, lab.env);
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[0].router, "r1");  // no data: runs
  EXPECT_EQ(all[1].router, "r2");  // declined: the next router, as a failed precondition
  EXPECT_EQ(all[2].status, RouteStatus::kFailed);
  EXPECT_EQ(all[2].router, "r1");
  EXPECT_EQ(all[2].message, "not for r1");
  EXPECT_EQ(all[3].status, RouteStatus::kDeferred);
  EXPECT_EQ(all[3].message, "not for r1");
  EXPECT_EQ(all[5].address, "dave@test.example");
  EXPECT_EQ(all[5].spool_recipient, 4u);
  EXPECT_EQ(all[5].router, "r2");
}

}  // namespace
}  // namespace tern::deliver
