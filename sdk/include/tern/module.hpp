// tern/module.hpp: a header-only C++20 layer over the C ABI of tern/module.h.
//
// Compiled into the module, never into the core: nothing of it crosses the
// boundary, which stays plain C. A module derives from tern::Module,
// registers what it brings in init() through a tern::Registrar with lambdas,
// and names itself with TERN_MODULE(Class, "name", "version"), which defines
// the one exported symbol tern_module_v1.
//
//   class Hello final : public tern::Module {
//    public:
//     tern::Status init(tern::Registrar& r) override {
//       r.op("hello_rev", [](tern::Call&, std::string_view s) {
//         return std::string(s.rbegin(), s.rend());
//       });
//       return tern::ok();
//     }
//   };
//   TERN_MODULE(Hello, "hello", "1.0.0")
//
// How it fits the C ABI:
//  - The module object is created in the descriptor's init, hung off its
//    tern_ctx (ctx->data), and deleted in fini. The layer keeps no mutable
//    static state: every callback reaches the host table (ctx->host) and
//    the module object (ctx->data) through the tern_ctx it gets, so two
//    generations in one process never share anything.
//  - Each registration's callable is kept in the module object; the C
//    definition's `user` points at it, and one trampoline per kind calls it
//    (no limit on how many a module registers). Trampolines are noexcept:
//    an exception becomes TERN_ERROR (tern::Defer: TERN_DEFER,
//    tern::ForcedFail: TERN_FAIL) with its message set through
//    host->set_error.
//  - Strings handed to the Registrar are copied and kept until fini.
#pragma once

#include <tern/module.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace tern {

// ---- results and errors --------------------------------------------------

enum class Status : int {
  kOk = TERN_OK,
  kDecline = TERN_DECLINE,
  kFail = TERN_FAIL,
  kDefer = TERN_DEFER,
  kError = TERN_ERROR,
};
constexpr Status ok() noexcept { return Status::kOk; }
constexpr Status decline() noexcept { return Status::kDecline; }
constexpr Status fail() noexcept { return Status::kFail; }
constexpr Status defer() noexcept { return Status::kDefer; }

// Thrown from a callback: TERN_ERROR with the message.
class Error : public std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Thrown from a callback: TERN_DEFER (try again later) with the message.
class Defer : public std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Thrown from a callback: TERN_FAIL (forced failure, lookup not found);
// the message, when not empty, is set as the error text.
class ForcedFail : public std::runtime_error {
 public:
  ForcedFail() : std::runtime_error("") {}
  using std::runtime_error::runtime_error;
};

// ---- small vocabulary ----------------------------------------------------

inline std::string_view view(tern_str s) noexcept {
  return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view();
}
inline tern_str str(std::string_view s) noexcept { return tern_str{s.data(), s.size()}; }

enum class LogLevel {
  kMain = TERN_LOG_MAIN,
  kReject = TERN_LOG_REJECT,
  kPanic = TERN_LOG_PANIC,
  kDebug = TERN_LOG_DEBUG,
};

enum class OptionType {
  kBool = TERN_OPT_BOOL,
  kInt = TERN_OPT_INT,
  kTime = TERN_OPT_TIME,
  kFixed = TERN_OPT_FIXED,
  kString = TERN_OPT_STRING,
  kStringList = TERN_OPT_STRING_LIST,
  kHostList = TERN_OPT_HOST_LIST,
  kUid = TERN_OPT_UID,
  kGid = TERN_OPT_GID,
};

// Option scopes and ACL sets are bit sets: combine with |.
namespace scope {
inline constexpr uint32_t kMain = TERN_SCOPE_MAIN;
inline constexpr uint32_t kRouter = TERN_SCOPE_ROUTER;
inline constexpr uint32_t kTransport = TERN_SCOPE_TRANSPORT;
}  // namespace scope

namespace acl {
inline constexpr uint32_t kConnect = TERN_ACL_CONNECT;
inline constexpr uint32_t kHelo = TERN_ACL_HELO;
inline constexpr uint32_t kMail = TERN_ACL_MAIL;
inline constexpr uint32_t kRcpt = TERN_ACL_RCPT;
inline constexpr uint32_t kPredata = TERN_ACL_PREDATA;
inline constexpr uint32_t kData = TERN_ACL_DATA;
inline constexpr uint32_t kMime = TERN_ACL_MIME;
inline constexpr uint32_t kQuit = TERN_ACL_QUIT;
inline constexpr uint32_t kNotquit = TERN_ACL_NOTQUIT;
inline constexpr uint32_t kVrfy = TERN_ACL_VRFY;
inline constexpr uint32_t kExpn = TERN_ACL_EXPN;
inline constexpr uint32_t kStarttls = TERN_ACL_STARTTLS;
inline constexpr uint32_t kAll = TERN_ACL_ALL;
}  // namespace acl

