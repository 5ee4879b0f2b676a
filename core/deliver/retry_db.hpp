// core/deliver/retry_db.hpp: the retry hints database, spool_directory/db/retry.tern.
//
// Exim's retry database under its own name (Exim's is a DBM file, which tern does not
// write): one record per failing destination, keyed as Exim keys them: "T:host:ip[:port]"
// for a remote host, "T:local@domain" (or "T:domain") for a local delivery, "R:domain" for
// routing, "R:address:<sender>" for an address a host refused with a 4xx.
//
// The file is text, one record a line (tab-separated: key, first failed, last try, next
// try, expired, basic errno, more errno, message). A reader takes a shared lock on
// retry.tern.lockfile, an update an exclusive one for its read-modify-write; the new
// contents are written to a temporary file, synced and renamed over the old one (then the
// directory is synced), so a crash leaves either the old or the new database, never half.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <string>

#include "core/base/result.hpp"

namespace tern::deliver {

struct RetryRecord {
  std::int64_t first_failed = 0;
  std::int64_t last_try = 0;  // also Exim's time_stamp: records older than retry_data_expire are ignored
  std::int64_t next_try = 0;
  bool expired = false;
  int basic_errno = 0;
  int more_errno = 0;
  std::string text;
};

using RetryRecords = std::map<std::string, RetryRecord>;

class RetryDb {
 public:
  // `spool_directory`: the database lives in its db/ subdirectory (created when written).
  // `owner`: when tern runs as root, the exim_user's uid and gid, so that deliveries
  // running as that user (the daemon's) can update what a root queue runner created.
  explicit RetryDb(std::string spool_directory, std::optional<std::pair<uid_t, gid_t>> owner = std::nullopt);

  // A consistent snapshot (empty when there is no database yet).
  Result<RetryRecords> read() const;
  // Reads the current records under the exclusive lock, lets `change` edit them, and
  // writes them back durably. Concurrent updaters are serialised.
  Status update(const std::function<void(RetryRecords&)>& change) const;

  std::string path() const { return dir_ + "/retry.tern"; }

 private:
  std::string dir_;
  std::optional<std::pair<uid_t, gid_t>> owner_;
};

}  // namespace tern::deliver
