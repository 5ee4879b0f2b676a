// tests/fuzz/fuzz_smtp_command.cpp: the command side of core/smtp under libFuzzer.
//
// The input is a client's byte stream: it is split into command lines,
// each identified and handed to the parser for its verb, with the state
// machine and the sync check in the loop. Nothing may crash, hang or read
// out of bounds, and a few invariants are checked: replies are well formed,
// lines never exceed the command buffer, the split consumes all input.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/smtp/command.hpp"
#include "core/smtp/input.hpp"
#include "core/smtp/state.hpp"

using namespace tern::smtp;

static void check(const Reply& r) {
  std::string wire = format(r);
  if (wire.size() < 6 || wire.compare(wire.size() - 2, 2, "\r\n") != 0) abort();
  if (r.code < 200 || r.code > 599) abort();
}

static void check(const std::optional<Rejection>& r) {
  if (r) check(r->reply);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // The first byte picks options so both ESMTP and plain SMTP paths run.
  uint8_t flags = size ? data[0] : 0;
  MailOptions mopt;
  mopt.esmtp = flags & 1;
  mopt.dsn_advertised = flags & 2;
  mopt.prdr_enable = flags & 4;
  mopt.address.allow_domain_literals = flags & 8;
  mopt.address.strip_trailing_dot = flags & 16;
  mopt.address.strip_excess_angle_brackets = flags & 32;
  RcptOptions ropt;
  ropt.esmtp = mopt.esmtp;
  ropt.dsn_advertised = mopt.dsn_advertised;
  ropt.address = mopt.address;
  const size_t max = (flags & 64) ? 64 : kCommandMax;  // small buffers reach the overlong path

  SessionState state;
  state.helo_accepted(mopt.esmtp, true, true);
  size_t pos = 0;
  while (pos < in.size()) {
    auto line = next_command_line(in.substr(pos), max);
    if (!line) break;
    if (line->consumed == 0 || line->text.size() > max) abort();
    pos += line->consumed;
    Command c = identify(line->text, line->overlong);
    (void)sync_violation(c, state.pipelining_advertised(), pos < in.size());
    Outcome o = state.on_command(c);
    if (o.reply) check(*o.reply);
    if (!o.proceed) continue;
    switch (c.verb) {
      case Verb::kHelo:
      case Verb::kEhlo:
        check(parse_helo(c.verb, c.argument, {}).rejection);
        break;
      case Verb::kMail: {
        auto m = parse_mail(c.argument, mopt);
        check(m.rejection);
        if (m.ok()) state.mail_accepted();
        break;
      }
      case Verb::kRcpt: {
        if (auto g = state.check_rcpt(); g.reply) check(*g.reply);
        auto r = parse_rcpt(c.argument, ropt);
        check(r.rejection);
        if (r.ok() && state.sender_given()) state.rcpt_response("Accepted", true);
        break;
      }
      case Verb::kData:
        if (auto g = state.check_data(Verb::kData); g.reply) check(*g.reply);
        break;
      case Verb::kBdat:
        check(parse_bdat(c.argument).rejection);
        break;
      case Verb::kVrfy:
      case Verb::kExpn:
        check(parse_vrfy(c.argument).rejection);
        break;
      case Verb::kAuth:
        check(auth_unsupported(parse_auth(c.argument).mechanism));
        break;
      case Verb::kRset:
        state.rset();
        break;
      default:
        break;
    }
  }
  return 0;
}
