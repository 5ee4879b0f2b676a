// core/deliver/submission.hpp: the sendmail interface, Exim's default mode (-bm).
//
//   tern [-C conf] [-f sender] [-F name] [-t] [-i|-oi] [-odb|-odi|-odf|-odq] [-oem|-oep]
//        [--] recipient...
//
// The message is read from standard input (a line with a single dot ends it unless -i;
// CR LF and lone CRs become LF), its header lines are fixed up as Exim's receive_msg()
// does for a local caller (Message-Id:, From: from -F or the caller's gecos, Sender: when
// an untrusted caller's From: is not theirs, Date:, unqualified addresses qualified, -t's
// Bcc: removed), it is spooled durably (local_message.hpp) and logged
// "<= sender U=login P=local S=size", and then delivered: in a process of its own (-odb,
// the default), before tern exits (-odi), or not at all (-odq, queue_only).
// Called as `sendmail` (a link to tern) it is the same. Errors use Exim's texts and exit
// status 1; see core/deliver/README-sendmail.md.
#pragma once

#include "core/main/command_line.hpp"

namespace tern::deliver {

// Returns the process's exit status.
int run_submission(const cli::CommandLine& cl);

}  // namespace tern::deliver
