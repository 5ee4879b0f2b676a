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
//   listener   msg:*                    counts message events
//   hook       after DATA               notes each recipient's position in
//                                       per-recipient data "hello_rcpt"
// State lives in the Hello object, which the SDK hangs off the module's
// tern_ctx (ctx->data): no static state.
#include <tern/module.hpp>

#include <atomic>
#include <cctype>
#include <map>
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
    r.listener("msg:*", [this](tern::Call& c, std::string_view event, std::string_view) {
      unsigned long n = ++events_;
      c.log(tern::LogLevel::kDebug,
            "hello: event " + std::string(event) + " (" + std::to_string(n) + " so far)");
    });
    r.after_data([](tern::Call& c, const tern::Message& m, tern::Out&) {
      auto rcpts = m.recipients();
      for (size_t i = 0; i < rcpts.size(); ++i)
        c.set_recipient_data(i, "hello_rcpt", std::to_string(i + 1) + "/" +
                                                  std::to_string(rcpts.size()));
      return tern::ok();
    });
    return tern::ok();
  }

 private:
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
