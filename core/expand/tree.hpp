// core/expand/tree.hpp: the compiled form of an expansion string (internal).
//
// The parser (parser.cpp) turns a string into a Seq of Nodes once; the
// evaluator (evaluate.cpp) walks it. A syntax error stops the parse: the
// point where Exim would have found it becomes a kMarker node, and the items
// around it that were only partly read become kPartial nodes that evaluate
// what they had (in Exim's order) before the marker fails with the text.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/expand/expand.hpp"
#include "core/expand/operator_table.hpp"
#include "core/expand/variables.hpp"
#include "core/text/regex.hpp"

namespace tern::expand::detail {

struct Node;
struct Cond;

// A run of nodes whose values are concatenated.
struct Seq {
  std::vector<Node> nodes;
  bool literal = true;    // only text (Exim's "textonly")
  bool skip_walk = false;  // must be walked even when skipping (markers, lookups)
  std::string text;        // the value when literal
};

enum class Item {
  kAcl, kAuthresults, kCertextract, kEnv, kExtract, kFilter, kHash, kHmac, kIf, kLength,
  kListextract, kListquote, kLookup, kMap, kNhash, kPerl, kPrvs, kPrvscheck, kReadfile,
  kReadsocket, kReduce, kRun, kSg, kSort, kSubstr, kTr, kImapfolder, kSrsEncode,
};

// The optional {yes}{no} / fail tail of if, lookup, extract, run, env, ...
struct YesNo {
  bool has_yes = false, has_no = false, fail = false;
  bool fail_unclosed = false;  // "fail" not followed by '}': a syntax error
  Seq yes, no;
};

enum class NodeKind {
  kText,       // text
  kVar,        // var (table entry)
  kAclVar,     // text = key after "acl_"
  kRouterVar,  // text = key after "r_"
  kAuthVar,    // num = index (1..)
  kRegexVar,   // num = index (content scanning: always empty here)
  kHeader,     // text = name with colon, hform
  kNumVar,     // num
  kOperator,   // op, args[0]
  kItem,       // item, args, cond, yn, ...
  kMarker,     // the syntax error of the whole expansion
  kPartial,    // args / cond evaluated, then the marker fails
  kExtOperator,  // ext_op, args[0]: a module's operator
  kExtItem,      // ext_item, args: a module's item
  kExtVar,       // ext_var: a module's variable
};

struct Node {
  NodeKind kind = NodeKind::kText;
  std::string text;
  const VarDef* var = nullptr;
  int num = 0;
  HeaderForm hform = HeaderForm::kDecoded;
  bool braced = false;  // ${name} rather than $name (error text)
  Item item = Item::kIf;
  std::vector<Seq> args;
  std::unique_ptr<Cond> cond;
  std::unique_ptr<YesNo> yn;
  std::unique_ptr<ResolvedOperator> op;
  // Module definitions, owned by the Extensions the string was compiled
  // against (see extensions.hpp for the lifetime).
  const ExtensionOperator* ext_op = nullptr;
  const ExtensionItem* ext_item = nullptr;
  const ExtensionVariable* ext_var = nullptr;
  std::optional<Result<text::Regex>> regex;      // precompiled pattern (literal)
  std::shared_ptr<const Expansion> replacement;  // sg: literal 3rd argument, compiled
  int mode = 0;        // item-specific: extract json mode, run preexpand, sort comparator
  bool alpha = false;  // sort: string comparison
};

enum class CondType {
  kNumL, kNumLE, kNumE, kNumEE, kNumG, kNumGE, kAcl, kAnd, kBool, kBoolLax, kCrypteq, kDef,
  kStrEq, kStrEqi, kExists, kFirstDelivery, kForall, kForallJson, kForallJsons, kForany,
  kForanyJson, kForanyJsons, kStrGe, kStrGei, kStrGt, kStrGti, kInboundSrs, kInlist, kInlisti,
  kIsip, kIsip4, kIsip6, kLdapauth, kStrLe, kStrLei, kStrLt, kStrLti, kMatch, kMatchAddress,
  kMatchDomain, kMatchIp, kMatchLocalPart, kOr, kPam, kPwcheck, kQueueRunning, kRadius,
  kSaslauthd,
};

struct Cond {
  CondType type = CondType::kStrEq;
  std::string name;  // as written (error texts)
  bool negate = false;
  bool partial = false;  // a syntax error follows: evaluate args/subs, then fail
  std::vector<Seq> args;
  std::vector<Cond> subs;  // and/or; forall body is subs[0]
  Node def;                // def: the variable or header node
  std::optional<Result<text::Regex>> regex;
};

// Exim's check_variable_error_message: `msg` for an unknown variable `name`,
// with the reason an acl_ name was refused (parser.cpp).
std::string check_variable_error_message(std::string msg, std::string_view name);

}  // namespace tern::expand::detail

namespace tern::expand {

struct Expansion::Impl {
  std::string source;
  detail::Seq root;
  std::optional<Error> syntax_error;
};

}  // namespace tern::expand
