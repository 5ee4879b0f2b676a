// core/text/idna.hpp: UTF-8 domains and local parts to and from A-labels,
// as Exim 4.96 (Debian build, SUPPORT_I18N_2008) converts them.
//
// Behind ${utf8_domain_to_alabel}, ${utf8_domain_from_alabel},
// ${utf8_localpart_to_alabel} and ${utf8_localpart_from_alabel}, and for the
// SMTPUTF8 downconversion later. Domains go to A-labels through libidn2
// (IDNA2008 with UTS#46 mapping); everything else is libidn's punycode and
// UCS-4 conversion, called exactly as Exim's utf8.c calls them, so the
// results and the quirks (libidn's punycode decoder reads some punctuation
// as digits) are Exim's. Errors carry the library's own text, which Exim
// puts in its message unchanged.
#pragma once

#include <string>
#include <string_view>

#include "core/base/result.hpp"

namespace tern::text {

// string_domain_utf8_to_alabel(): all-ASCII input is returned unchanged (case
// kept); otherwise ASCII is lower-cased and idn2_lookup_u8(IDN2_NFC_INPUT)
// runs. Error: idn2_strerror(), e.g. "string contains a disallowed character".
Result<std::string> domain_to_alabel(std::string_view utf8);

// string_domain_alabel_to_utf8(): each '.'-separated label that starts with
// "xn--" (lower case) is punycode-decoded, the rest kept; labels are split
// and rejoined as an Exim list ("a..b" is one label "a.b"). Error: as for
// localpart_from_alabel. Empty output where Exim crashes (no labels).
Result<std::string> domain_from_alabel(std::string_view alabel);

// string_localpart_utf8_to_alabel(): all-ASCII input unchanged, else "xn--"
// and the punycode of its code points. Errors: "l_u2a: bad UTF-8 input",
// punycode_strerror() (Exim's output buffer is four bytes per code point).
Result<std::string> localpart_to_alabel(std::string_view utf8);

// string_localpart_alabel_to_utf8(): the punycode after "xn--" decoded.
// Errors: "bad alabel prefix", punycode_strerror() ("Invalid input", ...).
Result<std::string> localpart_from_alabel(std::string_view alabel);

}  // namespace tern::text