enum class Hook {
  kPreBanner = TERN_HOOK_PRE_BANNER,
  kTlsServerCtx = TERN_HOOK_TLS_SERVER_CTX,
  kTlsServerSsl = TERN_HOOK_TLS_SERVER_SSL,
  kTlsClientBefore = TERN_HOOK_TLS_CLIENT_BEFORE,
  kTlsClientAfter = TERN_HOOK_TLS_CLIENT_AFTER,
  kAfterData = TERN_HOOK_AFTER_DATA,
  kRouterPrecondition = TERN_HOOK_ROUTER_PRECONDITION,
};

// How a call may behave: TERN_MAY_BLOCK runs it off the I/O thread with a
// deadline (timeout_ms; 0 is the core's default). Overrun is TERN_DEFER.
struct Blocking {
  bool may_block = false;
  uint32_t timeout_ms = 0;
  uint32_t flags() const noexcept { return may_block ? TERN_MAY_BLOCK : 0u; }
};
inline constexpr Blocking kMayBlock{true, 0};

namespace detail {
inline Status status(tern_status s) noexcept { return static_cast<Status>(s); }
}  // namespace detail

// ---- what a callback gets --------------------------------------------------

// A host-owned output buffer (the result of an operator, a verdict, ...).
// Valid during the callback that gets it.
class Out {
 public:
  Out(const tern_host* host, tern_buf* buf) noexcept : host_(host), buf_(buf) {}
  Out& append(std::string_view s) {
    if (!s.empty()) host_->buf_append(buf_, str(s));
    return *this;
  }
  Out& operator<<(std::string_view s) { return append(s); }
  tern_buf* raw() const noexcept { return buf_; }

 private:
  const tern_host* host_;
  tern_buf* buf_;
};

// One DNS answer, copied out of the host's (which lives for the call only).
struct DnsAnswer {
  int rcode = 0;
  bool secure = false;
  std::vector<std::string> rdata;
};

// A call's surroundings: a session, a message, a delivery attempt or an
// expansion. Valid during the callback that gets it. What the host answers
// (expand, variable, option, recipient_data, raise_event) is copied into a
// std::string, or appended to an Out with the *_to forms. On a status
// other than kOk the host has set the call's error text already: return
// that status and the core reports the host's text.
class Call {
 public:
  Call(tern_ctx* ctx, tern_call* call) noexcept : ctx_(ctx), call_(call) {}

  void log(LogLevel level, std::string_view text) const {
    host()->log(ctx_, static_cast<tern_log_level>(level), "%.*s", static_cast<int>(text.size()),
                text.data());
  }
  // The expansion of `text` in the call's context; kFail is a forced
  // failure.
  Status expand(std::string_view text, std::string& out) const { return fetch(host()->expand, out, str(text)); }
  Status expand_to(Out& out, std::string_view text) const { return fetch_to(out, &Call::expand, text); }
  // $name; kDecline when the variable is unknown.
  Status variable(const std::string& name, std::string& out) const {
    return fetch(host()->get_variable, out, name.c_str());
  }
  Status variable_to(Out& out, const std::string& name) const { return fetch_to(out, &Call::variable, name); }
  // An option's text (the call's router or transport first, then main);
  // kDecline when unset.
  Status option(const std::string& name, std::string& out) const {
    return fetch(host()->get_option, out, name.c_str());
  }
  Status option_to(Out& out, const std::string& name) const { return fetch_to(out, &Call::option, name); }
  // A numeric option: booleans 0/1, times in seconds, fixed * 1000.
  // nullopt when unset; throws Error on another failure.
  std::optional<int64_t> option_int(const std::string& name) const {
    int64_t v = 0;
    tern_status s = host()->get_option_int(call_, name.c_str(), &v);
    if (s == TERN_OK) return v;
    if (s == TERN_DECLINE) return std::nullopt;
    throw Error("option \"" + name + "\": not a number");
  }
  // Why the host's most recent answer on this call was not ok() (an
  // expansion's error text, ...); empty on a core older than ABI 1.2.
  std::string error() const {
    if (!TERN_HOST_HAS(host(), call_error)) return {};
    tern_str r{};
    host()->call_error(call_, &r);
    return std::string(view(r));
  }
  // Raises an event; `verdict` gets the listeners' first non-empty verdict.
  Status raise_event(std::string_view event, std::string_view data, std::string& verdict) const {
    return fetch(host()->raise_event, verdict, str(event), str(data));
  }
  // A DNS query through the core's resolver. Non-OK: the resolver failed.
  Status dns_query(std::string_view name, uint16_t rrtype, DnsAnswer& answer) const {
    tern_dns_answer a{};
    a.size = sizeof a;
    tern_status s = host()->dns_query(call_, str(name), rrtype, &a);
    answer = DnsAnswer{a.rcode, a.secure != 0, {}};
    for (size_t i = 0; i < a.count && a.rdata; ++i) answer.rdata.emplace_back(view(a.rdata[i]));
    return detail::status(s);
  }
  Status set_recipient_data(size_t recipient, std::string_view key, std::string_view value) const {
    return detail::status(host()->set_recipient_data(call_, recipient, str(key), str(value)));
  }
  // The value for the recipient being routed; kDecline when unset.
  Status recipient_data(std::string_view key, std::string& out) const {
    return fetch(host()->recipient_data, out, str(key));
  }
  // Per-session state (ABI 1.1): owned by the session from here on and
  // deleted when it ends. Throws Error on a core older than 1.1.
  template <class T>
  void set_session_data(std::unique_ptr<T> data) const {
    if (!TERN_HOST_HAS(host(), set_session_data)) throw Error("session data needs tern ABI 1.1");
    host()->set_session_data(call_, ctx_, data.release(),
                             [](void* p) { delete static_cast<T*>(p); });
  }
  // This module's session state, or nullptr (also on a core older than 1.1).
  template <class T>
  T* session_data() const {
    if (!TERN_HOST_HAS(host(), session_data)) return nullptr;
    return static_cast<T*>(host()->session_data(call_, ctx_));
  }

