// core/expand/parser.cpp: compile an expansion string into its tree.
//
// Follows Exim 4.96's expand_string_internal / eval_condition reading rules
// (what counts as a name, where white space is skipped, which argument is
// read with `$` honoured) and its syntax error texts. The first syntax
// error ends the parse; see tree.hpp for how evaluation keeps Exim's order.
// Names are resolved here, once: the core's tables first, then what the
// modules bring (Extensions); a name that belongs to a module that is not
// loaded fails with not_loaded_text().
#include <cctype>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "core/expand/tree.hpp"
#include "core/text/strfuncs.hpp"

namespace tern::expand {
namespace detail {
namespace {

struct ItemName {
  std::string_view name;
  Item item;
};
constexpr ItemName kItems[] = {
    {"acl", Item::kAcl},           {"authresults", Item::kAuthresults},
    {"certextract", Item::kCertextract}, {"env", Item::kEnv},
    {"extract", Item::kExtract},   {"filter", Item::kFilter},
    {"hash", Item::kHash},         {"hmac", Item::kHmac},
    {"if", Item::kIf},             {"imapfolder", Item::kImapfolder},
    {"length", Item::kLength},
    {"listextract", Item::kListextract}, {"listquote", Item::kListquote},
    {"lookup", Item::kLookup},     {"map", Item::kMap},
    {"nhash", Item::kNhash},       {"perl", Item::kPerl},
    {"prvs", Item::kPrvs},         {"prvscheck", Item::kPrvscheck},
    {"readfile", Item::kReadfile}, {"readsocket", Item::kReadsocket},
    {"reduce", Item::kReduce},     {"run", Item::kRun},
    {"sg", Item::kSg},             {"sort", Item::kSort},
    {"srs_encode", Item::kSrsEncode},
    {"substr", Item::kSubstr},     {"tr", Item::kTr},
};

struct CondName {
  std::string_view name;
  CondType type;
};
constexpr CondName kConds[] = {
    {"<", CondType::kNumL},
    {"<=", CondType::kNumLE},
    {"=", CondType::kNumE},
    {"==", CondType::kNumEE},
    {">", CondType::kNumG},
    {">=", CondType::kNumGE},
    {"acl", CondType::kAcl},
    {"and", CondType::kAnd},
    {"bool", CondType::kBool},
    {"bool_lax", CondType::kBoolLax},
    {"crypteq", CondType::kCrypteq},
    {"def", CondType::kDef},
    {"eq", CondType::kStrEq},
    {"eqi", CondType::kStrEqi},
    {"exists", CondType::kExists},
    {"first_delivery", CondType::kFirstDelivery},
    {"forall", CondType::kForall},
    {"forall_json", CondType::kForallJson},
    {"forall_jsons", CondType::kForallJsons},
    {"forany", CondType::kForany},
    {"forany_json", CondType::kForanyJson},
    {"forany_jsons", CondType::kForanyJsons},
    {"ge", CondType::kStrGe},
    {"gei", CondType::kStrGei},
    {"gt", CondType::kStrGt},
    {"gti", CondType::kStrGti},
    {"inbound_srs", CondType::kInboundSrs},
    {"inlist", CondType::kInlist},
    {"inlisti", CondType::kInlisti},
    {"isip", CondType::kIsip},
    {"isip4", CondType::kIsip4},
    {"isip6", CondType::kIsip6},
    {"ldapauth", CondType::kLdapauth},
    {"le", CondType::kStrLe},
    {"lei", CondType::kStrLei},
    {"lt", CondType::kStrLt},
    {"lti", CondType::kStrLti},
    {"match", CondType::kMatch},
    {"match_address", CondType::kMatchAddress},
    {"match_domain", CondType::kMatchDomain},
    {"match_ip", CondType::kMatchIp},
    {"match_local_part", CondType::kMatchLocalPart},
    {"or", CondType::kOr},
    {"pam", CondType::kPam},
    {"pwcheck", CondType::kPwcheck},
    {"queue_running", CondType::kQueueRunning},
    {"radius", CondType::kRadius},
    {"saslauthd", CondType::kSaslauthd},
};

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_graph(char c) { return std::isgraph(static_cast<unsigned char>(c)) != 0; }

bool node_walks(const Node& n);

bool cond_walks(const Cond& c) {
  if (c.partial) return true;
  // bool{} checks a literal value even when skipped.
  if (c.type == CondType::kBool) return true;
  // Unknown lookup types inside list conditions are found at run time only.
  for (const auto& a : c.args)
    if (a.skip_walk) return true;
  for (const auto& s : c.subs)
    if (cond_walks(s)) return true;
  return c.def.kind == NodeKind::kMarker;
}

bool node_walks(const Node& n) {
  if (n.kind == NodeKind::kMarker || n.kind == NodeKind::kPartial) return true;
  if (n.kind == NodeKind::kItem && n.item == Item::kLookup) return true;
  if (n.kind == NodeKind::kItem && n.item == Item::kSg && n.regex && !n.regex->ok()) return true;
  // Exim 4.96 checks these numeric arguments even when skipping (and a
  // skipped ${run} still sets $runrc to 0).
  if (n.kind == NodeKind::kItem && (n.item == Item::kSubstr || n.item == Item::kLength || n.item == Item::kHash ||
                                    n.item == Item::kNhash || n.item == Item::kListextract || n.item == Item::kRun))
    return true;
  for (const auto& a : n.args)
    if (a.skip_walk) return true;
  if (n.cond && cond_walks(*n.cond)) return true;
  if (n.yn && (n.yn->yes.skip_walk || n.yn->no.skip_walk)) return true;
  return false;
}

class Parser {
 public:
  Parser(std::string_view s, const Extensions* ext) : s_(s), ext_(ext) {}

