// core/text/strfuncs.hpp: string functions shared by expansion items and
// operators (`${substr{1}{2}{s}}` and `${substr_1_2:s}` are one function).
//
// Numbers arrive as the text the configuration gave, because Exim's error
// messages quote that text. Every error message is Exim 4.96's, exactly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/result.hpp"

namespace tern::text {

// Exim's integer reading for eval, comparisons and item arguments: optional
// sign, decimal / 0x hex / leading-0 octal where Exim allows it, K M G
// suffixes where Exim allows them. Error: `integer expected but "x" found`
// (or Exim's exact text for the context).
Result<int64_t> parse_int(std::string_view s);

// ${substr{offset}{length}{s}}; `length` empty means "to the end".
Result<std::string> substr(std::string_view s, std::string_view offset, std::string_view length);
// ${length{n}{s}}
Result<std::string> length(std::string_view s, std::string_view n);
// ${hash{limit}{prime}{s}} (textual hash); `prime` empty: Exim's default.
Result<std::string> hash(std::string_view s, std::string_view limit, std::string_view prime);
// ${nhash{n}{m}{s}}; `m` empty: one number.
Result<std::string> nhash(std::string_view s, std::string_view n, std::string_view m);
// ${hmac{md5|sha1}{secret}{s}}: lower-case hex. Error texts as Exim's.
Result<std::string> hmac(std::string_view algorithm, std::string_view key, std::string_view s);
// ${eval:...} / ${eval10:...}: Exim's integer expression evaluator.
Result<std::string> eval(std::string_view expression, bool decimal_only);
// Lower-case hex of the raw digest.
std::string md5_hex(std::string_view s);
std::string sha1_hex(std::string_view s);
std::string sha256_hex(std::string_view s);
// `crypteq` condition: does `plain` match the encoded `stored` ({md5}, {sha1},
// {sha256}, {crypt}, {crypt16}, plain crypt)? Errors for unknown schemes.
Result<bool> crypteq(std::string_view plain, std::string_view stored);

}  // namespace tern::text
