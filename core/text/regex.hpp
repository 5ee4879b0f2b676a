// core/text/regex.hpp: PCRE2 regular expressions as Exim uses them.
//
// Compiled once (at configuration or parse time where the pattern is
// constant), matched many times. Captures feed $0..$9 in the expansion.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"

namespace tern::text {

class Regex {
 public:
  // Errors use Exim's text:
  // `regular expression error in "(": missing closing parenthesis at offset 1`
  static Result<Regex> compile(std::string_view pattern, bool caseless = false);
  // Unanchored search; on a match `captures` (when not null) gets $0..$n.
  bool search(std::string_view subject, std::vector<std::string>* captures = nullptr) const;
  // Offsets form for ${sg}: match starting at `start`; false when none.
  // `ovector` gets pairs of offsets (start, end) for $0..$n, -1 when unset.
  bool search_at(std::string_view subject, size_t start, std::vector<long>& ovector,
                 bool not_empty_atstart = false) const;
  const std::string& pattern() const { return pattern_; }

 private:
  struct Code;
  std::shared_ptr<Code> code_;
  std::string pattern_;
};

}  // namespace tern::text