  Seq parse_top() { return parse_seq(false, true); }
  std::optional<std::string> error_;

 private:
  std::string_view s_;
  const Extensions* ext_;  // module names; may be null
  size_t p_ = 0;
  bool malformed_header_ = false;
  size_t error_pos_ = 0;  // where the first syntax error was found

  char cur() const { return p_ < s_.size() ? s_[p_] : '\0'; }
  char peek(size_t k) const { return p_ + k < s_.size() ? s_[p_ + k] : '\0'; }
  bool at_end() const { return p_ >= s_.size(); }
  bool failed() const { return error_.has_value(); }
  void skip_ws() {
    while (!at_end() && is_space(s_[p_])) ++p_;
  }
  std::string rest(size_t from) const { return std::string(s_.substr(std::min(from, s_.size()))); }

  void fail(std::string msg) {
    if (!error_) {
      error_ = std::move(msg);
      error_pos_ = p_;
    }
  }
  // EXPAND_FAILED_CURLY: the message, unless a header name swallowed a brace.
  void fail_curly(std::string msg = {}) {
    if (malformed_header_) {
      fail("missing or misplaced { or } - could be header name not terminated by colon");
    } else {
      fail(msg.empty() ? "missing or misplaced { or }" : std::move(msg));
    }
  }
  // The failure text for `name`, which nothing loaded defines: the module
  // that owns it when one does (asking for `kinds` in order, each with the
  // word the text uses), else Exim's text.
  std::string unknown_text(std::string_view name, std::string exim_text,
                           std::initializer_list<std::pair<ExtensionKind, const char*>> kinds) const {
    if (ext_) {
      for (const auto& [kind, what] : kinds)
        if (auto module = ext_->unloaded_owner(kind, name)) return not_loaded_text(what, name, *module);
    }
    return exim_text;
  }
  static Node marker() {
    Node n;
    n.kind = NodeKind::kMarker;
    return n;
  }

  std::string read_name(std::string_view extras) {
    size_t start = p_;
    while (!at_end() && (is_alnum(s_[p_]) || (s_[p_] != '\0' && extras.find(s_[p_]) != std::string_view::npos)))
      ++p_;
    return std::string(s_.substr(start, p_ - start));
  }

  static void add(Seq& seq, Node n) {
    if (n.kind == NodeKind::kText) {
      if (!seq.nodes.empty() && seq.nodes.back().kind == NodeKind::kText) {
        seq.nodes.back().text += n.text;
      } else {
        seq.nodes.push_back(std::move(n));
      }
      return;
    }
    seq.literal = false;
    if (node_walks(n)) seq.skip_walk = true;
    seq.nodes.push_back(std::move(n));
  }
  static void add_text(Seq& seq, std::string_view t) {
    Node n;
    n.text = std::string(t);
    add(seq, std::move(n));
  }

  // string_interpret_escape: p_ is at the backslash (not the last character).
  char interpret_escape() {
    size_t i = p_;
    char ch = text::interpret_escape(s_, i);
    p_ = i + 1;
    return ch;
  }

 public:
  Seq parse_seq(bool brace_ends, bool honor_dollar) {
    Seq seq;
    while (!at_end()) {
      char c = s_[p_];
      if (c == '\\') {
        if (p_ + 1 >= s_.size()) {
          fail("\\ at end of string");
          add(seq, marker());
          return seq;
        }
        if (s_[p_ + 1] == 'N') {
          size_t start = p_ + 2, e = start;
          while (e < s_.size() && !(s_[e] == '\\' && e + 1 < s_.size() && s_[e + 1] == 'N')) ++e;
          add_text(seq, s_.substr(start, e - start));
          p_ = e < s_.size() ? e + 2 : e;
        } else {
          char ch = interpret_escape();
          add_text(seq, std::string_view(&ch, 1));
        }
        continue;
      }
      if (brace_ends && c == '}') break;
      if (c != '$' || !honor_dollar) {
        size_t start = p_++;
        while (!at_end() && s_[p_] != '$' && s_[p_] != '}' && s_[p_] != '\\') ++p_;
        add_text(seq, s_.substr(start, p_ - start));
        continue;
      }
      seq.literal = false;
      ++p_;
      if (is_alpha(cur())) {
        add(seq, parse_dollar_name());
        if (failed()) return seq;
        continue;
      }
      if (is_digit(cur())) {
        Node n;
        n.kind = NodeKind::kNumVar;
        n.num = read_number();
        add(seq, std::move(n));
        continue;
      }
      if (cur() != '{') {
        fail("$ not followed by letter, digit, or {");
        add(seq, marker());
        return seq;
      }
      ++p_;
      if (is_digit(cur())) {
        Node n;
        n.kind = NodeKind::kNumVar;
        n.num = read_number();
        if (cur() != '}') {
          ++p_;
          fail("} expected after number");
          add(seq, marker());
          return seq;
        }
        ++p_;
        add(seq, std::move(n));
        continue;
      }
      if (!is_alpha(cur())) {
        fail("letter or digit expected after ${");
        add(seq, marker());
        return seq;
      }
      std::string name = read_name("_-");
      add(seq, parse_braced(name));
      if (failed()) return seq;
    }
    if (brace_ends && at_end()) {
      fail(malformed_header_ ? "missing } at end of string - could be header name not terminated by colon"
                             : "missing } at end of string");
      add(seq, marker());
    }
    if (seq.literal) {
      seq.text.clear();
      for (const auto& n : seq.nodes) seq.text += n.text;
    }
    return seq;
  }

