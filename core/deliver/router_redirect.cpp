// core/deliver/router_redirect.cpp: the accept and redirect routers.
//
// redirect reads its list from `data` (expanded) or `file` (a file named by an expanded
// path), as Exim's alias and forward files: items separated by commas or newlines, quoted
// local parts, "Name <address>", unqualified addresses qualified with qualify_recipient,
// "\address" (not redirected again by this router), ":include:path", ":blackhole:",
// ":fail: text" and ":defer: text" (only with allow_fail / allow_defer, else the address
// is deferred with Exim's "is not permitted" text), "|command" and "/file" targets
// (refused by forbid_pipe / forbid_file; they need pipe_transport / file_transport).
// Empty data, a forced expansion failure or a missing file: the router declines.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/deliver/router_drivers.hpp"

namespace tern::deliver {

namespace {

class AcceptRouter final : public RouterDriver {
 public:
  DriverOutcome run(const Address&, const std::vector<Address>&, RouteEnv&) const override {
    DriverOutcome o;
    o.kind = DriverOutcome::kAccept;
    return o;
  }
};

struct ParsedItem {
  enum Kind { kAddress, kPipe, kFile, kBlackhole, kFail, kDefer } kind = kAddress;
  std::string text;
  bool escaped = false;  // "\name"
};

// Exim's parse_forward_list(), for what alias files use. `depth` limits :include: nesting.
Status parse_redirect_list(std::string_view s, std::vector<ParsedItem>& out, int depth) {
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ',' || std::isspace(static_cast<unsigned char>(s[i])))) ++i;
    if (i >= s.size()) break;
    std::string_view rest = s.substr(i);
    if (rest.starts_with(":fail:") || rest.starts_with(":defer:")) {
      bool fail = rest.starts_with(":fail:");
      std::string_view text = rest.substr(fail ? 6 : 7);
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
      out.push_back({fail ? ParsedItem::kFail : ParsedItem::kDefer, std::string(text), false});
      return {};  // the rest of the list is the message
    }
    // One item: up to a comma or newline outside quotes and angle brackets.
    std::size_t j = i;
    bool quoted = false;
    int angle = 0;
    for (; j < s.size(); ++j) {
      char c = s[j];
      if (c == '\\' && quoted && j + 1 < s.size()) {
        ++j;
        continue;
      }
      if (c == '"') quoted = !quoted;
      else if (!quoted && c == '<') ++angle;
      else if (!quoted && c == '>' && angle > 0) --angle;
      else if (!quoted && angle == 0 && (c == ',' || c == '\n')) break;
    }
    std::string_view item = s.substr(i, j - i);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    i = j;
    if (item == ":blackhole:") {
      out.push_back({ParsedItem::kBlackhole, "", false});
    } else if (item.starts_with(":include:")) {
      if (depth > 10) return Error::failed("too many levels of :include:");
      std::string path(item.substr(9));
      while (!path.empty() && path.front() == ' ') path.erase(0, 1);
      std::ifstream f(path);
      if (!f) return Error::failed("failed to open included file " + path + ": " + std::strerror(errno));
      std::stringstream ss;
      ss << f.rdbuf();
      if (auto st = parse_redirect_list(ss.str(), out, depth + 1); !st) return st;
    } else if (item.starts_with("|")) {
      out.push_back({ParsedItem::kPipe, std::string(item), false});
    } else if (item.starts_with("/")) {
      out.push_back({ParsedItem::kFile, std::string(item), false});
    } else {
      bool escaped = false;
      if (item.starts_with("\\")) {
        escaped = true;
        item.remove_prefix(1);
      }
      // "Name <address>": the address between the angle brackets.
      if (auto lt = item.rfind('<'); lt != std::string_view::npos && item.back() == '>' &&
                                     (item.front() != '"' || item.find('"', 1) < lt))
        item = item.substr(lt + 1, item.size() - lt - 2);
      out.push_back({ParsedItem::kAddress, std::string(item), escaped});
    }
  }
  return {};
}

class RedirectRouter final : public RouterDriver {
 public:
  explicit RedirectRouter(const config::DriverInstance& r) : r_(r) {}
  bool needs_transport() const override { return false; }

