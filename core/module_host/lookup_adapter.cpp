// core/module_host/lookup_adapter.cpp: open, find, close and quote through the ABI.
#include "core/module_host/lookup_adapter.hpp"

#include "core/module_host/boundary.hpp"

namespace tern::module_host {
namespace {

// The module's handle; closed when the last user lets go (a find that
// overran its deadline may still hold it).
struct HandleBox {
  const ModuleLookup* lookup = nullptr;
  void* handle = nullptr;
  ~HandleBox() {
    if (handle && lookup->def.close) lookup->def.close(lookup->ctx, lookup->def.user, handle);
  }
};

class ModuleHandle final : public lookup::Handle {
 public:
  explicit ModuleHandle(std::shared_ptr<HandleBox> box) : box_(std::move(box)) {}
  const std::shared_ptr<HandleBox>& box() const { return box_; }

 private:
  std::shared_ptr<HandleBox> box_;
};

class ModuleLookupType final : public lookup::LookupType {
 public:
  ModuleLookupType(GenerationRef g, const ModuleLookup& l, CallEnv base)
      : generation_(std::move(g)), l_(l), base_(base) {}

  std::string_view name() const override { return l_.name; }
  lookup::Style style() const override {
    return (l_.flags & TERN_LOOKUP_QUERY) ? lookup::Style::kQuery : lookup::Style::kSingleKey;
  }
  bool may_block() const override { return (l_.flags & TERN_MAY_BLOCK) != 0; }

  Result<std::unique_ptr<lookup::Handle>> open(std::string_view filename) override {
    auto box = std::make_shared<HandleBox>();
    box->lookup = &l_;
    if (l_.def.open) {
      ModuleCtx* mctx = ctx_of(l_.ctx);
      mctx->error.clear();
      tern_status st = l_.def.open(l_.ctx, l_.def.user, tern_str{filename.data(), filename.size()}, &box->handle);
      if (st != TERN_OK) {
        std::string why = mctx->error.empty() ? "failed to open " + std::string(filename) + " for " + l_.name +
                                                      " lookup"
                                                : mctx->error;
        return Error::failed(why);
      }
    }
    return std::unique_ptr<lookup::Handle>(new ModuleHandle(std::move(box)));
  }

  lookup::Found find(lookup::Handle& handle, std::string_view filename, std::string_view key,
                     std::string_view opts) override {
    return find(handle, filename, key, opts, nullptr);
  }

  lookup::Found find(lookup::Handle& handle, std::string_view filename, std::string_view key,
                     std::string_view opts, expand::Context* caller) override {
    auto box = static_cast<ModuleHandle&>(handle).box();
    auto no_cache = std::make_shared<int>(0);
    Blocking b{may_block(), l_.timeout_ms, generation_->pool(), box};
    const ModuleLookup* l = &l_;
    CallEnv env = base_;
    if (caller != nullptr) env.expand = caller;
    Outcome o = invoke(env, b,
                       [l, box, no_cache, f = std::string(filename), k = std::string(key),
                        op = std::string(opts)](tern_call* call, tern_buf* out) {
                         return l->def.find(l->ctx, l->def.user, call, box->handle, tern_str{f.data(), f.size()},
                                            tern_str{k.data(), k.size()}, tern_str{op.data(), op.size()}, out,
                                            no_cache.get());
                       });
    switch (o.status) {
      case TERN_OK: return lookup::Found::found(std::move(o.out), *no_cache == 0);
      case TERN_DEFER:
      case TERN_ERROR:
        return lookup::Found::defer(o.error.empty() ? l_.name + " lookup deferred" : o.error);
      default: {
        // Not found; an SQL write that changed nothing is not cached either.
        lookup::Found f = lookup::Found::not_found();
        f.cacheable = *no_cache == 0;
        return f;
      }
    }
  }

  bool has_quote() const override { return l_.def.quote != nullptr; }

  std::optional<std::string> quote(std::string_view s, std::string_view opts) const override {
    if (l_.def.quote == nullptr) return std::nullopt;
    tern_buf out;
    tern_status st =
        l_.def.quote(l_.ctx, l_.def.user, tern_str{s.data(), s.size()}, tern_str{opts.data(), opts.size()}, &out);
    if (st != TERN_OK) return std::nullopt;
    return std::move(out.data);
  }

 private:
  GenerationRef generation_;
  const ModuleLookup& l_;
  CallEnv base_;
};

}  // namespace

std::vector<std::unique_ptr<lookup::LookupType>> make_lookup_types(const GenerationRef& generation,
                                                                   const CallEnv& base) {
  std::vector<std::unique_ptr<lookup::LookupType>> out;
  for (const ModuleLookup& l : generation->registrations().lookups)
    out.push_back(std::make_unique<ModuleLookupType>(generation, l, base));
  return out;
}

}  // namespace tern::module_host