 private:
  int read_number() {
    int n = 0;
    while (is_digit(cur())) {
      n = n * 10 + (cur() - '0');
      ++p_;
    }
    return n;
  }

  // Also used by is_builtin_variable.
 public:
  static bool header_prefix(std::string_view name, size_t* prefix_len, HeaderForm* form) {
    size_t i = 0;
    HeaderForm f = HeaderForm::kDecoded;
    if (name.size() > 1 && name[1] == 'h' && (name[0] == 'r' || name[0] == 'l' || name[0] == 'b')) {
      f = name[0] == 'r' ? HeaderForm::kRaw : name[0] == 'l' ? HeaderForm::kList : HeaderForm::kBasic;
      i = 1;
    } else if (name.empty() || name[0] != 'h') {
      return false;
    }
    std::string_view t = name.substr(i + 1);
    if (!t.empty() && t[0] == '_') {
      *prefix_len = i + 2;
    } else if (t.substr(0, 6) == "eader_") {
      *prefix_len = i + 8;
    } else {
      return false;
    }
    *form = f;
    return true;
  }

 private:
  // read_header_name: the rest of a header name up to (and eating) a colon.
  std::string read_header_rest(std::string_view name, size_t prefix_len) {
    std::string h(name.substr(prefix_len));
    while (!at_end() && is_graph(s_[p_]) && s_[p_] != ':') h += s_[p_++];
    if (cur() == ':') ++p_;
    h += ':';
    return h;
  }

  Node variable_node(const std::string& name, bool braced) {
    Node n;
    n.braced = braced;
    n.text = name;
    if ((name.compare(0, 5, "acl_c") == 0 || name.compare(0, 5, "acl_m") == 0) &&
        !(name.size() > 5 && is_alpha(name[5]))) {
      n.kind = NodeKind::kAclVar;
      n.text = name.substr(4);
      return n;
    }
    if (name.compare(0, 2, "r_") == 0) {
      n.kind = NodeKind::kRouterVar;
      n.text = name.substr(2);
      return n;
    }
    auto numbered = [&](size_t plen, int max) -> int {
      if (name.size() <= plen) return 0;
      int v = 0;
      for (size_t i = plen; i < name.size(); ++i) {
        if (!is_digit(name[i])) return 0;
        v = v * 10 + (name[i] - '0');
        if (v > 1000) return 0;
      }
      return v >= 1 && v <= max ? v : 0;
    };
    if (name.compare(0, 4, "auth") == 0) {
      if (int v = numbered(4, 4)) {  // $auth1..$auth4 (Exim's AUTH_VARS)
        n.kind = NodeKind::kAuthVar;
        n.num = v;
        return n;
      }
    } else if (name.compare(0, 5, "regex") == 0) {
      if (int v = numbered(5, 9)) {
        n.kind = NodeKind::kRegexVar;
        n.num = v;
        return n;
      }
    }
    if (const VarDef* def = find_variable_def(name)) {
      n.kind = NodeKind::kVar;
      n.var = def;
      return n;
    }
    if (ext_) {
      if (const ExtensionVariable* v = ext_->find_variable(name)) {
        n.kind = NodeKind::kExtVar;
        n.ext_var = v;
        return n;
      }
    }
    fail(unknown_text(name,
                      check_variable_error_message(braced ? "unknown variable in \"${" + name + "}\""
                                                          : "unknown variable name \"" + name + "\"",
                                                   name),
                      {{ExtensionKind::kVariable, "variable"}}));
    return marker();
  }

  Node parse_dollar_name() {
    std::string name = read_name("_");
    size_t plen;
    HeaderForm form;
    if (header_prefix(name, &plen, &form)) {
      Node n;
      n.kind = NodeKind::kHeader;
      n.hform = form;
      n.text = read_header_rest(name, plen);
      if (n.text.find('}') != std::string::npos) malformed_header_ = true;
      return n;
    }
    return variable_node(name, false);
  }

  Node parse_braced(const std::string& name) {
    for (const auto& it : kItems) {
      if (it.name == name) return parse_item(it.item, name);
    }
    if (ext_) {
      // Like a built-in item, a module's is known by its name alone.
      if (const ExtensionItem* it = ext_->find_item(name)) return parse_ext_item(*it, name);
    }
    if (cur() == ':') {
      Node n;
      n.kind = NodeKind::kOperator;
      n.text = name;
      auto op = resolve_operator(name);
      if (!op && ext_) {
        if (const ExtensionOperator* eo = ext_->find_operator(name)) {
          n.kind = NodeKind::kExtOperator;
          n.ext_op = eo;
        }
      }
      ++p_;
      if ((name == "md5" || name == "sha1" || name == "sha256" || name == "base64") && cur() == '$') {
        // Exim first reads a certificate variable's name without expanding
        // it; with no certificate the operator then works on that name.
        size_t save = p_;
        ++p_;
        Seq t = parse_seq(true, false);
        if (failed()) {
          // That first read failing (no closing brace) is the error.
          n.args.push_back(std::move(t));
          n.kind = NodeKind::kPartial;
          return n;
        }
        if (t.literal &&
            (t.text == "tls_in_ourcert" || t.text == "tls_in_peercert" || t.text == "tls_out_ourcert" ||
             t.text == "tls_out_peercert")) {
          ++p_;
          n.args.push_back(std::move(t));
          if (!op) {
            fail(op.error().message);
            n.kind = NodeKind::kPartial;
            return n;
          }
          n.op = std::make_unique<ResolvedOperator>(std::move(op.value()));
          return n;
        }
        error_.reset();
        p_ = save;
      }
      n.args.push_back(parse_seq(true, true));
      if (failed()) {
        n.kind = NodeKind::kPartial;
        return n;
      }
      ++p_;
      if (n.kind == NodeKind::kExtOperator) return n;
      if (!op) {
        // Exim expands the argument before it finds the name unknown.
        fail(unknown_text(name, op.error().message,
                          {{ExtensionKind::kOperator, "operator"}, {ExtensionKind::kItem, "item"}}));
        n.kind = NodeKind::kPartial;
        return n;
      }
      n.op = std::make_unique<ResolvedOperator>(std::move(op.value()));
      return n;
    }
    if (cur() == '}') {
      ++p_;
      return variable_node(name, true);
    }
    ++p_;
    fail(unknown_text(name, "\"${" + name + "\" is not a known operator (or a } is missing in a variable reference)",
                      {{ExtensionKind::kItem, "item"}, {ExtensionKind::kOperator, "operator"}}));
    return marker();
  }

