// core/server/privileges.hpp: the user the daemon's workers run as.
//
// Exim's exim_user / exim_group: started as root, the master keeps root
// (it binds the ports and starts workers) and each worker switches to this
// user after loading its modules. The spool and log directories are made
// theirs.
#pragma once

#include <sys/types.h>

#include <string>

#include "core/base/result.hpp"

namespace tern::server {

struct RunAs {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user;
};

// The user and group named by exim_user / exim_group (names or numbers; an
// empty group means the user's primary group).
Result<RunAs> resolve_run_as(const std::string& user, const std::string& group);
// setgroups, setgid, setuid; an error names what failed.
Status drop_privileges(const RunAs& who);
// chown `path` (and, when `recursive`, what is below it) to `who`.
void give_to(const std::string& path, const RunAs& who, bool recursive);

}  // namespace tern::server
