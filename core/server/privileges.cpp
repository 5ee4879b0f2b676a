// core/server/privileges.cpp: exim_user / exim_group (see privileges.hpp).
#include "core/server/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

namespace tern::server {

namespace {
template <class T>
bool all_digits(const std::string& s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}
}  // namespace

Result<RunAs> resolve_run_as(const std::string& user, const std::string& group) {
  RunAs r;
  r.user = user;
  if (struct passwd* pw = getpwnam(user.c_str())) {
    r.uid = pw->pw_uid;
    r.gid = pw->pw_gid;
  } else if (!all_digits(user, r.uid)) {
    return Error::failed("exim_user: unknown user \"" + user + "\"");
  }
  if (!group.empty()) {
    if (struct group* gr = getgrnam(group.c_str()))
      r.gid = gr->gr_gid;
    else if (!all_digits(group, r.gid))
      return Error::failed("exim_group: unknown group \"" + group + "\"");
  }
  return r;
}

Status drop_privileges(const RunAs& who) {
  if (::setgroups(0, nullptr) != 0) return Error::failed(std::string("setgroups: ") + std::strerror(errno));
  if (::setgid(who.gid) != 0) return Error::failed("setgid(" + std::to_string(who.gid) + "): " + std::strerror(errno));
  if (::setuid(who.uid) != 0) return Error::failed("setuid(" + std::to_string(who.uid) + "): " + std::strerror(errno));
  return {};
}

void give_to(const std::string& path, const RunAs& who, bool recursive) {
  if (::chown(path.c_str(), who.uid, who.gid) != 0) return;
  if (!recursive) return;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (::lchown(it->path().c_str(), who.uid, who.gid) != 0) continue;
}

}  // namespace tern::server