  // ${name{arg}..{arg}} of a module: Exim's read_subs rules and texts.
  Node parse_ext_item(const ExtensionItem& it, const std::string& name) {
    Node n;
    n.kind = NodeKind::kExtItem;
    n.ext_item = &it;
    n.text = name;
    return subs_item(std::move(n), it.max_args, it.min_args, name);
  }

  // read_subs. Returns false on failure (the node becomes partial).
  bool read_subs(Node& n, int max, int min, bool check_end, const std::string& name) {
    skip_ws();
    for (int i = 0; i < max; ++i) {
      if (cur() != '{') {
        if (i < min) {
          fail_curly("Not enough arguments for '" + name + "' (min is " + std::to_string(min) + ")");
          return false;
        }
        break;
      }
      ++p_;
      n.args.push_back(parse_seq(true, true));
      if (failed()) return false;
      ++p_;  // the '}'
      skip_ws();
    }
    if (check_end) {
      char c = cur();
      ++p_;
      if (c != '}') {
        if (c == '{') {
          fail("Too many arguments for '" + name + "' (max is " + std::to_string(max) + ")");
        } else {
          fail_curly("missing '}' after '" + name + "'");
        }
        return false;
      }
    }
    return true;
  }

  // One braced argument: "{" seq "}". Error texts given for each case.
  bool braced_arg(Node& n, const std::string& missing_open, const std::string& missing_close,
                  bool honor_dollar = true, bool skip_before = true) {
    if (skip_before) skip_ws();
    if (cur() != '{') {
      fail_curly(missing_open);
      return false;
    }
    ++p_;
    n.args.push_back(parse_seq(true, honor_dollar));
    if (failed()) return false;
    return close_brace(missing_close);
  }

  // The '}' after an argument: eaten, else a curly failure with `missing`.
  bool close_brace(const std::string& missing) {
    if (cur() != '}') {
      fail_curly(missing);
      return false;
    }
    ++p_;
    return true;
  }

  // The '}' that ends an item: eaten, else (the wrong character read) `missing`.
  bool end_brace(const std::string& missing) {
    if (cur() != '}') {
      ++p_;
      fail(missing);
      return false;
    }
    ++p_;
    return true;
  }

  // The {yes}{no} tail of `type`, then the node (partial when the tail failed).
  Node with_yesno(Node n, const std::string& type) {
    n.yn = parse_yesno(type);
    if (failed()) return partial(std::move(n));
    return n;
  }

  // An item that is its read_subs arguments and nothing more.
  Node subs_item(Node n, int max, int min, const std::string& name) {
    if (!read_subs(n, max, min, true, name)) return partial(std::move(n));
    return n;
  }

  std::unique_ptr<YesNo> parse_yesno(const std::string& type) {
    auto yn = std::make_unique<YesNo>();
    skip_ws();
    if (cur() == '}') {
      ++p_;
      return yn;
    }
    auto curly = [&](const char* where) {
      // "remaining string" starts at the character that was wrong.
      fail_curly(std::string("curly-bracket problem in conditional yes/no parsing: ") + where +
                 "\n remaining string is '" + rest(p_) + "'");
    };
    if (cur() != '{') {
      curly("'yes' part did not start with '{'");
      return yn;
    }
    ++p_;
    yn->has_yes = true;
    yn->yes = parse_seq(true, true);
    if (failed()) return yn;
    ++p_;
    skip_ws();
    if (cur() == '{') {
      ++p_;
      yn->has_no = true;
      yn->no = parse_seq(true, true);
      if (failed()) return yn;
      ++p_;
    } else if (cur() != '}') {
      std::string word = read_name("_");
      if (word == "fail") {
        yn->fail = true;
        skip_ws();
        if (cur() != '}') {
          // Exim words this differently when the failure was wanted.
          yn->fail_unclosed = true;
          curly("did not close with '}' after forcedfail");
          return yn;
        }
      } else {
        fail("syntax error in \"" + type + "\" item - \"fail\" expected");
        return yn;
      }
    }
    skip_ws();
    if (cur() != '}') {
      curly("did not close with '}'");
      return yn;
    }
    ++p_;
    return yn;
  }

  Node partial(Node n) {
    n.kind = NodeKind::kPartial;
    return n;
  }

