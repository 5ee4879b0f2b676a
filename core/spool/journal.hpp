// core/spool/journal.hpp: per-recipient delivery state, kept durably as Exim keeps it.
//
// During a delivery attempt each address dealt with (delivered, or failed for good) is
// appended to input/<id>-J and synced before the delivery process goes on, so a crash
// part-way never delivers to it again. At the end of the attempt the -H is rewritten with
// those addresses in its non-recipients tree (hdr.<id>, fsync, rename, directory fsync)
// and only then the -J is removed. A later attempt, by tern or by Exim, reads the -H and
// merges any -J left by a crash (load_for_delivery). The -J line is the address (Exim
// writes addr->unique, which for an ordinary address is the address).
//
// The caller holds the MessageLock while doing any of this.
#pragma once

#include <string>
#include <string_view>

#include "core/base/result.hpp"
#include "core/spool/envelope.hpp"
#include "core/spool/fs_util.hpp"
#include "core/spool/spool.hpp"

namespace tern::spool {

class DeliveryJournal {
 public:
  static Result<DeliveryJournal> open(const Spool& spool, std::string_view id);
  // Durable when it returns: the address is never delivered again by this spool.
  Status mark_done(std::string_view address);

 private:
  DeliveryJournal(Fd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  Fd fd_;
  std::string path_;
};

// The -H with the -J's addresses (if a crash left one) added to the non-recipients.
// A last line without its newline was never synced as complete and is ignored.
Result<Envelope> load_for_delivery(const Spool& spool, std::string_view id);

// Replaces the -H durably (after a delivery attempt, a freeze, -Mmad...), then removes the
// -J, whose addresses the new -H must already hold in its non-recipients.
Status rewrite_header(const Spool& spool, const Envelope& env);

}  // namespace tern::spool
