// core/log/exim_quotes.hpp: (tests only) what the line tests share, and a check that keeps
// them honest about their source.
//
// A test wraps each expected line that Exim 4.96 wrote in exim("..."); after all tests ran,
// every such line must be found, whole, in one of the captures in
// testdata/exim_capture/out/ (after the "[main] " marker, the timestamp and the pid).
// Expectations that are not from Exim's runs are written without exim() and say so.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "core/log/logger.hpp"
#include "core/log/selector.hpp"

namespace tern::log::testing {

inline std::vector<std::string>& quoted_lines() {
  static std::vector<std::string> lines;
  return lines;
}

// A log_selector setting as Selectors (the test fails on a bad one).
inline Selectors selectors(const char* setting) {
  auto s = parse_log_selector(setting);
  EXPECT_TRUE(s.ok()) << setting;
  return s.ok() ? *s : Selectors::defaults();
}

// What a Line looks like after the timestamp (and pid) in the log file.
inline std::string rendered(const Line& l) {
  return l.message_id.empty() ? l.text : l.message_id + " " + l.text;
}

// Returns `line` after noting it as one Exim wrote.
inline std::string exim(std::string line) {
  quoted_lines().push_back(line);
  return line;
}

// "[main] 2026-11-29 11:50:05.940 +0000 [16717] text" -> "text"
inline std::string strip_capture_prefix(std::string l) {
  for (const char* marker : {"[main] ", "[reject] ", "[panic] "})
    if (l.rfind(marker, 0) == 0) l.erase(0, std::string(marker).size());
  auto drop_token = [&](auto pred) {
    size_t sp = l.find(' ');
    if (sp != std::string::npos && pred(l.substr(0, sp))) l.erase(0, sp + 1);
  };
  auto is_date = [](const std::string& t) { return t.size() == 10 && t[4] == '-' && t[7] == '-'; };
  auto is_time = [](const std::string& t) { return t.size() >= 8 && t[2] == ':' && t[5] == ':'; };
  auto is_zone = [](const std::string& t) { return t.size() == 5 && (t[0] == '+' || t[0] == '-'); };
  auto is_pid = [](const std::string& t) {
    return t.size() > 2 && t.front() == '[' && t.back() == ']';
  };
  drop_token(is_date);
  drop_token(is_time);
  drop_token(is_zone);
  drop_token(is_pid);
  return l;
}

class QuoteCheck : public ::testing::Environment {
 public:
  void TearDown() override {
    std::set<std::string> lines;
    std::string dir = std::string(TERN_SOURCE_DIR) + "/core/log/testdata/exim_capture/out";
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().extension() != ".txt") continue;
      std::ifstream f(e.path());
      for (std::string l; std::getline(f, l);) lines.insert(strip_capture_prefix(l));
    }
    for (const std::string& q : quoted_lines())
      EXPECT_TRUE(lines.count(q)) << "not in Exim's captures: " << q;
  }
};

inline const bool kQuoteCheckRegistered =
    (::testing::AddGlobalTestEnvironment(new QuoteCheck), true);

}  // namespace tern::log::testing
