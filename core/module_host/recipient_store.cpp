// core/module_host/recipient_store.cpp: per-recipient module data of one message.
#include "core/module_host/recipient_store.hpp"

namespace tern::module_host {

void MessageRecipients::select(std::size_t recipient) {
  std::lock_guard lk(mu_);
  current_ = recipient;
}

Status MessageRecipients::set(std::size_t recipient, std::string_view key, std::string_view value) {
  std::lock_guard lk(mu_);
  if (!writable_) return Error::failed("set_recipient_data is only available at the after-DATA hook");
  if (recipient >= count_)
    return Error::failed("set_recipient_data: recipient " + std::to_string(recipient) + " out of range (the message has " +
                         std::to_string(count_) + ")");
  if (key.empty()) return Error::failed("set_recipient_data: empty key");
  values_[recipient].insert_or_assign(std::string(key), std::string(value));
  return {};
}

Result<std::optional<std::string>> MessageRecipients::get(std::string_view key) {
  std::lock_guard lk(mu_);
  if (current_ == kNone) return std::optional<std::string>();
  auto r = values_.find(current_);
  if (r == values_.end()) return std::optional<std::string>();
  auto v = r->second.find(key);
  if (v == r->second.end()) return std::optional<std::string>();
  return std::optional<std::string>(v->second);
}

RecipientValues MessageRecipients::values() const {
  std::lock_guard lk(mu_);
  return values_;
}

}  // namespace tern::module_host
