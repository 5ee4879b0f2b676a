// core/server/session_vars.hpp: the expansion variables of one SMTP session.
//
// What a session knows ($sender_host_address, $sender_helo_name,
// $sender_address, $local_part, $domain, $message_exim_id, $tls_in_cipher,
// ...) layered over the configuration's own variables ($primary_hostname,
// $qualify_domain, ... from the Runtime). A name the session has set, even
// to "", hides the configuration's value; the headers of the message being
// received answer $h_name. One per session, used on one thread at a time.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expand/expand.hpp"

namespace tern::server {

class SessionVariables final : public expand::VariableSource {
 public:
  explicit SessionVariables(const expand::VariableSource* config) : config_(config) {}

  void set(std::string_view name, std::string value);
  void unset(std::string_view name);  // back to the configuration's value (or unset)
  const std::string* get(std::string_view name) const;

  // The message's headers, each "Name: value\n" with continuation lines.
  void set_headers(const std::vector<std::string>* headers) { headers_ = headers; }

  bool append(std::string_view name, std::string& out) const override;
  std::optional<std::string> header(std::string_view name, expand::HeaderForm form) const override;

 private:
  const expand::VariableSource* config_;
  std::map<std::string, std::string, std::less<>> values_;
  const std::vector<std::string>* headers_ = nullptr;
};

}  // namespace tern::server
