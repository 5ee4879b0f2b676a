// core/module_host/extensions_adapter.cpp: wrapping module functions as expansion extensions.
#include "core/module_host/extensions_adapter.hpp"

#include "core/expand/expand.hpp"
#include "core/module_host/boundary.hpp"
#include "core/module_host/outcome_text.hpp"

namespace tern::module_host {

ModuleExtensions::ModuleExtensions(GenerationRef generation, UnloadedNames unloaded, CallEnv base)
    : generation_(std::move(generation)), unloaded_(std::move(unloaded)), base_(base) {
  const Registrations& regs = generation_->registrations();
  BlockingPool* pool = generation_->pool();
  const CallEnv* env0 = &base_;
  for (const ModuleOperator& r : regs.operators) {
    expand::ExtensionOperator op{r.name, r.module, {}};
    op.apply = [&r, pool, env0](std::string_view arg, expand::Context& ctx) -> Result<std::string> {
      CallEnv env = *env0;
      env.expand = &ctx;
      if (ctx.module_session) env.session = static_cast<SessionData*>(ctx.module_session);
      if (ctx.module_recipients) env.recipients = static_cast<RecipientStore*>(ctx.module_recipients);
      Blocking b{(r.flags & TERN_MAY_BLOCK) != 0, r.timeout_ms, pool, nullptr};
      Outcome o = invoke(env, b, [&r, a = std::string(arg)](tern_call* call, tern_buf* out) {
        return r.apply(r.ctx, r.user, call, tern_str{a.data(), a.size()}, out);
      });
      return to_result(std::move(o), "expansion operator", r.name, r.module);
    };
    operators_.emplace(r.name, std::move(op));
  }
  for (const ModuleItem& r : regs.items) {
    expand::ExtensionItem it{r.name, r.module, static_cast<int>(r.min_args), static_cast<int>(r.max_args), {}};
    it.apply = [&r, pool, env0](const std::vector<std::string>& args, expand::Context& ctx) -> Result<std::string> {
      CallEnv env = *env0;
      env.expand = &ctx;
      if (ctx.module_session) env.session = static_cast<SessionData*>(ctx.module_session);
      if (ctx.module_recipients) env.recipients = static_cast<RecipientStore*>(ctx.module_recipients);
      Blocking b{(r.flags & TERN_MAY_BLOCK) != 0, r.timeout_ms, pool, nullptr};
      Outcome o = invoke(env, b, [&r, a = args](tern_call* call, tern_buf* out) {
        std::vector<tern_str> strs;
        for (const auto& s : a) strs.push_back({s.data(), s.size()});
        return r.apply(r.ctx, r.user, call, strs.data(), strs.size(), out);
      });
      return to_result(std::move(o), "expansion item", r.name, r.module);
    };
    items_.emplace(r.name, std::move(it));
  }
  for (const ModuleVariable& r : regs.variables) {
    expand::ExtensionVariable v{r.name, r.module, {}};
    v.get = [&r, env0](expand::Context& ctx) -> Result<std::optional<std::string>> {
      CallEnv env = *env0;
      env.expand = &ctx;
      if (ctx.module_session) env.session = static_cast<SessionData*>(ctx.module_session);
      if (ctx.module_recipients) env.recipients = static_cast<RecipientStore*>(ctx.module_recipients);
      Outcome o = invoke(env, {}, [&r](tern_call* call, tern_buf* out) { return r.get(r.ctx, r.user, call, out); });
      if (o.status == TERN_DECLINE) return std::optional<std::string>();
      auto res = to_result(std::move(o), "variable", r.name, r.module);
      if (!res) return res.take_error();
      return std::optional<std::string>(std::move(*res));
    };
    variables_.emplace(r.name, std::move(v));
  }
}

const expand::ExtensionOperator* ModuleExtensions::find_operator(std::string_view name) const {
  auto it = operators_.find(name);
  return it == operators_.end() ? nullptr : &it->second;
}

const expand::ExtensionItem* ModuleExtensions::find_item(std::string_view name) const {
  auto it = items_.find(name);
  return it == items_.end() ? nullptr : &it->second;
}

const expand::ExtensionVariable* ModuleExtensions::find_variable(std::string_view name) const {
  auto it = variables_.find(name);
  return it == variables_.end() ? nullptr : &it->second;
}

std::optional<std::string> ModuleExtensions::unloaded_owner(expand::ExtensionKind kind, std::string_view name) const {
  return unloaded_.owner(kind, name);
}

}  // namespace tern::module_host
