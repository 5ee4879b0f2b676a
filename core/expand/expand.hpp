// core/expand/expand.hpp: Exim 4.96 string expansion, parsed once, evaluated many times.
//
// A configuration string is compiled into an immutable tree (Expansion) when
// the configuration is read; each use evaluates the tree in a Context that
// supplies variables, lookups, named lists, the clock and the ACL hook. The
// results and the failure texts are Exim's, byte for byte.
//
// Exim reports a syntax error only when its left-to-right interpretation
// reaches it (an earlier forced failure or unknown variable wins). compile()
// keeps that order: a syntax error becomes a node that fails when evaluation
// reaches it. parse() is the strict form for configuration checks: it fails
// on the first syntax error, with the same text.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/expand/extensions.hpp"
#include "core/lookup/lookup.hpp"
#include "core/lookup/match.hpp"

namespace tern::expand {

// Which header expansion variable asked: $h_ (decoded), $rh_ (raw), $bh_
// (decoded, no charset translation), $lh_ (raw, as a colon list).
enum class HeaderForm { kDecoded, kRaw, kBasic, kList };

// Where variable values come from. The lead fills the static ones
// (primary_hostname, qualify_domain, spool_directory, exim_path, config_file,
// ...) from the configuration; message and address phases add theirs.
// Names are Exim's, without the `$`. A name the source does not set gets
// Exim's default for an unset variable (empty, "0", "-1", "no", ...).
class VariableSource {
 public:
  virtual ~VariableSource() = default;
  // Append the value of `name` to `out` and return true, or return false
  // when this source does not set it.
  virtual bool append(std::string_view name, std::string& out) const = 0;
  // The value of header `name` (lower or mixed case, with its trailing
  // colon); nullopt when the message has no such header or there is no
  // message (outside a message every header is absent, as in `exim -be`).
  virtual std::optional<std::string> header(std::string_view name, HeaderForm form) const {
    (void)name;
    (void)form;
    return std::nullopt;
  }
};

// What VariableSource::header() answers, from the message's header lines offered one by
// one ("Name: value\n" with continuation lines). `name` carries its colon ("subject:").
// The raw form keeps the white space after the colon; the others drop it. Several headers
// of one name are joined with newlines, the final newline of each removed.
class HeaderValue {
 public:
  HeaderValue(std::string_view name, HeaderForm form);
  void offer(std::string_view header_line);
  std::optional<std::string> take() { return std::move(value_); }

 private:
  std::string_view want_;
  HeaderForm form_;
  std::optional<std::string> value_;
};

// A VariableSource backed by a map (tests, `-be`, simple callers).
class MapVariables : public VariableSource {
 public:
  void set(std::string name, std::string value) { values_[std::move(name)] = std::move(value); }
  void set_header(std::string name_with_colon, std::string value);
  bool append(std::string_view name, std::string& out) const override;
  std::optional<std::string> header(std::string_view name, HeaderForm form) const override;

 private:
  std::map<std::string, std::string, std::less<>> values_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

// What `${acl{name}{args}}` and the `acl` condition get back from the ACL
// engine.
struct AclOutcome {
  enum class Rc { kOk, kFail, kDefer, kError, kDiscard, kFailDrop };
  Rc rc = Rc::kError;
  std::optional<std::string> user_message;  // what `message =` set
};
// Runs ACL `name` with $acl_arg1.. = args. An Error means the ACL could not
// be run at all.
using AclHook = std::function<Result<AclOutcome>(std::string_view name,
                                                 const std::vector<std::string>& args)>;

// Everything an evaluation may consult or change. One Context per
// session/delivery (not thread-safe); the evaluation state at the end
// ($value, $1.., $runrc) is Exim's.
struct Context {
  const VariableSource* variables = nullptr;
  lookup::Registry* registry = nullptr;   // needed by ${lookup}, match_* and quote_*
  lookup::Searcher* searcher = nullptr;   // ditto
  // Raw text of named list `name` of `kind` (for +name, listnamed); nullptr
  // when there is none.
  std::function<const std::string*(lookup::ListKind kind, std::string_view name)> named_list;
  // The clock; the system clock when empty (tests fix it).
  std::function<std::chrono::system_clock::time_point()> clock;
  // The ACL engine; when empty, ${acl} fails with "ACL not available".
  AclHook acl;
  // ${env{name}}: the environment variable `name` or nullopt; getenv() when
  // empty (the lead applies keep_environment/add_environment here).
  std::function<std::optional<std::string>(std::string_view name)> getenv;
  std::string primary_hostname;                  // `@` in domain lists
  std::vector<std::string> interface_addresses;  // `@[]` in lists
  // Operators, items and variables that modules bring, and who owns the
  // names of modules that are not loaded. Used by the strings this
  // evaluation compiles itself (${expand:..}, a non-literal sg replacement,
  // expand()); a compiled Expansion carries what it was compiled with.
  const Extensions* extensions = nullptr;
  // The SMTP session's per-module data (module_host::SessionData, opaque
  // here): the module variables, operators and items an expansion calls see
  // their session's state (host->session_data). Null outside a session.
  void* module_session = nullptr;
  // The message's per-recipient module data (module_host::RecipientStore,
  // opaque here) while routing or delivering one of its recipients: what
  // host->recipient_data answers in the module calls an expansion makes.
  void* module_recipients = nullptr;
  bool strict_acl_vars = false;
  bool filter_running = false;  // $n0..$n9, $sn0..$sn9 exist only then
  bool first_delivery = false;  // the first_delivery condition
  bool queue_running = false;   // the queue_running condition
  bool forbid_lookups = false, forbid_run = false, forbid_readfile = false,
       forbid_readsocket = false, forbid_exists = false;