  Node parse_item(Item item, const std::string& name) {
    Node n;
    n.kind = NodeKind::kItem;
    n.item = item;
    n.text = name;
    switch (item) {
      case Item::kIf: {
        skip_ws();
        n.cond = std::make_unique<Cond>(parse_cond());
        if (failed()) return partial(std::move(n));
        return with_yesno(std::move(n), "if");
      }
      case Item::kAcl:
        return subs_item(std::move(n), 10, 1, name);
      case Item::kAuthresults:
        return subs_item(std::move(n), 1, 1, name);
      case Item::kPerl:
        return subs_item(std::move(n), 9, 1, name);
      case Item::kPrvs:
        return subs_item(std::move(n), 3, 2, name);
      case Item::kPrvscheck: {
        // Address, then secret and optional result (Exim reads them in two
        // steps; the counts in the messages are those of a non-prvs address).
        if (!read_subs(n, 1, 1, false, name)) return partial(std::move(n));
        return subs_item(std::move(n), 2, 1, name);
      }
      case Item::kReadfile:
        return subs_item(std::move(n), 2, 1, name);
      case Item::kReadsocket: {
        n.mode = 0;
        if (!read_subs(n, 4, 2, false, name)) return partial(std::move(n));
        n.mode = static_cast<int>(n.args.size());  // arguments before the fail string
        if (cur() == '{') {
          if (!braced_arg(n, {}, "missing '}' closing failstring for readsocket", true, false))
            return partial(std::move(n));
          skip_ws();
        }
        if (!close_brace("missing '}' closing readsocket")) return partial(std::move(n));
        return n;
      }
      case Item::kTr:
      case Item::kSg:
      case Item::kHmac:
        if (!read_subs(n, 3, 3, true, name)) return partial(std::move(n));
        if (item == Item::kSg) {
          if (n.args[1].literal) n.regex = text::Regex::compile(n.args[1].text);
          if (n.args[2].literal) n.replacement = std::make_shared<Expansion>(compile(n.args[2].text, ext_));
        }
        return n;
      case Item::kListquote:
        return subs_item(std::move(n), 2, 2, name);
      case Item::kImapfolder:
        return subs_item(std::move(n), 3, 1, name);
      case Item::kSrsEncode:
        return subs_item(std::move(n), 3, 3, name);
      case Item::kHash:
      case Item::kNhash:
      case Item::kSubstr:
      case Item::kLength:
        return subs_item(std::move(n), item == Item::kLength ? 2 : 3, 2, name);
      case Item::kLookup:
        return parse_lookup(std::move(n));
      case Item::kRun:
        return parse_run(std::move(n));
      case Item::kEnv: {
        skip_ws();
        if (cur() != '{') {
          fail("");
          return partial(std::move(n));
        }
        if (!braced_arg(n, {}, "missing '}' for name arg of env", true, false)) return partial(std::move(n));
        return with_yesno(std::move(n), "env");
      }
      case Item::kExtract:
        return parse_extract(std::move(n));
      case Item::kListextract:
        for (int i = 1; i <= 2; ++i) {
          if (!braced_arg(n, "missing '{' for arg " + std::to_string(i) + " of listextract",
                          "missing '}' closing arg " + std::to_string(i) + " of listextract"))
            return partial(std::move(n));
        }
        return with_yesno(std::move(n), "listextract");
      case Item::kCertextract:
        if (!braced_arg(n, "missing '{' for field arg of certextract",
                        "missing '}' closing field arg of certextract"))
          return partial(std::move(n));
        skip_ws();
        if (cur() != '{') {
          fail_curly("missing '{' for cert variable arg of certextract");
          return partial(std::move(n));
        }
        if (peek(1) != '$') {
          fail("second argument of \"certextract\" must be a certificate variable");
          return partial(std::move(n));
        }
        p_ += 2;
        n.args.push_back(parse_seq(true, false));
        if (failed()) return partial(std::move(n));
        if (!close_brace("missing '}' closing cert variable arg of certextract")) return partial(std::move(n));
        return with_yesno(std::move(n), "certextract");
      case Item::kMap:
      case Item::kFilter:
      case Item::kReduce:
        return parse_listop(std::move(n), name);
      case Item::kSort:
        return parse_sort(std::move(n));
    }
    return n;
  }

  Node parse_lookup(Node n) {
    n.text.clear();  // becomes the lookup type as written
    skip_ws();
    n.mode = 0;  // 1: a key was given
    if (cur() == '{') {
      if (!braced_arg(n, {}, "missing '}' after lookup key", true, false)) return partial(std::move(n));
      skip_ws();
      n.mode = 1;
    }
    if (!is_alpha(cur())) {
      fail("missing lookup type");
      return partial(std::move(n));
    }
    size_t start = p_;
    while (!at_end() && s_[p_] != '{' && !is_space(s_[p_])) ++p_;
    n.text = std::string(s_.substr(start, p_ - start));
    if (!braced_arg(n, "missing '{' for lookup file-or-query arg", "missing '}' closing lookup file-or-query arg"))
      return partial(std::move(n));
    skip_ws();
    return with_yesno(std::move(n), "lookup");
  }

