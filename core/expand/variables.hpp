// core/expand/variables.hpp: Exim 4.96's table of expansion variables (internal).
//
// Every name Exim knows, with how its value is found: from the Context's
// VariableSource (with Exim's default when unset), computed here (time of
// day, pid, ...), or from the evaluation state ($value, $item, $runrc).
// Resolved once when an expansion is compiled, so evaluation never searches
// by name except in the VariableSource.
#pragma once

#include <string>
#include <string_view>

namespace tern::expand {

struct Context;

enum class VarKind {
  kSource,      // ask the VariableSource; `dflt` when unset
  kFilterInt,   // $n0.. $sn0..: known only while a filter runs
  kTodBsdInbox, kTodEpoch, kTodEpochL, kTodFull, kTodLog, kTodLogfile, kTodZone, kTodZulu,
  kPid, kLoadAvg, kSpoolSpace, kSpoolInodes, kLogSpace, kLogInodes,
  kLocalPartOf,  // local part of the source's `of` variable
  kDomainOf,     // domain of the source's `of` variable
  kValue, kItem, kRunrc, kPrvsAddress, kPrvsKeynum, kPrvsResult,
  kAclArg, kAclNarg,
  kEximPath, kCompileDate,  // the source's value, else this binary's
};

struct VarDef {
  std::string_view name;
  VarKind kind;
  std::string_view dflt;  // kSource: value when unset; kAclArg: index digit
  std::string_view of;    // kLocalPartOf / kDomainOf: the address variable
};

// The table entry for `name`, or nullptr (ACL, router, auth and regex
// variables are handled by the caller).
const VarDef* find_variable_def(std::string_view name);
// Append the value of `def` to `out`; false when Exim would treat the name
// as unknown at this moment (filter variables outside a filter).
bool append_variable(const VarDef& def, Context& ctx, std::string& out);

}  // namespace tern::expand
