// modules/lookup_servers/exim_list.cpp: Exim's string_nextinlist() over a whole list.
#include "exim_list.hpp"

#include <cctype>

namespace tern::lookup_servers {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::vector<std::string> split(std::string_view list, size_t i, char sep) {
  std::vector<std::string> items;
  const size_t n = list.size();
  // A control character as separator cannot be doubled into data.
  const bool can_double = std::iscntrl(static_cast<unsigned char>(sep)) == 0;
  for (;;) {
    while (i < n && is_space(list[i]) && list[i] != sep) ++i;  // never skips a separator
    if (i >= n) break;  // an empty last item is no item
    std::string item;
    for (;;) {
      size_t end = list.find(sep, i);
      if (end == std::string_view::npos) end = n;
      item.append(list.substr(i, end - i));
      i = end;
      if (i >= n) break;
      ++i;  // past the separator
      if (can_double && i < n && list[i] == sep) {  // doubled: the separator as data
        item += sep;
        ++i;
        continue;
      }
      break;
    }
    // Trailing white space goes, unless escaped by a backslash (as Exim).
    while (!item.empty() && is_space(item.back()) &&
           (item.size() == 1 || item[item.size() - 2] != '\\'))
      item.pop_back();
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace

std::vector<std::string> split_list(std::string_view list) {
  size_t i = 0;
  char sep = ':';
  while (i < list.size() && is_space(list[i])) ++i;
  if (i + 1 < list.size() && list[i] == '<' &&
      (std::ispunct(static_cast<unsigned char>(list[i + 1])) ||
       std::iscntrl(static_cast<unsigned char>(list[i + 1])))) {
    sep = list[i + 1];
    i += 2;
  }
  return split(list, i, sep);
}

std::vector<std::string> split_list_fixed(std::string_view list, char sep) {
  return split(list, 0, sep);
}

}  // namespace tern::lookup_servers
