// core/deliver/submission.cpp: the sendmail interface (see submission.hpp).
//
// The order of the steps is Exim 4.96's (exim.c for the caller and the arguments,
// receive.c's receive_msg() for the message): who calls and whether they are trusted,
// the envelope sender, the command line's recipients, the message read, its header lines
// classified, -t's recipients, Message-Id:, From:, Sender:, the qualification of
// addresses in header lines, Date:, the spool, the delivery.
#include "core/deliver/submission.hpp"
#include "core/deliver/queue_policy.hpp"

#include <grp.h>
#include <pwd.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/deliver/delivery.hpp"
#include "core/deliver/local_message.hpp"
#include "core/deliver/modes.hpp"
#include "core/deliver/spawn.hpp"
#include "core/expand/expand.hpp"
#include "core/lookup/match.hpp"
#include "core/smtp/address.hpp"
#include "core/spool/message_id.hpp"

namespace tern::deliver {
namespace {

constexpr int kExitFailure = 1;

int fail(const std::string& text) {
  std::fprintf(stderr, "tern: %s\n", text.c_str());
  return kExitFailure;
}

// Exim's text when there is nothing to do: no recipients and no -t.
int usage() {
  std::fputs("tern is a Mail Transfer Agent. It is normally called by Mail User Agents,\n"
             "not directly from a shell command line. Options and/or arguments control\n"
             "what it does when called. For a list of options, see the Exim documentation.\n",
             stderr);
  return kExitFailure;
}

std::string main_variable(cli::Runtime& rt, std::string_view name) {
  std::string v;
  rt.config_variables().append(name, v);
  return v;
}

// The user who runs tern, as Exim's originator_*: login, gecos name and whether the
// caller is trusted (root, exim_user, trusted_users, trusted_groups).
struct Caller {
  std::string login;
  std::string name;
  bool trusted = false;
};

bool in_numbers(const config::OptionValue* v, std::int64_t n) {
  return v && std::find(v->numbers.begin(), v->numbers.end(), n) != v->numbers.end();
}

Caller identify_caller(const config::OptionSet& main, const cli::CommandLine& cl) {
  Caller c;
  c.login = caller_login();
  uid_t uid = getuid();
  if (struct passwd* pw = getpwuid(uid)) {
    // As most Unix systems: "&" in the gecos field is the login, its first letter upper-cased.
    std::string gecos = pw->pw_gecos ? pw->pw_gecos : "";
    if (auto amp = gecos.find('&'); amp != std::string::npos) {
      std::string login = c.login;
      if (!login.empty()) login[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(login[0])));
      gecos.replace(amp, 1, login);
    }
    c.name = gecos;
  }
  if (cl.submission.name_given) c.name = cl.submission.full_name;
  const config::OptionValue* exim_user = main.get("exim_user");
  c.trusted = uid == 0 || (exim_user && exim_user->is_set && exim_user->number == static_cast<std::int64_t>(uid)) ||
              in_numbers(main.get("trusted_users"), uid);
  if (!c.trusted) {
    const config::OptionValue* groups = main.get("trusted_groups");
    c.trusted = in_numbers(groups, getgid());
    std::vector<gid_t> supplementary(static_cast<std::size_t>(std::max(getgroups(0, nullptr), 0)));
    int n = getgroups(static_cast<int>(supplementary.size()), supplementary.data());
    for (int i = 0; i < n && !c.trusted; ++i) c.trusted = in_numbers(groups, supplementary[static_cast<std::size_t>(i)]);
  }
  return c;
}

// Exim's receive_check_set_sender(): may this caller set this envelope sender?
bool may_set_sender(cli::Runtime& rt, const Caller& caller, const std::string& sender) {
  if (caller.trusted || sender.empty()) return true;  // anyone may send with <>
  std::string list = rt.config().main.get_string("untrusted_set_sender");
  if (list.empty()) return false;
  auto expanded = expand::expand(list, rt.context());
  if (!expanded) return false;
  auto env = expand::match_env(rt.context());
  auto r = lookup::match_list(sender, *expanded, lookup::ListKind::kAddress, env);
  return r && r->matched();
}

// The message as read from standard input.
struct Input {
  std::vector<std::string> headers;  // each ending in '\n', continuation lines joined
  std::string body;                  // LF line ends
  std::int64_t longest_line = 0;     // Exim's max_received_linelength (headers and body)
};

// Exim's header test: a name of printing characters but ':', spaces, then ':'.
bool is_header_line(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && std::isgraph(static_cast<unsigned char>(line[i])) && line[i] != ':') ++i;
  while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
  return i < line.size() && line[i] == ':';
}

