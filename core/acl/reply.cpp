// core/acl/reply.cpp: the replies and reject log lines of refusing ACLs (smtp_in.c's
// smtp_handle_acl_fail).
//
// Exim's rules: a refusal answers with the ACL's default code (550, VRFY
// 252, ETRN 458, AUTH 503) and the message, or "Administrative
// prohibition"; anything not a refusal answers 451 and shows the message
// only when details may be given (a `defer` verb, a callout defer), else
// "Temporary local problem - please try later". A message starting with
// "ddd " (and an optional "d.d.d ") sets the code when its first digit is
// right. Newlines make a multi-line reply. A failed sender verification is
// explained first ("Verification failed for <x>").
#include <array>
#include <cctype>

#include "core/acl/evaluator.hpp"

namespace tern::acl {
namespace detail {
namespace {

constexpr std::array<int, 21> kWhereCodes = {550, 550, 550, 550, 550, 550, 550, 0,   503, 550, 458,
                                             550, 550, 0,   0,   0,   0,   550, 252, 0,   0};

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Exim's regex_smtp_code, anchored: \d\d\d\s(\d\.\d{1,3}\.\d{1,3}\s)?
size_t code_length(std::string_view m) {
  if (m.size() < 4 || !is_digit(m[0]) || !is_digit(m[1]) || !is_digit(m[2]) || !is_space(m[3]))
    return 0;
  size_t i = 4;
  auto digits = [&](size_t at, size_t max) {
    size_t n = 0;
    while (at + n < m.size() && n < max && is_digit(m[at + n])) ++n;
    return n;
  };
  if (i + 1 < m.size() && is_digit(m[i]) && m[i + 1] == '.') {
    size_t j = i + 2, n = digits(j, 3);
    if (n > 0 && j + n < m.size() && m[j + n] == '.') {
      j += n + 1;
      n = digits(j, 3);
      if (n > 0 && j + n < m.size() && is_space(m[j + n])) return j + n + 1;
    }
  }
  return 4;
}

std::string what_of(Where where, const std::string& command_data) {
  switch (where) {
    case Where::kMime:
      return "during MIME ACL checks";
    case Where::kPredata:
      return "DATA";
    case Where::kData:
      return "after DATA";
    case Where::kPrdr:
      return "after DATA PRDR";
    default:
      break;
  }
  if (where == Where::kConnect && command_data.empty()) return "connection in \"connect\" ACL";
  std::string place = command_data;
  size_t lim = 100;
  if (where == Where::kAuth) {  // keep the credentials out of the log
    size_t sp = 0;
    while (sp < place.size() && !is_space(place[sp])) ++sp;
    lim = sp;
  }
  return std::string(where_name(where)) + " " + place.substr(0, lim);
}

}  // namespace

CodeOverride apply_message_code(int code, std::string_view msg, bool check) {
  CodeOverride o{code, "", std::string(msg), std::nullopt, false};
  size_t len = code_length(msg);
  if (len == 0) return o;
  if (check && msg[0] != std::to_string(code)[0]) {
    o.wrong_digit_log =
        std::string("configured error code starts with incorrect digit (expected ") +
        std::to_string(code)[0] + ") in \"" + std::string(msg) + "\"";
  } else {
    o.code = std::stoi(std::string(msg.substr(0, 3)));
    if (len > 4) o.esc = std::string(msg.substr(4, len - 5));
    o.overridden = true;
  }
  o.text = std::string(msg.substr(len));
  return o;
}

std::vector<std::string> reply_lines(std::string_view msg, bool no_multiline) {
  std::vector<std::string> out;
  for (;;) {
    size_t nl = msg.find('\n');
    if (nl == std::string_view::npos) {
      out.emplace_back(msg);
      return out;
    }
    out.emplace_back(msg.substr(0, nl));
    if (nl + 1 == msg.size() || no_multiline) return out;
    msg.remove_prefix(nl + 1);
    while (!msg.empty() && is_space(msg.front())) msg.remove_prefix(1);
  }
}

std::string split_message(std::string msg) {
  if (msg.size() <= 75) return msg;
  size_t s = 0, ss = 0;
  for (;;) {
    int i = 0;
    while (i < 75 && ss < msg.size() && msg[ss] != '\n') ++ss, ++i;
    if (ss >= msg.size()) break;
    if (msg[ss] == '\n') {
      s = ++ss;
      continue;
    }
    // Break behind, at a space (after a colon if there is one) more than 35
    // characters into the line; else at the next space or newline ahead.
    size_t tt = std::string::npos;
    for (size_t t = ss + 1; --t > s + 35;) {
      if (msg[t] == ' ') {
        if (msg[t - 1] == ':') {
          tt = t;
          break;
        }
        if (tt == std::string::npos) tt = t;
      }
    }
    if (tt == std::string::npos) {
      for (size_t t = ss + 1; t < msg.size(); ++t)
        if (msg[t] == ' ' || msg[t] == '\n') {
          tt = t;
          break;
        }
    }
    if (tt == std::string::npos) break;
    msg[tt] = '\n';
    s = ss = tt + 1;
  }
  return msg;
}

Refusal build_refusal(const RefusalInput& in) {
  Refusal out;
  const bool fail = in.rc == Rc::kFail || in.rc == Rc::kFailDrop;
  const int default_code = fail ? kWhereCodes[static_cast<size_t>(in.where)] : 451;
  Message log_message = in.log_message;
  std::optional<std::string> user;
  int code = default_code;
  std::string esc;
  if (in.user_message) {
    CodeOverride o = apply_message_code(default_code, *in.user_message, in.where != Where::kVrfy);
    if (o.wrong_digit_log) {
      out.logs.push_back({kLogMain | kLogPanic, *o.wrong_digit_log});
      if (log_message == in.user_message)
        log_message =
            std::make_shared<const std::string>(std::to_string(default_code) + " " + o.text);
    }
    code = o.code;
    esc = o.esc;
    user = std::move(o.text);
  }

  std::vector<std::string> lines;
  SenderVerifyFailure* sv =
      in.sender_failure && *in.sender_failure ? &**in.sender_failure : nullptr;
  if (sv && !sv->told) {
    sv->told = true;
    out.logs.push_back(
        {kLogMain | kLogReject, in.host_ident + " sender verify " +
                                    (sv->deferred ? "defer" : "fail") + " for <" + sv->address +
                                    ">" + (sv->message.empty() ? "" : ": " + sv->message)});
    if (fail && sv->user_message && !in.no_multiline) {
      std::string text =
          sv->postmaster_failed
              ? "Postmaster verification failed while checking <" + sv->address + ">\n" +
                    *sv->user_message +
                    "\nSeveral RFCs state that you are required to have a postmaster\n"
                    "mailbox for each mail domain. This host does not accept mail\n"
                    "from domains whose servers reject the postmaster address."
          : sv->callback_setup_failed
              ? "Callback setup failed while verifying <" + sv->address + ">\n" +
                    *sv->user_message +
                    "\nThe initial connection, or a HELO or MAIL FROM:<> command was\n"
                    "rejected. Refusing MAIL FROM:<> does not help fight spam, disregards\n"
                    "RFC requirements, and stops you from receiving standard bounce\n"
                    "messages. This host does not accept mail from domains whose servers\n"
                    "refuse bounces."
              : "Verification failed for <" + sv->address + ">\n" + *sv->user_message;
      for (auto& l : reply_lines(text, false)) lines.push_back(std::move(l));
    }
  }

  if (fail) {
    for (auto& l : reply_lines(user ? *user : "Administrative prohibition", in.no_multiline))
      lines.push_back(std::move(l));
  } else if (in.temp_details && user) {
    if (in.smtp_return_error_details && sv && !sv->message.empty() && !in.no_multiline)
      for (auto& l : reply_lines(sv->message, false)) lines.push_back(std::move(l));
    for (auto& l : reply_lines(*user, in.no_multiline)) lines.push_back(std::move(l));
  } else {
    lines.push_back("Temporary local problem - please try later");
  }
  if (default_code != 0) out.reply = smtp::Reply{code, esc, std::move(lines)};

  std::string log_text;
  if (log_message) log_text = ": " + log_message->substr(0, log_message->find('\n'));
  out.reject_log = in.sender_info + (in.sender_info.empty() ? "" : " ") +
                   (fail ? "" : "temporarily ") + "rejected " + what_of(in.where, in.command_data) +
                   log_text;
  return out;
}

}  // namespace detail

smtp::Reply accepted_reply(const AclResult& r, const smtp::Reply& fallback,
                           std::vector<LogLine>* logs) {
  if (!r.user_message) return fallback;
  detail::CodeOverride o = detail::apply_message_code(fallback.code, *r.user_message, true);
  if (o.wrong_digit_log && logs) logs->push_back({kLogMain | kLogPanic, *o.wrong_digit_log});
  return smtp::Reply{o.code, o.esc, detail::reply_lines(o.text, false)};
}

}  // namespace tern::acl
