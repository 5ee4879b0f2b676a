// core/auth/server.cpp: ServerExchange (see server.hpp).
//
// Texts and order of events are Exim 4.96's smtp_in_auth(), auths/plaintext.c,
// auths/cram_md5.c and auths/get_data.c (auth_read_input, auth_prompt,
// auth_check_some_cond), including their -bh debug lines.
#include "core/auth/server.hpp"

#include <strings.h>
#include <unistd.h>

#include <cctype>
#include <ctime>

#include "core/text/list.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::auth {

namespace {

constexpr size_t kAuthVars = 4;       // $auth1..$auth4 (AUTH_VARS)
constexpr size_t kMaxNumeric = 20;    // $1..$20 (EXPAND_MAXN)
constexpr size_t kMaxAnswer = 16383;  // an answer as long as Exim's big_buffer is bad data

}  // namespace

std::string cram_md5_digest(std::string_view secret, std::string_view challenge) {
  // RFC 2104 HMAC with MD5, as compute_cram_md5() builds it by hand.
  std::string key(secret);
  if (key.size() > 64) key = text::digest("md5", key);
  key.resize(64, '\0');
  std::string inner(64, '\0'), outer(64, '\0');
  for (size_t i = 0; i < 64; ++i) {
    inner[i] = static_cast<char>(key[i] ^ 0x36);
    outer[i] = static_cast<char>(key[i] ^ 0x5c);
  }
  inner.append(challenge);
  outer += text::digest("md5", inner);
  return text::digest("md5", outer);
}

ServerExchange::ServerExchange(const Authenticator& a, expand::Context& ctx, std::string hostname,
                               std::function<void(std::string_view)> trace)
    : a_(a), ctx_(ctx), hostname_(std::move(hostname)), trace_(std::move(trace)) {}

void ServerExchange::trace(std::string_view line) const {
  if (trace_) trace_(line);
}

ServerExchange::Step ServerExchange::finish(Rc rc) {
  rc_ = rc;
  return Step{true, {}};
}

// Each NUL-separated piece of `decoded` becomes the next $auth<n> and $<n>
// (auth_read_input; auth_prompt keeps even an empty answer: `at_least_one`).
Rc ServerExchange::add_items(std::string_view decoded, bool at_least_one) {
  size_t pos = 0;
  if (decoded.empty() && !at_least_one) return Rc::kOk;
  do {
    size_t nul = decoded.find('\0', pos);
    std::string item(decoded.substr(pos, nul == std::string_view::npos ? std::string_view::npos : nul - pos));
    pos = nul == std::string_view::npos ? decoded.size() : nul + 1;
    if (ctx_.auth_vars.size() < kAuthVars && ctx_.numeric.size() - 1 == ctx_.auth_vars.size())
      ctx_.auth_vars.push_back(item);
    ctx_.numeric.push_back(std::move(item));
  } while (pos < decoded.size() && ctx_.numeric.size() - 1 < kMaxNumeric);
  return Rc::kOk;
}

ServerExchange::Step ServerExchange::begin(std::string_view data) {
  ctx_.auth_vars.clear();
  ctx_.numeric.assign(1, std::string());  // $0 is empty, no $1.. yet
  if (a_.driver == Driver::kCramMd5) {
    if (!data.empty()) return finish(Rc::kUnexpected);
    challenge_ = "<" + std::to_string(getpid()) + "." + std::to_string(static_cast<long>(std::time(nullptr))) + "@" +
                 hostname_ + ">";
    return Step{false, challenge_};
  }
  if (!a_.server_prompts.empty()) {
    auto expanded = expand::expand(a_.server_prompts, ctx_);
    if (!expanded) {
      defer_msg_ = expanded.error().message;
      return finish(Rc::kDefer);
    }
    prompts_ = text::list_items(*expanded);
  }
  if (!data.empty()) {
    if (data == "=") {
      add_items("", true);  // "=": one empty string
    } else {
      std::optional<std::string> decoded = text::base64_decode(data);
      if (!decoded) return finish(Rc::kBad64);
      add_items(*decoded, false);
    }
  }
  return next_prompt();
}

// The first prompt whose answer did not come with the AUTH command, or the end.
ServerExchange::Step ServerExchange::next_prompt() {
  while (next_prompt_ < prompts_.size() && ctx_.numeric.size() - 1 < kMaxNumeric) {
    size_t number = ++next_prompt_;
    if (number > ctx_.numeric.size() - 1) return Step{false, prompts_[number - 1]};
  }
  return finish(check_condition(a_.server_condition, false));
}

ServerExchange::Step ServerExchange::answer(std::string_view line) {
  if (line == "*") return finish(Rc::kCancelled);
  if (line.size() > kMaxAnswer) return finish(Rc::kBad64);
  std::optional<std::string> decoded = text::base64_decode(line);
  if (!decoded) return finish(Rc::kBad64);
  if (a_.driver == Driver::kCramMd5) return finish(cram_check(*decoded));
  add_items(*decoded, true);
  return next_prompt();
}

