// core/module_host/after_data.cpp: the tern_message of the after-DATA hook, kept alive for late hooks.
#include "core/module_host/after_data.hpp"

#include <unistd.h>

#include <memory>

namespace tern::module_host {
namespace {

// Everything `tern_message` points into; a late (abandoned) hook holds it too.
struct HookMessage {
  explicit HookMessage(AfterDataMessage m)
      : in(std::move(m)), store(MessageRecipients::for_hook(in.recipients.size())) {
    for (const std::string& r : in.recipients) recipients.push_back({r.data(), r.size()});
    msg.size = sizeof msg;
    msg.id = {in.id.data(), in.id.size()};
    msg.sender = {in.sender.data(), in.sender.size()};
    msg.recipients = recipients.data();
    msg.recipient_count = recipients.size();
    msg.data_fd = in.data_fd;
    msg.headers = {in.headers.data(), in.headers.size()};
  }
  ~HookMessage() {
    if (in.data_fd >= 0) ::close(in.data_fd);
  }
  HookMessage(const HookMessage&) = delete;
  HookMessage& operator=(const HookMessage&) = delete;

  AfterDataMessage in;
  std::vector<tern_str> recipients;
  tern_message msg{};
  MessageRecipients store;
};

}  // namespace

AfterData run_after_data(const HookRegistry& hooks, CallEnv env, AfterDataMessage message) {
  auto held = std::make_shared<HookMessage>(std::move(message));
  env.recipients = &held->store;
  AfterData out;
  out.hook = hooks.run(TERN_HOOK_AFTER_DATA, env, &held->msg, held);
  if (out.hook.status == TERN_OK || out.hook.status == TERN_DECLINE) out.values = held->store.values();
  return out;
}

}  // namespace tern::module_host
