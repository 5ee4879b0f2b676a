// core/spool/recover.hpp: put the spool right after a crash, before anything else runs.
//
// A message is acknowledged (250) only after its -D and -H are renamed into place and the
// directory is synced, so after a crash of any process at any moment:
//   - hdr.<id> and dat.<id> are temporary files of messages never acknowledged: removed;
//   - a -D without a -H was never acknowledged (the -H is renamed last) or is a message
//     whose removal was cut short: removed;
//   - a -H without a -D is a removal cut short (-D goes first) or, after a power failure,
//     a rename that reached the disk before its -D's: never acknowledged. Removed;
//   - a -J without a -H is the journal of a removed message: removed;
//   - every message with both -H and -D is kept, once (ids are unique file names).
// recover() must run before the daemon accepts and before any queue runner starts: it
// cannot tell a crashed writer's files from a live one's.
#pragma once

#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "core/spool/spool.hpp"

namespace tern::spool {

struct RecoverReport {
  std::vector<std::string> removed;  // paths removed
  std::size_t messages = 0;          // complete messages kept
};

Result<RecoverReport> recover(const Spool& spool);

}  // namespace tern::spool