Input read_input(std::FILE* in, bool dot_ends) {
  std::string raw;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, in)) > 0) raw.append(buf, n);
  // Lines: CR LF and a lone CR end a line as LF does; a missing final newline is added;
  // with dot_ends, a line holding one dot ends the message (and is not part of it).
  std::vector<std::string> lines;
  std::string line;
  bool pending = false;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
      if (dot_ends && line == ".") {
        pending = false;
        line.clear();
        break;
      }
      lines.push_back(std::move(line));
      line.clear();
      pending = false;
    } else {
      line += c;
      pending = true;
    }
  }
  if (pending) lines.push_back(std::move(line));
  Input m;
  for (const auto& l : lines) m.longest_line = std::max(m.longest_line, static_cast<std::int64_t>(l.size()));
  std::size_t i = 0;
  while (i < lines.size()) {
    const std::string& l = lines[i];
    if (l.empty()) {  // the blank line ending the header section
      ++i;
      break;
    }
    if (l[0] == ' ' || l[0] == '\t' || !is_header_line(l)) break;  // the body's first line
    std::string h = l + "\n";
    for (++i; i < lines.size() && !lines[i].empty() && (lines[i][0] == ' ' || lines[i][0] == '\t'); ++i)
      h += lines[i] + "\n";
    // Continuation lines of white space only at the end are dropped (they look like the end
    // of the header section to people).
    for (;;) {
      std::size_t last = h.rfind('\n', h.size() - 2);
      if (last == std::string::npos || h.find_first_not_of(" \t", last + 1) != h.size() - 1) break;
      h.erase(last + 1);
    }
    m.headers.push_back(std::move(h));
  }
  for (; i < lines.size(); ++i) m.body += lines[i] + "\n";
  return m;
}

// "To" for "To: x" and "to : x", caseless; `resent` says whether a Resent- prefix is
// allowed (and then required).
bool header_is(std::string_view h, std::string_view name, bool resent) {
  if (resent) {
    if (h.size() < 7 || strncasecmp(h.data(), "resent-", 7) != 0) return false;
    h.remove_prefix(7);
  }
  if (h.size() <= name.size() || strncasecmp(h.data(), name.data(), name.size()) != 0) return false;
  std::size_t i = name.size();
  while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) ++i;
  return i < h.size() && h[i] == ':';
}

std::string header_value(std::string_view h) {
  std::string_view v = h.substr(h.find(':') + 1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  return std::string(v);
}

// An address of the command line or a header line; Error: Exim's reason.
Result<smtp::ParsedAddress> parse_address(std::string_view text, bool allow_null = false) {
  smtp::AddressOptions opt;
  opt.allow_null = allow_null;
  return smtp::extract_address(text, opt);
}

std::string qualified(const smtp::ParsedAddress& a, const std::string& domain) {
  return a.has_domain() || a.address.empty() ? a.address : a.address + "@" + domain;
}

// A bad address found by -t: the rest of its header line and why.
struct BadAddress {
  std::string text, reason;
};

// What the caller and the configuration make of one submission.
struct Submitter {
  Submitter(cli::Runtime& r, const cli::CommandLine& c, Caller who) : rt(r), cl(c), caller(std::move(who)) {}
  cli::Runtime& rt;
  const cli::CommandLine& cl;
  Caller caller;
  std::string qualify_domain, qualify_recipient;
  std::string sender;
  bool sender_forced = false;  // -f was used and allowed
  bool sender_local = true;    // Exim's sender_local: untrusted, or no -f
  std::vector<std::string> recipients;
  std::set<std::string> nonrecipients;
  std::vector<spool::Header> headers;
  std::vector<BadAddress> bad;
  bool extracted_ignored = false;  // -t found only addresses the command line removed
};

// -t: the recipients of To:, Cc: and Bcc: (of the Resent- ones when there are any);
// Bcc: lines are then kept only on the spool.
void extract_recipients(Submitter& s, bool resents) {
  for (auto& h : s.headers) {
    if (h.type != 'T' && h.type != 'C' && h.type != 'B') continue;
    if (resents && strncasecmp(h.text.c_str(), "resent-", 7) != 0) continue;
    std::string v = header_value(h.text);
    std::size_t i = 0;
    while (i < v.size()) {
      std::size_t end = smtp::find_address_end(v, i);
      std::string one;
      for (std::size_t k = i; k < end; ++k)
        if (v[k] != '\n') one += v[k];
      if (one.find_first_not_of(" \t") != std::string::npos) {  // an empty address is no error
        auto a = parse_address(one);
        if (!a) {
          std::string rest = v.substr(i);
          while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) rest.pop_back();
          s.bad.push_back({rest, a.error().message});
        } else if (!s.nonrecipients.count(a->address)) {
          // As Exim: the address as written is looked for among the removed ones, before
          // it is qualified.
          s.recipients.push_back(qualified(*a, s.qualify_recipient));
        } else {
          s.extracted_ignored = true;
        }
      }
      i = end + (end < v.size() ? 1 : 0);
      while (i < v.size() && std::isspace(static_cast<unsigned char>(v[i]))) ++i;
    }
    if (h.type == 'B') h.type = '*';
  }
}