  Node parse_run(Node n) {
    n.mode = 0;  // 1: preexpand
    while (cur() == ',') {
      ++p_;
      if (s_.substr(p_, 9) == "preexpand") {
        n.mode = 1;
        p_ += 9;
      } else {
        size_t t = p_;
        do ++t;
        while (t < s_.size() && is_alpha(s_[t]));
        fail("bad option '" + std::string(s_.substr(p_, t - p_)) + "' for run");
        return partial(std::move(n));
      }
    }
    skip_ws();
    if (cur() != '{') {
      fail_curly("missing '{' for command arg of run");
      return partial(std::move(n));
    }
    ++p_;
    size_t start = p_;
    n.args.push_back(parse_seq(true, true));
    if (failed() && n.mode == 0) {
      // The late-expansion scan ignores its own failure and carries on
      // from where it stopped: at a '}' that ends the command (whose
      // arguments then fail when expanded), else Exim finds no brace.
      if (error_pos_ < s_.size() && s_[error_pos_] == '}') {
        error_.reset();
        p_ = error_pos_;
        n.args[0] = Seq();
      } else {
        error_.reset();
        fail_curly("missing '}' closing command arg of run");
        return partial(std::move(n));
      }
    }
    if (failed()) return partial(std::move(n));
    n.text = std::string(s_.substr(start, p_ - start));  // raw command (late expansion)
    if (n.mode == 1) skip_ws();
    if (!close_brace("missing '}' closing command arg of run")) return partial(std::move(n));
    return with_yesno(std::move(n), "run");
  }

  Node parse_extract(Node n) {
    n.mode = 0;  // 0 basic, 1 json, 2 jsons
    skip_ws();
    if (cur() != '{' && s_.substr(p_, 4) == "json") {
      p_ += 4;
      if (cur() == 's') {
        n.mode = 2;
        ++p_;
      } else {
        n.mode = 1;
      }
    }
    // When the first argument is literal, its value decides now whether
    // this is a numbered (3 arguments) or keyed (2) extraction, and the
    // rest is read as Exim reads it. Otherwise up to five braced strings
    // are kept and sorted out at run time.
    if (!braced_arg(n, "missing '{' for arg 1 of extract", "missing '}' closing arg 1 of extract"))
      return partial(std::move(n));
    if (n.args[0].literal) {
      std::string f = n.args[0].text;
      size_t b = 0, e = f.size();
      while (b < e && is_space(f[b])) ++b;
      while (e > b && is_space(f[e - 1])) --e;
      f = f.substr(b, e - b);
      size_t q = 0;
      if (q < f.size() && f[q] == '-') ++q;
      while (q < f.size() && is_digit(f[q])) ++q;
      int need = (!f.empty() && q == f.size() && n.mode == 0) ? 3 : 2;
      for (int i = 1; i < need; ++i) {
        if (!braced_arg(n, "missing '{' for arg " + std::to_string(i + 1) + " of extract",
                        "missing '}' closing arg " + std::to_string(i + 1) + " of extract"))
          return partial(std::move(n));
      }
      n.num = need;
      return with_yesno(std::move(n), "extract");
    }
    for (int i = 1; i < 5; ++i) {
      skip_ws();
      if (cur() != '{') {
        if (i < 2) {
          fail_curly("missing '{' for arg " + std::to_string(i + 1) + " of extract");
          return partial(std::move(n));
        }
        break;
      }
      ++p_;
      n.args.push_back(parse_seq(true, true));
      if (failed()) return partial(std::move(n));
      ++p_;
    }
    auto yn = std::make_unique<YesNo>();
    skip_ws();
    if (s_.substr(p_, 4) == "fail") {
      char c = peek(4);
      if (c == '}' || c == ' ' || c == '\t' || c == '\0') {
        p_ += 4;
        yn->fail = true;
        skip_ws();
      }
    } else if (cur() != '}' && is_alpha(cur())) {
      read_name("_");
      fail("syntax error in \"extract\" item - \"fail\" expected");
      return partial(std::move(n));
    }
    if (!close_brace("missing '}' closing extract")) return partial(std::move(n));
    n.yn = std::move(yn);
    return n;
  }

  Node parse_listop(Node n, const std::string& name) {
    if (!braced_arg(n, "missing '{' for first arg of " + name, "missing '}' closing first arg of " + name))
      return partial(std::move(n));
    if (n.item == Item::kReduce &&
        !braced_arg(n, "missing '{' for second arg of reduce", "missing '}' closing second arg of reduce"))
      return partial(std::move(n));
    skip_ws();
    if (cur() != '{') {
      fail_curly("missing '{' for last arg of " + name);
      return partial(std::move(n));
    }
    ++p_;
    if (n.item == Item::kFilter) {
      n.cond = std::make_unique<Cond>(parse_cond());
    } else {
      n.args.push_back(parse_seq(true, true));
    }
    if (failed()) {
      if (error_) *error_ += " inside \"" + name + "\" item";
      return partial(std::move(n));
    }
    skip_ws();
    if (!end_brace("missing } at end of condition or expression inside \"" + name +
                   "\"; could be an unquoted } in the content"))
      return partial(std::move(n));
    skip_ws();
    if (!end_brace("missing } at end of \"" + name + "\"")) return partial(std::move(n));
    return n;
  }

