// core/expand/header_value.cpp: HeaderValue, the $h_name lookup over header lines (see
// expand.hpp), shared by the SMTP session's and the delivery's variables.
#include <strings.h>

#include "core/expand/expand.hpp"

namespace tern::expand {

HeaderValue::HeaderValue(std::string_view name, HeaderForm form) : want_(name), form_(form) {
  if (!want_.empty() && want_.back() == ':') want_.remove_suffix(1);
}

void HeaderValue::offer(std::string_view h) {
  size_t colon = h.find(':');
  if (colon == std::string_view::npos) return;
  std::string_view hname = h.substr(0, colon);
  while (!hname.empty() && (hname.back() == ' ' || hname.back() == '\t')) hname.remove_suffix(1);
  if (hname.size() != want_.size() || strncasecmp(hname.data(), want_.data(), want_.size()) != 0) return;
  std::string_view v = h.substr(colon + 1);
  if (form_ != HeaderForm::kRaw)
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  if (!v.empty() && v.back() == '\n') v.remove_suffix(1);
  if (value_) {
    *value_ += '\n';
    *value_ += v;
  } else {
    value_.emplace(v);
  }
}

}  // namespace tern::expand
