// core/text/idna.cpp: Exim 4.96's utf8.c conversions on libidn2 and libidn.
//
// Each function follows its Exim counterpart step by step; library buffers
// are freed here and never leave the file. Input is a C string in Exim, so
// the text is cut at a NUL byte first.
#include "core/text/idna.hpp"

#include <idn2.h>
#include <punycode.h>
#include <stringprep.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "core/text/list.hpp"

namespace tern::text {
namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
template <class T>
using Malloced = std::unique_ptr<T, FreeDeleter>;

std::string cstring(std::string_view s) { return std::string(s.substr(0, s.find('\0'))); }

// string_is_utf8(): any byte with the top bit set.
bool has_top_bit(std::string_view s) {
  for (unsigned char c : s)
    if (c & 0x80) return true;
  return false;
}

bool is_alabel(std::string_view s) { return s.substr(0, 4) == "xn--"; }

// string_localpart_alabel_to_utf8_(): `alabel` starts with "xn--".
Result<std::string> decode_alabel(std::string_view alabel) {
  std::string code(alabel.substr(4));
  size_t len = code.size();
  std::vector<punycode_uint> points(len + 1);
  int rc = punycode_decode(code.size(), code.c_str(), &len, points.data(), nullptr);
  if (rc != PUNYCODE_SUCCESS)
    return Error::failed(punycode_strerror(static_cast<Punycode_status>(rc)));
  size_t out_len = 0;
  Malloced<char> utf8(
      stringprep_ucs4_to_utf8(points.data(), static_cast<ssize_t>(len), nullptr, &out_len));
  if (!utf8) return Error::failed("Invalid input");  // Exim would crash here
  return std::string(utf8.get(), out_len);
}

}  // namespace

Result<std::string> domain_to_alabel(std::string_view utf8) {
  std::string s = cstring(utf8);
  if (!has_top_bit(s)) return s;
  // The library takes lower case only.
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  uint8_t* out = nullptr;
  int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(s.c_str()), &out, IDN2_NFC_INPUT);
  Malloced<uint8_t> owned(out);
  if (rc != IDN2_OK) return Error::failed(idn2_strerror(rc));
  return std::string(reinterpret_cast<const char*>(out));
}

Result<std::string> domain_from_alabel(std::string_view alabel) {
  std::string text = cstring(alabel);
  ListReader labels = ListReader::with_fixed_separator(text, '.');
  std::string out, label;
  while (labels.next(label)) {
    if (is_alabel(label)) {
      auto u = decode_alabel(label);
      if (!u) return u.take_error();
      label = std::move(*u);
    }
    list_append(out, label, '.');
  }
  return out;
}

Result<std::string> localpart_to_alabel(std::string_view utf8) {
  std::string s = cstring(utf8);
  if (!has_top_bit(s)) return s;
  size_t count = 0;
  Malloced<uint32_t> points(stringprep_utf8_to_ucs4(s.c_str(), -1, &count));
  if (!points) return Error::failed("l_u2a: bad UTF-8 input");
  size_t len = count * 4;  // Exim's guess at the room needed, which can be short
  std::string out(len + 4, '\0');
  int rc = punycode_encode(count, points.get(), nullptr, &len, out.data() + 4);
  if (rc != PUNYCODE_SUCCESS)
    return Error::failed(punycode_strerror(static_cast<Punycode_status>(rc)));
  out.replace(0, 4, "xn--");
  out.resize(len + 4);
  return out;
}

Result<std::string> localpart_from_alabel(std::string_view alabel) {
  std::string s = cstring(alabel);
  if (!is_alabel(s)) return Error::failed("bad alabel prefix");
  return decode_alabel(s);
}

}  // namespace tern::text
