// core/module_host/recipient_store.hpp: per-recipient module data of one message.
//
// The RecipientStore behind host->set_recipient_data and host->recipient_data:
//  - at the after-DATA hook the store is writable: hooks set values by the
//    recipient's index (0 .. count-1); the session then writes them into
//    the -H file (core/spool/recipient_data.hpp) with the message;
//  - while routing or delivering, the store holds what the -H file gave and
//    select() names the envelope recipient being handled (a child of a
//    redirect reads its top-level recipient's data); set is refused then.
// A may-block hook writes from the pool thread: every access is locked.
#pragma once

#include <cstddef>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/module_host/call_env.hpp"

namespace tern::module_host {

// recipient index -> key -> value (the same shape as spool::RecipientData).
using RecipientValues = std::map<std::size_t, std::map<std::string, std::string, std::less<>>>;

class MessageRecipients final : public RecipientStore {
 public:
  static constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  // Writable, for the after-DATA hook of a message with `count` recipients.
  static MessageRecipients for_hook(std::size_t count) { return MessageRecipients(count, {}, true); }
  // Read-only, over what the spool holds.
  static MessageRecipients for_routing(std::size_t count, RecipientValues values) {
    return MessageRecipients(count, std::move(values), false);
  }
  MessageRecipients(MessageRecipients&& o) noexcept
      : count_(o.count_), values_(std::move(o.values_)), writable_(o.writable_), current_(o.current_) {}

  // The recipient that get() answers for; kNone: none (get declines).
  void select(std::size_t recipient);
  Status set(std::size_t recipient, std::string_view key, std::string_view value) override;
  Result<std::optional<std::string>> get(std::string_view key) override;
  RecipientValues values() const;

 private:
  MessageRecipients(std::size_t count, RecipientValues values, bool writable)
      : count_(count), values_(std::move(values)), writable_(writable) {}

  mutable std::mutex mu_;
  std::size_t count_;
  RecipientValues values_;
  bool writable_;
  std::size_t current_ = kNone;
};

}  // namespace tern::module_host
