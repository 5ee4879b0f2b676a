// core/text/list.hpp: Exim's lists (string_nextinlist and friends).
//
// A list is a string of items separated by a colon by default, or by the
// character after a leading `<` (`<; a;b`). A doubled separator stands for
// one literal separator inside an item; leading and trailing white space of
// each item is dropped. Used by the configuration (named lists, option
// lists), list matching, and the expansion items that walk lists.
//
// Exact rules (Exim 4.96 string_nextinlist):
// - white space before an item is skipped unless it is the separator;
// - `<c` at the start, where c is punctuation or a control character
//   (`<\n`), changes the separator; a lone `<` ends the list;
// - an empty item is returned as such (`a::b` is one item "a:b", `a: :b` is
//   three items), a trailing separator does not add an empty item;
// - a control-character separator cannot be doubled;
// - trailing white space is trimmed, except a white space character that
//   follows a backslash.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tern::text {

class ListReader {
 public:
  // `default_sep` applies unless the list starts with `<c`.
  explicit ListReader(std::string_view list, char default_sep = ':');
  // A list whose separator is `sep`, with no `<c` change (Exim's positive
  // separator argument, used for sublists such as `a_b` suffixes).
  static ListReader with_fixed_separator(std::string_view list, char sep);
  // The next item into `item`; false at the end of the list.
  bool next(std::string& item);
  // The separator in use; before the first next() it may still change.
  char separator() const { return sep_; }

 private:
  void decide_separator();

  std::string_view rest_;
  char sep_;
  bool decided_ = false;
};

// All items of `list`.
std::vector<std::string> list_items(std::string_view list, char default_sep = ':');
// Append `item` to `list` with separator `sep`, doubling any separator inside
// it (string_append_listele). As in Exim, no separator is added while `list`
// is still empty.
void list_append(std::string& list, std::string_view item, char sep = ':');

}  // namespace tern::text
