// core/acl/controls.cpp: the `control =` modifier (acl.c's decode_control and its switch).
//
// Each control is allowed only in some ACLs (Exim's forbids masks) and may
// take /options; what it sets goes to SessionState::controls, which the
// session acts on. Controls of modules (`control = bmi_run`) are looked up
// in the module registry after the core's.
#include <algorithm>
#include <cctype>

#include "core/acl/evaluator.hpp"

namespace tern::acl::detail {
namespace {

enum class Ctl {
  kAllowAuthUnadvertised,
  kCasefulLocalPart,
  kCaselowerLocalPart,
  kCutthroughDelivery,
  kDebug,
  kDscp,
  kEnforceSync,
  kFakedefer,
  kFakereject,
  kFreeze,
  kNoCalloutFlush,
  kNoDelayFlush,
  kNoEnforceSync,
  kNoMultiline,
  kNoPipelining,
  kQueue,
  kSubmission,
  kSuppressLocalFixups,
  kUtf8Downconvert,
};

struct CtlDef {
  std::string_view name;
  Ctl id;
  bool has_option;
  uint32_t forbids;
};

constexpr uint32_t kAll = 0xffffffffu;
constexpr uint32_t B(Where w) { return bit(w); }
using W = Where;
constexpr uint32_t kSmtpOnly = B(W::kNotSmtp) | B(W::kNotSmtpStart);

// Exim 4.96's controls_list (DKIM, DMARC and content scanning left out).
constexpr CtlDef kControls[] = {
    {"allow_auth_unadvertised", Ctl::kAllowAuthUnadvertised, false,
     kAll & ~(B(W::kConnect) | B(W::kHelo))},
    {"caseful_local_part", Ctl::kCasefulLocalPart, false, kAll & ~B(W::kRcpt)},
    {"caselower_local_part", Ctl::kCaselowerLocalPart, false, kAll & ~B(W::kRcpt)},
    {"cutthrough_delivery", Ctl::kCutthroughDelivery, true, 0},
    {"debug", Ctl::kDebug, true, 0},
    {"dscp", Ctl::kDscp, true, kSmtpOnly | B(W::kNotQuit)},
    {"enforce_sync", Ctl::kEnforceSync, false, kSmtpOnly},
    {"fakedefer", Ctl::kFakedefer, true,
     kAll &
         ~(B(W::kMail) | B(W::kRcpt) | B(W::kPredata) | B(W::kData) | B(W::kPrdr) | B(W::kMime))},
    {"fakereject", Ctl::kFakereject, true,
     kAll &
         ~(B(W::kMail) | B(W::kRcpt) | B(W::kPredata) | B(W::kData) | B(W::kPrdr) | B(W::kMime))},
    {"freeze", Ctl::kFreeze, true,
     kAll & ~(B(W::kMail) | B(W::kRcpt) | B(W::kPredata) | B(W::kData) | B(W::kNotSmtp) |
              B(W::kMime))},
    {"no_callout_flush", Ctl::kNoCalloutFlush, false, kSmtpOnly},
    {"no_delay_flush", Ctl::kNoDelayFlush, false, kSmtpOnly},
    {"no_enforce_sync", Ctl::kNoEnforceSync, false, kSmtpOnly},
    {"no_multiline_responses", Ctl::kNoMultiline, false, kSmtpOnly},
    {"no_pipelining", Ctl::kNoPipelining, false, kSmtpOnly},
    {"queue", Ctl::kQueue, true,
     kAll & ~(B(W::kMail) | B(W::kRcpt) | B(W::kPredata) | B(W::kData) | B(W::kNotSmtp) |
              B(W::kMime))},
    {"submission", Ctl::kSubmission, true, kAll & ~(B(W::kMail) | B(W::kRcpt) | B(W::kPredata))},
    {"suppress_local_fixups", Ctl::kSuppressLocalFixups, false,
     kAll & ~(B(W::kMail) | B(W::kRcpt) | B(W::kPredata) | B(W::kNotSmtpStart))},
    {"utf8_downconvert", Ctl::kUtf8Downconvert, true, kAll & ~(B(W::kRcpt) | B(W::kVrfy))},
};

// DSCP names Exim's dscp_lookup() knows (dscp.c), and plain numbers.
bool valid_dscp(std::string_view v) {
  static constexpr std::string_view kNames[] = {
      "af11", "af12", "af13", "af21", "af22",    "af23",     "af31",        "af32",      "af33",
      "af41", "af42", "af43", "ef",   "lowcost", "lowdelay", "reliability", "throughput"};
  if (std::find(std::begin(kNames), std::end(kNames), v) != std::end(kNames)) return true;
  if (v.empty() || v.size() > 3) return false;
  int n = 0;
  for (char c : v) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    n = n * 10 + (c - '0');
  }
  return n <= 63;
}

// decode_control: a name, then the end, or '/' (or '_') for controls that
// take options.
const CtlDef* find_control(std::string_view arg) {
  for (const auto& c : kControls) {
    if (arg.substr(0, c.name.size()) != c.name) continue;
    char next = arg.size() > c.name.size() ? arg[c.name.size()] : '\0';
    if (next == '\0' || (c.has_option && (next == '/' || next == '_'))) return &c;
  }
  return nullptr;
}

}  // namespace

