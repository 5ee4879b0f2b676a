// sdk/examples/hello/hello.cpp: a tern module in C++ with <tern/module.hpp>.
//
// Brings the same kinds as hello_c, with C++ names:
//   option     hello_greeting_text (main, string, default "hello, world")
//   operator   ${hello_rev:text}        the text reversed
//   operator   ${hello_fail:text}       always an expansion error (shows how
//                                       an exception reaches the core)
//   item       ${hello_join{a}{b}...}   the arguments joined with "-"
//   variable   $hello_greeting          the option above
//   variable   $hello_events            msg:* events seen so far
//   variable   $hello_host              $primary_hostname in capitals (reads
//                                       what the host's expand answers)
//   lookup     ${lookup hello{key}}     a small in-memory table;
//              ${quote_hello:text}      backslash before \ and "
//   condition  hello_check = value      true when value starts with "hello"
//   option     hello_log_events (main, bool, default false)
//   listener   msg:*                    counts message events; logs each one
//                                       (debug, or the main log with
//                                       hello_log_events)
//   item       ${hello_rcpt_data{key}}  the per-recipient data `key` of the
//                                       recipient being routed or delivered
//   option     hello_tag (router, string) a router with it set runs only for
//                                       recipients tagged so (hook below)
//   hook       after DATA (deadline 1 s) per recipient: "hello_rcpt" its
//                                       position ("1/2"), "hello_body_bytes"
//                                       the body's size (read through
//                                       data_fd), "hello_tag" its tag from
//                                       an "X-Hello-Tag: addr=tag ..." header.
//                                       A subject with "hello-reject" is
//                                       refused (550), "hello-defer" deferred
//                                       (451), "hello-slow" overruns the
//                                       deadline (451: never a stalled session)
//   hook       router precondition      declines (skips the router) when the
//                                       router's hello_tag is set and differs
//                                       from the recipient's "hello_tag"
// State lives in the Hello object, which the SDK hangs off the module's
// tern_ctx (ctx->data): no static state.
#include <tern/module.hpp>

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <map>
#include <thread>
#include <string>
#include <string_view>

