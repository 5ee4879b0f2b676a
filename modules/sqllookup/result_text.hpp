// modules/sqllookup/result_text.hpp: SQL rows as Exim's lookup data.
//
// With one column a row is its value; with several it is `name=value `
// pairs (Exim's lf_quote: a value that is empty, holds white space or
// starts with a double quote is written in double quotes, with a backslash
// before " and before a backslash; every pair ends with a space, the last
// one too).
// Rows are separated by newlines. A result without rows is "not found".
// A NULL in a one-column result: pgsql shows an empty row, mysql shows
// nothing (and a result of only NULLs is "not found"), as Exim's do.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace tern::sqllookup {

// Appends `name=value ` to `out`; a null `value` is written as an empty one.
void append_field(std::string& out, std::string_view name, const char* value, size_t length);

// One column's value in a row: `data` null for an SQL NULL.
struct Cell {
  const char* data = nullptr;
  size_t length = 0;
};

// How a NULL in a one-column result shows.
enum class SingleNull {
  kEmptyRow,  // pgsql: an empty value; the row counts
  kNothing,   // mysql: no text, and the row does not count
};

// The rows of one result, in Exim's text.
class RowsText {
 public:
  explicit RowsText(SingleNull rule) : rule_(rule) {}
  // One row; `names` and `cells` have one entry per column.
  void add_row(std::span<const std::string_view> names, std::span<const Cell> cells);
  // A statement's count of affected rows (a write); empty counts as no data.
  void add_count(std::string_view count);
  // False: no data (the lookup fails, "not found").
  bool found() const { return found_; }
  // The data; Exim's lookup data is a C string, so it ends at a NUL byte.
  std::string take();

 private:
  SingleNull rule_;
  std::string text_;
  bool found_ = false;  // Exim's "result != NULL"
};

}  // namespace tern::sqllookup