// Exim's rewrite_header() without rewriting rules: unqualified addresses in From:, To:,
// Cc:, Bcc:, Sender: and Reply-To: get the qualify domain; the old line is kept as '*'
// and the new one follows it.
void qualify_header_addresses(Submitter& s) {
  for (std::size_t k = 0; k < s.headers.size(); ++k) {
    const char type = s.headers[k].type;
    if (std::string_view("FTCBSR").find(type) == std::string_view::npos) continue;
    const std::string& domain = std::string_view("TCB").find(type) != std::string_view::npos ? s.qualify_recipient
                                                                                             : s.qualify_domain;
    const std::string text = s.headers[k].text;
    std::size_t colon = text.find(':') + 1;
    std::string out = text.substr(0, colon);
    bool changed = false;
    std::size_t i = colon;
    while (i < text.size()) {
      std::size_t end = smtp::find_address_end(text, i);
      std::string segment = text.substr(i, end - i);
      std::string unfolded;  // a folded line's newlines are not part of its addresses
      std::copy_if(segment.begin(), segment.end(), std::back_inserter(unfolded), [](char c) { return c != '\n'; });
      auto a = parse_address(unfolded);
      if (a && !a->has_domain() && !a->address.empty()) {
        std::size_t at = segment.rfind(a->address);
        if (at != std::string::npos) {
          segment.insert(at + a->address.size(), "@" + domain);
          changed = true;
        }
      }
      out += segment;
      if (end < text.size()) out += text[end];
      i = end + 1;
    }
    if (!changed) continue;
    s.headers[k].type = '*';
    s.headers.insert(s.headers.begin() + static_cast<long>(k) + 1, {type, out});
    ++k;
  }
}

// Exim's message_id_header_domain / message_id_header_text, flattened as it does.
std::string message_id_part(cli::Runtime& rt, log::Logger& logger, std::string_view option, bool domain) {
  std::string source = rt.config().main.get_string(option);
  if (source.empty()) return "";
  auto v = expand::expand(source, rt.context());
  if (!v) {
    logger.panic("expansion of \"" + source + "\" (" + std::string(option) + ") failed: " + v.error().message);
    return "";
  }
  std::string out = *v;
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (domain ? !(std::isalnum(u) || c == '.') : (u < 32 || u == 127 || std::strchr("()<>@,;:\\\".[]", c)))
      c = '-';
  }
  return out;
}

