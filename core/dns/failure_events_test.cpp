// core/dns/failure_events_test.cpp: dns:fail's data (Exim 4.98's "<reason>:<name>:<type>")
// and when FailureEvents raises it. The end-to-end check (a daemon routing through nsd and
// unbound) is modules/events/tests/test_delivery_events.py.
#include "core/dns/failure_events.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace tern::dns {
namespace {

using Answer = module_host::DnsResolver::Answer;

Answer answer(int rcode, std::vector<std::string> rdata = {}) {
  Answer a;
  a.rcode = rcode;
  a.rdata = std::move(rdata);
  return a;
}

TEST(FailureEventData, ReasonNameAndType) {
  EXPECT_EQ(failure_event_data("nx.example", 15, answer(3)), "DNS_NOMATCH:nx.example:MX");
  EXPECT_EQ(failure_event_data("host.example", 28, answer(0)), "DNS_NODATA:host.example:AAAA");
  EXPECT_EQ(failure_event_data("slow.example", 1, Error::defer("timeout after 10000 ms")), "DNS_AGAIN:slow.example:A");
  EXPECT_EQ(failure_event_data("broken.example", 16, answer(2)), "DNS_AGAIN:broken.example:TXT");
  EXPECT_EQ(failure_event_data("refused.example", 52, answer(5)), "DNS_FAIL:refused.example:TLSA");
  EXPECT_EQ(failure_event_data("odd.example", 99, answer(3)), "DNS_NOMATCH:odd.example:SPF");
  EXPECT_EQ(failure_event_data("any.example", 255, answer(3)), "DNS_NOMATCH:any.example:?");
  // Colons in the name are doubled, as Exim quotes list items.
  EXPECT_EQ(failure_event_data("a:b", 12, answer(3)), "DNS_NOMATCH:a::b:PTR");
  // Success: no event.
  EXPECT_EQ(failure_event_data("ok.example", 1, answer(0, {std::string("\x7f\0\0\1", 4)})), "");
}

class Scripted final : public module_host::DnsResolver {
 public:
  explicit Scripted(Result<Answer> next) : next_(std::move(next)) {}
  Result<Answer> query(std::string_view, uint16_t) override { return next_; }

 private:
  Result<Answer> next_;
};

TEST(FailureEvents, RaisesOnlyFailuresAndOnlyWhenObserved) {
  Scripted nx(answer(3));
  std::vector<std::string> raised;
  bool listening = true;
  int asked = 0;
  FailureEvents events(
      nx, [&] { ++asked; return listening; }, [&](std::string_view d) { raised.emplace_back(d); });
  auto r = events.query("nx.example", 15);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rcode, 3);  // passed on unchanged
  EXPECT_EQ(raised, std::vector<std::string>{"DNS_NOMATCH:nx.example:MX"});
  listening = false;
  (void)events.query("nx.example", 15);
  EXPECT_EQ(raised.size(), 1u);
  EXPECT_EQ(asked, 2);

  Scripted ok(answer(0, {std::string("\x7f\0\0\1", 4)}));
  FailureEvents quiet(ok, [] { return true; }, [&](std::string_view d) { raised.emplace_back(d); });
  (void)quiet.query("ok.example", 1);
  EXPECT_EQ(raised.size(), 1u);
}

}  // namespace
}  // namespace tern::dns
