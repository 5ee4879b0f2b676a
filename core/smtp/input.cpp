// core/smtp/input.cpp: command framing and the synchronisation rules (see input.hpp).
#include "core/smtp/input.hpp"

namespace tern::smtp {

std::optional<CommandLine> next_command_line(std::string_view buffered, size_t max) {
  const size_t window = buffered.size() < max + 1 ? buffered.size() : max + 1;
  const size_t lf = buffered.substr(0, window).find('\n');
  if (lf != std::string_view::npos) return CommandLine{buffered.substr(0, lf), lf + 1, false};
  if (buffered.size() > max) return CommandLine{buffered.substr(0, max), max + 1, true};
  return std::nullopt;
}

bool sync_violation(const Command& c, bool pipelining_advertised, bool input_pending,
                    bool enforce_sync) {
  if (!enforce_sync || !input_pending) return false;
  Verb v = c.verb == Verb::kBadArgument ? c.matched : c.verb;
  switch (v) {
    case Verb::kHelo:
    case Verb::kEhlo:
    case Verb::kData:
    case Verb::kVrfy:
    case Verb::kExpn:
    case Verb::kNoop:
    case Verb::kEtrn:
    case Verb::kStarttls:
      return true;
    case Verb::kMail:
    case Verb::kRcpt:
    case Verb::kRset:
      return !pipelining_advertised;
    case Verb::kUnknown:
      return !c.overlong;
    default:
      return false;  // BDAT AUTH QUIT HELP, NUL lines
  }
}

bool greeting_sync_violation(bool input_pending, bool pipe_connect_acceptable, bool enforce_sync) {
  return enforce_sync && input_pending && !pipe_connect_acceptable;
}

bool bdat_sync_violation(bool pipelining_advertised, bool input_pending, bool enforce_sync) {
  return enforce_sync && input_pending && !pipelining_advertised;
}

}  // namespace tern::smtp
