// core/text/list.hpp: Exim's lists (string_nextinlist and friends).
//
// A list is a string of items separated by a colon by default, or by the
// character after a leading `<` (`<; a;b`). A doubled separator stands for
// one literal separator inside an item; leading and trailing white space of
// each item is dropped. Used by the configuration (named lists, option
// lists), list matching, and the expansion items that walk lists.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tern::text {

class ListReader {
 public:
  // `default_sep` applies unless the list starts with `<c`.
  explicit ListReader(std::string_view list, char default_sep = ':');
  // The next item into `item`; false at the end of the list.
  bool next(std::string& item);
  char separator() const { return sep_; }

 private:
  std::string_view rest_;
  char sep_;
};

// All items of `list`.
std::vector<std::string> list_items(std::string_view list, char default_sep = ':');
// Append `item` to `list` with separator `sep`, doubling any separator inside
// it (string_append_listele).
void list_append(std::string& list, std::string_view item, char sep = ':');

}  // namespace tern::text
