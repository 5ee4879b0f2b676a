// core/module_host/session_data.cpp: per-session module state and its release.
#include "core/module_host/session_data.hpp"

namespace tern::module_host {

SessionData::~SessionData() {
  for (auto it = data_.rbegin(); it != data_.rend(); ++it)
    if (it->second.second) it->second.second(it->second.first);
}

void SessionData::set(const tern_ctx* module, void* data, void (*free_fn)(void*)) {
  auto it = data_.find(module);
  if (it != data_.end()) {
    if (it->second.second && it->second.first != data) it->second.second(it->second.first);
    if (data == nullptr) {
      data_.erase(it);
      return;
    }
    it->second = {data, free_fn};
    return;
  }
  if (data != nullptr) data_[module] = {data, free_fn};
}

void* SessionData::get(const tern_ctx* module) const {
  auto it = data_.find(module);
  return it == data_.end() ? nullptr : it->second.first;
}

}  // namespace tern::module_host
