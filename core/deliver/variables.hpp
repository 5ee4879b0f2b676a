// core/deliver/variables.hpp: the expansion variables of a delivery.
//
// Message variables ($message_id, $sender_address, $h_subject, ...) from the envelope,
// address variables ($local_part, $domain, $address_data, $home, ...) for the address
// being routed or delivered, layered over the configuration's own ($primary_hostname,
// ...). A name set here, even to "", hides the configuration's value.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/expand/expand.hpp"
#include "core/spool/envelope.hpp"

namespace tern::deliver {

class DeliveryVariables final : public expand::VariableSource {
 public:
  explicit DeliveryVariables(const expand::VariableSource* config) : config_(config) {}

  void set(std::string_view name, std::string value);
  void unset(std::string_view name);
  // The message's variables; `env` must outlive this object (or the next call).
  void set_message(const spool::Envelope* env, std::int64_t size);

  bool append(std::string_view name, std::string& out) const override;
  std::optional<std::string> header(std::string_view name, expand::HeaderForm form) const override;

 private:
  const expand::VariableSource* config_;
  const spool::Envelope* env_ = nullptr;
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace tern::deliver
