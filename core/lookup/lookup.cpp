// core/lookup/lookup.cpp: the registry of lookup types, the parsing of
// written lookup names, and the Searcher with Exim's affix rules and caches.
//
// The search order is Exim 4.96's search_find: the key as given; for
// partial-, the affix plus the key, then the affix plus the key with leading
// components removed (down to the minimum number of components), then the
// affix alone; for *@, "*@domain"; for * or *@, "*". Results are cached per
// (type, file, options, key) until tidyup(), including not-found answers;
// defers and answers the type marks uncacheable are not kept, and an
// uncacheable answer (an SQL write) also forgets what was cached for its type
// and file, as Exim's search_find does.
#include "core/lookup/lookup.hpp"

#include <cctype>

#include "core/lookup/internal.hpp"

namespace tern::lookup {

Registry Registry::with_core_types() { return with_core_types({}); }

Registry Registry::with_core_types(std::function<Result<std::string>(std::string_view)> expand_key) {
  Registry r;
  (void)r.add(make_lsearch());
  (void)r.add(make_wildlsearch(std::move(expand_key), true));
  (void)r.add(make_wildlsearch({}, false));
  (void)r.add(make_iplsearch());
  (void)r.add(make_dsearch());
  (void)r.add(make_passwd());
  return r;
}

Status Registry::add(std::unique_ptr<LookupType> type) {
  std::string name(type->name());
  if (types_.count(name)) return Error::failed("lookup type \"" + name + "\" is already registered");
  types_.emplace(std::move(name), std::move(type));
  return {};
}

const LookupType* Registry::find(std::string_view name) const {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : it->second.get();
}

LookupType* Registry::find(std::string_view name) {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : it->second.get();
}

Result<LookupSpec> parse_lookup_name(Registry& registry, std::string_view written) {
  LookupSpec spec;
  std::string_view ss = written;
  auto format_error = [&] {
    return Error::failed("format error in lookup type \"" + std::string(written) + "\"");
  };
  if (ss.substr(0, 7) == "partial") {
    ss.remove_prefix(7);
    if (!ss.empty() && std::isdigit(static_cast<unsigned char>(ss[0]))) {
      int n = 0;
      while (!ss.empty() && std::isdigit(static_cast<unsigned char>(ss[0]))) {
        n = n * 10 + (ss[0] - '0');
        ss.remove_prefix(1);
      }
      spec.partial = n;
    } else {
      spec.partial = 2;
    }
    if (!ss.empty() && ss[0] == '(') {
      // partial(affix)type: punctuation only, and no dash after ")".
      size_t i = 1;
      while (i < ss.size() && std::ispunct(static_cast<unsigned char>(ss[i])) && ss[i] != ')') ++i;
      if (i >= ss.size() || ss[i] != ')') return format_error();
      spec.partial_prefix = std::string(ss.substr(1, i - 1));
      ss.remove_prefix(i + 1);
    } else if (!ss.empty() && ss[0] == '-') {
      spec.partial_prefix = "*.";
      ss.remove_prefix(1);
    } else {
      return format_error();
    }
  }
  size_t len = ss.size();
  size_t from = 0;
  if (size_t star = ss.find('*'); star != std::string_view::npos) {
    len = star;
    from = star;
    if (star + 1 < ss.size() && ss[star + 1] == '@')
      spec.star_at = true;
    else
      spec.star = true;
  }
  if (size_t comma = ss.find(',', from); comma != std::string_view::npos) {
    len = std::min(len, comma);
    spec.opts = std::string(ss.substr(comma + 1));
  }
  std::string_view name = ss.substr(0, len);
  spec.type = registry.find(name);
  if (!spec.type) return Error::failed("unknown lookup type \"" + std::string(name) + "\"");
  if (spec.type->style() == Style::kQuery) {
    if (spec.partial >= 0)
      return Error::failed("\"partial\" is not permitted for lookup type \"" + std::string(ss) + "\"");
    if (spec.star || spec.star_at)
      return Error::failed("defaults using \"*\" or \"*@\" are not permitted for lookup type \"" +
                           std::string(ss) + "\"");
  }
  return spec;
}

namespace {

// Does the comma-separated `opts` contain exactly `word`?
bool has_opt(std::string_view opts, std::string_view word) {
  size_t pos = 0;
  while (pos <= opts.size()) {
    size_t comma = opts.find(',', pos);
    std::string_view o = opts.substr(pos, comma == std::string_view::npos ? opts.npos : comma - pos);
    while (!o.empty() && std::isspace(static_cast<unsigned char>(o.front()))) o.remove_prefix(1);
    while (!o.empty() && std::isspace(static_cast<unsigned char>(o.back()))) o.remove_suffix(1);
    if (o == word) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

std::string join_key(std::string_view a, std::string_view b) {
  std::string k(a);
  k += '\0';
  k += b;
  return k;
}

}  // namespace

Result<Handle*> Searcher::handle_for(LookupType& type, std::string_view filename) {
  std::string id = join_key(type.name(), filename);
  auto it = open_.find(id);
  if (it != open_.end()) return it->second.get();
  auto h = type.open(filename);
  if (!h.ok()) return h.take_error();
  Handle* raw = h.value().get();
  open_.emplace(std::move(id), std::move(h.value()));
  return raw;
}

Found Searcher::cached_find(LookupType& type, Handle& handle, std::string_view filename,
                            std::string_view key, std::string_view opts, bool read_cache,
                            expand::Context* caller) {
  if (key.empty()) return Found::not_found();
  std::string id = join_key(join_key(join_key(type.name(), filename), opts), key);
  if (read_cache) {
    auto it = cache_.find(id);
    if (it != cache_.end()) return it->second;
  }
  Found f = type.find(handle, filename, key, opts, caller);
  if (f.status == Found::Status::kDefer) return f;
  if (f.cacheable) {
    cache_[id] = f;
  } else {
    // Exim's "lookup forced cache cleanup": an answer that must not be kept
    // (an SQL write) also drops what was cached for this file or connection.
    const std::string prefix = join_key(join_key(type.name(), filename), "");
    std::erase_if(cache_, [&](const auto& e) { return e.first.compare(0, prefix.size(), prefix) == 0; });
  }
  return f;
}

Found Searcher::find(const LookupSpec& spec, std::string_view filename, std::string_view key,
                     std::string* matched_key, PartialVars* vars, expand::Context* caller) {
  if (!spec.type) return Found::defer("no lookup type");
  LookupType& type = *spec.type;
  auto h = handle_for(type, filename);
  if (!h.ok()) {
    Found f = Found::defer(h.error().message);
    f.open_failed = true;
    return f;
  }
  Handle& handle = *h.value();
  const bool read_cache = !has_opt(spec.opts, "cache=no_rd");
  auto one = [&](std::string_view k) {
    return cached_find(type, handle, filename, k, spec.opts, read_cache, caller);
  };
  auto done = [&](Found f, std::string_view k) {
    if (f.status == Found::Status::kFound) {
      if (matched_key) *matched_key = std::string(k);
      if (has_opt(spec.opts, "ret=key")) f.data = std::string(key);
    }
    return f;
  };
  auto set_vars = [&](std::string wild, std::string fixed) {
    if (!vars) return;
    vars->set = true;
    vars->wild = std::move(wild);
    vars->fixed = std::move(fixed);
  };

  Found r = one(key);
  if (r.status == Found::Status::kDefer) return r;
  if (r.status == Found::Status::kFound) {
    if (spec.partial >= 0) set_vars("", std::string(key));
    return done(std::move(r), key);
  }

  if (spec.partial >= 0) {
    std::string affix = spec.partial_prefix;
    if (!affix.empty()) {
      std::string k2 = affix + std::string(key);
      r = one(k2);
      if (r.status == Found::Status::kDefer) return r;
      if (r.status == Found::Status::kFound) {
        set_vars("", std::string(key));
        return done(std::move(r), k2);
      }
    }
    // Remove leading components, one at a time.
    long dots = 0;
    for (char c : key)
      if (c == '.') ++dots;
    size_t pos = 0;
    while (dots-- >= spec.partial) {
      while (pos < key.size() && key[pos] != '.') ++pos;
      std::string k3;
      if (pos >= key.size()) {
        if (affix.empty()) break;
        if (affix.size() > 1 && affix.back() == '.') affix.pop_back();
        k3 = affix;
      } else {
        k3 = affix + std::string(key.substr(pos + 1));
      }
      r = one(k3);
      if (r.status == Found::Status::kDefer) return r;
      if (r.status == Found::Status::kFound) {
        long fixed_len = static_cast<long>(k3.size()) - static_cast<long>(affix.size());
        long wild_len = static_cast<long>(key.size()) - fixed_len - 1;
        if (wild_len < 0) wild_len = 0;
        std::string wild(key.substr(0, static_cast<size_t>(wild_len)));
        std::string fixed = fixed_len <= 0 ? std::string()
                                           : std::string(key.substr(static_cast<size_t>(wild_len) + 1,
                                                                    static_cast<size_t>(fixed_len)));
        set_vars(std::move(wild), std::move(fixed));
        return done(std::move(r), k3);
      }
      ++pos;
    }
  }

  if (spec.star_at) {
    size_t at = key.rfind('@');
    if (at != std::string_view::npos && at > 0) {
      std::string k = "*" + std::string(key.substr(at));
      r = one(k);
      if (r.status == Found::Status::kDefer) return r;
      if (r.status == Found::Status::kFound) {
        set_vars(std::string(key.substr(0, at)), "");
        return done(std::move(r), k);
      }
    }
  }
  if (spec.star || spec.star_at) {
    r = one("*");
    if (r.status == Found::Status::kDefer) return r;
    if (r.status == Found::Status::kFound) {
      set_vars(std::string(key), "");
      return done(std::move(r), "*");
    }
  }
  return r;
}

Found Searcher::query(const LookupSpec& spec, std::string_view query, expand::Context* caller) {
  if (!spec.type) return Found::defer("no lookup type");
  auto h = handle_for(*spec.type, {});
  if (!h.ok()) {
    Found f = Found::defer(h.error().message);
    f.open_failed = true;
    return f;
  }
  Found f = cached_find(*spec.type, *h.value(), {}, query, spec.opts,
                        !has_opt(spec.opts, "cache=no_rd"), caller);
  if (f.status == Found::Status::kFound && has_opt(spec.opts, "ret=key")) f.data = std::string(query);
  return f;
}

void Searcher::tidyup() {
  cache_.clear();
  open_.clear();
}

}  // namespace tern::lookup
