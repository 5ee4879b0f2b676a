// core/deliver/delivery.cpp: one delivery attempt of one message (see delivery.hpp).
#include "core/deliver/delivery.hpp"

#include <grp.h>
#include <pwd.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <set>

#include "core/deliver/bounce.hpp"
#include "core/deliver/local_message.hpp"
#include "core/deliver/router_drivers.hpp"
#include "core/deliver/spawn.hpp"
#include "core/deliver/variables.hpp"
#include "core/dns/failure_events.hpp"
#include "core/log/delivery_lines.hpp"
#include "core/log/smtp_lines.hpp"
#include "core/module_host/event_bus.hpp"
#include "core/module_host/generation.hpp"
#include "core/module_host/log_sink.hpp"
#include "core/module_host/recipient_store.hpp"
#include "core/spool/recipient_data.hpp"
#include "core/spool/journal.hpp"

namespace tern::deliver {

spool::SpoolConfig spool_config(const config::Config& config) {
  spool::SpoolConfig c;
  c.directory = config.main.get_string("spool_directory");
  c.split = config.main.get_bool("split_spool_directory");
  return c;
}

Result<log::LoggerOptions> delivery_logger_options(cli::Runtime& rt) {
  const config::OptionSet& main = rt.config().main;
  auto options = log::options_from_config(main, main.get_string("spool_directory"),
                                          [&rt](std::string_view s) { return expand::expand(s, rt.context()); });
  if (!options) return options.take_error();
  if (::getuid() == 0) {
    if (struct passwd* pw = getpwnam(main.get_string("exim_user").c_str())) {
      options->owner_uid = pw->pw_uid;
      options->owner_gid = pw->pw_gid;
    }
  }
  return options;
}

namespace {

// Root's deliveries leave the retry database to exim_user, whose deliveries share it.
std::optional<std::pair<uid_t, gid_t>> retry_db_owner(cli::Runtime& rt) {
  if (::getuid() != 0) return std::nullopt;
  struct passwd* pw = getpwnam(rt.config().main.get_string("exim_user").c_str());
  if (!pw) return std::nullopt;
  return std::make_pair(pw->pw_uid, pw->pw_gid);
}

}  // namespace

Result<std::unique_ptr<DeliveryProcess>> DeliveryProcess::make(cli::Runtime& rt) {
  auto routers = RouterSet::build(rt.config());
  if (!routers) return routers.take_error();
  auto options = delivery_logger_options(rt);
  if (!options) return options.take_error();
  auto retry = RetryConfig::build(rt.config());
  if (!retry) return retry.take_error();
  auto logger = std::make_unique<log::Logger>(std::move(*options));
  return std::unique_ptr<DeliveryProcess>(
      new DeliveryProcess(rt, std::move(*routers), std::move(logger), std::move(*retry)));
}

DeliveryProcess::DeliveryProcess(cli::Runtime& rt, std::shared_ptr<const RouterSet> routers,
                                 std::unique_ptr<log::Logger> logger, RetryConfig retry)
    : rt_(rt),
      routers_(std::move(routers)),
      logger_(std::move(logger)),
      spool_(spool_config(rt.config())),
      retry_(std::move(retry)),
      retry_db_(rt.config().main.get_string("spool_directory"), retry_db_owner(rt)) {}

namespace {

// What modules log during a delivery goes to the delivery's logs, with the message's id when
// there is one.
module_host::LogSink logs_of(log::Logger& logger, std::string id) {
  return [&logger, id = std::move(id)](std::string_view, unsigned targets, std::string_view text) {
    log::Line line;
    line.text = std::string(text);
    line.message_id = id;
    line.targets = ((targets & TERN_LOG_MAIN) ? log::kToMain : 0u) | ((targets & TERN_LOG_REJECT) ? log::kToReject : 0u) |
                   ((targets & TERN_LOG_PANIC) ? log::kToPanic : 0u);
    logger.write(line);
  };
}

// The event bus for a delivery: an event raised while a transport works goes with that
// transport's options (its event_action), a message event (transport null) with the main
// ones, and sees the delivery's variables as they stand. Nothing is built when nobody listens.
class BusEvents final : public EventRaiser {
 public:
  // `recipients`: modules' per-recipient data of the message, when there is a message.
  BusEvents(cli::Runtime& rt, expand::Context& ctx, DeliveryVariables& vars, const config::DriverInstance* transport,
            module_host::MessageRecipients* recipients = nullptr)
      : rt_(rt), ctx_(ctx), vars_(vars), transport_(transport), recipients_(recipients) {}

  bool observed(std::string_view event) const override { return rt_.modules().events().has_listeners(event); }

  std::string raise(std::string_view event, std::string_view data) override {
    const module_host::EventBus& bus = rt_.modules().events();
    if (!bus.has_listeners(event)) return {};
    module_host::CallEnv call;
    call.expand = &ctx_;
    call.options = &rt_.option_registry();
    call.main = &rt_.config().main;
    call.driver = transport_;
    call.driver_scope = config::Scope::kTransport;
    call.events = &bus;
    call.dns = &rt_.resolver();
    call.recipients = recipients_;
    vars_.set("transport_name", transport_ ? transport_->name : "");
    return bus.raise(event, data, call);
  }

 private:
  cli::Runtime& rt_;
  expand::Context& ctx_;
  DeliveryVariables& vars_;
  const config::DriverInstance* transport_;
  module_host::MessageRecipients* recipients_;
};

}  // namespace

DeliveryProcess::~DeliveryProcess() {
  // Connections kept for more batches close now; what that raises (tcp:close) sees no message.
  module_host::ScopedLogSink module_log(logs_of(*logger_, ""));
  DeliveryVariables vars(&rt_.config_variables());
  expand::Context ctx = rt_.context();
  ctx.variables = &vars;
  for (auto& [name, t] : transports_) {
    if (!t) continue;
    const config::DriverInstance* inst = rt_.config().find_transport(name);
    BusEvents events(rt_, ctx, vars, inst);
    TransportCall closing;
    closing.expand = &ctx;
    closing.set_variable = [&vars](std::string_view n, std::string v) { vars.set(n, std::move(v)); };
    closing.instance = inst;
    closing.events = &events;
    t->finish(closing);
  }
}

Transport* DeliveryProcess::transport(const std::string& name, std::string* error) {
  if (auto it = transports_.find(name); it != transports_.end()) return it->second.get();
  const config::DriverInstance* inst = rt_.config().find_transport(name);
  if (!inst) {
    *error = "transport \"" + name + "\" not found";  // Exim: Unset or non-existent transport
    return nullptr;
  }
  const TransportDriver* d = builtin_transports().find(inst->driver);
  if (!d) {
    *error = "transport driver \"" + inst->driver + "\" is not in this build";
    return nullptr;
  }
  TransportEnv env;
  env.config = &rt_.config();
  env.resolver = &rt_.resolver();
  env.modules = &rt_.call_env();
  env.primary_hostname = rt_.config().main.get_string("primary_hostname");
  if (env.primary_hostname.empty()) {
    std::string v;
    rt_.config_variables().append("primary_hostname", v);
    env.primary_hostname = v;
  }
  auto t = d->make(*inst, env);
  if (!t) {
    *error = t.error().message;
    return nullptr;
  }
  return (transports_[name] = std::move(*t)).get();
}

namespace {

// The -D file mapped for the attempt (the body starts after its first line).
class MappedData {
 public:
  ~MappedData() {
    if (base_ && base_ != MAP_FAILED) ::munmap(base_, size_);
  }
  Status open(const std::string& path, std::size_t skip) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error::failed("Spool file " + path + " is missing: " + std::strerror(errno));
    struct stat st;
    ::fstat(fd, &st);
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) base_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (size_ > 0 && base_ == MAP_FAILED) return Error::failed("mmap " + path + ": " + std::strerror(errno));
    if (size_ >= skip) body_ = std::string_view(static_cast<const char*>(base_) + skip, size_ - skip);
    return {};
  }
  std::string_view body() const { return body_; }

