// core/module_host/call_env.hpp: what a call into a module may consult.
//
// A CallEnv names the surroundings of one call (an expansion, a session, a
// delivery attempt): the expansion context, the options of the router or
// transport in use, the session's module data, the event bus, and the seams
// for services that later issues bring (DNS resolver, spool). The code that
// calls a module (ACL engine, SMTP session, delivery) fills one; the host
// table reads it through the opaque tern_call. Every pointer may be null:
// the host entries then answer TERN_DECLINE or TERN_DEFER with a reason.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/config/config.hpp"
#include "tern/module.h"

namespace tern::expand {
struct Context;
}

namespace tern::module_host {

class EventBus;
class SessionData;

// The core's resolver (core/dns). Where a CallEnv has none the host
// answers dns_query with TERN_DEFER "DNS resolver not available in this build".
// query() fails (kDefer) only when no answer came (timeout, no server).
class DnsResolver {
 public:
  virtual ~DnsResolver() = default;
  struct Answer {
    int rcode = 0;
    bool secure = false;
    std::vector<std::string> rdata;  // wire format
    uint32_t ttl = 0;                // the smallest TTL of the records; 0: none
  };
  virtual Result<Answer> query(std::string_view name, uint16_t rrtype) = 0;
};

// Per-recipient data kept in the spool (core/spool, a later issue).
class RecipientStore {
 public:
  virtual ~RecipientStore() = default;
  virtual Status set(size_t recipient, std::string_view key, std::string_view value) = 0;
  // The value for the recipient being routed; nullopt when unset.
  virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
};

struct CallEnv {
  expand::Context* expand = nullptr;            // host->expand, host->get_variable
  const config::OptionRegistry* options = nullptr;
  const config::OptionSet* main = nullptr;      // main options (get_option)
  const config::DriverInstance* driver = nullptr;  // the router or transport in use
  config::Scope driver_scope = config::Scope::kRouter;
  const EventBus* events = nullptr;             // host->raise_event
  SessionData* session = nullptr;               // host->set_session_data
  DnsResolver* dns = nullptr;
  RecipientStore* recipients = nullptr;
};

}  // namespace tern::module_host
