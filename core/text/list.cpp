// core/text/list.cpp: Exim's list reading and building.
//
// Mirrors string_nextinlist() of Exim 4.96 byte for byte (see list.hpp for
// the rules); the item is always copied out, as in Exim's "no buffer" mode.
#include "core/text/list.hpp"

#include <cctype>

namespace tern::text {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Skip leading white space that is not the separator.
void skip_space(std::string_view& s, char sep) {
  size_t i = 0;
  while (i < s.size() && is_space(s[i]) && s[i] != sep) ++i;
  s.remove_prefix(i);
}

}  // namespace

ListReader::ListReader(std::string_view list, char default_sep)
    : rest_(list), sep_(default_sep) {}

ListReader ListReader::with_fixed_separator(std::string_view list, char sep) {
  ListReader r(list, sep);
  r.decided_ = true;
  return r;
}

void ListReader::decide_separator() {
  decided_ = true;
  skip_space(rest_, '\0');
  if (rest_.empty() || rest_[0] != '<') return;
  if (rest_.size() == 1) {  // `<` then the terminating NUL, a control char
    sep_ = '\0';
    rest_ = {};
    return;
  }
  unsigned char c = static_cast<unsigned char>(rest_[1]);
  if (!std::ispunct(c) && !std::iscntrl(c)) return;
  sep_ = rest_[1];
  rest_.remove_prefix(2);
  skip_space(rest_, sep_);
}

bool ListReader::next(std::string& item) {
  if (!decided_) decide_separator();
  else skip_space(rest_, sep_);
  if (rest_.empty()) return false;

  const bool special = std::iscntrl(static_cast<unsigned char>(sep_)) != 0;
  item.clear();
  size_t i = 0;
  const size_t n = rest_.size();
  if (rest_[0] == sep_) {  // empty item, unless a doubled separator
    if (n < 2 || rest_[1] != sep_ || special) {
      rest_.remove_prefix(1);
      return true;
    }
    i = 1;  // the second separator is data
  }
  for (;;) {
    size_t j = i + 1;
    while (j < n && rest_[j] != sep_) ++j;
    item.append(rest_.substr(i, j - i));
    i = j;
    if (i >= n) break;
    ++i;  // past the separator
    if (i >= n || rest_[i] != sep_ || special) break;
    // doubled separator: rest_[i] is a literal separator, kept by the append
  }
  rest_.remove_prefix(i);

  while (!item.empty() && is_space(item.back()) &&
         (item.size() == 1 || item[item.size() - 2] != '\\'))
    item.pop_back();
  return true;
}

std::vector<std::string> list_items(std::string_view list, char default_sep) {
  std::vector<std::string> out;
  ListReader r(list, default_sep);
  std::string item;
  while (r.next(item)) out.push_back(item);
  return out;
}

void list_append(std::string& list, std::string_view item, char sep) {
  if (!list.empty()) list += sep;
  for (char c : item) {
    list += c;
    if (c == sep) list += sep;
  }
}

}  // namespace tern::text