 private:
  void* base_ = nullptr;
  std::size_t size_ = 0;
  std::string_view body_;
};

std::string unique_of(const std::vector<Address>& all, std::size_t i) {
  const Address& a = all[i];
  if ((a.is_pipe || a.is_file) && a.parent >= 0) return a.address + ":" + unique_of(all, static_cast<std::size_t>(a.parent));
  return a.address;
}

std::size_t top_of(const std::vector<Address>& all, std::size_t i) {
  while (all[i].parent >= 0) i = static_cast<std::size_t>(all[i].parent);
  return i;
}

log::LoggedAddress logged(const std::vector<Address>& all, std::size_t i) {
  log::LoggedAddress la;
  const Address& a = all[i];
  la.address = a.address;
  la.local_part = a.local_part;
  la.pipe_file_reply = a.is_pipe || a.is_file;
  la.file = a.is_file;
  if (a.parent >= 0) {
    std::size_t top = top_of(all, i);
    la.original = all[top].address;
    for (int p = a.parent; p >= 0 && static_cast<std::size_t>(p) != top; p = all[static_cast<std::size_t>(p)].parent)
      la.intermediates.push_back(all[static_cast<std::size_t>(p)].address);
  }
  return la;
}

bool header_named(std::string_view header, std::string_view name) {
  auto colon = header.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = header.substr(0, colon);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  if (!name.empty() && name.back() == ':') name.remove_suffix(1);
  if (!name.empty() && name.back() == '*')
    return h.size() >= name.size() - 1 && strncasecmp(h.data(), name.data(), name.size() - 1) == 0;
  return h.size() == name.size() && strncasecmp(h.data(), name.data(), name.size()) == 0;
}

// Splits a transport's expanded headers_remove (a colon list).
std::vector<std::string> colon_items(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto c = s.find(':');
    std::string_view item = s.substr(0, c);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (c == std::string_view::npos) break;
    s.remove_prefix(c + 1);
  }
  return out;
}

