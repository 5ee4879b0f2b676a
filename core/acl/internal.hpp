// core/acl/internal.hpp: the compiled form of ACLs and the tables behind it (acl.c's), shared by
// the engine's files.
//
// A statement is a verb and its conditions/modifiers in order; each
// condition points at its definition (the core's table below, or a
// module's AclCondition) and holds its argument compiled once: as a whole
// when Exim expands it "at the top", else as the list or word expansions
// its checker needs. Nothing here changes after compile().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/acl/acl.hpp"

namespace tern::acl::detail {

enum class Verb : uint8_t { kAccept, kDefer, kDeny, kDiscard, kDrop, kRequire, kWarn };
std::string_view verb_name(Verb v);

enum class CondId : uint8_t {
  kAcl,
  kAddHeader,
  kAuthenticated,
  kCondition,
  kContinue,
  kControl,
  kDelay,
  kDnslists,
  kDomains,
  kEncrypted,
  kEndpass,
  kHosts,
  kLocalParts,
  kLogMessage,
  kLogRejectTarget,
  kLogwrite,
  kMessage,
  kQueue,
  kRatelimit,
  kRecipients,
  kRemoveHeader,
  kSeen,
  kSenderDomains,
  kSenders,
  kSet,
  kUdpsend,
  kVerify,
  kModule,
};

// Bit of `w` in the forbids masks (Exim's ACL_BIT_*).
constexpr uint32_t bit(Where w) { return 1u << static_cast<unsigned>(w); }

// One row of acl.c's conditions[].
struct CondDef {
  std::string_view name;
  CondId id;
  bool expand_at_top;  // the argument is expanded before the checker runs
  bool modifier;       // always true; may not be negated
  uint32_t forbids;    // where it may not be used
};
// The core's conditions, or nullptr.
const CondDef* find_condition(std::string_view name);
// Exim 4.96's conditions tern leaves out, with the reason; nullptr if none.
const char* left_out_condition(std::string_view name);

struct Condition {
  const CondDef* def = nullptr;
  const module_host::AclCondition* module = nullptr;  // CondId::kModule
  bool negated = false;
  std::string varname;                   // set: "c1", "m_name" (after "acl_")
  std::string arg;                       // as written (after "=", leading space skipped)
  expand::Expansion value;               // arg compiled (every kind but acl, whose words are below)
  std::vector<expand::Expansion> words;  // acl: name and arguments, dequoted
};

struct Statement {
  Verb verb = Verb::kAccept;
  config::Location where;
  std::vector<Condition> conditions;
};

struct CompiledAcl {
  std::string name;  // "" for inline text
  std::vector<Statement> statements;
};

// What compiling needs to resolve names.
struct CompileContext {
  const module_host::AclRegistry* modules = nullptr;
  const expand::Extensions* extensions = nullptr;
};

// Where and how reading an ACL failed.
struct ParseError {
  config::Location where;  // the offending line
  // True for acl.c's own texts (the configuration reader puts "error in
  // ACL: " before them); false for tern's (a module's condition that is not
  // loaded, a condition tern leaves out), which stand alone.
  bool acl_read_text = true;
};
// acl.c's acl_read over logical lines (continuations already joined, as
// `text`, each with its location). The error text has no location.
Result<std::vector<Statement>> parse_statements(const std::vector<config::SourceLine>& lines,
                                                const CompileContext& cc, ParseError* error);
// acl_getline: the logical lines of ACL text read from a file or given
// inline, all located at `where` (Exim reports the configuration's last
// line for them).
std::vector<config::SourceLine> split_acl_text(std::string_view text,
                                               const config::Location& where);

// ASCII case-insensitive equality (Exim's strcmpic() == 0).
bool equal_caseless(std::string_view a, std::string_view b);

// Exim's string_dequote: one word, or a double-quoted string with
// backslash escapes; `s` advances past it.
std::string dequote(std::string_view& s);

// `control = value`: whether the core knows the control (the value may
// carry /options), and why tern leaves out one of Exim's.
bool is_core_control(std::string_view value);
const char* left_out_control(std::string_view name);

// Whether running this expansion may wait on the network (${readsocket},
// ${run}, a lookup of a type that may block). Conservative: looks at the
// source text for the names.
bool expansion_may_block(const expand::Expansion& e, const lookup::Registry* lookups);

}  // namespace tern::acl::detail
