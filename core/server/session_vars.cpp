// core/server/session_vars.cpp: SessionVariables (see session_vars.hpp).
#include "core/server/session_vars.hpp"

namespace tern::server {

void SessionVariables::set(std::string_view name, std::string value) {
  auto it = values_.find(name);
  if (it == values_.end())
    values_.emplace(std::string(name), std::move(value));
  else
    it->second = std::move(value);
}

void SessionVariables::unset(std::string_view name) {
  auto it = values_.find(name);
  if (it != values_.end()) values_.erase(it);
}

const std::string* SessionVariables::get(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

bool SessionVariables::append(std::string_view name, std::string& out) const {
  if (const std::string* v = get(name)) {
    out += *v;
    return true;
  }
  return config_ != nullptr && config_->append(name, out);
}

std::optional<std::string> SessionVariables::header(std::string_view name,
                                                    expand::HeaderForm form) const {
  if (headers_ == nullptr) return std::nullopt;
  expand::HeaderValue value(name, form);
  for (const std::string& h : *headers_) value.offer(h);
  return value.take();
}

}  // namespace tern::server
