// modules/sqllookup/sql_quote.hpp: Exim's quoting for SQL string literals.
//
// ${quote_pgsql:} and ${quote_mysql:} differ in one character: both write
// newline, tab, carriage return and backspace as \n \t \r \b and put a
// backslash before " and \; a single quote becomes '' for pgsql (SQL's own
// escape, safe in any literal) and \' for mysql.
#pragma once

#include <string>
#include <string_view>

namespace tern::sqllookup {

// `in` quoted as above, with `single_quote` for each '.
std::string sql_quote(std::string_view in, std::string_view single_quote);

}  // namespace tern::sqllookup