  DriverOutcome run(const Address& a, const std::vector<Address>&, RouteEnv& env) const override {
    DriverOutcome o;
    auto defer = [&](std::string m) {
      o.kind = DriverOutcome::kDefer;
      o.message = std::move(m);
      return o;
    };
    std::string data;
    if (!r_.options.get_string("data").empty()) {
      auto d = expand_option(r_, "data", *env.ctx);
      if (!d) {
        if (d.error().is_forced()) return o;  // decline
        return defer(d.error().message);
      }
      data = std::move(*d);
    } else {
      auto path = expand_option(r_, "file", *env.ctx);
      if (!path) {
        if (path.error().is_forced()) return o;
        return defer(path.error().message);
      }
      std::ifstream f(*path);
      if (!f) {
        if (errno == ENOENT || errno == ENOTDIR) return o;  // no file: decline
        return defer("failed to open " + *path + ": " + std::strerror(errno));
      }
      std::stringstream ss;
      ss << f.rdbuf();
      data = ss.str();
    }
    std::vector<ParsedItem> items;
    if (auto st = parse_redirect_list(data, items, 0); !st) return defer("error in redirect data: " + st.error().message);
    if (items.empty()) return o;  // nothing: decline
    bool generated = false;
    for (const auto& it : items) {
      switch (it.kind) {
        case ParsedItem::kFail:
        case ParsedItem::kDefer: {
          bool fail = it.kind == ParsedItem::kFail;
          if (!r_.options.get_bool(fail ? "allow_fail" : "allow_defer"))
            return defer("error in redirect data: \"" + std::string(fail ? ":fail: " : ":defer: ") + it.text +
                         "\" is not permitted");
          o.kind = fail ? DriverOutcome::kFail : DriverOutcome::kDefer;
          o.message = it.text;
          o.pass_message = true;
          o.children.clear();
          return o;
        }
        case ParsedItem::kBlackhole:
          if (r_.options.get_bool("forbid_blackhole"))
            return defer("error in redirect data: :blackhole: is not permitted");
          break;
        case ParsedItem::kPipe:
        case ParsedItem::kFile: {
          bool pipe = it.kind == ParsedItem::kPipe;
          if (r_.options.get_bool(pipe ? "forbid_pipe" : "forbid_file"))
            return defer("error in redirect data: " + std::string(pipe ? "pipe" : "file") +
                         " delivery is not permitted (\"" + it.text + "\")");
          Address c;
          c.address = it.text;
          c.local_part = it.text;
          c.domain = a.domain;
          c.is_pipe = pipe;
          c.is_file = !pipe;
          c.is_directory = !pipe && it.text.ends_with("/");
          std::string option = pipe ? "pipe_transport" : (c.is_directory ? "directory_transport" : "file_transport");
          auto t = expand_option(r_, option, *env.ctx);
          if (t) c.transport = *t;
          if (c.transport.empty()) c.message = option + " unset in " + r_.name + " router";
          o.children.push_back(std::move(c));
          generated = true;
          break;
        }
        case ParsedItem::kAddress: {
          Address c;
          std::string text = it.text;
          auto at = text.rfind('@');
          if (at == std::string::npos) {
            c.local_part = text;
            c.domain = env.qualify_domain;
          } else {
            c.local_part = text.substr(0, at);
            c.domain = text.substr(at + 1);
          }
          for (auto& ch : c.domain) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          if (!r_.options.get_bool("caseful_local_part"))
            for (auto& ch : c.local_part) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          c.address = c.local_part + "@" + c.domain;
          if (it.escaped) c.skip_router = r_.name;
          o.children.push_back(std::move(c));
          generated = true;
          break;
        }
      }
    }
    o.kind = generated ? DriverOutcome::kRedirect : DriverOutcome::kDiscard;
    return o;
  }

 private:
  const config::DriverInstance& r_;
};

}  // namespace

Result<std::unique_ptr<RouterDriver>> make_accept_router(const config::DriverInstance&) {
  return std::unique_ptr<RouterDriver>(new AcceptRouter());
}

Result<std::unique_ptr<RouterDriver>> make_redirect_router(const config::DriverInstance& r) {
  if (r.options.get_string("data").empty() && r.options.get_string("file").empty())
    return Error::failed("one of \"file\" or \"data\" must be specified for the " + r.name + " router");
  return std::unique_ptr<RouterDriver>(new RedirectRouter(r));
}

}  // namespace tern::deliver