bool is_core_control(std::string_view value) { return find_control(value) != nullptr; }

const char* left_out_control(std::string_view name) {
  if (name == "dkim_disable_verify") return "tern has no DKIM support";
  if (name == "dmarc_disable_verify" || name == "dmarc_enable_forensic")
    return "tern has no DMARC support";
  if (name == "no_mbox_unspool") return "tern has no content scanning";
  return nullptr;
}

Rc Evaluator::control(std::string_view arg) {
  const std::string whole(arg);
  auto syntax_error = [&]() {
    log_msg_ = message("syntax error in \"control=" + whole + "\"");
    return Rc::kError;
  };

  const CtlDef* d = find_control(arg);
  if (!d) {
    std::string_view name = arg.substr(0, arg.find('/'));
    const module_host::AclCondition* m =
        set_.cc.modules ? set_.cc.modules->find_control(name) : nullptr;
    if (!m) return syntax_error();
    uint32_t b = module_bit(where_);
    if (b ? !m->allowed_in(b) : m->where != TERN_ACL_ALL) {
      log_msg_ = message("cannot use \"control=" + m->name + "\" in " +
                         std::string(where_name(where_)) + " ACL");
      return Rc::kError;
    }
    std::string_view options =
        arg.size() > name.size() ? arg.substr(name.size() + 1) : std::string_view();
    module_host::CallEnv call = env_.call_env ? *env_.call_env : module_host::CallEnv{};
    call.expand = &env_.ctx;
    module_host::AclResult r = set_.cc.modules->check(*m, options, call);
    if (r.status == TERN_DEFER || r.status == TERN_ERROR) {
      log_msg_ = message(r.error.empty() ? "control \"" + m->name + "\" failed" : r.error);
      return r.status == TERN_DEFER ? Rc::kDefer : Rc::kError;
    }
    env_.state.controls.module_controls.push_back(std::string(name));
    result_.controls_set.push_back(whole);
    return Rc::kOk;
  }
  if (d->forbids & bit(where_)) {
    log_msg_ = message("cannot use \"control=" + std::string(d->name) + "\" in " +
                       std::string(where_name(where_)) + " ACL");
    return Rc::kError;
  }
  std::string_view p = arg.substr(d->name.size());
  Controls& ctl = env_.state.controls;
  switch (d->id) {
    case Ctl::kAllowAuthUnadvertised:
      ctl.allow_auth_unadvertised = true;
      break;
    case Ctl::kCasefulLocalPart:
      ctl.local_part_case = Controls::LocalPartCase::kCaseful;
      if (addr_) run_vars_["local_part"] = addr_->local_part;
      break;
    case Ctl::kCaselowerLocalPart: {
      ctl.local_part_case = Controls::LocalPartCase::kLower;
      if (addr_) {
        std::string lc;
        for (char ch : addr_->local_part)
          lc += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        run_vars_["local_part"] = std::move(lc);
      }
      break;
    }
    case Ctl::kCutthroughDelivery: {
      // Honoured for the first recipient of a message that is not frozen,
      // queued or fake-rejected (the session does the delivery).
      const char* ignored = ctl.freeze                            ? "frozen"
                            : ctl.queue_only                      ? "queue-only"
                            : ctl.fake == Controls::Fake::kReject ? "fakereject"
                                                                  : nullptr;
      if (ignored) {
        trace(std::string(" cutthrough request ignored on ") + ignored + " item");
        break;
      }
      ctl.cutthrough_delivery = true;
      while (!p.empty() && p.front() == '/') {
        p.remove_prefix(1);
        if (p.substr(0, 6) == "defer=") {
          p.remove_prefix(6);
          if (p.substr(0, 4) == "pass") ctl.cutthrough_defer_pass = true;
        }
        p = p.substr(std::min(p.size(), p.find('/')));
      }
      break;
    }
    case Ctl::kDebug:
      break;  // tern's debug output is -bh's trace only
    case Ctl::kDscp:
      if (p.empty() || p.front() != '/') return syntax_error();
      if (!valid_dscp(p.substr(1))) {
        log_msg_ = message("unrecognised DSCP value in \"control=" + whole + "\"");
        return Rc::kError;
      }
      ctl.dscp = std::string(p.substr(1));
      break;
    case Ctl::kEnforceSync:
      ctl.enforce_sync = true;
      break;
    case Ctl::kNoEnforceSync:
      ctl.enforce_sync = false;
      break;
    case Ctl::kFakedefer:
    case Ctl::kFakereject:
      ctl.fake = d->id == Ctl::kFakedefer ? Controls::Fake::kDefer : Controls::Fake::kReject;
      if (!p.empty() && p.front() == '/') {
        auto t = expand::expand(p.substr(1), env_.ctx);
        ctl.fake_text = t ? *t : std::string();
      } else {
        ctl.fake_text =
            "Your message has been rejected but is being kept for evaluation.\n"
            "If it was a legitimate message, it may still be delivered to the target recipient(s).";
      }
      break;
    case Ctl::kFreeze:
      ctl.freeze = true;
      ctl.freeze_no_tell = false;
      if (p.substr(0, 8) == "/no_tell") {
        p.remove_prefix(8);
        ctl.freeze_no_tell = true;
      }
      if (!p.empty()) return syntax_error();
      break;
    case Ctl::kNoCalloutFlush:
      ctl.no_callout_flush = true;
      break;
    case Ctl::kNoDelayFlush:
      ctl.no_delay_flush = true;
      break;
    case Ctl::kNoMultiline:
      ctl.no_multiline_responses = true;
      break;
    case Ctl::kNoPipelining:
      ctl.no_pipelining = true;
      break;
    case Ctl::kQueue:
      ctl.queue_only = true;
      if (p == "_only") {
        p = {};
      } else {
        while (!p.empty() && p.front() == '/') {
          if (p.substr(0, 5) == "/only")
            p.remove_prefix(5);
          else if (p.substr(0, 17) == "/first_pass_route")
            p.remove_prefix(17);
          else
            break;
        }
      }
      if (!p.empty()) return syntax_error();
      break;
    case Ctl::kSubmission:
      ctl.submission = true;
      while (!p.empty() && p.front() == '/') {
        if (p.substr(0, 14) == "/sender_retain") {
          p.remove_prefix(14);
          ctl.submission_sender_retain = true;
        } else if (p.substr(0, 8) == "/domain=") {
          p.remove_prefix(8);
          size_t end = std::min(p.size(), p.find('/'));
          ctl.submission_domain = std::string(p.substr(0, end));
          p.remove_prefix(end);
        } else if (p.substr(0, 6) == "/name=") {
          // name= swallows the rest, slashes included.
          ctl.submission_name = std::string(p.substr(6));
          p = {};
        } else {
          break;
        }
      }
      if (!p.empty()) return syntax_error();
      break;
    case Ctl::kSuppressLocalFixups:
      ctl.suppress_local_fixups = true;
      break;
    case Ctl::kUtf8Downconvert:
      if (p.empty()) {
        ctl.utf8_downconvert = 1;
      } else if (p == "/1" || p == "/0" || p == "/-1") {
        ctl.utf8_downconvert = p == "/1" ? 1 : p == "/0" ? 0 : -1;
      } else {
        log_msg_ = message("bad option value for control=utf8_downconvert");
        return Rc::kError;
      }
      ctl.utf8_downconvert_set = true;
      break;
  }
  result_.controls_set.push_back(whole);
  return Rc::kOk;
}

}  // namespace tern::acl::detail