// The header fix-ups of receive_msg() for a local message, in its order.
void fix_up_headers(Submitter& s, log::Logger& logger, const std::string& id) {
  const config::OptionSet& main = s.rt.config().main;
  const bool resents = std::any_of(s.headers.begin(), s.headers.end(), [](const spool::Header& h) {
    return strncasecmp(h.text.c_str(), "resent-", 7) == 0;
  });
  const std::string prefix = resents ? "Resent-" : "";
  const bool untrusted_local = s.sender_local && !s.caller.trusted;
  const std::string generated_sender = s.caller.login + "@" + s.qualify_domain;
  auto add = [&](char type, std::string text, bool at_start) {
    s.headers.insert(at_start ? s.headers.begin() : s.headers.end(), {type, std::move(text)});
  };

  bool has_date = false, has_id = false;
  std::optional<std::size_t> from;
  const std::size_t received = s.headers.size();
  for (std::size_t k = 0; k < received; ++k) {
    spool::Header& h = s.headers[k];
    const bool is_resent = strncasecmp(h.text.c_str(), "resent-", 7) == 0;
    const bool counts = !resents || is_resent;
    if (header_is(h.text, "bcc", is_resent)) h.type = 'B';
    else if (header_is(h.text, "cc", is_resent)) h.type = 'C';
    else if (header_is(h.text, "to", is_resent)) h.type = 'T';
    else if (header_is(h.text, "date", is_resent)) has_date = has_date || counts;
    else if (header_is(h.text, "delivery-date", false) && main.get_bool("delivery_date_remove")) h.type = '*';
    else if (header_is(h.text, "envelope-to", false) && main.get_bool("envelope_to_remove")) h.type = '*';
    else if (header_is(h.text, "return-path", false) && main.get_bool("return_path_remove")) h.type = '*';
    else if (header_is(h.text, "reply-to", false)) h.type = 'R';
    else if (header_is(h.text, "received", is_resent)) h.type = 'P';
    else if (header_is(h.text, "message-id", is_resent)) {
      if (!has_id && counts) has_id = true, h.type = 'I';
    } else if (header_is(h.text, "sender", is_resent)) {
      h.type = !main.get_bool("local_sender_retain") && untrusted_local && counts ? '*' : 'S';
    } else if (header_is(h.text, "from", is_resent)) {
      h.type = 'F';
      if (!counts) continue;
      from = k;
      // Sendmail's rule: a From: that is only the caller's login becomes name <login@domain>.
      std::string v = header_value(h.text);
      if (!v.empty() && v.back() == '\n') v.pop_back();
      if (strcasecmp(v.c_str(), s.caller.login.c_str()) == 0) {
        h.type = '*';
        add('F', std::string(is_resent ? "Resent-From" : "From") + ": " + s.caller.name + " <" + generated_sender + ">\n",
            false);
        from = s.headers.size() - 1;
      }
    }
  }

  if (s.cl.submission.extract_recipients) extract_recipients(s, resents);

  if (!has_id) {
    std::string domain = message_id_part(s.rt, logger, "message_id_header_domain", true);
    std::string text = message_id_part(s.rt, logger, "message_id_header_text", false);
    if (domain.empty()) domain = main_variable(s.rt, "primary_hostname");
    add('I', prefix + "Message-Id: <E" + id + (text.empty() ? "" : "." + text) + "@" + domain + ">\n", resents);
  }

  if (!from) {
    // The caller's name is used unless a trusted caller set the sender with -f and no -F.
    const std::string name =
        !s.caller.trusted || s.cl.submission.name_given || !s.sender_forced ? s.caller.name : std::string();
    const std::string open = name.empty() ? "" : name + " <", close = name.empty() ? "" : ">";
    if (s.sender.empty()) {
      if (s.sender_local) add('F', prefix + "From: " + open + generated_sender + close + "\n", false);
    } else {
      add('F', prefix + "From: " + open + s.sender + close + "\n", false);
      from = s.headers.size() - 1;
    }
  }

  if (from && main.get_bool("local_from_check") && untrusted_local) {
    std::string v = header_value(s.headers[*from].text);
    if (!v.empty() && v.back() == '\n') v.pop_back();
    auto a = parse_address(v);
    bool same = a && (strcasecmp(a->address.c_str(), generated_sender.c_str()) == 0 ||
                      (!a->has_domain() && strcasecmp(a->address.c_str(), s.caller.login.c_str()) == 0));
    if (!same) add('S', prefix + "Sender: " + s.caller.name + " <" + generated_sender + ">\n", false);
  }

  qualify_header_addresses(s);

  if (!has_date) {
    auto tod = expand::expand("$tod_full", s.rt.context());
    add(' ', prefix + "Date: " + (tod ? *tod : std::string()) + "\n", resents);
  }
}

void print_bad_addresses(const std::vector<BadAddress>& bad) {
  std::fprintf(stderr, "tern: invalid address%s", bad.size() > 1 ? "es:\n" : ":");
  for (const auto& b : bad) std::fprintf(stderr, "  %s: %s\n", b.text.c_str(), b.reason.c_str());
}