  Node parse_sort(Node n) {
    if (!braced_arg(n, "missing '{' for list arg of sort", "missing '}' closing list arg of sort"))
      return partial(std::move(n));
    if (!braced_arg(n, "missing '{' for comparator arg of sort", "missing '}' closing comparator arg of sort",
                    false))
      return partial(std::move(n));
    // The comparator is read without `$`, so it is always literal.
    {
      std::string_view cmp = n.args[1].text;
      size_t q = 0;
      std::string opname;
      if (!cmp.empty() && (cmp[0] == '=' || cmp[0] == '>' || cmp[0] == '<')) {
        opname += cmp[q++];
        if (q < cmp.size() && cmp[q] == '=') opname += cmp[q++];
      } else {
        while (q < cmp.size() && (is_alnum(cmp[q]) || cmp[q] == '_')) opname += cmp[q++];
      }
      if (opname.empty()) {
        fail("condition name expected, but found \"" + std::string(cmp.substr(q, 16)) + "\"");
        return partial(std::move(n));
      }
      const CondName* found = nullptr;
      for (const auto& c : kConds)
        if (c.name == opname) found = &c;
      if (!found) {
        fail("");
        return partial(std::move(n));
      }
      switch (found->type) {
        case CondType::kNumL: case CondType::kNumLE: case CondType::kNumG: case CondType::kNumGE:
        case CondType::kStrGe: case CondType::kStrGei: case CondType::kStrGt: case CondType::kStrGti:
        case CondType::kStrLe: case CondType::kStrLei: case CondType::kStrLt: case CondType::kStrLti:
          break;
        default:
          fail("comparator not handled for sort");
          return partial(std::move(n));
      }
      n.mode = static_cast<int>(found->type);
      n.alpha = is_alpha(opname[0]);
    }
    skip_ws();
    if (cur() != '{') {
      fail_curly("missing '{' for extractor arg of sort");
      return partial(std::move(n));
    }
    ++p_;
    size_t start = p_;
    n.args.push_back(parse_seq(true, true));
    if (failed()) return partial(std::move(n));
    n.text = std::string(s_.substr(start, p_ - start));
    if (!close_brace("missing '}' closing extractor arg of sort")) return partial(std::move(n));
    if (!end_brace("missing } at end of \"sort\"")) return partial(std::move(n));
    return n;
  }

