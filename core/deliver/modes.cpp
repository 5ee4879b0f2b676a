// core/deliver/modes.cpp: -bt, -bv, -M, -Mc, -q, -qf, -qff, -bp, -bpc, -bpu (see modes.hpp).
#include "core/deliver/modes.hpp"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <set>

#include "core/deliver/delivery.hpp"
#include "core/deliver/queue_control.hpp"
#include "core/deliver/router.hpp"
#include "core/deliver/verify.hpp"
#include "core/main/runtime.hpp"
#include "core/spool/journal.hpp"
#include "core/spool/message_id.hpp"

namespace tern::deliver {

std::unique_ptr<cli::Runtime> load_runtime(const cli::CommandLine& cl) {
  auto rt = cli::Runtime::load(cl);
  if (!rt) {
    std::fprintf(stderr, "%s\n", rt.error().message.c_str());
    return nullptr;
  }
  return std::move(*rt);
}

namespace {

std::string variable(cli::Runtime& rt, std::string_view name) {
  std::string v;
  rt.config_variables().append(name, v);
  return v;
}

// Exim's -bt listing of one host line set (verify.c), names and addresses padded.
void print_hosts(const std::vector<Host>& hosts) {
  std::size_t maxlen = 0, maxaddlen = 0;
  for (const auto& h : hosts) {
    maxlen = std::max(maxlen, h.name.size());
    maxaddlen = std::max(maxaddlen, h.address.empty() ? std::size_t{7} : h.address.size());
  }
  for (const auto& h : hosts) {
    std::printf("  host %-*s ", static_cast<int>(maxlen), h.name.c_str());
    const std::string& a = h.address.empty() ? std::string("unknown") : h.address;
    std::printf("[%s%-*c", a.c_str(), static_cast<int>(maxaddlen + 1 - a.size()), ']');
    if (h.mx >= 0) std::printf(" MX=%d", h.mx);
    if (h.port != 0) std::printf(" port=%d", h.port);
    std::printf("\n");
  }
}

void print_parents(const std::vector<Address>& all, const Address& a) {
  for (int p = a.parent; p >= 0; p = all[static_cast<std::size_t>(p)].parent)
    std::printf("\n    <-- %s", all[static_cast<std::size_t>(p)].address.c_str());
}

}  // namespace

int run_address_test(const cli::CommandLine& cl) {
  const bool verify = cl.mode_flag == "-bv" || cl.mode_flag == "-bvs";
  auto rt = load_runtime(cl);
  if (!rt) return 1;
  auto routers = RouterSet::build(rt->config());
  if (!routers) {
    std::fprintf(stderr, "%s\n", routers.error().message.c_str());
    return 1;
  }
  std::string qualify = variable(*rt, "qualify_recipient");
  int worst = 0;
  std::set<std::string> duplicates;  // Exim's tree_duplicates, across the arguments
  for (const std::string& arg : cl.args) {
    DeliveryVariables vars(&rt->config_variables());
    expand::Context ctx = rt->context();
    ctx.variables = &vars;
    RouteEnv env;
    env.ctx = &ctx;
    env.vars = &vars;
    env.resolver = &rt->resolver();
    env.qualify_domain = qualify;
    env.sender = variable(*rt, "sender_address");
    // Modules' router preconditions run as in a delivery; an address given here has no
    // per-recipient data (recipient_data declines).
    auto no_data = module_host::MessageRecipients::for_routing(0, {});
    env.hooks = &rt->modules().hooks();
    env.modules = &rt->call_env();
    env.recipients = &no_data;
    Address top = address_to_route(arg, qualify);
    const std::string& text = top.address;
    if (verify) {
      Verification v = verify_address(**routers, env, top,
                                      cl.mode_flag == "-bvs" ? VerifyWhat::kSender : VerifyWhat::kRecipient);
      if (v.rc == Verification::Rc::kOk) {
        std::printf("%s verified\n", text.c_str());
        continue;
      }
      bool fail = v.rc == Verification::Rc::kFail;
      std::printf("%s %s", text.c_str(), fail ? "failed to verify" : "cannot be resolved at this time");
      if (!v.message.empty()) std::printf(": %s", v.message.c_str());
      std::printf("\n");
      worst = std::max(worst, fail ? 2 : 1);
      continue;
    }
    // -bt: Exim's verify_address() in full: every address a redirection makes is routed,
    // with $verify_mode "R" as Exim's address test has it.
    vars.set("verify_mode", "R");
    env.verifying = false;
    std::vector<Address> all{top};
    std::vector<std::size_t> stack{0}, local, remote;
    bool allok = true;
    int result = 0;
    while (!stack.empty()) {
      std::size_t i = stack.back();
      stack.pop_back();
      std::size_t before = all.size();
      (*routers)->route(all, i, env);
      Address& a = all[i];
      if (a.status == RouteStatus::kFailed || a.status == RouteStatus::kDeferred) {
        bool fail = a.status == RouteStatus::kFailed;
        allok = false;
        std::printf("%s %s", a.address.c_str(), fail ? "is undeliverable" : "cannot be resolved at this time");
        if (!a.message.empty()) std::printf(": %s", a.message.c_str());
        print_parents(all, a);
        std::printf("\n");
        result = std::max(result, fail ? 2 : 1);
        continue;
      }
      if (a.status == RouteStatus::kRedirected) {
        for (std::size_t c = before; c < all.size(); ++c) {
          Address& child = all[c];
          if (!child.is_pipe && !child.is_file) {
            stack.push_back(c);
            continue;
          }
          std::printf("%s -> %s\n", a.address.c_str(), child.address.c_str());
          if (child.status == RouteStatus::kDeferred) {
            std::printf("*** Error in setting up pipe, file, or autoreply:\n%s\n", child.message.c_str());
            allok = false;
          } else
            local.push_back(c);
        }
        continue;
      }
      if (a.status == RouteStatus::kRouted) {
        const auto* t = rt->config().find_transport(a.transport);
        bool is_local = t && t->driver != "smtp" && t->driver != "lmtp";
        (is_local ? local : remote).push_back(i);
      }
    }
    worst = std::max(worst, result);
    if (allok && local.empty() && remote.empty()) {
      std::printf("mail to %s is discarded\n", text.c_str());
      continue;
    }
    for (const auto* list : {&local, &remote}) {
      for (std::size_t i : *list) {
        const Address& a = all[i];
        std::printf("%s", a.address.c_str());
        if (!a.is_pipe && !a.is_file && !duplicates.insert(a.address).second)
          std::printf("   [duplicate, would not be delivered]");
        print_parents(all, a);
        std::printf("\n  router = %s, transport = %s\n", a.router.c_str(),
                    a.transport.empty() ? "unset" : a.transport.c_str());
        if (!a.hosts.empty() && !a.transport.empty()) print_hosts(a.hosts);
      }
    }
  }
  std::fflush(stdout);
  return worst;
}

namespace {

std::unique_ptr<DeliveryProcess> make_process(cli::Runtime& rt) {
  auto p = DeliveryProcess::make(rt);
  if (!p) {
    std::fprintf(stderr, "%s\n", p.error().message.c_str());
    return nullptr;
  }
  return std::move(*p);
}

}  // namespace

int run_message_action(const cli::CommandLine& cl) {
  if (cl.mode_flag != "-M" && cl.mode_flag != "-Mc") return run_message_control(cl);
  if (cl.args.empty()) {
    std::fprintf(stderr, "tern: %s needs at least one message id\n", cl.mode_flag.c_str());
    return 1;
  }
  auto rt = load_runtime(cl);
  if (!rt) return 1;
  auto p = make_process(*rt);
  if (!p) return 1;
  // -M is Exim's forced delivery: retry times are not waited for and a frozen message is
  // thawed; -Mc (the immediate delivery after reception) is neither.
  bool forced = cl.mode_flag == "-M";
  p->set_force(forced);
  p->set_force_thaw(forced);
  int status = 0;
  for (const std::string& id : cl.args) {
    if (!spool::MessageId::parse(id)) {
      std::printf("\"%s\" is not a valid message id\n", id.c_str());
      status = 1;
      continue;
    }
    if (cl.mode_flag == "-Mc") {  // a message frozen on arrival waits
      auto env = p->spool().read_header(id);
      if (env && env->var("frozen")) continue;
    }
    switch (p->deliver(id)) {
      case AttemptResult::kLocked:
        std::printf("Spool file for %s is locked (another process is handling this message)\n", id.c_str());
        break;
      case AttemptResult::kError:
        std::printf("Spool read error for %s-H\n", id.c_str());
        status = 1;
        break;
      default: break;
    }
  }
  return status;
}

int run_queue(const cli::CommandLine& cl) {
  std::string flags = cl.args.empty() ? "" : cl.args.front();
  if (!cl.queue_interval.empty()) {
    std::fprintf(stderr, "tern: -q%s%s: periodic queue runs need -bd in this build\n", cl.queue_flags.c_str(),
                 cl.queue_interval.c_str());
    return 1;
  }
  if (!flags.empty() && flags != "f" && flags != "ff") {
    std::fprintf(stderr, "tern: -q%s: only -q, -qf and -qff are in this build (-q<time> with -bd)\n", flags.c_str());
    return 1;
  }
  auto rt = load_runtime(cl);
  if (!rt) return 1;
  auto p = make_process(*rt);
  if (!p) return 1;
  // -qf: retry times are not waited for; -qff: frozen messages are delivered too.
  p->set_force(!flags.empty());
  p->set_force_thaw(flags == "ff");
  p->logger().main("Start queue run: pid=" + std::to_string(::getpid()) + (flags.empty() ? "" : " -q" + flags));
  auto ids = p->spool().list();
  if (ids)
    for (const auto& id : *ids) (void)p->deliver(id);  // a frozen message logs "Message is frozen"
  p->logger().main("End queue run: pid=" + std::to_string(::getpid()) + (flags.empty() ? "" : " -q" + flags));
  return 0;
}

namespace {

// Exim's string_format_size() for -bp.
std::string format_size(std::int64_t size) {
  char buf[32];
  if (size == 0)
    std::snprintf(buf, sizeof buf, "     ");
  else if (size < 1024)
    std::snprintf(buf, sizeof buf, "%5d", static_cast<int>(size));
  else if (size < 10 * 1024)
    std::snprintf(buf, sizeof buf, "%4.1fK", static_cast<double>(size) / 1024.0);
  else if (size < 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%4dK", static_cast<int>((size + 512) / 1024));
  else if (size < 10 * 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%4.1fM", static_cast<double>(size) / (1024.0 * 1024.0));
  else
    std::snprintf(buf, sizeof buf, "%4dM", static_cast<int>((size + 512 * 1024) / (1024 * 1024)));
  return buf;
}

}  // namespace

int run_list_queue(const cli::CommandLine& cl) {
  auto rt = load_runtime(cl);
  if (!rt) return 1;
  spool::Spool spool(spool_config(rt->config()));
  auto ids = spool.list();
  if (!ids) return 0;  // no spool yet: an empty queue
  if (cl.mode_flag == "-bpc") {
    std::printf("%zu\n", ids->size());
    return 0;
  }
  bool undelivered_only = cl.mode_flag == "-bpu";
  std::time_t now = std::time(nullptr);
  for (const auto& id : *ids) {
    auto env = spool::load_for_delivery(spool, id);  // the -J's addresses count as delivered
    if (!env) continue;                              // gone meanwhile
    auto size = spool.message_size(id);
    long minutes = static_cast<long>((now - env->received_time) / 60);
    if (minutes > 90) {
      long hours = (minutes + 30) / 60;
      if (hours > 72)
        std::printf("%2ldd ", (hours + 12) / 24);
      else
        std::printf("%2ldh ", hours);
    } else {
      std::printf("%2ldm ", minutes);
    }
    std::printf("%s %s <%s>", format_size(size ? *size : 0).c_str(), id.c_str(), env->sender.c_str());
    if (env->var("frozen")) std::printf(" *** frozen ***");
    std::printf("\n");
    for (const auto& r : env->recipients) {
      bool delivered = env->nonrecipients.count(r.address) != 0;
      if (!delivered || !undelivered_only) std::printf("        %s %s\n", delivered ? "D" : " ", r.address.c_str());
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace tern::deliver
