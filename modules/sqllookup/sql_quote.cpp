// modules/sqllookup/sql_quote.cpp: Exim's pgsql_quote() and mysql_quote().
#include "sql_quote.hpp"

namespace tern::sqllookup {

std::string sql_quote(std::string_view in, std::string_view single_quote) {
  std::string out;
  out.reserve(in.size() + 8);
  for (char c : in) {
    switch (c) {
      case '\'': out += single_quote; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\b': out += "\\b"; break;
      case '"':
      case '\\': out += '\\'; out += c; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace tern::sqllookup