namespace {

class Hello final : public tern::Module {
 public:
  tern::Status init(tern::Registrar& r) override {
    r.option("hello_greeting_text", tern::OptionType::kString, tern::scope::kMain,
             "hello, world");
    r.op("hello_rev",
         [](tern::Call&, std::string_view s) { return std::string(s.rbegin(), s.rend()); });
    r.op("hello_fail", [](tern::Call&, std::string_view s) -> std::string {
      throw tern::Error("hello_fail: asked to fail on \"" + std::string(s) + "\"");
    });
    r.item("hello_join", 1, 9, [](tern::Call&, std::span<const std::string_view> args) {
      std::string out;
      for (auto a : args) out.append(out.empty() ? "" : "-").append(a);
      return out;
    });
    r.variable("hello_greeting", [](tern::Call& c, tern::Out& out) {
      return c.option_to(out, "hello_greeting_text");
    });
    r.variable("hello_events", [this](tern::Call&) { return std::to_string(events_.load()); });
    r.variable("hello_host", [](tern::Call& c, tern::Out& out) {
      std::string name;
      tern::Status st = c.expand("$primary_hostname", name);
      if (st != tern::ok()) return st;  // the host set the error text
      for (char& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      out << name;
      return tern::ok();
    });
    r.lookup("hello", {.find = [this](tern::Call&, tern::LookupRequest& q) { return find(q.key); },
                       .quote = quote});
    r.condition("hello_check", tern::acl::kAll,
                [](tern::Call&, std::string_view v) { return v.starts_with("hello"); });
    r.option("hello_log_events", tern::OptionType::kBool, tern::scope::kMain, "false");
    r.listener("msg:*", [this](tern::Call& c, std::string_view event, std::string_view) {
      unsigned long n = ++events_;
      const bool to_main = c.option_int("hello_log_events").value_or(0) != 0;
      c.log(to_main ? tern::LogLevel::kMain : tern::LogLevel::kDebug,
            "hello: event " + std::string(event) + " (" + std::to_string(n) + " so far)");
    });
    r.item("hello_rcpt_data", 1, 1, [](tern::Call& c, std::span<const std::string_view> args) {
      std::string value;
      c.recipient_data(args[0], value);  // unset: empty
      return value;
    });
    r.option("hello_tag", tern::OptionType::kString, tern::scope::kRouter);
    r.after_data(after_data, 0, tern::Blocking{true, 1000});
    r.router_precondition([](tern::Call& c, std::string_view, tern::Out&) {
      std::string want, have;
      if (c.option("hello_tag", want) != tern::ok() || want.empty()) return tern::ok();
      c.recipient_data("hello_tag", have);
      return have == want ? tern::ok() : tern::decline();
    });
    return tern::ok();
  }

 private:
  static tern::Status after_data(tern::Call& c, const tern::Message& m, tern::Out& verdict) {
    const std::string subject = header(m.headers(), "subject");
    if (subject.find("hello-reject") != std::string::npos) {
      verdict << "hello: this subject is not welcome";
      c.set_error("subject \"" + subject + "\" refused");
      return tern::Status::kFail;
    }
    if (subject.find("hello-defer") != std::string::npos) {
      verdict << "hello: not now, try again later";
      return tern::Status::kDefer;
    }
    if (subject.find("hello-slow") != std::string::npos)
      std::this_thread::sleep_for(std::chrono::seconds(3));  // beyond the 1 s deadline
    // The body, from the descriptor's position on; pread leaves the position
    // for the next hook.
    long long body = 0;
    if (int fd = m.data_fd(); fd >= 0) {
      off_t at = ::lseek(fd, 0, SEEK_CUR);
      char buf[8192];
      for (ssize_t n; at >= 0 && (n = ::pread(fd, buf, sizeof buf, at)) > 0; at += n) body += n;
    }
    // "X-Hello-Tag: alice@example.org=red bob@example.org=blue"
    std::map<std::string, std::string> tags;
    const std::string tag_header = header(m.headers(), "x-hello-tag");
    std::string_view list = tag_header;
    while (!list.empty()) {
      size_t sp = list.find(' ');
      std::string_view pair = list.substr(0, sp);
      list = sp == std::string_view::npos ? std::string_view() : list.substr(sp + 1);
      if (size_t eq = pair.find('='); eq != std::string_view::npos)
        tags[lower(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
    }
    auto rcpts = m.recipients();
    for (size_t i = 0; i < rcpts.size(); ++i) {
      c.set_recipient_data(i, "hello_rcpt", std::to_string(i + 1) + "/" + std::to_string(rcpts.size()));
      c.set_recipient_data(i, "hello_body_bytes", std::to_string(body));
      if (auto t = tags.find(lower(rcpts[i])); t != tags.end()) c.set_recipient_data(i, "hello_tag", t->second);
    }
    return tern::ok();
  }
  static std::string lower(std::string_view s) {
    std::string out(s);
    for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
  }
  // The first header `name` (lower case) of a header section, unfolded, trimmed.
  static std::string header(std::string_view headers, std::string_view name) {
    size_t at = 0;
    while (at < headers.size()) {
      size_t end = headers.find('\n', at);
      while (end != std::string_view::npos && end + 1 < headers.size() &&
             (headers[end + 1] == ' ' || headers[end + 1] == '\t'))
        end = headers.find('\n', end + 1);
      std::string_view line = headers.substr(at, end == std::string_view::npos ? end : end - at);
      if (line.size() > name.size() && line[name.size()] == ':' && lower(line.substr(0, name.size())) == name) {
        std::string v;
        for (char ch : line.substr(name.size() + 1)) v += (ch == '\n' || ch == '\r' || ch == '\t') ? ' ' : ch;
        size_t b = v.find_first_not_of(' '), e = v.find_last_not_of(' ');
        return b == std::string::npos ? "" : v.substr(b, e - b + 1);
      }
      if (end == std::string_view::npos) break;
      at = end + 1;
    }
    return "";
  }

  std::optional<std::string> find(std::string_view key) const {
    auto it = table_.find(std::string(key));
    if (it == table_.end()) return std::nullopt;  // not found
    return it->second;
  }
  static std::string quote(std::string_view in, std::string_view /*options*/) {
    std::string out;
    for (char ch : in) {
      if (ch == '\\' || ch == '"') out += '\\';
      out += ch;
    }
    return out;
  }

  const std::map<std::string, std::string> table_{
      {"alice", "Alice Liddell"}, {"bob", "Bob Dobbs"}, {"a\"b", "quoted"}};
  std::atomic<unsigned long> events_{0};
};

}  // namespace

TERN_MODULE(Hello, "hello", "1.0.0")