// uid and gid for a local transport: the transport's user/group, else the router's
// (check_local_user). nullopt uid: none set.
struct RunAs {
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

Result<RunAs> local_ids(const config::DriverInstance& t, const Address& a, expand::Context& ctx) {
  RunAs r;
  auto id_of = [&](std::string_view option, bool user) -> Result<std::optional<std::int64_t>> {
    const config::OptionValue* v = t.options.get(option);
    if (!v || !v->is_set) return std::optional<std::int64_t>();
    if (!v->expand) return std::optional<std::int64_t>(v->number);
    auto e = expand::expand(v->text, ctx);
    if (!e) return Error::failed("Failed to expand " + std::string(option) + " for " + t.name + " transport: " + e.error().message);
    if (!e->empty() && std::all_of(e->begin(), e->end(), ::isdigit)) return std::optional<std::int64_t>(std::stoll(*e));
    if (user) {
      if (struct passwd* pw = getpwnam(e->c_str())) return std::optional<std::int64_t>(pw->pw_uid);
      return Error::failed("User \"" + *e + "\" not found for " + t.name + " transport");
    }
    if (struct group* gr = getgrnam(e->c_str())) return std::optional<std::int64_t>(gr->gr_gid);
    return Error::failed("Group \"" + *e + "\" not found for " + t.name + " transport");
  };
  auto u = id_of("user", true);
  if (!u) return u.take_error();
  auto g = id_of("group", false);
  if (!g) return g.take_error();
  if (*u) {
    r.uid = static_cast<uid_t>(**u);
    if (!*g) {
      const config::OptionValue* v = t.options.get("user");
      std::string name = v ? v->text : "";
      struct passwd* pw = name.empty() ? getpwuid(*r.uid) : getpwnam(name.c_str());
      if (!pw) pw = getpwuid(*r.uid);
      if (pw) r.gid = pw->pw_gid;
    }
  } else if (a.uid) {
    r.uid = static_cast<uid_t>(*a.uid);
    if (a.gid) r.gid = static_cast<gid_t>(*a.gid);
  }
  if (*g) r.gid = static_cast<gid_t>(**g);
  return r;
}

// A local transport's result as its child process sends it: a line of numbers (outcome,
// errno, more_errno, bytes, the output flags, the lengths of the message, the
// confirmation and the output) followed by those three texts as they are.
std::string encode_local_result(const AddressResult& r) {
  return std::to_string(static_cast<int>(r.outcome)) + " " + std::to_string(r.basic_errno) + " " +
         std::to_string(r.more_errno) + " " + std::to_string(r.bytes_written) + " " +
         std::to_string((r.log_output ? 1 : 0) | (r.return_output ? 2 : 0)) + " " +
         std::to_string(r.message.size()) + " " + std::to_string(r.confirmation.size()) + " " +
         std::to_string(r.output.size()) + "\n" + r.message + r.confirmation + r.output;
}

// The next result in `in` (consumed); nullopt when there is no complete one.
std::optional<AddressResult> decode_local_result(std::string_view& in) {
  auto nl = in.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  std::string head(in.substr(0, nl));
  AddressResult r;
  int outcome = 1, flags = 0;
  long long bytes = 0;
  std::size_t message_size = 0, confirmation_size = 0, output_size = 0;
  if (std::sscanf(head.c_str(), "%d %d %d %lld %d %zu %zu %zu", &outcome, &r.basic_errno, &r.more_errno, &bytes,
                  &flags, &message_size, &confirmation_size, &output_size) != 8 ||
      in.size() - nl - 1 < message_size + confirmation_size + output_size)
    return std::nullopt;
  r.outcome = static_cast<Outcome>(outcome);
  r.bytes_written = bytes;
  r.log_output = flags & 1;
  r.return_output = flags & 2;
  std::string_view texts = in.substr(nl + 1);
  r.message = std::string(texts.substr(0, message_size));
  r.confirmation = std::string(texts.substr(message_size, confirmation_size));
  r.output = std::string(texts.substr(message_size + confirmation_size, output_size));
  in.remove_prefix(nl + 1 + message_size + confirmation_size + output_size);
  return r;
}

// Runs a local transport in a child process as `who` (Exim's local delivery subprocess);
// the results come back over a pipe, one line per address.
void run_as(const RunAs& who, Transport& t, const TransportCall& call, std::vector<AddressResult>& results) {
  int fds[2];
  auto fail_all = [&](const std::string& m) {
    AddressResult r;
    r.outcome = Outcome::kDeferred;
    r.message = m;
    results.assign(call.addresses->size(), r);
  };
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail_all(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return fail_all(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    std::vector<AddressResult> mine;
    if ((who.gid && (::setgroups(0, nullptr) != 0 || ::setgid(*who.gid) != 0)) || ::setuid(*who.uid) != 0) {
      AddressResult r;
      r.outcome = Outcome::kDeferred;
      r.message = std::string("failed to set uid/gid: ") + std::strerror(errno);
      mine.assign(call.addresses->size(), r);
    } else {
      t.deliver(call, mine);
    }
    std::string out;
    for (const auto& r : mine) out += encode_local_result(r);
    std::string_view rest = out;
    while (!rest.empty()) {
      ssize_t n = ::write(fds[1], rest.data(), rest.size());
      if (n <= 0) break;
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string in;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  results.clear();
  std::string_view rest = in;
  while (results.size() < call.addresses->size()) {
    auto r = decode_local_result(rest);
    if (!r) break;
    results.push_back(std::move(*r));
  }
  if (results.size() != call.addresses->size()) {
    std::string why = WIFSIGNALED(status) ? "local delivery process killed by signal " + std::to_string(WTERMSIG(status))
                                          : "local delivery process returned no result";
    fail_all(why);
  }
}

}  // namespace

struct DeliveryProcess::Attempt {
  DeliveryProcess& p;
  std::string id;
  spool::Envelope env;
  std::optional<spool::DeliveryJournal> journal;
  MappedData data;
  DeliveryVariables vars;
  expand::Context ctx;
  std::vector<Address> all;
  // A failed address to report, with who is told.
  struct Failure {
    ReportedAddress report;
    std::string errors_address;
  };
  std::vector<Failure> failed;
  // Retry bookkeeping (Exim's retry items): what to write to or delete from the database
  // at the end of the attempt, and which deferred addresses depend on each.
  struct RetryWork {
    std::string key;
    bool remove = false;
    bool host = false;   // a host key: the address's domain is the alternate for rules
    std::string domain;
    int basic = 0, more = 0;
    std::string message;
    std::vector<std::size_t> addresses;
  };
  std::vector<RetryWork> retry_work;
  RetryRecords retry_snapshot;
  std::map<std::size_t, std::string> deferred_message;  // addresses deferred now, their text
  std::int64_t now_s = 0;
  bool ignore_errors = false;     // a bounce past ignore_bounce_errors_after
  bool bounce_failed = false;     // a bounce had a failure: the message is frozen
  std::map<std::string, std::size_t> first_of;            // unique -> the address delivered
  std::map<std::size_t, std::vector<std::size_t>> dups_of;  // ... and its duplicates
  std::int64_t received_us = 0;
  // Modules' per-recipient data from the -H (set at the after-DATA hook).
  std::optional<module_host::MessageRecipients> recipient_data;

  // What modules log during the attempt goes to this process's logs, with the message's id.
  module_host::ScopedLogSink module_log;

  Attempt(DeliveryProcess& process, std::string_view message_id)
      : p(process),
        id(message_id),
        vars(&process.rt_.config_variables()),
        ctx(process.rt_.context()),
        module_log(logs_of(*process.logger_, std::string(message_id))) {
    ctx.variables = &vars;
    // ${acl} in event_action and other options: its logwrite lines, with the message's id.
    p.rt_.set_acl_log([this](const acl::LogLine& l) {
      log::Line line;
      line.text = l.text;
      line.message_id = id;
      line.targets = l.targets;
      p.logger_->write(line);
    });
  }
  ~Attempt() { p.rt_.set_acl_log({}); }
  Attempt(const Attempt&) = delete;
  Attempt& operator=(const Attempt&) = delete;

  // Raises a message event (transport null: the main event_action) with the variables as
  // they stand. The verdict is ignored by every message event.
  void raise(std::string_view event, std::string_view data, const config::DriverInstance* transport) {
    BusEvents(p.rt_, ctx, vars, transport, recipient_data ? &*recipient_data : nullptr).raise(event, data);
  }

  // The per-recipient transport events, after the address's log line, as Exim raises them:
  // $event_data is the transport's text only from a host or the smtp, lmtp and autoreply
  // drivers; msg:rcpt:defer only for a 4xx to RCPT (a host or local deferral raises none).
  void raise_result(std::size_t i, const AddressResult& r, const config::DriverInstance* transport) {
    set_address_variables(all, i, vars);
    if (recipient_data) recipient_data->select(all[i].spool_recipient);
    vars.set("router_name", all[i].router);
    vars.set("host", r.host_used ? r.host_used->name : "");
    vars.set("host_address", r.host_used ? r.host_used->address : "");
    vars.set("host_port", r.host_used ? std::to_string(r.host_used->port ? r.host_used->port : 25) : "");
    const std::string driver = transport ? transport->driver : "";
    bool texts = r.host_used || driver == "smtp" || driver == "lmtp" || driver == "autoreply";
    switch (r.outcome) {
      case Outcome::kDelivered: raise("msg:delivery", texts ? r.confirmation : "", transport); break;
      case Outcome::kFailed: raise("msg:fail:delivery", texts ? r.message : "", transport); break;
      case Outcome::kDeferred:
        if (r.basic_errno != kErrRcpt4xx) break;
        // Exim's more_errno: the reply's last two digits, and how the host was found.
        vars.set("event_defer_errno",
                 std::to_string((r.more_errno % 100) << 8 | (r.host_used && r.host_used->mx >= 0 ? 'M' : 'A')));
        raise("msg:rcpt:defer", r.message, transport);
        vars.set("event_defer_errno", "0");
        break;
    }
    vars.set("router_name", "");
  }

  // msg:fail:internal (main event_action): an address failed without a delivery attempt
  // (unrouteable, :fail:), before its ** line as in Exim.
  void raise_failed_internal(std::size_t i) {
    if (!p.rt_.modules().events().has_listeners("msg:fail:internal")) return;
    set_address_variables(all, i, vars);
    vars.set("router_name", all[i].router);
    for (const char* name : {"host", "host_address", "host_port"}) vars.set(name, "");
    raise("msg:fail:internal", all[i].message, nullptr);
    vars.set("router_name", "");
  }

  const log::Selectors& sel() const { return p.logger_->selectors(); }

  log::Delivery base_line(std::size_t i) {
    log::Delivery d;
    d.message_id = id;
    d.address = logged(all, i);
    d.sender = env.sender;
    d.router = all[i].router;
    d.transport = all[i].transport;
    if (const auto* inst = p.rt_.config().find_transport(all[i].transport)) {
      const TransportDriver* drv = builtin_transports().find(inst->driver);
      d.local_transport = drv && drv->local;
    }
    if (const auto* r = p.rt_.config().find_router(all[i].router))
      d.address.log_as_local = d.local_transport && r->options.get_bool("log_as_local");
    struct timeval now;
    gettimeofday(&now, nullptr);
    d.queue_time_us = static_cast<std::int64_t>(now.tv_sec) * 1000000 + now.tv_usec - received_us;
    return d;
  }

  // Durable record that `i` needs no more delivery.
  void done(std::size_t i) {
    std::string u = unique_of(all, i);
    if (journal) {
      if (auto st = journal->mark_done(u); !st)
        p.logger_->panic("failed to write journal for " + id + ": " + st.error().message, id);
    }
    env.nonrecipients.insert(u);
  }

  // `d`: the line so far (the transport's host when it got that far).
  void log_failed(std::size_t i, log::Delivery d, const std::string& message, int err,
                  const std::optional<Host>& host = std::nullopt) {
    d.error_message = message;
    d.basic_errno = err > 0 ? err : 0;
    p.logger_->write(log::failed(d, sel()));
    record_failure(i, message, host);
  }

  // A failed address: reported to its errors address and done, except in a bounce, where
  // it stays (the message is frozen) unless the errors are ignored or go nowhere.
  void record_failure(std::size_t i, const std::string& message, const std::optional<Host>& host) {
    const Address& a = all[i];
    Failure f;
    f.report.address = a.address;
    std::size_t top = top_of(all, i);
    f.report.top = all[top].address;
    f.report.ultimately = a.parent >= 0 && static_cast<std::size_t>(a.parent) != top;
    f.report.host = host;
    f.report.message = message;
    int dsn_flags = 0;
    for (const auto& rc : env.recipients)
      if (rc.address == all[top].address) {
        f.report.orcpt = rc.orcpt;
        dsn_flags = rc.dsn_flags;
      }
    f.errors_address = a.errors_to_set ? a.errors_to : env.sender;
    // DSN NOTIFY given without FAILURE (NEVER, or SUCCESS/DELAY only): nobody is told.
    if (dsn_flags != 0 && !(dsn_flags & spool::kDsnNotifyFailure) && !a.errors_to_set) f.errors_address.clear();
    if (f.errors_address.empty() && env.sender.empty() && !a.errors_to_set && !ignore_errors) {
      bounce_failed = true;  // nobody to tell: Exim freezes the bounce
      return;
    }
    if (f.errors_address.empty() && ignore_errors && cancel_reason.empty()) p.logger_->main(a.address + ": error ignored", id);
    if (!f.errors_address.empty()) failed.push_back(std::move(f));
    done(i);
  }

  void log_deferred(std::size_t i, const std::string& message, int err) {
    log::Delivery d = base_line(i);
    d.error_message = message;
    d.basic_errno = err;
    p.logger_->write(log::deferred(d, sel()));
    deferred_message[i] = message;
  }

  // ---- retry (Exim's retry.c) ----

  static std::string host_key(const Host& h) {
    std::string name = h.name;
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string key = "T:" + name + ":" + h.address;
    if (h.port != 0 && h.port != 25) key += ":" + std::to_string(h.port);
    return key;
  }

  std::string local_key(std::size_t i, const config::DriverInstance* t) {
    const Address& a = all[i];
    if (a.is_pipe || a.is_file) return "T:" + unique_of(all, i);
    bool use_local_part = !t || t->options.get_bool("retry_use_local_part");
    return "T:" + (use_local_part ? a.local_part + "@" + a.domain : a.domain);
  }

  // The record for `key`, unless it is older than retry_data_expire.
  const RetryRecord* retry_record(const std::string& key) {
    auto it = retry_snapshot.find(key);
    if (it == retry_snapshot.end()) return nullptr;
    if (now_s - it->second.last_try > p.rt_.config().main.get_int("retry_data_expire")) return nullptr;
    return &it->second;
  }

  // Exim's ultimate_address_timeout(): the message has waited longer than the last rule's
  // cutoff (or there is no rule), so one more try is allowed.
  bool past_ultimate_timeout(const std::string& key, std::string_view domain, const RetryRecord& r) {
    const RetryItem* item = p.retry_.find(std::string_view(key).substr(2), domain, r.basic_errno, r.more_errno,
                                          &env.sender, ctx);
    if (!item || item->rules.empty()) return true;
    return now_s - env.received_time > final_cutoff(*item);
  }

  // Whether the destination `key` may be tried now.
  bool retry_due(const std::string& key, std::string_view domain) {
    const RetryRecord* r = retry_record(key);
    if (!r || p.force_ || now_s >= r->next_try) return true;
    return past_ultimate_timeout(key, domain, *r);
  }

  void add_retry(std::string key, bool host, std::string domain, int basic, int more, std::string message,
                 std::vector<std::size_t> addresses) {
    RetryWork w;
    w.key = std::move(key);
    w.host = host;
    w.domain = std::move(domain);
    w.basic = basic;
    w.more = more;
    w.message = std::move(message);
    w.addresses = std::move(addresses);
    retry_work.push_back(std::move(w));
  }

  void delete_retry(const std::string& key) {
    if (!retry_snapshot.count(key)) return;
    RetryWork w;
    w.key = key;
    w.remove = true;
    retry_work.push_back(std::move(w));
  }

  // Local addresses whose retry time has not come are deferred; the rest are returned.
  std::vector<std::size_t> local_due(const std::vector<std::size_t>& batch, const config::DriverInstance* t) {
    std::vector<std::size_t> ready;
    for (std::size_t i : batch) {
      if (retry_due(local_key(i, t), all[i].domain)) ready.push_back(i);
      else log_deferred(i, "Retry time not yet reached", kErrLRetry);
    }
    return ready;
  }

  // Drops the hosts whose retry time has not come from a remote batch's addresses; false
  // (the addresses deferred or failed) when none is left.
  bool remote_due(const std::vector<std::size_t>& batch) {
    const std::vector<Host>& hosts = all[batch.front()].hosts;
    if (hosts.empty()) return true;
    std::vector<Host> usable;
    bool all_expired = true;
    for (const Host& h : hosts) {
      std::string key = host_key(h);
      const RetryRecord* r = h.address.empty() ? nullptr : retry_record(key);
      if (!r || p.force_ || now_s >= r->next_try || (!r->expired && past_ultimate_timeout(key, all[batch.front()].domain, *r))) {
        usable.push_back(h);
        continue;
      }
      all_expired = all_expired && r->expired;
    }
    if (usable.empty()) {
      for (std::size_t i : batch) {
        if (all_expired)
          log_failed(i, base_line(i), "retry time not reached for any host after a long failure period", kErrHRetry);
        else
          log_deferred(i, "retry time not reached for any host for '" + all[i].domain + "'", kErrHRetry);
      }
      return false;
    }
    if (usable.size() != hosts.size())
      for (std::size_t i : batch) all[i].hosts = usable;
    return true;
  }

  // After a transport call: the retry items its results make.
  void note_results(const std::vector<std::size_t>& batch, const std::vector<AddressResult>& results, bool local,
                    const config::DriverInstance* t) {
    std::vector<std::size_t> deferred;
    for (std::size_t k = 0; k < batch.size(); ++k)
      if (results[k].outcome == Outcome::kDeferred) deferred.push_back(batch[k]);
    if (local) {
      for (std::size_t k = 0; k < batch.size(); ++k) {
        std::string key = local_key(batch[k], t);
        if (results[k].outcome == Outcome::kDeferred)
          add_retry(key, false, all[batch[k]].domain, results[k].basic_errno, results[k].more_errno, results[k].message,
                    {batch[k]});
        else
          delete_retry(key);
      }
      return;
    }
    const std::string& domain = all[batch.front()].domain;
    for (const HostAttempt& h : results.front().hosts_tried)
      add_retry(host_key(h.host), true, domain, h.basic_errno, h.more_errno, h.message, deferred);
    for (std::size_t k = 0; k < batch.size(); ++k) {
      const AddressResult& r = results[k];
      std::string address_key = "R:" + all[batch[k]].address + ":<" + env.sender + ">";
      if (r.outcome == Outcome::kDeferred && r.host_used && r.basic_errno == kErrRcpt4xx)
        add_retry(address_key, false, domain, r.basic_errno, r.more_errno, r.message, {batch[k]});
      else if (r.outcome != Outcome::kDeferred)
        delete_retry(address_key);
      if (r.host_used && r.outcome != Outcome::kDeferred) delete_retry(host_key(*r.host_used));
    }
  }

  // Exim's retry_update(): write the retry items, then fail every deferred address whose
  // items have all timed out.
  void retry_update() {
    if (retry_work.empty()) return;
    const config::OptionSet& main = p.rt_.config().main;
    std::int64_t expire = main.get_int("retry_data_expire");
    std::int64_t interval_max = main.get_int("retry_interval_max");
    std::map<std::size_t, std::pair<int, int>> counts;  // address -> items, timed-out items
    auto st = p.retry_db_.update([&](RetryRecords& db) {
      for (const RetryWork& w : retry_work) {
        if (w.remove) {
          db.erase(w.key);
          continue;
        }
        for (std::size_t a : w.addresses) counts[a].first++;
        const RetryItem* item = p.retry_.find(std::string_view(w.key).substr(2), w.host ? w.domain : "", w.basic,
                                              w.more, &env.sender, ctx);
        if (!item) {
          for (std::size_t a : w.addresses) counts[a].second++;
          continue;
        }
        RetryRecord rec;
        auto it = db.find(w.key);
        if (it != db.end() && now_s - it->second.last_try <= expire) {
          rec = it->second;
        } else {
          rec.first_failed = rec.last_try = rec.next_try = now_s;
        }
        RetryTimes t = next_retry(*item, now_s, rec.first_failed, rec.last_try, rec.next_try, interval_max,
                                  static_cast<double>(std::rand()) / (static_cast<double>(RAND_MAX) + 1.0));
        bool timed_out = t.expired;
        // On the queue longer than the last rule's cutoff: time out now.
        if (!timed_out && env.received_time <= rec.first_failed && now_s - env.received_time > final_cutoff(*item)) {
          timed_out = true;
          t.next_try = now_s;
        }
        if (timed_out)
          for (std::size_t a : w.addresses) counts[a].second++;
        rec.last_try = now_s;
        rec.next_try = t.next_try;
        rec.expired = t.expired;
        rec.basic_errno = w.basic;
        rec.more_errno = w.more;
        rec.text = w.basic > 0 ? std::strerror(w.basic) : w.message.empty() ? "unknown error" : w.message;
        if (rec.text.size() > 150) rec.text.resize(150);
        db[w.key] = rec;
      }
    });
    if (!st) p.logger_->panic("failed to update the retry database: " + st.error().message, id);
    for (const auto& [i, c] : counts) {
      if (c.first == 0 || c.first != c.second || !deferred_message.count(i)) continue;
      const std::string& m = deferred_message[i];
      std::size_t top = top_of(all, i);
      p.logger_->main("** " + all[i].address + (top != i ? " <" + all[top].address + ">" : "") +
                          ": retry timeout exceeded",
                      id);
      record_failure(i, m.empty() ? "retry timeout exceeded" : m + ": retry timeout exceeded", std::nullopt);
    }
  }

  // What a report to `to` says about this message: its headers and body, the options.
  FailureReport report_to(const std::string& to) {
    const config::OptionSet& main = p.rt_.config().main;
    FailureReport r;
    r.recipient = to;
    r.sender = env.sender;
    p.rt_.config_variables().append("qualify_domain", r.qualify_domain);
    r.primary_hostname = main.get_string("primary_hostname");
    if (r.primary_hostname.empty()) p.rt_.config_variables().append("primary_hostname", r.primary_hostname);
    r.boundary = std::to_string(now_s) + "-eximdsn-" + std::to_string(std::rand());
    if (const auto* v = env.var("dsn_envid")) r.dsn_envid = v->value;
    if (const auto* v = env.var("dsn_ret")) r.dsn_ret = std::atoi(v->value.c_str());
    r.headers.push_back("Return-path: <" + env.sender + ">\n");
    for (const auto& h : env.headers)
      if (h.type != '*') r.headers.push_back(h.text);
    r.body = data.body();
    r.data_file_size = static_cast<std::int64_t>(data.body().size() + spool::data_start_offset(id));
    r.return_body = main.get_bool("bounce_return_body");
    r.return_size_limit = main.get_int("bounce_return_size_limit");
    r.return_linesize_limit = main.get_int("bounce_return_linesize_limit");
    if (const auto* v = env.var("max_received_linelength")) r.max_line_length = std::atoll(v->value.c_str());
    return r;
  }

  // Spools a report from <> and starts its delivery; false when it could not be written.
  bool send_report(const std::string& to, ReportText text) {
    LocalMessage m;
    m.recipients.push_back(to);
    m.headers = std::move(text.headers);
    m.body = std::move(text.body);
    m.reference = id;
    auto report_id = spool_local_message(p.rt_, p.spool_, *p.logger_, m);
    if (!report_id) {
      p.logger_->panic("failed to write a delivery report to " + to + ": " + report_id.error().message, id);
      return false;
    }
    if (!spawn_delivery(p.rt_, *report_id))
      p.logger_->panic(std::string("failed to start the delivery of ") + *report_id + ": " + std::strerror(errno), id);
    return true;
  }

  // One failure report per errors address.
  void send_reports() {
    std::vector<std::string> order;
    for (const Failure& f : failed)
      if (std::find(order.begin(), order.end(), f.errors_address) == order.end()) order.push_back(f.errors_address);
    for (const std::string& to : order) {
      FailureReport r = report_to(to);
      for (const Failure& f : failed)
        if (f.errors_address == to) r.addresses.push_back(f.report);
      send_report(to, failure_report(r));
    }
  }

  // Exim's delay warning: when the message has waited past the next delay_warning time,
  // the sender is told which addresses are still deferred (and delay_warning_condition
  // agrees); the -H's warning count remembers how many were due.
  void maybe_warn_of_delay() {
    if (env.sender.empty() || bounce_failed || env.pending_recipients().empty()) return;
    const config::OptionValue* times = p.rt_.config().main.get("delay_warning");
    if (!times) return;
    WarningsDue due = warnings_due(times->numbers, now_s - env.received_time);
    if (due.count <= env.warning_count) return;
    std::vector<ReportedAddress> still;
    for (const auto& [i, message] : deferred_message) {
      if (env.nonrecipients.count(unique_of(all, i))) continue;
      ReportedAddress a;
      a.address = all[i].address;
      a.top = all[top_of(all, i)].address;
      still.push_back(a);
    }
    if (still.empty()) return;
    auto ok = expand::expand(p.rt_.config().main.get_string("delay_warning_condition"), ctx);
    if (!ok) {
      p.logger_->panic("failed to expand delay_warning_condition: " + ok.error().message, id);
      return;
    }
    if (ok->empty() || *ok == "0" || strcasecmp(ok->c_str(), "no") == 0 || strcasecmp(ok->c_str(), "false") == 0)
      return;
    FailureReport r = report_to(env.sender);
    r.addresses = std::move(still);
    DelayFacts facts;
    facts.message_id = id;
    for (const auto& h : env.headers) {
      if (h.type == '*') continue;
      auto value = [&](std::string_view name) -> std::optional<std::string> {
        if (h.text.size() <= name.size() || strncasecmp(h.text.data(), name.data(), name.size()) != 0) return {};
        std::string v = h.text.substr(name.size());
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(0, 1);
        while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
        return v;
      };
      if (auto v = value("Subject:"); v && facts.subject.empty()) facts.subject = *v;
      if (auto v = value("Date:"); v && facts.date.empty()) facts.date = *v;
    }
    facts.shown = due.shown;
    if (send_report(env.sender, delay_report(r, facts))) env.warning_count = due.count;
  }

  // Exim's write_env_to(): the recipients an address came from, its duplicates' first.
  void envelope_to(std::size_t p, std::set<std::size_t>& handled, std::set<std::size_t>& written, std::string& line,
                   bool& first) {
    if (!handled.insert(p).second) return;
    std::size_t pp = p;
    for (;;) {
      if (auto it = dups_of.find(pp); it != dups_of.end())
        for (std::size_t dup : it->second) envelope_to(dup, handled, written, line, first);
      if (all[pp].parent < 0) break;
      pp = static_cast<std::size_t>(all[pp].parent);
    }
    if (!written.insert(pp).second) return;
    if (!first) line += ",\n ";
    first = false;
    line += all[pp].address;
  }

  // The header lines of a batch, in Exim's transport_headers_send() order.
  Result<std::vector<std::string>> batch_headers(const config::DriverInstance& t, const std::vector<std::size_t>& batch,
                                                 const std::string& return_path) {
    std::vector<std::string> out;
    const Address& a = all[batch.front()];
    if (t.options.get_bool("return_path_add")) out.push_back("Return-path: <" + return_path + ">\n");
    if (t.options.get_bool("delivery_date_add")) {
      auto d = expand::expand("$tod_full", ctx);
      out.push_back("Delivery-date: " + (d ? *d : std::string()) + "\n");
    }
    if (t.options.get_bool("envelope_to_add")) {
      std::string line = "Envelope-to: ";
      std::set<std::size_t> handled, written;
      bool first = true;
      for (std::size_t i : batch) envelope_to(i, handled, written, line, first);
      out.push_back(line + "\n");
    }
    std::vector<std::string> remove = a.remove_headers;
    if (!t.options.get_string("headers_remove").empty()) {
      auto r = expand_option(t, "headers_remove", ctx);
      if (!r && !r.error().is_forced()) return Error::failed(r.error().message);
      if (r)
        for (auto& item : colon_items(*r)) remove.push_back(item);
    }
    for (const auto& h : env.headers) {
      if (h.type == '*') continue;
      bool drop = false;
      for (const auto& name : remove) drop = drop || header_named(h.text, name);
      if (!drop) out.push_back(h.text);
    }
    for (const auto& h : a.extra_headers) out.push_back(h);
    if (!t.options.get_string("headers_add").empty()) {
      auto r = expand_option(t, "headers_add", ctx);
      if (!r && !r.error().is_forced()) return Error::failed(r.error().message);
      if (r) {
        std::string text = *r;
        std::string cur;
        for (std::size_t k = 0; k < text.size(); ++k) {
          cur += text[k];
          if (text[k] == '\n' && (k + 1 >= text.size() || (text[k + 1] != ' ' && text[k + 1] != '\t'))) {
            if (cur != "\n") out.push_back(cur);
            cur.clear();
          }
        }
        if (!cur.empty()) out.push_back(cur + "\n");
      }
    }
    return out;
  }

  void deliver_batch(const std::vector<std::size_t>& batch) {
    const Address& a = all[batch.front()];
    std::string error;
    Transport* t = p.transport(a.transport, &error);
    const config::DriverInstance* inst = p.rt_.config().find_transport(a.transport);
    if (!t || !inst) {
      for (std::size_t i : batch) log_deferred(i, error, kErrBadTransport);
      return;
    }
    set_address_variables(all, batch.front(), vars);
    // While the transport runs, $transport_name is set and $router_name is empty (Exim 4.96).
    vars.set("router_name", "");
    vars.set("transport_name", a.transport);
    std::string return_path = a.errors_to_set ? a.errors_to : env.sender;
    if (!inst->options.get_string("return_path").empty()) {
      auto r = expand_option(*inst, "return_path", ctx);
      if (r) return_path = *r;
    }
    vars.set("return_path", return_path);
    auto headers = batch_headers(*inst, batch, return_path);
    if (!headers) {
      for (std::size_t i : batch) log_deferred(i, headers.error().message, kErrChheaderFail);
      return;
    }
    Message m;
    m.id = id;
    m.envelope = &env;
    m.headers = std::move(*headers);
    m.body = data.body();
    m.return_path = return_path;
    std::vector<RoutedAddress> routed;
    for (std::size_t i : batch) routed.push_back(routed_address(i));
    TransportCall call;
    call.message = &m;
    call.addresses = &routed;
    call.expand = &ctx;
    call.set_variable = [this](std::string_view name, std::string value) { vars.set(name, std::move(value)); };
    call.log_main = [this](std::string_view line) { p.logger_->main(std::string(line), id); };
    call.instance = inst;
    BusEvents events(p.rt_, ctx, vars, inst, recipient_data ? &*recipient_data : nullptr);
    call.events = &events;
    std::vector<AddressResult> results;
    const TransportDriver* drv = builtin_transports().find(inst->driver);
    struct timeval start, end;
    gettimeofday(&start, nullptr);
    if (drv && drv->local) {
      auto who = local_ids(*inst, a, ctx);
      if (!who) {
        for (std::size_t i : batch) log_deferred(i, who.error().message, kErrUidFail);
        return;
      }
      if (::geteuid() == 0 && !who->uid) {
        for (std::size_t i : batch)
          log_deferred(i, "Neither the " + a.router + " router nor the " + a.transport +
                              " transport set a uid for local delivery of " + all[i].address, kErrUidFail);
        return;
      }
      if (::geteuid() == 0 && who->uid)
        run_as(*who, *t, call, results);
      else
        t->deliver(call, results);
    } else {
      t->deliver(call, results);
    }
    gettimeofday(&end, nullptr);
    if (results.size() != batch.size()) {
      AddressResult r;
      r.message = "transport " + a.transport + " gave no result";
      results.assign(batch.size(), r);
    }
    if (results.front().log_output && !results.front().output.empty()) {
      const std::string& out = results.front().output;
      p.logger_->main("<" + all[batch.front()].address + ">: " + a.transport + " transport output: " +
                          out.substr(0, out.find('\n')),
                      id);
    }
    bool first_delivered = true;
    for (std::size_t k = 0; k < batch.size(); ++k) {
      std::size_t i = batch[k];
      const AddressResult& r = results[k];
      log::Delivery d = base_line(i);
      if (r.host_used) {
        log::DeliveryHost h;
        h.name = r.host_used->name;
        h.address = r.host_used->address;
        h.port = r.host_used->port ? r.host_used->port : 25;
        h.dnssec = r.host_used->dnssec;
        h.continued = r.continued_connection;
        d.host = h;
      }
      d.tls = r.tls;
      d.auth = r.auth;
      d.confirmation = r.confirmation;
      d.lmtp = inst->driver == "lmtp";
      d.pipelining = r.pipelining;
      d.chunking = r.chunking;
      d.prdr = r.prdr;
      d.size = r.bytes_written;
      d.delivery_time_us = (end.tv_sec - start.tv_sec) * 1000000LL + (end.tv_usec - start.tv_usec);
      d.basic_errno = r.basic_errno > 0 ? r.basic_errno : 0;
      d.error_message = r.message;
      switch (r.outcome) {
        case Outcome::kDelivered:
          d.mark = first_delivered ? log::DeliveryMark::kDelivered : log::DeliveryMark::kAdditional;
          first_delivered = false;
          done(i);
          for (std::size_t dup : dups_of[i]) done(dup);
          p.logger_->write(log::delivered(d, sel()));
          break;
        case Outcome::kFailed:
          log_failed(i, d, r.message, r.basic_errno, r.host_used);
          break;
        case Outcome::kDeferred:
          d.basic_errno = r.basic_errno;
          p.logger_->write(log::deferred(d, sel()));
          deferred_message[i] = r.message;
          break;
      }
      raise_result(i, r, inst);
    }
    note_results(batch, results, drv && drv->local, inst);
  }

  RoutedAddress routed_address(std::size_t i) {
    const Address& a = all[i];
    RoutedAddress r;
    r.address = a.address;
    r.local_part = a.local_part;
    r.domain = a.domain;
    if (a.parent >= 0) {
      std::size_t top = top_of(all, i);
      r.original = all[top].address;
      for (int q = a.parent; q >= 0; q = all[static_cast<std::size_t>(q)].parent)
        r.parents.push_back(all[static_cast<std::size_t>(q)].address);
    }
    r.router = a.router;
    r.is_file = a.is_file;
    r.is_pipe = a.is_pipe;
    r.is_directory = a.is_directory;
    r.hosts = a.hosts;
    r.errors_address = a.errors_to_set ? a.errors_to : env.sender;
    r.address_data = a.address_data;
    r.home_directory = a.home;
    r.uid = a.uid;
    r.gid = a.gid;
    for (const auto& rc : env.recipients)
      if (rc.address == all[top_of(all, i)].address) {
        r.dsn_flags = rc.dsn_flags;
        r.orcpt = rc.orcpt;
      }
    return r;
  }

  // Whether a and b may share one transport call (Exim's batching conditions).
  bool same_batch(std::size_t x, std::size_t y, std::int64_t batch_max, bool local) {
    const Address& a = all[x];
    const Address& b = all[y];
    if (a.transport != b.transport || a.errors_to != b.errors_to || a.extra_headers != b.extra_headers ||
        a.remove_headers != b.remove_headers || a.is_pipe || a.is_file || b.is_pipe || b.is_file)
      return false;
    if (local) return batch_max > 1 && a.domain == b.domain && a.address_data == b.address_data;
    return a.hosts == b.hosts;
  }

  std::string cancel_reason;  // -Mg ("root") or timeout_frozen_after: every recipient fails

  enum class Frozen { kStays, kThawed, kCancelled };

  // Exim's handling of a frozen message at the start of a delivery.
  Frozen thaw_or_cancel() {
    const config::OptionSet& main = p.rt_.config().main;
    std::int64_t age = now_s - env.received_time;
    std::int64_t timeout_frozen = main.get_int("timeout_frozen_after");
    std::int64_t ignore_after = main.get_int("ignore_bounce_errors_after");
    std::int64_t auto_thaw = main.get_int("auto_thaw");
    const spool::SpoolVar* frozen = env.var("frozen");
    std::int64_t frozen_at = frozen && frozen->has_value ? std::atoll(frozen->value.c_str()) : env.received_time;
    std::string why;
    if (timeout_frozen > 0 && age > timeout_frozen) {
      p.logger_->main("cancelled by timeout_frozen_after", id);
      return Frozen::kCancelled;
    }
    if (env.sender.empty() && ignore_after > 0 && age > ignore_after) {
      why = "Unfrozen by errmsg timer";
      ignore_errors = true;
    } else if (p.force_thaw_) {
      why = "Unfrozen by forced delivery";
    } else if (auto_thaw > 0 && now_s - frozen_at >= auto_thaw) {
      why = "Unfrozen by auto-thaw";
    } else {
      p.logger_->main("Message is frozen", id);
      return Frozen::kStays;
    }
    p.logger_->main(why, id);
    env.erase_var("frozen");
    return Frozen::kThawed;
  }

  // Every pending recipient fails without a "**" line and is reported (-Mg,
  // timeout_frozen_after), as Exim's RECIP_FAIL.
  AttemptResult cancel() {
    env.erase_var("frozen");
    if (cancel_reason != "timeout_frozen_after") p.logger_->main("cancelled by " + cancel_reason, id);
    ignore_errors = true;  // a cancelled bounce is not frozen again
    for (const auto* r : env.pending_recipients()) {
      Address a;
      a.address = r->address;
      all.push_back(std::move(a));
    }
    for (std::size_t i = 0; i < all.size(); ++i) record_failure(i, "", std::nullopt);
    return finish();
  }

  AttemptResult run() {
    auto lock = spool::MessageLock::acquire(p.spool_, id);
    if (!lock) return lock.error().is_defer() ? AttemptResult::kLocked : AttemptResult::kError;
    auto loaded = spool::load_for_delivery(p.spool_, id);
    if (!loaded) {
      p.logger_->panic("failed to read spool file " + id + "-H: " + loaded.error().message, id);
      return AttemptResult::kError;
    }
    env = std::move(*loaded);
    received_us = env.received_time * 1000000;
    if (const auto* v = env.var("received_time_usec")) received_us += std::atoll(v->value.c_str() + (v->value[0] == '.'));
    if (auto st = data.open(p.spool_.data_path(id), spool::data_start_offset(id)); !st) {
      p.logger_->panic(st.error().message, id);
      return AttemptResult::kError;
    }
    auto size = p.spool_.message_size(id);
    vars.set_message(&env, size ? *size : 0);
    now_s = static_cast<std::int64_t>(std::time(nullptr));
    if (env.var("frozen")) {
      switch (thaw_or_cancel()) {
        case Frozen::kStays: return AttemptResult::kDeferred;
        case Frozen::kCancelled: cancel_reason = "timeout_frozen_after"; break;
        case Frozen::kThawed: break;
      }
    }
    auto j = spool::DeliveryJournal::open(p.spool_, id);
    if (!j) {
      p.logger_->panic("failed to open journal for " + id + ": " + j.error().message, id);
      return AttemptResult::kError;
    }
    journal.emplace(std::move(*j));
    auto per_recipient = spool::recipient_data_of(env);
    if (!per_recipient) {
      p.logger_->panic("failed to read spool file " + id + "-H: " + per_recipient.error().message, id);
      return AttemptResult::kError;
    }
    recipient_data.emplace(module_host::MessageRecipients::for_routing(env.recipients.size(), std::move(*per_recipient)));
    ctx.module_recipients = static_cast<module_host::RecipientStore*>(&*recipient_data);
    if (!cancel_reason.empty()) return cancel();
    if (auto snapshot = p.retry_db_.read()) retry_snapshot = std::move(*snapshot);
    else p.logger_->panic("failed to read the retry database: " + snapshot.error().message, id);
    for (const auto* r : env.pending_recipients()) {
      Address a;
      a.address = r->address;
      a.spool_recipient = static_cast<std::size_t>(r - env.recipients.data());
      auto at = a.address.rfind('@');
      a.local_part = at == std::string::npos ? a.address : a.address.substr(0, at);
      a.domain = at == std::string::npos ? "" : a.address.substr(at + 1);
      for (auto& ch : a.domain) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      // Exim lower-cases the local part for routing ($local_part) unless caseful_local_part
      // is set; the recipient keeps its text (the -H's non-recipients hold it as written).
      for (auto& ch : a.local_part) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      all.push_back(std::move(a));
    }
    std::size_t recipients = all.size();
    RouteEnv renv;
    renv.ctx = &ctx;
    renv.vars = &vars;
    // Routing's failed DNS lookups raise dns:fail (the main event_action).
    dns::FailureEvents resolver(
        p.rt_.resolver(), [this] { return p.rt_.modules().events().has_listeners("dns:fail"); },
        [this](std::string_view data) { raise("dns:fail", data, nullptr); });
    renv.resolver = &resolver;
    renv.sender = env.sender;
    renv.hooks = &p.rt_.modules().hooks();
    renv.modules = &p.rt_.call_env();
    renv.recipients = &*recipient_data;
    {
      std::string q;
      p.rt_.config_variables().append("qualify_recipient", q);
      renv.qualify_domain = q;
    }
    std::vector<std::size_t> leaves = p.routers_->route_all(all, renv);

    // Routing outcomes first, as Exim: :blackhole: is logged while routing, then the
    // failures and deferrals routing found, then the deliveries.
    std::vector<std::size_t> routed;
    for (std::size_t i : leaves) {
      if (all[i].status != RouteStatus::kDiscarded || env.nonrecipients.count(unique_of(all, i))) continue;
      log::Delivery d = base_line(i);
      d.address.address = ":blackhole:";
      d.address.original = all[i].address;
      d.address.intermediates.clear();
      d.transport.clear();
      p.logger_->write(log::delivered(d, sel()));
      done(i);
    }
    for (std::size_t i : leaves) {
      std::string u = unique_of(all, i);
      if (env.nonrecipients.count(u)) continue;  // done by an earlier attempt
      const config::DriverInstance* router = p.rt_.config().find_router(all[i].router);
      std::string routing_key =
          "R:" + (router && router->options.get_bool("retry_use_local_part") ? all[i].local_part + "@" : "") +
          all[i].domain;
      if (all[i].status == RouteStatus::kDeferred)
        add_retry(routing_key, false, all[i].domain, all[i].basic_errno, 0, all[i].message, {i});
      else
        delete_retry(routing_key);
      switch (all[i].status) {
        case RouteStatus::kFailed:
          raise_failed_internal(i);
          log_failed(i, base_line(i), all[i].message, all[i].basic_errno);
          break;
        case RouteStatus::kDeferred: log_deferred(i, all[i].message, all[i].basic_errno); break;
        case RouteStatus::kRouted:
          if (auto [it, fresh] = first_of.emplace(u, i); !fresh) {
            dups_of[it->second].push_back(i);  // a duplicate: done when the first is
            break;
          }
          routed.push_back(i);
          break;
        default: break;
      }
    }
    // Batches: Exim delivers local addresses first, then remote ones.
    for (bool local_pass : {true, false}) {
      std::vector<bool> taken(routed.size(), false);
      for (std::size_t k = 0; k < routed.size(); ++k) {
        if (taken[k]) continue;
        const Address& a = all[routed[k]];
        const config::DriverInstance* inst = p.rt_.config().find_transport(a.transport);
        const TransportDriver* drv = inst ? builtin_transports().find(inst->driver) : nullptr;
        bool local = a.is_pipe || a.is_file || (drv ? drv->local : true);
        if (local != local_pass) continue;
        std::int64_t batch_max = inst ? inst->options.get_int("batch_max") : 1;
        if (!local && inst && inst->options.get("max_rcpt")) batch_max = inst->options.get_int("max_rcpt");
        std::vector<std::size_t> batch{routed[k]};
        taken[k] = true;
        for (std::size_t m = k + 1; m < routed.size(); ++m) {
          if (taken[m] || (batch_max > 0 && static_cast<std::int64_t>(batch.size()) >= batch_max)) continue;
          if (same_batch(routed[k], routed[m], batch_max, local)) {
            batch.push_back(routed[m]);
            taken[m] = true;
          }
        }
        if (local) batch = local_due(batch, inst);
        else if (!remote_due(batch)) batch.clear();
        if (!batch.empty()) deliver_batch(batch);
      }
    }
    retry_update();
    // A recipient is done when every address made from it is.
    for (std::size_t r = 0; r < recipients; ++r) {
      if (env.nonrecipients.count(all[r].address)) continue;
      bool all_done = true;
      for (std::size_t i : leaves)
        if (top_of(all, i) == r && !env.nonrecipients.count(unique_of(all, i))) all_done = false;
      if (all_done) env.nonrecipients.insert(all[r].address);
    }
    return finish();
  }

  // Reports the failures, then removes the message when nothing is left, else rewrites its
  // -H (frozen when a bounce failed).
  AttemptResult finish() {
    send_reports();
    maybe_warn_of_delay();
    if (env.pending_recipients().empty()) {
      struct timeval now;
      gettimeofday(&now, nullptr);
      p.logger_->write(log::completed(id, now.tv_sec * 1000000LL + now.tv_usec - received_us, sel()));
      raise("msg:complete", {}, nullptr);
      if (auto st = p.spool_.remove(id); !st) p.logger_->panic("failed to remove " + id + ": " + st.error().message, id);
      return AttemptResult::kCompleted;
    }
    env.erase_var("deliver_firsttime");
    if (bounce_failed) {
      env.set_var("frozen", std::to_string(now_s));
      p.logger_->main("Frozen (delivery error message)", id);
    }
    if (auto st = spool::rewrite_header(p.spool_, env); !st) {
      p.logger_->panic("failed to rewrite " + id + "-H: " + st.error().message, id);
      return AttemptResult::kError;
    }
    return AttemptResult::kDeferred;
  }
};

AttemptResult DeliveryProcess::deliver(std::string_view id) {
  Attempt a(*this, id);
  return a.run();
}

AttemptResult DeliveryProcess::give_up(std::string_view id) {
  Attempt a(*this, id);
  a.cancel_reason = caller_login();
  return a.run();
}

}  // namespace tern::deliver