 public:
  Cond parse_cond() {
    Cond c;
    for (;;) {
      skip_ws();
      if (cur() == '!') {
        c.negate = !c.negate;
        ++p_;
      } else {
        break;
      }
    }
    std::string name;
    if (cur() == '=' || cur() == '>' || cur() == '<') {
      name += s_[p_++];
      if (cur() == '=') {
        name += '=';
        ++p_;
      }
    } else {
      name = read_name("_");
    }
    c.name = name;
    // Fails with `msg`: the condition becomes partial.
    auto stop = [&](std::string msg) {
      fail(std::move(msg));
      c.partial = true;
      return false;
    };
    auto bad = [&](std::string msg) {
      stop(std::move(msg));
      return std::move(c);
    };
    if (name.empty()) return bad("condition name expected, but found \"" + std::string(s_.substr(p_, 16)) + "\"");
    const CondName* found = nullptr;
    for (const auto& cn : kConds)
      if (cn.name == name) found = &cn;
    if (!found)
      return bad(unknown_text(name, "unknown condition \"" + name + "\"", {{ExtensionKind::kCondition, "condition"}}));
    c.type = found->type;
    const std::string missing_open = "missing { after \"" + name + "\"";
    auto curly_start = [&]() { return bad(missing_open); };
    // "{" seq "}" into c.args; false (the condition partial) on an error.
    auto seq_arg = [&](bool honor_dollar, const std::string& missing) {
      skip_ws();
      if (cur() != '{') return stop(missing);
      ++p_;
      c.args.push_back(parse_seq(true, honor_dollar));
      if (failed()) {
        c.partial = true;
        return false;
      }
      if (cur() != '}') return stop("missing } at end of \"" + name + "\" condition");
      ++p_;
      return true;
    };
    // A sub-condition and its '}', p_ at its '{'; `inside` is added to its
    // own error text, `missing` is the text when the '}' is not there.
    auto sub_cond = [&](const std::string& inside, const std::string& missing) {
      ++p_;
      c.subs.push_back(parse_cond());
      if (failed()) {
        *error_ += inside;
        c.partial = true;
        return false;
      }
      skip_ws();
      if (cur() != '}') {
        ++p_;
        return stop(missing);
      }
      ++p_;
      return true;
    };
    // read_subs into c.args; false (the condition partial) on an error.
    auto subs_args = [&](int max, int min, bool check_end) {
      Node tmp;
      bool ok = read_subs(tmp, max, min, check_end, name);
      c.args = std::move(tmp.args);
      if (!ok) c.partial = true;
      return ok;
    };
    switch (c.type) {
      case CondType::kDef: {
        if (cur() != ':') return bad("\":\" expected after \"def\"");
        ++p_;
        std::string v = read_name("_");
        size_t plen;
        HeaderForm form;
        if (header_prefix(v, &plen, &form)) {
          c.def.kind = NodeKind::kHeader;
          c.def.hform = HeaderForm::kDecoded;
          c.def.text = read_header_rest(v, plen);
          if (c.def.text.find('}') != std::string::npos) malformed_header_ = true;
          return c;
        }
        Node vn = variable_node(v, false);
        if (vn.kind == NodeKind::kMarker) {
          std::string why = std::move(*error_);
          error_.reset();
          // A module's variable keeps its "not loaded" text.
          if (why.rfind("variable \"", 0) == 0) return bad(std::move(why));
          return bad(check_variable_error_message(
              v.empty() ? "variable name omitted after \"def:\"" : "unknown variable \"" + v + "\" after \"def:\"",
              v));
        }
        c.def = std::move(vn);
        return c;
      }
      case CondType::kFirstDelivery:
      case CondType::kQueueRunning:
        return c;
      case CondType::kSaslauthd:
        return bad("support for \"saslauthd\" not compiled");
      case CondType::kExists: case CondType::kIsip: case CondType::kIsip4: case CondType::kIsip6:
      case CondType::kPam: case CondType::kRadius: case CondType::kLdapauth: case CondType::kPwcheck:
        seq_arg(true, missing_open);
        return c;
      case CondType::kAcl: {
        skip_ws();
        if (cur() != '{') return curly_start();
        ++p_;
        if (!subs_args(10, 1, true)) {
          if (error_ && (error_->rfind("Not enough", 0) == 0 || error_->rfind("missing '}'", 0) == 0 ||
                         error_->rfind("missing or misplaced", 0) == 0))
            *error_ = "too few arguments or bracketing error for acl";
        }
        return c;
      }
      case CondType::kBool:
      case CondType::kBoolLax: {
        skip_ws();
        if (cur() != '{') return curly_start();
        subs_args(1, 1, false);
        return c;
      }
      case CondType::kInboundSrs:
        if (!subs_args(2, 2, false) && error_ && error_->rfind("Not enough", 0) == 0)
          *error_ = "too few arguments or bracketing error for inbound_srs";
        return c;
      case CondType::kAnd:
      case CondType::kOr: {
        skip_ws();
        if (cur() != '{') return curly_start();
        ++p_;
        for (;;) {
          skip_ws();
          if (cur() == '}') break;
          if (cur() != '{')
            return bad("each subcondition inside an \"" + name + "{...}\" condition must be in its own {}");
          if (!sub_cond(" inside \"" + name + "{...}\" condition",
                        "missing } at end of condition inside \"" + name + "\" group"))
            return c;
        }
        ++p_;
        return c;
      }
      case CondType::kForall: case CondType::kForany: case CondType::kForallJson:
      case CondType::kForanyJson: case CondType::kForallJsons: case CondType::kForanyJsons: {
        if (!seq_arg(true, missing_open)) return c;
        skip_ws();
        if (cur() != '{') return curly_start();
        sub_cond(" inside \"" + name + "\" condition", "missing } at end of condition inside \"" + name + "\"");
        return c;
      }
      default: {
        // Two-argument conditions.
        bool rhs_dollar = !(c.type == CondType::kMatchAddress || c.type == CondType::kMatchDomain ||
                            c.type == CondType::kMatchIp || c.type == CondType::kMatchLocalPart);
        for (int i = 0; i < 2; ++i) {
          if (!seq_arg(i == 0 || rhs_dollar, i == 0 ? missing_open : "missing 2nd string in {} after \"" + name + "\""))
            return c;
        }
        if (c.type == CondType::kMatch && c.args[1].literal) c.regex = text::Regex::compile(c.args[1].text);
        return c;
      }
    }
  }
};

}  // namespace

std::string check_variable_error_message(std::string msg, std::string_view name) {
  if (name.substr(0, 4) == "acl_") {
    char c4 = name.size() > 4 ? name[4] : '\0';
    char c5 = name.size() > 5 ? name[5] : '\0';
    msg += " (";
    if (c4 == 'c' || c4 == 'm') {
      msg += is_alpha(c5) ? "6th character of a user-defined ACL variable must be a digit or underscore"
                          : "strict_acl_vars is set";
    } else {
      msg += "user-defined ACL variables must start acl_c or acl_m";
    }
    msg += ")";
  }
  return msg;
}
}  // namespace detail

Expansion::Expansion() {
  static const std::shared_ptr<const Impl> empty = std::make_shared<Impl>();
  impl_ = empty;
}

const std::string& Expansion::source() const { return impl_->source; }
bool Expansion::is_literal() const { return impl_->root.literal; }
const std::string& Expansion::literal() const { return impl_->root.text; }
const std::optional<Error>& Expansion::syntax_error() const { return impl_->syntax_error; }

Expansion compile(std::string_view s, const Extensions* extensions) {
  // Exim's strings end at a NUL.
  if (auto z = s.find('\0'); z != std::string_view::npos) s = s.substr(0, z);
  auto impl = std::make_shared<Expansion::Impl>();
  impl->source = std::string(s);
  detail::Parser parser(impl->source, extensions);
  impl->root = parser.parse_top();
  if (parser.error_) impl->syntax_error = Error::failed(*parser.error_);
  Expansion e;
  e.impl_ = std::move(impl);
  return e;
}

Result<Expansion> parse(std::string_view s, const Extensions* extensions) {
  Expansion e = compile(s, extensions);
  if (e.syntax_error()) return *e.syntax_error();
  return e;
}

bool is_builtin_operator(std::string_view name) { return resolve_operator(name).ok(); }

bool is_builtin_item(std::string_view name) {
  for (const auto& it : detail::kItems)
    if (it.name == name) return true;
  return false;
}

bool is_builtin_variable(std::string_view name) {
  if (find_variable_def(name)) return true;
  // Families the parser reads by prefix before it consults any table.
  if (name.substr(0, 4) == "acl_" || name.substr(0, 2) == "r_") return true;
  // $auth1..$auth3, $regex1..$regex9 (leading zeros allowed, as there).
  auto numbered = [&](std::string_view prefix, int max) {
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return false;
    int v = 0;
    for (char c : name.substr(prefix.size())) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
      if (v > 1000) return false;
    }
    return v >= 1 && v <= max;
  };
  if (numbered("auth", 4) || numbered("regex", 9)) return true;
  size_t plen;
  HeaderForm form;
  return detail::Parser::header_prefix(name, &plen, &form);
}

}  // namespace tern::expand
