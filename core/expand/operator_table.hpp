// core/expand/operator_table.hpp: the `${name:argument}` operators.
//
// Every expansion operator of Exim (lc, md5, base64, mask, eval, quote_*,
// listnamed, ...) is a function from its already-expanded argument to a
// result. The expansion parser resolves the written name once, when the
// string is parsed (so an unknown operator or a bad numeric suffix is a parse
// error), and the evaluator calls the function each time. Operators that
// need more than their argument (named lists, lookup quoting, the clock,
// re-expansion) ask for it through OperatorEnv, which the evaluator supplies.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"

namespace tern::expand {

// What an operator may ask of the expansion that calls it.
class OperatorEnv {
 public:
  virtual ~OperatorEnv() = default;
  // Expand `s` in the current context (for `${expand:...}`).
  virtual Result<std::string> expand(std::string_view s) = 0;
  // The raw text of the named list `name` of the given kind ("domain",
  // "host", "address", "localpart"); an empty kind means any kind (Exim's
  // `listnamed` without suffix). Returns nullptr when there is none.
  virtual const std::string* named_list(std::string_view kind, std::string_view name) = 0;
  // Quote `s` for the lookup type `type` (`${quote_<type>:...}`); an error
  // when the type is unknown ("unknown lookup type").
  virtual Result<std::string> quote_for_lookup(std::string_view type, std::string_view opts,
                                               std::string_view s) = 0;
  // The current time (tests fix it).
  virtual std::time_t now() = 0;
};

struct OperatorCall {
  std::string_view input;                // the expanded argument
  const std::vector<std::string>& args;  // numeric or name suffixes: length_3 -> {"3"}
  OperatorEnv& env;
};

using OperatorFn = Result<std::string> (*)(const OperatorCall&);

// A written operator name resolved at parse time.
struct ResolvedOperator {
  std::string name;               // canonical name, e.g. "length", "quote", "sha3"
  std::vector<std::string> args;  // suffix arguments, validated
  OperatorFn fn = nullptr;
};

// Resolve `written` ("lc", "length_3", "l_3", "sha3_512", "quote_lsearch",
// "listnamed_d", ...). Fails with Exim's text for an unknown operator
// (`unknown expansion operator "foo"`) or a bad suffix.
Result<ResolvedOperator> resolve_operator(std::string_view written);

}  // namespace tern::expand
