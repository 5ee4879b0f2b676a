// core/module_host/lookup_adapter.hpp: modules' lookup types as lookup::LookupType.
//
// make_lookup_types() wraps each lookup type of a generation so that the
// core's Registry and Searcher use it as they use lsearch: ${lookup},
// match_* lists and ${quote_<name>:}. find runs through invoke() (off the
// calling thread with its deadline when TERN_MAY_BLOCK; an overrun is a
// defer "timeout after N ms"). Each wrapper holds the GenerationRef, so the
// module stays mapped while the Registry that owns the wrapper exists.
// A find made by an expansion (${lookup}) gets that expansion's Context in
// its tern_call, so host->expand and get_variable from the module's find
// see the caller's variables; a find without a caller (a match list outside
// an expansion) gets the base CallEnv only, and host->expand fails there.
#pragma once

#include <memory>
#include <vector>

#include "core/lookup/lookup.hpp"
#include "core/module_host/generation.hpp"

namespace tern::module_host {

std::vector<std::unique_ptr<lookup::LookupType>> make_lookup_types(const GenerationRef& generation,
                                                                   const CallEnv& base);

}  // namespace tern::module_host
