// modules/sqllookup/result_text.cpp: Exim's lf_quote() and its row joining
// for the pgsql and mysql lookups.
#include "result_text.hpp"

namespace tern::sqllookup {

void append_field(std::string& out, std::string_view name, const char* value, size_t length) {
  out.append(name).push_back('=');
  std::string_view v = value ? std::string_view(value, length) : std::string_view();
  // Exim tests the value as a C string (up to a NUL) but copies all of it.
  std::string_view c = v.substr(0, v.find('\0'));
  if (c.empty() || c.front() == '"' || c.find_first_of(" \t\n\r") != std::string_view::npos) {
    out.push_back('"');
    for (char ch : v) {
      if (ch == '"' || ch == '\\') out.push_back('\\');
      out.push_back(ch);
    }
    out.push_back('"');
  } else {
    out.append(v);
  }
  out.push_back(' ');
}

void RowsText::add_row(std::span<const std::string_view> names, std::span<const Cell> cells) {
  if (found_) text_.push_back('\n');
  if (cells.size() != 1) {
    for (size_t i = 0; i < cells.size() && i < names.size(); ++i)
      append_field(text_, names[i], cells[i].data, cells[i].length);
    found_ = true;
    return;
  }
  const Cell& cell = cells[0];
  if (cell.data == nullptr && rule_ == SingleNull::kNothing) return;
  if (cell.data != nullptr) text_.append(cell.data, cell.length);
  found_ = true;
}

void RowsText::add_count(std::string_view count) {
  text_.append(count);
  if (!count.empty()) found_ = true;
}

std::string RowsText::take() {
  size_t nul = text_.find('\0');
  if (nul != std::string::npos) text_.resize(nul);
  return std::move(text_);
}

}  // namespace tern::sqllookup
