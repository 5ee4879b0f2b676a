// core/module_host/module_file.cpp: the file, permission, entry point and ABI checks.
#include "core/module_host/module_file.hpp"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tern::module_host {
namespace {

Error refuse(const std::string& path, const std::string& why) { return Error::failed(path + ": " + why); }

std::string abi(unsigned major, unsigned minor) { return std::to_string(major) + "." + std::to_string(minor); }

// dlerror() usually starts with the path; the message names it already.
std::string dl_reason(const std::string& path) {
  const char* e = dlerror();
  std::string s = e ? e : "unknown error";
  if (s.rfind(path + ": ", 0) == 0) s.erase(0, path.size() + 2);
  return s;
}

// The first four fields of every major's descriptor (module.h: "these
// four never move, in any major").
struct DescriptorHead {
  uint32_t magic, size;
  uint16_t abi_major, abi_minor;
};

}  // namespace

MappedModule::~MappedModule() {
  if (handle_) dlclose(handle_);
}

std::string module_name_of(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  if (base.size() > 3 && base.compare(base.size() - 3, 3, ".so") == 0) base.resize(base.size() - 3);
  return base;
}

Result<std::unique_ptr<MappedModule>> map_module(const std::string& path, const std::string& expected_name,
                                                 const std::vector<uid_t>& trusted) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return refuse(path, std::string("cannot load module: ") + strerror(errno));
  if (!S_ISREG(st.st_mode)) return refuse(path, "cannot load module: not a regular file");
  if (st.st_uid != 0 && std::find(trusted.begin(), trusted.end(), st.st_uid) == trusted.end())
    return refuse(path, "not owned by root or the tern user: refusing to load it");
  if (st.st_mode & (S_IWGRP | S_IWOTH)) return refuse(path, "writable by group or others: refusing to load it");

  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return refuse(path, "cannot load module: " + dl_reason(path));
  auto mapped = std::make_unique<MappedModule>(handle, nullptr);

  void* entry = dlsym(handle, TERN_MODULE_ENTRY_V1);
  if (entry == nullptr) {
    // A module of another major exports tern_module_v<major>: name it.
    for (int major = 2; major <= 9; ++major) {
      std::string sym = "tern_module_v" + std::to_string(major);
      void* other = dlsym(handle, sym.c_str());
      if (other == nullptr) continue;
      auto head = reinterpret_cast<const DescriptorHead* (*)()>(other)();
      if (head == nullptr || head->magic != TERN_MODULE_MAGIC) break;
      return refuse(path, "built for ABI " + abi(head->abi_major, head->abi_minor) + ", tern provides " +
                              abi(TERN_ABI_MAJOR, TERN_ABI_MINOR) + ": rebuild it");
    }
    return refuse(path, "not a tern module (no " TERN_MODULE_ENTRY_V1 " entry point)");
  }
  const tern_module* d = reinterpret_cast<tern_module_entry_v1>(entry)();
  if (d == nullptr) return refuse(path, "not a tern module (" TERN_MODULE_ENTRY_V1 " returned no descriptor)");
  if (d->magic != TERN_MODULE_MAGIC) return refuse(path, "not a tern module (bad magic number)");
  if (d->abi_major != TERN_ABI_MAJOR)
    return refuse(path, "built for ABI " + abi(d->abi_major, d->abi_minor) + ", tern provides " +
                            abi(TERN_ABI_MAJOR, TERN_ABI_MINOR) + ": rebuild it");
  if (d->abi_minor > TERN_ABI_MINOR)
    return refuse(path, "built for ABI " + abi(d->abi_major, d->abi_minor) + ", tern provides " +
                            abi(TERN_ABI_MAJOR, TERN_ABI_MINOR) + ": upgrade tern or rebuild it");
  if (d->size < sizeof(tern_module) || d->name == nullptr || d->init == nullptr)
    return refuse(path, "not a tern module (malformed descriptor)");
  if (expected_name != d->name)
    return refuse(path, "module name \"" + std::string(d->name) + "\" differs from the file name \"" +
                            expected_name + "\": rename one of them");
  return std::make_unique<MappedModule>(mapped->release(), d);
}

}  // namespace tern::module_host
