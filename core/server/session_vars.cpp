// core/server/session_vars.cpp: SessionVariables (see session_vars.hpp).
#include "core/server/session_vars.hpp"

#include <strings.h>

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

// `name` carries its colon ("subject:"). The raw form keeps the white space
// after the colon; the others drop it. Several headers of one name are joined
// with newlines, the final newline of each removed.
std::optional<std::string> SessionVariables::header(std::string_view name,
                                                    expand::HeaderForm form) const {
  if (headers_ == nullptr) return std::nullopt;
  std::string_view want = name;
  if (!want.empty() && want.back() == ':') want.remove_suffix(1);
  std::optional<std::string> value;
  for (const std::string& h : *headers_) {
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

}  // namespace tern::server