  // The call's client against a host list, as the core matches its own
  // hosts_* options (ABI 1.2): kOk it matches, kFail it does not, kDefer or
  // kError with the host's text set. Throws Error on an older core.
  Status match_host_list(std::string_view list) const {
    if (!TERN_HOST_HAS(host(), match_host_list)) throw Error("match_host_list needs tern ABI 1.2");
    return detail::status(host()->match_host_list(call_, str(list)));
  }
  // The text of the error this call returns with kFail, kDefer or kError.
  void set_error(std::string_view text) const { host()->set_error(ctx_, call_, str(text)); }

  const tern_host* host() const noexcept { return ctx_->host; }
  tern_ctx* ctx() const noexcept { return ctx_; }
  tern_call* raw() const noexcept { return call_; }

 private:
  // The host-owned answer, copied out (it lives only as long as the call).
  static Status answer(tern_status s, tern_str r, std::string& out) {
    if (s == TERN_OK) out.assign(view(r));
    return detail::status(s);
  }
  // A host entry that answers with text: fn(call, args..., &answer), the
  // answer copied into `out`.
  template <class Fn, class... Args>
  Status fetch(Fn fn, std::string& out, Args... args) const {
    tern_str r{};
    return answer(fn(call_, args..., &r), r, out);
  }
  // The *_to forms: what `get` gives appended to `out` when kOk.
  template <class Arg>
  Status fetch_to(Out& out, Status (Call::*get)(Arg, std::string&) const, std::type_identity_t<Arg> arg) const {
    std::string s;
    Status st = (this->*get)(arg, s);
    if (st == Status::kOk) out.append(s);
    return st;
  }

  tern_ctx* ctx_;
  tern_call* call_;
};

// The raw connection at the pre-banner hook (ABI 1.1 entries; set_timeout 1.2).
class Connection {
 public:
  Connection(const Call& call, tern_conn* conn) noexcept : call_(call), conn_(conn) {}
  // Reads at most len bytes; 0 at end of input. Throws Defer on the hook's
  // deadline, Error on a failure or a core older than 1.1.
  size_t read(void* dst, size_t len) const {
    const tern_host* h = call_.host();
    if (!TERN_HOST_HAS(h, conn_read)) throw Error("conn_read needs tern ABI 1.1");
    size_t got = 0;
    tern_status s = h->conn_read(conn_, dst, len, &got);
    if (s == TERN_DEFER) throw Defer("timed out reading the connection");
    if (s != TERN_OK) throw Error("reading the connection failed");
    return got;
  }
  // Replaces the session's client and local addresses.
  void set_addresses(std::string_view client_ip, uint16_t client_port, std::string_view local_ip,
                     uint16_t local_port) const {
    const tern_host* h = call_.host();
    if (!TERN_HOST_HAS(h, conn_set_addresses)) throw Error("conn_set_addresses needs tern ABI 1.1");
    if (h->conn_set_addresses(conn_, str(client_ip), client_port, str(local_ip), local_port) !=
        TERN_OK)
      throw Error("the core refused the addresses");
  }
  // Later reads wait at most `ms` from now (ABI 1.2; the core's own
  // deadline still applies when shorter). Throws Error on an older core.
  void set_timeout(uint32_t ms) const {
    const tern_host* h = call_.host();
    if (!TERN_HOST_HAS(h, conn_set_timeout)) throw Error("conn_set_timeout needs tern ABI 1.2");
    h->conn_set_timeout(conn_, ms);
  }
  const Call& call() const noexcept { return call_; }
  tern_conn* raw() const noexcept { return conn_; }

