// core/deliver/variables.cpp: DeliveryVariables (see variables.hpp).
#include "core/deliver/variables.hpp"

#include <strings.h>

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

// `name` carries its colon ("subject:"). As SessionVariables: the raw form keeps the white
// space after the colon; several headers of one name are joined with newlines.
std::optional<std::string> DeliveryVariables::header(std::string_view name, expand::HeaderForm form) const {
  if (!env_) return std::nullopt;
  std::string_view want = name;
  if (!want.empty() && want.back() == ':') want.remove_suffix(1);
  std::optional<std::string> value;
  for (const auto& hdr : env_->headers) {
    if (hdr.type == '*') continue;  // deleted
    const std::string& h = hdr.text;
    size_t colon = h.find(':');
    if (colon == std::string::npos) continue;
    std::string_view hname(h.data(), colon);
    while (!hname.empty() && (hname.back() == ' ' || hname.back() == '\t')) hname.remove_suffix(1);
    if (hname.size() != want.size() || strncasecmp(hname.data(), want.data(), want.size()) != 0) continue;
    std::string_view v(h);
    v.remove_prefix(colon + 1);
    if (form != expand::HeaderForm::kRaw)
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    if (!v.empty() && v.back() == '\n') v.remove_suffix(1);
    if (value) {
      *value += '\n';
      *value += v;
    } else {
      value.emplace(v);
    }
  }
  return value;
}

}  // namespace tern::deliver
