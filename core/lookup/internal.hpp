// core/lookup/internal.hpp: pieces shared inside core/lookup, not an API.
//
// The factories of the core's lookup types (lookup.cpp registers them) and
// the one-pattern string matcher that both list matching (match.cpp) and the
// wildlsearch keys (lsearch.cpp) use, so `*suffix` and `^regex` mean the
// same thing everywhere.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/lookup/lookup.hpp"

#include "core/text/strfuncs.hpp"

namespace tern::lookup {

// Expands a wildlsearch key before it is matched (Exim expands those keys;
// nwildlsearch does not). Empty: keys are used as written.
using KeyExpander = std::function<Result<std::string>(std::string_view)>;

std::unique_ptr<LookupType> make_lsearch();
std::unique_ptr<LookupType> make_wildlsearch(KeyExpander expander, bool expand_keys);
std::unique_ptr<LookupType> make_iplsearch();
std::unique_ptr<LookupType> make_dsearch();
std::unique_ptr<LookupType> make_passwd();

// Exim's string_open_failed text: "failed to open <what>: <strerror>", with
// " (euid=N egid=N)" after a permission failure.
std::string open_failed_text(int err, std::string_view what);

// One non-lookup pattern against `subject`, as Exim's match_check_string
// does it: `^regex`, `*suffix`, or a literal; `caseless` folds ASCII case.
// On a match `captures` (when not null) gets $0..$n: the regex groups, or
// the subject and the wild part for `*suffix`.
Result<bool> match_simple_pattern(std::string_view subject, std::string_view pattern,
                                  bool caseless, std::vector<std::string>* captures);

// Takes the leading `!`s of a list item off `item` (spaces may follow each,
// as Exim's match_check_list allows) and says whether their number was odd,
// i.e. whether the item is negative.
bool strip_negation(std::string_view& item);

// ASCII lower case, as Exim's strcmpic/lc functions (core/text).
using text::equal_caseless;
using text::lower;

}  // namespace tern::lookup