 private:
  const Call& call_;
  tern_conn* conn_;
};

// The message at the after-DATA hook; fields its size does not cover read
// as empty.
class Message {
 public:
  explicit Message(const tern_message* m) noexcept : m_(m) {}
  std::string_view id() const noexcept { return has(offsetof(tern_message, id)) ? view(m_->id) : ""; }
  std::string_view sender() const noexcept {
    return has(offsetof(tern_message, sender)) ? view(m_->sender) : "";
  }
  std::vector<std::string_view> recipients() const {
    std::vector<std::string_view> r;
    if (has(offsetof(tern_message, recipient_count)) && m_->recipients)
      for (size_t i = 0; i < m_->recipient_count; ++i) r.push_back(view(m_->recipients[i]));
    return r;
  }
  int data_fd() const noexcept { return has(offsetof(tern_message, data_fd)) ? m_->data_fd : -1; }
  std::string_view headers() const noexcept {
    return has(offsetof(tern_message, headers)) ? view(m_->headers) : "";
  }
  const tern_message* raw() const noexcept { return m_; }

 private:
  bool has(size_t offset) const noexcept { return m_ && m_->size > offset; }
  const tern_message* m_;
};

// A lookup type. find returns the data, or nullopt for "not found"; throw
// Defer to try later. open/close (single-key types: the file) and quote
// (${quote_<name>:...}) are optional.
struct LookupRequest {
  void* handle = nullptr;       // what open returned
  std::string_view filename;    // single-key: the file; query: empty
  std::string_view key;         // the key or the query
  std::string_view options;     // the text after "<type>," in the lookup
  bool no_cache = false;        // set: the core must not cache this answer
};
struct LookupSpec {
  bool query = true;  // ${lookup type{query}}; false: ${lookup{key}type{file}}
  Blocking blocking{};
  std::function<std::optional<std::string>(Call&, LookupRequest&)> find{};
  std::function<void*(std::string_view filename)> open{};
  std::function<void(void*)> close{};
  std::function<std::string(std::string_view in, std::string_view options)> quote{};
};

class Registrar;

// ---- the module ------------------------------------------------------------

namespace detail {
using OpFn = std::function<Status(Call&, std::string_view, Out&)>;
using ItemFn = std::function<Status(Call&, std::span<const std::string_view>, Out&)>;
using CondFn = std::function<Status(Call&, std::string_view, Out&)>;
using VarFn = std::function<Status(Call&, Out&)>;
using EventFn = std::function<Status(Call&, std::string_view, std::string_view, Out&)>;
using HookFn = std::function<Status(Call&, void*, Out&)>;

// Everything registered, owned by the module object. Deques: an element
// never moves, so the `user` pointer a definition carries stays valid.
struct Tables {
  std::deque<OpFn> ops;
  std::deque<ItemFn> items;
  std::deque<CondFn> conds;
  std::deque<VarFn> vars;
  std::deque<EventFn> events;
  std::deque<HookFn> hooks;
  std::deque<LookupSpec> lookups;
  std::deque<std::string> strings;  // names handed to the core, kept until fini
};
struct Access;
}  // namespace detail

class Module {
 public:
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  virtual ~Module() = default;

  // Registers what the module brings. In discovery mode
  // (registrar.discovery()) register only: no connection, no work.
  virtual Status init(Registrar& registrar) = 0;
  // Runs before the object is deleted, when the generation goes away.
  virtual void fini() {}

  // Logs on behalf of the module outside a call (init, fini).
  void log(LogLevel level, std::string_view text) const {
    host()->log(ctx_, static_cast<tern_log_level>(level), "%.*s", static_cast<int>(text.size()),
                text.data());
  }
  const tern_host* host() const noexcept { return ctx_->host; }
  tern_ctx* ctx() const noexcept { return ctx_; }

 private:
  friend struct detail::Access;
  friend class Registrar;
  tern_ctx* ctx_ = nullptr;
  detail::Tables tables_;
};

}  // namespace tern

#include <tern/detail/trampolines.hpp>
#include <tern/registrar.hpp>
