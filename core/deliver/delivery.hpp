// core/deliver/delivery.hpp: the delivery process: one attempt at one message.
//
// Exim's deliver_message(): lock the message (MessageLock: the -D's first line), read the
// -H with any -J a crash left (load_for_delivery), deal with a frozen message (Exim's
// timeout_frozen_after, ignore_bounce_errors_after, forced thaw, auto_thaw), route every
// pending recipient (router.hpp), group routed addresses into batches (one transport,
// host list, errors address and header changes; batch_max of the transport), build each
// batch's header lines and call the transport (transport.hpp). Local transports run in a
// child process as the uid/gid of the transport's user/group or of check_local_user (when
// tern runs as root), as Exim's do.
//
// Retry (retry_rules.hpp, retry_db.hpp): a local address or a remote host whose retry
// time has not come is not tried ("Retry time not yet reached", "retry time not reached
// for any host") unless the delivery is forced (-M, -qf); after the attempt the retry
// database is updated, and an address whose every retry item is past its rule's cutoff
// (or has no rule) fails with "retry timeout exceeded", as in Exim's retry_update().
//
// Every address delivered, failed or discarded is written to the -J journal and synced
// before the next batch, so a crash never delivers it again; at the end the -H is
// rewritten with them among its non-recipients (or, when none is left, the message is
// removed and "Completed" logged).
//
// Failed addresses are logged with "**" and reported (bounce.hpp) to their errors address
// (the router's errors_to, else the sender) in a new message from <>, spooled and
// delivered at once (local_message.hpp). A bounce that fails is frozen (Exim's "Frozen
// (delivery error message)") unless it is older than ignore_bounce_errors_after. A message
// still deferred past its next delay_warning time gets Exim's delay warning to the sender.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/deliver/retry_db.hpp"
#include "core/deliver/retry_rules.hpp"
#include "core/deliver/router.hpp"
#include "core/deliver/transport.hpp"
#include "core/log/logger.hpp"
#include "core/main/runtime.hpp"
#include "core/spool/spool.hpp"

namespace tern::deliver {

enum class AttemptResult {
  kCompleted,  // nothing left: the message is gone from the spool
  kDeferred,   // some addresses wait for a later attempt
  kLocked,     // another process is delivering it
  kError,      // could not be read (the text went to the panic log)
};

class DeliveryProcess {
 public:
  // The routers, spool and log of a loaded configuration; the Runtime must outlive it.
  static Result<std::unique_ptr<DeliveryProcess>> make(cli::Runtime& rt);
  ~DeliveryProcess();

  AttemptResult deliver(std::string_view id);
  // -Mg: every pending recipient fails ("cancelled by <login>") and is reported.
  AttemptResult give_up(std::string_view id);
  // Exim's deliver_force (-M, -qf): retry times are not waited for.
  void set_force(bool force) { force_ = force; }
  // Exim's deliver_force_thaw (-M, -qff): a frozen message is delivered.
  void set_force_thaw(bool thaw) { force_thaw_ = thaw; }

  log::Logger& logger() { return *logger_; }
  const spool::Spool& spool() const { return spool_; }

 private:
  DeliveryProcess(cli::Runtime& rt, std::shared_ptr<const RouterSet> routers, std::unique_ptr<log::Logger> logger,
                  RetryConfig retry);
  struct Attempt;
  Transport* transport(const std::string& name, std::string* error);

  cli::Runtime& rt_;
  std::shared_ptr<const RouterSet> routers_;
  std::unique_ptr<log::Logger> logger_;
  spool::Spool spool_;
  std::map<std::string, std::unique_ptr<Transport>> transports_;
  RetryConfig retry_;
  RetryDb retry_db_;
  bool force_ = false, force_thaw_ = false;
};

// The logger options a delivery process or queue runner uses (log_file_path, selectors,
// exim_user ownership), as the daemon's.
Result<log::LoggerOptions> delivery_logger_options(cli::Runtime& rt);
spool::SpoolConfig spool_config(const config::Config& config);

}  // namespace tern::deliver
