// core/module_host/outcome_text.hpp: a module call's outcome as a core Result.
//
// One mapping for operators, items and variables: TERN_OK is the output;
// TERN_FAIL a forced failure; TERN_DEFER a temporary one; TERN_ERROR an
// ordinary failure. The module's text is used when it set one, otherwise
// `expansion operator "x" (module "m") failed`-style.
#pragma once

#include <string>
#include <string_view>

#include "core/base/result.hpp"
#include "core/module_host/invoke.hpp"

namespace tern::module_host {

Result<std::string> to_result(Outcome o, std::string_view what, std::string_view name, std::string_view module);

}  // namespace tern::module_host
