// core/spool/recipient_data.cpp: the -tern_rcpt_<n> option lines of a -H file.
#include "core/spool/recipient_data.hpp"

#include <charconv>
#include <vector>

namespace tern::spool {
namespace {

constexpr std::string_view kPrefix = "tern_rcpt_";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> xtext_decode_strict(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '+') {
      out += text[i];
      continue;
    }
    int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
    int lo = hi >= 0 ? hex_value(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) return Error::failed("bad xtext escape in \"" + std::string(text) + "\"");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

void store_recipient_data(Envelope& env, const RecipientData& data) {
  std::erase_if(env.vars, [](const SpoolVar& v) { return v.name.starts_with(kPrefix); });
  for (const auto& [index, values] : data) {
    if (values.empty()) continue;
    std::string line;
    for (const auto& [key, value] : values) {
      if (!line.empty()) line += ' ';
      line += xtext_encode(key) + "=" + xtext_encode(value);
    }
    env.set_var(std::string(kPrefix) + std::to_string(index), line);
  }
}

Result<RecipientData> recipient_data_of(const Envelope& env) {
  RecipientData data;
  for (const SpoolVar& v : env.vars) {
    if (!v.name.starts_with(kPrefix)) continue;
    std::string_view digits = std::string_view(v.name).substr(kPrefix.size());
    std::size_t index = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
      return Error::failed("malformed per-recipient data line \"-" + v.name + "\": no recipient number");
    if (index >= env.recipients.size())
      return Error::failed("per-recipient data line \"-" + v.name + "\" names recipient " + std::to_string(index) +
                           " of " + std::to_string(env.recipients.size()));
    std::string_view rest = v.value;
    while (!rest.empty()) {
      std::size_t space = rest.find(' ');
      std::string_view pair = rest.substr(0, space);
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
      if (pair.empty()) continue;
      std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos)
        return Error::failed("malformed per-recipient data in \"-" + v.name + "\": \"" + std::string(pair) +
                             "\" has no '='");
      auto key = xtext_decode_strict(pair.substr(0, eq));
      if (!key) return key.take_error();
      auto value = xtext_decode_strict(pair.substr(eq + 1));
      if (!value) return value.take_error();
      data[index][std::move(*key)] = std::move(*value);
    }
  }
  return data;
}

}  // namespace tern::spool
