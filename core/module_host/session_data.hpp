// core/module_host/session_data.hpp: modules' per-session state.
//
// One per SMTP session (the session owns it); host->set_session_data keeps
// a module's pointer here and the destructor runs each free function when
// the session ends, in reverse order of setting.
#pragma once

#include <map>
#include <utility>

#include "tern/module.h"

namespace tern::module_host {

class SessionData {
 public:
  SessionData() = default;
  SessionData(const SessionData&) = delete;
  SessionData& operator=(const SessionData&) = delete;
  ~SessionData();

  // Replacing a module's data frees the old data first.
  void set(const tern_ctx* module, void* data, void (*free_fn)(void*));
  void* get(const tern_ctx* module) const;

 private:
  std::map<const tern_ctx*, std::pair<void*, void (*)(void*)>> data_;
};

}  // namespace tern::module_host
