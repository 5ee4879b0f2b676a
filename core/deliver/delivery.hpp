// core/deliver/delivery.hpp: the delivery process: one attempt at one message.
//
// Exim's deliver_message(): lock the message (MessageLock: the -D's first line), read the
// -H with any -J a crash left (load_for_delivery), route every pending recipient
// (router.hpp), group routed addresses into batches (one transport, host list, errors
// address and header changes; batch_max of the transport), build each batch's header
// lines (routers' and transport's headers_remove/headers_add, return_path_add,
// delivery_date_add, envelope_to_add) and call the transport (transport.hpp). Local
// transports run in a child process as the uid/gid of the transport's user/group or of
// check_local_user (when tern runs as root), as Exim's do.
//
// Every address delivered, failed or discarded is written to the -J journal and synced
// before the next batch, so a crash never delivers it again; at the end the -H is
// rewritten with them among its non-recipients (or, when none is left, the message is
// removed and "Completed" logged). Deferred addresses stay; with no retry database yet,
// every later attempt (-q, -M) tries them again.
//
// Failed addresses are logged with "**"; bounce messages are a later slice: the seam is
// BounceSink, which gets every failed address with its errors address and text.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/deliver/router.hpp"
#include "core/deliver/transport.hpp"
#include "core/log/logger.hpp"
#include "core/main/runtime.hpp"
#include "core/spool/spool.hpp"

namespace tern::deliver {

// A failed address for the bounce (DSN) that a later slice sends.
struct FailedAddress {
  std::string address;         // as delivered
  std::string original;        // the envelope recipient it came from
  std::string errors_address;  // who is told ("" for a bounce: nobody)
  std::string message;
};
using BounceSink = std::function<void(std::string_view message_id, const std::vector<FailedAddress>&)>;

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
  void set_bounce_sink(BounceSink sink) { bounce_ = std::move(sink); }

  log::Logger& logger() { return *logger_; }
  const spool::Spool& spool() const { return spool_; }

 private:
  DeliveryProcess(cli::Runtime& rt, std::shared_ptr<const RouterSet> routers, std::unique_ptr<log::Logger> logger);
  struct Attempt;
  Transport* transport(const std::string& name, std::string* error);

  cli::Runtime& rt_;
  std::shared_ptr<const RouterSet> routers_;
  std::unique_ptr<log::Logger> logger_;
  spool::Spool spool_;
  std::map<std::string, std::unique_ptr<Transport>> transports_;
  BounceSink bounce_;
};

// The logger options a delivery process or queue runner uses (log_file_path, selectors,
// exim_user ownership), as the daemon's.
Result<log::LoggerOptions> delivery_logger_options(cli::Runtime& rt);
spool::SpoolConfig spool_config(const config::Config& config);

}  // namespace tern::deliver