  // ACL variables, keyed by their name after "acl_": "c0", "m_name".
  std::map<std::string, std::string, std::less<>> acl_vars;
  // Router variables ($r_name), keyed after "r_".
  std::map<std::string, std::string, std::less<>> router_vars;
  std::vector<std::string> auth_vars;  // $auth1..$auth4
  std::vector<std::string> acl_args;   // $acl_arg1..$acl_arg9

  // Evaluation state, Exim's globals.
  std::optional<std::string> value;  // $value (lookup_value): unset differs from empty
  std::optional<std::string> item;   // $item
  std::vector<std::string> numeric;  // $0..$n; empty when none are set
  int runrc = 0;
  std::optional<std::string> prvscheck_address, prvscheck_keynum, prvscheck_result;
};

// A compiled expansion string. Cheap to copy (shared, immutable).
class Expansion {
 public:
  Expansion();
  const std::string& source() const;
  // True when the string has nothing to expand (its value is literal()).
  bool is_literal() const;
  const std::string& literal() const;
  // The first syntax error, if any (evaluation fails with it when reached).
  const std::optional<Error>& syntax_error() const;

 private:
  friend Expansion compile(std::string_view, const Extensions*);
  friend Status evaluate_into(const Expansion&, Context&, std::string&);
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// Compile `s`; never fails (see the top of this file). Operator, item and
// variable names are resolved here: built-in names first, then
// `extensions` (may be null: no modules). A name that is neither fails
// (when evaluation reaches it) with Exim's text, or, when
// extensions->unloaded_owner() names its module, with not_loaded_text():
//   operator "quote_mysql" belongs to module "mysql", which is not loaded: add it to "modules"
// The Expansion keeps pointers into `extensions`: it must not outlive them
// (both belong to one configuration generation).
Expansion compile(std::string_view s, const Extensions* extensions = nullptr);
// Compile `s`, failing with Exim's text on a syntax error.
Result<Expansion> parse(std::string_view s, const Extensions* extensions = nullptr);
// Evaluate; errors are kFailed, kForcedFail (`fail`, forced failures) or
// kDefer (a lookup deferred). The result ends at an escaped NUL (`\x00`),
// as Exim's C strings do.
Result<std::string> evaluate(const Expansion& e, Context& ctx);
// As evaluate, appending to `out` without the NUL cut (its contents on
// failure are unspecified). The allocation-light form for hot paths.
Status evaluate_into(const Expansion& e, Context& ctx, std::string& out);
// compile + evaluate: what `exim -be` does with one string.
Result<std::string> expand(std::string_view s, Context& ctx);

// Exim's expand_check_condition (router `condition`): the expanded string
// is true unless it is empty, "0", "no" or "false" (any case).
Result<bool> check_condition(const Expansion& e, Context& ctx);
// ACL `condition =` (acl.c): a string of digits is true when non-zero (empty
// is false), "yes"/"true" and "no"/"false" in any case; anything else is a
// kDefer error `invalid "condition" value "..."`.
Result<bool> check_acl_condition(const Expansion& e, Context& ctx);
// The same rules for a value already expanded (the ACL engine traces it).
Result<bool> acl_condition_value(std::string_view s);

// The list-matching surroundings of `ctx`: its searcher, registry, named
// lists, primary host name and interfaces; named lists are expanded in
// `ctx`. When `expand_failed` is given it is set if such an expansion fails.
lookup::MatchEnv match_env(Context& ctx, bool* expand_failed = nullptr);

// The Exim names of all expansion variables known to this build (sorted).
std::vector<std::string_view> variable_names();

// Whether a name is the core's, so that a module may not register it (the
// loader refuses such a module; the expansion would never reach the
// module's definition, as built-in names are resolved first).
// - is_builtin_operator: every name Exim's operator syntax accepts: the
//   operators themselves and their suffixed forms (`lc_x` is `lc` with an
//   argument, `quote_NAME` is lookup NAME's quoting: a module brings that
//   through its lookup definition, not as an operator).
// - is_builtin_item: the core's items (`if`, `lookup`, `sg`, ...).
// - is_builtin_variable: the variable table, and the families the core
//   reads by prefix: `acl_*`, `r_*`, `auth1`.., `regex1`.., and header
//   names (`h_`, `header_`, `rh_`, `bh_`, `lh_`, ...).
bool is_builtin_operator(std::string_view name);
bool is_builtin_item(std::string_view name);
bool is_builtin_variable(std::string_view name);

}  // namespace tern::expand