// After the message is on the spool: -odi delivers now, -odb (the default) starts a
// delivery process, -odq and queue_only leave it for a queue run (-odi and -odb override
// queue_only unless queue_only_override is false).
void start_delivery(cli::Runtime& rt, const cli::CommandLine& cl, log::Logger& logger, const std::string& id) {
  using cli::DeliveryMode;
  DeliveryMode mode = cl.submission.delivery;
  const config::OptionSet& main = rt.config().main;
  if (main.get_bool("queue_only") && (mode == DeliveryMode::kDefault || !main.get_bool("queue_only_override")))
    mode = DeliveryMode::kQueue;
  if (mode == DeliveryMode::kQueue) return;
  if (auto held = load_defers_delivery(main)) {  // queue_only_load
    logger.write(log::Line{*held, log::kToMain, log::Selectors::of({log::Selector::kDelayDelivery}), {}});
    return;
  }
  if (mode == DeliveryMode::kForeground) {
    auto p = DeliveryProcess::make(rt);
    if (!p) {
      std::fprintf(stderr, "%s\n", p.error().message.c_str());
      return;
    }
    (void)(*p)->deliver(id);  // the outcome is in the log; the exit status is reception's
    return;
  }
  if (!spawn_delivery(rt, id)) std::perror("tern: fork of a delivery process failed");
}

}  // namespace

int run_submission(const cli::CommandLine& cl) {
  const cli::Submission& opt = cl.submission;
  if (cl.args.empty() && !opt.extract_recipients) return usage();
  auto rt = load_runtime(cl);
  if (!rt) return kExitFailure;
  Submitter s(*rt, cl, identify_caller(rt->config().main, cl));
  s.qualify_domain = main_variable(*rt, "qualify_domain");
  s.qualify_recipient = main_variable(*rt, "qualify_recipient");

  // The envelope sender: -f when the caller may set it, else login@qualify_domain.
  s.sender = s.caller.login + "@" + s.qualify_domain;
  if (opt.sender_given) {
    auto a = opt.sender == "<>" || opt.sender.empty() ? Result<smtp::ParsedAddress>(smtp::ParsedAddress{})
                                                       : parse_address(opt.sender, true);
    if (!a) return fail("bad -f address \"" + opt.sender + "\": " + a.error().message);
    std::string sender = qualified(*a, s.qualify_domain);
    if (may_set_sender(*rt, s.caller, sender)) {
      s.sender = sender;
      s.sender_forced = true;
    }
  }
  s.sender_local = !s.caller.trusted || !s.sender_forced;

  // The command line's recipients: each argument may hold several, separated by commas.
  for (const std::string& arg : cl.args) {
    std::size_t i = 0;
    while (i < arg.size()) {
      std::size_t end = smtp::find_address_end(arg, i);
      std::string one = arg.substr(i, end - i);
      if (one.find_first_not_of(" \t") != std::string::npos) {
        auto a = parse_address(one);
        if (!a) return fail("bad recipient address \"" + one + "\": " + a.error().message);
        s.recipients.push_back(qualified(*a, s.qualify_recipient));
      }
      i = end + 1;
    }
  }
  // With -t the arguments' addresses are not sent to (extract_addresses_remove_arguments).
  if (opt.extract_recipients && rt->config().main.get_bool("extract_addresses_remove_arguments")) {
    s.nonrecipients.insert(s.recipients.begin(), s.recipients.end());
    s.recipients.clear();
  }

  Input input = read_input(stdin, opt.dot_ends);
  for (auto& h : input.headers) s.headers.push_back({' ', std::move(h)});

  auto options = delivery_logger_options(*rt);
  if (!options) return fail(options.error().message);
  log::Logger logger(std::move(*options));
  const std::string id = spool::IdGenerator().next().text();
  fix_up_headers(s, logger, id);

  if (opt.extract_recipients && (!s.bad.empty() || s.recipients.empty())) {
    logger.panic(id + " " + (s.bad.empty() ? "no recipients" : "bad addresses") + " found in headers", id);
    if (!s.bad.empty()) print_bad_addresses(s.bad);
    else if (s.extracted_ignored) std::fputs("tern: all -t recipients overridden by command line\n", stderr);
    else std::fputs("tern: no recipients in message\n", stderr);
    if (s.recipients.empty() || opt.errors_to_stderr) return kExitFailure;
  }

  LocalMessage m;
  m.id = id;
  m.sender = s.sender;
  m.recipients = s.recipients;
  m.typed_headers = std::move(s.headers);
  m.body = std::move(input.body);
  m.longest_line = input.longest_line;
  m.nonrecipients = s.nonrecipients;
  m.submission = true;
  m.sender_local = s.sender_local;
  m.qualify_domain = s.qualify_domain;
  spool::Spool spool(spool_config(rt->config()));
  auto spooled = spool_local_message(*rt, spool, logger, m);
  if (!spooled) return fail("spool: " + spooled.error().message);
  start_delivery(*rt, cl, logger, *spooled);
  return 0;
}

}  // namespace tern::deliver
