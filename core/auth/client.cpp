// core/auth/client.cpp: ClientExchange (see client.hpp).
//
// Texts are Exim 4.96's (auths/get_data.c auth_client_item, auths/cram_md5.c).
#include "core/auth/client.hpp"


#include "core/auth/server.hpp"
#include "core/text/list.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::auth {

namespace {

// `^` is a NUL, `^^` a caret (PLAIN's separators written in a configuration).
std::string unescape_carets(std::string s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '^') {
      out += s[i];
    } else if (i + 1 < s.size() && s[i + 1] == '^') {
      out += '^';
      ++i;
    } else {
      out += '\0';
    }
  }
  return out;
}

// What error texts show of a line carrying credentials (Exim overwrites them
// with stars once sent, so that reflections do not show them).
std::string starred(std::string_view line) {
  size_t keep = 0;
  if (line.starts_with("AUTH ")) {
    keep = 5;
    while (keep < line.size() && line[keep] != ' ') ++keep;
    while (keep < line.size() && line[keep] == ' ') ++keep;
  }
  return std::string(line.substr(0, keep)) + std::string(line.size() - keep, '*');
}

}  // namespace

ClientExchange::ClientExchange(const Authenticator& a, expand::Context& ctx, std::string hostname)
    : a_(a), ctx_(ctx), hostname_(std::move(hostname)) {}

ClientExchange::Step ClientExchange::done(Rc rc, std::string message) {
  ctx_.auth_vars.clear();
  Step s;
  s.done = true;
  s.rc = rc;
  s.message = std::move(message);
  return s;
}

// Give up in the middle: "*" first, the result once the server answered it.
ClientExchange::Step ClientExchange::abort(Rc rc, std::string message) {
  after_abort_ = done(rc, std::move(message));
  Step s;
  s.line = s.shown = "*";
  return s;
}

ClientExchange::Step ClientExchange::begin() {
  ctx_.auth_vars.clear();
  if (a_.driver == Driver::kCramMd5) {
    auto secret = expand::expand(a_.client_secret, ctx_);
    auto name = a_.client_name.empty() ? Result<std::string>(hostname_) : expand::expand(a_.client_name, ctx_);
    if (!secret || !name) {
      const Error& e = !secret ? secret.error() : name.error();
      if (e.is_forced()) return done(Rc::kCancelled);
      return done(Rc::kError, "expansion of \"" + (!secret ? a_.client_secret : a_.client_name) + "\" failed in " +
                                  a_.name + " authenticator: " + e.message);
    }
    cram_secret_ = *secret;
    cram_name_ = *name;
    cram_state_ = 1;
    Step s;
    s.line = s.shown = "AUTH " + a_.public_name;
    return s;
  }
  items_ = text::list_items(a_.client_send);
  next_ = 0;
  if (items_.empty()) return done(Rc::kFail);
  return send_item(true);
}

ClientExchange::Step ClientExchange::send_item(bool first) {
  const std::string& item = items_[next_++];
  auto expanded = expand::expand(item, ctx_);
  if (!expanded) {
    Rc rc = expanded.error().is_forced() ? Rc::kCancelled : Rc::kError;
    std::string message = expanded.error().is_forced() ? std::string()
                                                       : "expansion of \"" + item + "\" failed in " + a_.name +
                                                             " authenticator: " + expanded.error().message;
    if (first) return done(rc, std::move(message));
    return abort(rc, std::move(message));
  }
  std::string data = unescape_carets(std::move(*expanded));
  Step s;
  if (first)
    s.line = "AUTH " + a_.public_name + (data.empty() ? "" : " " + text::base64_encode(data));
  else
    s.line = text::base64_encode(data);
  s.shown = starred(s.line);
  return s;
}

ClientExchange::Step ClientExchange::reply(int code, std::string_view text, std::string_view printable) {
  if (after_abort_) return *after_abort_;
  if (a_.driver == Driver::kCramMd5) {
    if (cram_state_ == 2) return code / 100 == 2 ? done(Rc::kOk) : done(Rc::kFail, std::string(printable));
    if (code / 100 != 3) return done(Rc::kFail, std::string(printable));
    std::optional<std::string> challenge = text::base64_decode(text);
    if (!challenge) return done(Rc::kError, "bad base 64 string in challenge: " + std::string(text));
    cram_state_ = 2;
    Step s;
    s.line = text::base64_encode(cram_name_ + " " + text::to_hex(cram_md5_digest(cram_secret_, *challenge)));
    s.shown = starred(s.line);
    return s;
  }
  if (code / 100 == 2) return done(Rc::kOk);
  if (code / 100 != 3) return done(Rc::kFail, std::string(printable));
  if (next_ >= items_.size())
    return abort(Rc::kError, "Too few items in client_send in " + a_.name + " authenticator");
  std::optional<std::string> challenge = text::base64_decode(text);
  if (!challenge) {
    if (!a_.client_ignore_invalid_base64)
      return abort(Rc::kCancelled, "Invalid base64 string in server response \"" + std::string(printable) + "\"");
    challenge = std::string();
  }
  if (ctx_.auth_vars.size() < 4) ctx_.auth_vars.push_back(*challenge);
  return send_item(false);
}

}  // namespace tern::auth
