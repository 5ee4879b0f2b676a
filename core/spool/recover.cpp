// core/spool/recover.cpp: remove what a crash left half-written; keep complete messages.
#include "core/spool/recover.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "core/spool/fs_util.hpp"
#include "core/spool/message_id.hpp"

namespace tern::spool {
namespace {

struct Files {
  bool h = false, d = false, j = false;
};

Status recover_dir(const std::string& dir, RecoverReport& rep, bool& changed) {
  DIR* dp = ::opendir(dir.c_str());
  if (!dp) return errno == ENOENT ? Status() : Status(sys_error("open directory", dir, errno));
  std::map<std::string, Files> msgs;
  std::vector<std::string> temps;
  while (dirent* e = ::readdir(dp)) {
    std::string_view n = e->d_name;
    if (n.starts_with("hdr.") || n.starts_with("dat.")) {
      temps.emplace_back(n);
      continue;
    }
    if (n.size() < 3 || n[n.size() - 2] != '-') continue;
    std::string_view id = n.substr(0, n.size() - 2);
    if (!MessageId::looks_like(id)) continue;
    Files& f = msgs[std::string(id)];
    switch (n.back()) {
      case 'H': f.h = true; break;
      case 'D': f.d = true; break;
      case 'J': f.j = true; break;
      default: break;
    }
  }
  ::closedir(dp);
  auto rm = [&](const std::string& name) -> Status {
    std::string p = dir + "/" + name;
    if (::unlink(p.c_str()) < 0 && errno != ENOENT) return sys_error("unlink", p, errno);
    rep.removed.push_back(p);
    changed = true;
    return {};
  };
  for (const auto& t : temps)
    if (auto s = rm(t); !s) return s;
  for (const auto& [id, f] : msgs) {
    if (f.h && f.d) {
      ++rep.messages;
      continue;
    }
    if (f.d)
      if (auto s = rm(id + "-D"); !s) return s;
    if (f.h)
      if (auto s = rm(id + "-H"); !s) return s;
    if (f.j)
      if (auto s = rm(id + "-J"); !s) return s;
  }
  return {};
}

}  // namespace

Result<RecoverReport> recover(const Spool& spool) {
  RecoverReport rep;
  std::vector<std::string> dirs{spool.input_root()};
  if (DIR* dp = ::opendir(spool.input_root().c_str())) {
    while (dirent* e = ::readdir(dp))
      if (std::string_view(e->d_name).size() == 1 && e->d_name[0] != '.')
        dirs.push_back(spool.input_root() + "/" + e->d_name);
    ::closedir(dp);
  }
  for (const auto& d : dirs) {
    bool changed = false;
    if (auto s = recover_dir(d, rep, changed); !s) return s.take_error();
    if (changed)
      if (auto s = fsync_dir(d); !s) return s.take_error();
  }
  return rep;
}

}  // namespace tern::spool
