// core/deliver/queue_policy.cpp: queue_only_load (see queue_policy.hpp).
#include "core/deliver/queue_policy.hpp"

#include <cstdio>
#include <cstdlib>

namespace tern::deliver {

std::optional<std::string> load_defers_delivery(const config::OptionSet& main) {
  if (!main.was_set("queue_only_load")) return std::nullopt;
  double load[1];
  if (getloadavg(load, 1) != 1) return std::nullopt;
  // Exim compares thousandths, as its fixed-point options are kept.
  const auto thousandths = static_cast<long long>(load[0] * 1000);
  if (thousandths <= main.get_int("queue_only_load")) return std::nullopt;
  char text[64];
  std::snprintf(text, sizeof text, "no immediate delivery: load average %.2f", static_cast<double>(thousandths) / 1000);
  return std::string(text);
}

}  // namespace tern::deliver
