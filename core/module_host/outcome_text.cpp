// core/module_host/outcome_text.cpp: status to Result, with the module's text.
#include "core/module_host/outcome_text.hpp"

namespace tern::module_host {

Result<std::string> to_result(Outcome o, std::string_view what, std::string_view name, std::string_view module) {
  auto text = [&](const char* how) {
    if (!o.error.empty()) return std::move(o.error);
    return std::string(what) + " \"" + std::string(name) + "\" (module \"" + std::string(module) + "\") " + how;
  };
  switch (o.status) {
    case TERN_OK: return std::move(o.out);
    case TERN_DECLINE: return std::string();
    case TERN_FAIL: return Error::forced(text("failed"));
    case TERN_DEFER: return Error::defer(text("deferred"));
    default: return Error::failed(text("failed"));
  }
}

}  // namespace tern::module_host
