// core/deliver/queue_control.cpp: -Mf, -Mt, -Mrm, -Mg, -Mar, -Mmd and -brt (see
// queue_control.hpp).
#include "core/deliver/queue_control.hpp"

#include <cstdio>
#include <ctime>
#include <functional>

#include "core/deliver/delivery.hpp"
#include "core/deliver/local_message.hpp"
#include "core/deliver/modes.hpp"
#include "core/deliver/retry_rules.hpp"
#include "core/deliver/transport.hpp"
#include "core/deliver/variables.hpp"
#include "core/spool/journal.hpp"
#include "core/spool/message_id.hpp"

namespace tern::deliver {

namespace {

// Runs `one` for each valid id; false from it, or an id that is not one, makes the
// status 1.
int for_each_id(const std::vector<std::string>& ids, const std::function<bool(const std::string&)>& one) {
  int status = 0;
  for (const std::string& id : ids) {
    if (!spool::MessageId::parse(id)) {
      std::printf("\"%s\" is not a valid message id\n", id.c_str());
      status = 1;
    } else if (!one(id)) {
      status = 1;
    }
  }
  return status;
}

// One -Mf/-Mt/-Mrm/-Mar/-Mmd on a locked message; returns false on failure.
bool control_one(const cli::CommandLine& cl, const spool::Spool& spool, log::Logger& logger, const std::string& id,
                 const std::vector<std::string>& addresses) {
  const std::string& flag = cl.mode_flag;
  const std::string who = caller_login();
  auto lock = spool::MessageLock::acquire(spool, id);
  if (!lock) {
    if (lock.error().is_defer()) {
      std::printf("Spool file for %s is locked (another process is handling this message)\n", id.c_str());
    } else if (flag == "-Mrm") {
      std::printf("Message %s has been removed or did not exist\n", id.c_str());
    } else {
      std::printf("Spool read error for %s-H: No such file or directory\n", id.c_str());
    }
    return false;
  }
  if (flag == "-Mrm") {
    if (auto st = spool.remove(id); !st) {
      std::printf("Failed to remove message %s: %s\n", id.c_str(), st.error().message.c_str());
      return false;
    }
    std::printf("Message %s has been removed\n", id.c_str());
    logger.main("removed by " + who, id);
    logger.main("Completed", id);
    return true;
  }
  auto env = spool::load_for_delivery(spool, id);
  if (!env) {
    std::printf("Spool read error for %s-H: %s\n", id.c_str(), env.error().message.c_str());
    return false;
  }
  std::string said;
  if (flag == "-Mf") {
    if (env->var("frozen")) {
      std::printf("Message %s is already frozen\n", id.c_str());
      return true;
    }
    env->set_var("frozen", std::to_string(std::time(nullptr)));
    logger.main("frozen by " + who, id);
    said = "is now frozen";
  } else if (flag == "-Mt") {
    if (!env->var("frozen")) {
      std::printf("Message %s is not frozen\n", id.c_str());
      return true;
    }
    env->erase_var("frozen");
    logger.main("unfrozen by " + who, id);
    said = "is no longer frozen";
  } else if (flag == "-Mar" || flag == "-Mmd") {
    if (addresses.empty()) {
      std::printf("tern: %s needs a message id and at least one address\n", flag.c_str());
      return false;
    }
    for (const std::string& a : addresses) {
      if (flag == "-Mar") {
        spool::Recipient r;
        r.address = a;
        env->recipients.push_back(r);
        logger.main("recipient <" + a + "> added by " + who, id);
      } else {
        bool known = false;
        for (const auto& r : env->recipients) known = known || r.address == a;
        if (!known) {
          std::printf("Address %s not found in message %s\n", a.c_str(), id.c_str());
          continue;
        }
        env->nonrecipients.insert(a);
        logger.main("address <" + a + "> marked delivered by " + who, id);
      }
    }
    said = "has been modified";
  }
  if (auto st = spool::rewrite_header(spool, *env); !st) {
    std::printf("Failed to write %s-H: %s\n", id.c_str(), st.error().message.c_str());
    return false;
  }
  std::printf("Message %s %s\n", id.c_str(), said.c_str());
  return true;
}

}  // namespace

int run_message_control(const cli::CommandLine& cl) {
  if (cl.args.empty()) {
    std::fprintf(stderr, "tern: no message ids given after %s option\n", cl.mode_flag.c_str());
    return 1;
  }
  auto rt = load_runtime(cl);
  if (!rt) return 1;
  bool per_address = cl.mode_flag == "-Mar" || cl.mode_flag == "-Mmd";
  std::vector<std::string> ids(cl.args.begin(), per_address ? cl.args.begin() + 1 : cl.args.end());
  std::vector<std::string> addresses(per_address ? cl.args.begin() + 1 : cl.args.end(), cl.args.end());
  if (cl.mode_flag == "-Mg") {
    auto p = DeliveryProcess::make(*rt);
    if (!p) {
      std::fprintf(stderr, "%s\n", p.error().message.c_str());
      return 1;
    }
    return for_each_id(ids, [&](const std::string& id) {
      AttemptResult r = (*p)->give_up(id);
      if (r == AttemptResult::kLocked)
        std::printf("Spool file for %s is locked (another process is handling this message)\n", id.c_str());
      return r != AttemptResult::kLocked && r != AttemptResult::kError;
    });
  }
  auto options = delivery_logger_options(*rt);
  if (!options) {
    std::fprintf(stderr, "%s\n", options.error().message.c_str());
    return 1;
  }
  log::Logger logger(std::move(*options));
  spool::Spool spool(spool_config(rt->config()));
  return for_each_id(ids, [&](const std::string& id) { return control_one(cl, spool, logger, id, addresses); });
}

int run_retry_test(const cli::CommandLine& cl) {
  if (cl.args.empty()) {
    std::fprintf(stderr, "tern: no host/domain/address specified for -brt\n");
    return 1;
  }
  auto rt = load_runtime(cl);
  if (!rt) return 1;
  auto retry = RetryConfig::build(rt->config());
  if (!retry) {
    std::fprintf(stderr, "%s\n", retry.error().message.c_str());
    return 1;
  }
  int basic = 0, more = 0;
  if (cl.args.size() > 1) {
    if (auto st = parse_retry_error(cl.args[1], &basic, &more); !st) {
      std::printf("%s\n", st.error().message.c_str());
      return 1;
    }
    // An error name's code as a failure would carry it: rcpt_451 is the reply 451, rcpt_45x
    // one of its decade, rcpt_4xx no particular code.
    if (basic == kErrMail4xx || basic == kErrRcpt4xx || basic == kErrData4xx)
      more = more == 255 ? 0 : more >= 100 ? 400 + (more - 100) : 400 + more;
  }
  const std::string& key = cl.args[0];
  auto at = key.rfind('@');
  std::string domain = at == std::string::npos ? key : key.substr(at + 1);
  DeliveryVariables vars(&rt->config_variables());
  expand::Context ctx = rt->context();
  ctx.variables = &vars;
  // A key with a local part is looked up as it is, and by its domain.
  const RetryItem* item = retry->find(key, at == std::string::npos ? "" : domain, basic, more, nullptr, ctx);
  if (!item) {
    std::printf("No retry information found\n");
    return 0;
  }
  std::printf("%s\n", format_retry_item(*item).c_str());
  return 0;
}

}  // namespace tern::deliver
