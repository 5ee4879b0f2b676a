// core/module_host/loader.cpp: module_files() and load_generation().
#include "core/module_host/loader.hpp"

#include <set>

#include "core/module_host/host.hpp"
#include "core/module_host/module_file.hpp"
#include "core/text/list.hpp"

namespace tern::module_host {

// Fills a Generation under construction (Generation's friend).
class GenerationBuilder {
 public:
  explicit GenerationBuilder(Generation& g) : g_(g) {}

  Status load(const std::string& path, const std::vector<uid_t>& trusted) {
    auto mapped = map_module(path, module_name_of(path), trusted);
    if (!mapped) return mapped.take_error();
    const tern_module* d = (*mapped)->descriptor();
    auto m = std::make_unique<LoadedModule>();
    m->name = d->name;
    m->version = d->version ? d->version : "";
    m->path = path;
    m->abi_major = d->abi_major;
    m->abi_minor = d->abi_minor;
    m->descriptor = d;
    m->ctx = std::make_unique<ModuleCtx>();
    m->ctx->host = host_table(false);
    m->ctx->module = m->name;
    m->ctx->order = g_.modules_.size();
    m->ctx->registrations = &g_.registrations_;
    m->handle = (*mapped)->release();
    LoadedModule& lm = *m;
    g_.modules_.push_back(std::move(m));  // from here the Generation unloads it

    lm.ctx->in_init = true;
    tern_status st = d->init(lm.ctx->host, lm.ctx.get());
    lm.ctx->in_init = false;
    lm.initialised = st == TERN_OK;
    if (!lm.ctx->registration_error.empty()) return Error::failed(path + ": " + lm.ctx->registration_error);
    if (st != TERN_OK) {
      std::string why = lm.ctx->error.empty() ? "no reason given" : lm.ctx->error;
      return Error::failed(path + ": init failed: " + why);
    }
    return {};
  }

  void freeze() { g_.registrations_.freeze(g_.pool_.get()); }

 private:
  Generation& g_;
};

Result<std::vector<std::string>> module_files(const LoadSettings& settings) {
  std::vector<std::string> files;
  std::set<std::string> names;
  for (const std::string& item : text::list_items(settings.modules)) {
    std::string path;
    if (item.find('/') == std::string::npos) {
      path = settings.module_path + "/" + item + ".so";
    } else if (item[0] == '/') {
      path = item;
    } else {
      return Error::failed(item + ": a module is a name or an absolute path");
    }
    if (!names.insert(module_name_of(path)).second)
      return Error::failed(path + ": module \"" + module_name_of(path) + "\" is listed twice in \"modules\"");
    files.push_back(std::move(path));
  }
  return files;
}

Result<std::shared_ptr<Generation>> load_generation(const LoadSettings& settings) {
  auto files = module_files(settings);
  if (!files) return files.take_error();
  auto g = std::make_shared<Generation>(settings.options);
  GenerationBuilder builder(*g);
  for (const auto& path : *files) {
    // On failure `g` goes out of scope: fini and dlclose of those loaded.
    if (Status st = builder.load(path, settings.trusted_owners); !st) return st.take_error();
  }
  builder.freeze();
  return g;
}

}  // namespace tern::module_host