Rc ServerExchange::cram_check(std::string_view decoded) {
  size_t space = 0;
  while (space < decoded.size() && decoded[space] != '\0' && !std::isspace(static_cast<unsigned char>(decoded[space])))
    ++space;
  if (space == decoded.size() || !std::isspace(static_cast<unsigned char>(decoded[space]))) {
    ctx_.auth_vars.assign(1, std::string(decoded.substr(0, decoded.find('\0'))));
    return Rc::kFail;
  }
  std::string user(decoded.substr(0, space));
  ctx_.auth_vars.assign(1, user);
  ctx_.numeric = {std::string(), user};
  std::string_view received = decoded.substr(space + 1);
  if (received.size() != 32) return Rc::kFail;
  if (!a_.server_debug_print.empty()) {
    auto shown = expand::expand(a_.server_debug_print, ctx_);
    trace(shown ? *shown : "failed to expand server_debug_print: " + shown.error().message);
  }
  auto secret = expand::expand(a_.server_secret, ctx_);
  if (!secret) {
    if (secret.error().is_forced()) return Rc::kFail;  // no secret for this user
    defer_msg_ = secret.error().message;
    return Rc::kDefer;
  }
  std::string digest = text::to_hex(cram_md5_digest(*secret, challenge_));
  trace("CRAM-MD5: user name = " + user);
  trace("          challenge = " + challenge_);
  trace("          received  = " + std::string(received));
  trace("          digest    = " + digest);
  if (received != digest) return Rc::kFail;
  return check_condition(a_.server_condition, true);
}

// auth_check_some_cond(): the condition's value decides; anything but a
// boolean is a deferral whose text the client sees.
Rc ServerExchange::check_condition(const std::string& condition, bool unset_is_ok) {
  if (condition.empty()) return unset_is_ok ? Rc::kOk : Rc::kFail;
  if (trace_) {
    trace(a_.name + " authenticator server_condition:");
    for (size_t i = 0; i < ctx_.auth_vars.size(); ++i)
      trace("  $auth" + std::to_string(i + 1) + " = " + ctx_.auth_vars[i]);
    for (size_t i = 1; i < ctx_.numeric.size(); ++i) trace("  $" + std::to_string(i) + " = " + ctx_.numeric[i]);
    if (!a_.server_debug_print.empty()) {
      auto shown = expand::expand(a_.server_debug_print, ctx_);
      trace(shown ? *shown : "failed to expand server_debug_print: " + shown.error().message);
    }
  }
  auto value = expand::expand(condition, ctx_);
  if (!value) {
    if (value.error().is_forced()) return Rc::kFail;
    defer_msg_ = value.error().message;
    return Rc::kDefer;
  }
  trace("expanded string: " + *value);
  auto is = [&](const char* word) { return strcasecmp(value->c_str(), word) == 0; };
  if (value->empty() || *value == "0" || is("no") || is("false")) return Rc::kFail;
  if (*value == "1" || is("yes") || is("true")) return Rc::kOk;
  defer_msg_ = *value;
  defer_user_msg_ = ": " + *value;
  return Rc::kDefer;
}

ServerResult ServerExchange::conclude() {
  ServerResult r;
  Rc rc = rc_;
  std::optional<std::string> set_id;
  if (!a_.server_set_id.empty()) {
    auto v = expand::expand(a_.server_set_id, ctx_);
    if (v) set_id = text::string_printing(*v);
    else if (rc == Rc::kOk) defer_msg_ = v.error().message;
  }
  ctx_.auth_vars.clear();
  ctx_.numeric.clear();
  if (rc == Rc::kOk && !a_.server_set_id.empty() && !set_id) rc = Rc::kDefer;  // set_id failed to expand
  r.rc = rc;
  if (set_id) r.set_id = *set_id;
  const std::string suffix = rc != Rc::kOk && set_id && !set_id->empty() ? " (set_id=" + *set_id + ")" : "";
  switch (rc) {
    case Rc::kOk: r.reply = r.log_text = "235 Authentication succeeded"; break;
    case Rc::kDefer:
      r.reply = "435 Unable to authenticate at present" + defer_user_msg_;
      r.log_text = "435 Unable to authenticate at present" + suffix + ": " + defer_msg_;
      break;
    case Rc::kBad64: r.reply = r.log_text = "501 Invalid base64 data"; break;
    case Rc::kCancelled: r.reply = r.log_text = "501 Authentication cancelled"; break;
    case Rc::kUnexpected: r.reply = r.log_text = "553 Initial data not expected"; break;
    case Rc::kFail:
      r.reply = "535 Incorrect authentication data";
      r.log_text = r.reply + suffix;
      break;
    case Rc::kError:
      r.reply = "435 Internal error";
      r.log_text = "435 Internal error" + suffix + ": return 3 from authentication check";  // Exim's ERROR is 3
      break;
  }
  return r;
}

}  // namespace tern::auth
