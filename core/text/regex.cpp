// core/text/regex.cpp: the PCRE2 wrapper behind ${if match}, ${sg} and the
// regex list items.
//
// Patterns are compiled as Exim 4.96 does: 8-bit, no UTF mode, optionally
// caseless. A compile error reads
// `regular expression error in "<pattern>": <pcre2 text> at offset <n>`.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/text/regex.hpp"

#include <pcre2.h>

namespace tern::text {

struct Regex::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

namespace {

// Match data sized for the pattern, freed on scope exit.
struct MatchData {
  explicit MatchData(const pcre2_code* code)
      : md(pcre2_match_data_create_from_pattern(code, nullptr)) {}
  ~MatchData() { pcre2_match_data_free(md); }
  MatchData(const MatchData&) = delete;
  MatchData& operator=(const MatchData&) = delete;
  pcre2_match_data* md;
};

}  // namespace

Result<Regex> Regex::compile(std::string_view pattern, bool caseless) {
  int errcode = 0;
  PCRE2_SIZE offset = 0;
  uint32_t options = caseless ? PCRE2_CASELESS : 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   options, &errcode, &offset, nullptr);
  if (!code) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(errcode, buf, sizeof buf);
    return Error::failed("regular expression error in \"" + std::string(pattern) +
                         "\": " + reinterpret_cast<const char*>(buf) + " at offset " +
                         std::to_string(offset));
  }
  Regex re;
  re.code_ = std::make_shared<Code>();
  re.code_->code = code;
  re.pattern_ = std::string(pattern);
  return re;
}

bool Regex::search(std::string_view subject, std::vector<std::string>* captures) const {
  std::vector<long> ovector;
  if (!search_at(subject, 0, ovector)) return false;
  if (captures) {
    captures->clear();
    for (size_t i = 0; i + 1 < ovector.size(); i += 2) {
      if (ovector[i] < 0) captures->emplace_back();
      else captures->emplace_back(subject.substr(ovector[i], ovector[i + 1] - ovector[i]));
    }
  }
  return true;
}

bool Regex::search_at(std::string_view subject, size_t start, std::vector<long>& ovector,
                      bool not_empty_atstart) const {
  ovector.clear();
  if (!code_ || start > subject.size()) return false;
  MatchData data(code_->code);
  uint32_t options = not_empty_atstart ? (PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED) : 0;
  int rc = pcre2_match(code_->code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(),
                       start, options, data.md, nullptr);
  if (rc < 0) return false;
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data.md);
  uint32_t pairs = rc == 0 ? pcre2_get_ovector_count(data.md) : static_cast<uint32_t>(rc);
  for (uint32_t i = 0; i < pairs; ++i) {
    bool unset = ov[2 * i] == PCRE2_UNSET;
    ovector.push_back(unset ? -1 : static_cast<long>(ov[2 * i]));
    ovector.push_back(unset ? -1 : static_cast<long>(ov[2 * i + 1]));
  }
  return true;
}

}  // namespace tern::text
