// core/deliver/variables.cpp: DeliveryVariables (see variables.hpp).
#include "core/deliver/variables.hpp"

namespace tern::deliver {

void DeliveryVariables::set(std::string_view name, std::string value) {
  auto it = values_.find(name);
  if (it == values_.end())
    values_.emplace(std::string(name), std::move(value));
  else
    it->second = std::move(value);
}

void DeliveryVariables::unset(std::string_view name) {
  if (auto it = values_.find(name); it != values_.end()) values_.erase(it);
}

void DeliveryVariables::set_message(const spool::Envelope* env, std::int64_t size) {
  env_ = env;
  if (!env) return;
  set("message_id", env->id);
  set("message_exim_id", env->id);
  set("sender_address", env->sender);
  set("return_path", env->sender);
  set("message_size", std::to_string(size));
  set("received_time", std::to_string(env->received_time));
  set("recipients_count", std::to_string(env->recipients.size()));
  set("originator_uid", std::to_string(env->originator_uid));
  set("originator_gid", std::to_string(env->originator_gid));
  auto at = env->sender.rfind('@');
  set("sender_address_local_part", at == std::string::npos ? env->sender : env->sender.substr(0, at));
  set("sender_address_domain", at == std::string::npos ? "" : env->sender.substr(at + 1));
  // Options the receiving side kept in the -H ("-host_address 127.0.0.1.4567", ...).
  for (const auto& v : env->vars) {
    if (v.is_acl()) continue;
    if (v.name == "host_address") {
      auto dot = v.value.rfind('.');
      set("sender_host_address", dot == std::string::npos ? v.value : v.value.substr(0, dot));
      set("sender_host_port", dot == std::string::npos ? "" : v.value.substr(dot + 1));
    } else if (v.name == "host_name") {
      set("sender_host_name", v.value);
    } else if (v.name == "helo_name") {
      set("sender_helo_name", v.value);
    } else if (v.name == "received_protocol") {
      set("received_protocol", v.value);
    } else if (v.name == "host_auth") {
      set("sender_host_authenticated", v.value);
    } else if (v.name == "auth_id") {
      set("authenticated_id", v.value);
    } else if (v.name == "auth_sender") {
      set("authenticated_sender", v.value);
    } else if (v.name == "interface_address") {
      auto dot = v.value.rfind('.');
      set("received_ip_address", dot == std::string::npos ? v.value : v.value.substr(0, dot));
      set("received_port", dot == std::string::npos ? "" : v.value.substr(dot + 1));
    }
  }
}

bool DeliveryVariables::append(std::string_view name, std::string& out) const {
  if (auto it = values_.find(name); it != values_.end()) {
    out += it->second;
    return true;
  }
  return config_ != nullptr && config_->append(name, out);
}

std::optional<std::string> DeliveryVariables::header(std::string_view name, expand::HeaderForm form) const {
  if (!env_) return std::nullopt;
  expand::HeaderValue value(name, form);
  for (const auto& h : env_->headers)
    if (h.type != '*') value.offer(h.text);  // '*': deleted, kept only for the record
  return value.take();
}

}  // namespace tern::deliver
