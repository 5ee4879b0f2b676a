// core/deliver/queue_control.hpp: the administrator's queue commands and -brt.
//
//   -Mf id...          freeze ("Message <id> is now frozen", log "frozen by <login>")
//   -Mt id...          thaw ("Message <id> is no longer frozen", log "unfrozen by <login>")
//   -Mrm id...         remove ("Message <id> has been removed", log "removed by <login>",
//                      then "Completed")
//   -Mg id...          give up: every pending recipient fails and is reported
//                      (log "cancelled by <login>")
//   -Mar id address... add recipients (log "recipient <a> added by <login>")
//   -Mmd id address... mark recipients delivered (log "address <a> marked delivered by ...")
//   -brt key [error]   the retry rule that applies (Exim's "Retry rule: ..." line)
//
// Each takes the message's lock, as Exim's do, so it never races a delivery.
#pragma once

#include "core/main/command_line.hpp"

namespace tern::deliver {

int run_message_control(const cli::CommandLine& cl);
int run_retry_test(const cli::CommandLine& cl);

}  // namespace tern::deliver
