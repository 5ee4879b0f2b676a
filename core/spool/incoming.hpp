// core/spool/incoming.hpp: a message being received, written to temporary files.
//
// The SMTP session (or -bs, -bm) makes one per message once it has an id:
//
//   auto msg = IncomingMessage::create(spool, ids.next().text());   // opens dat.<id>
//   msg->write_body(chunk) ...               // body bytes, LF line ends, dots unstuffed
//   msg->finish(envelope)                    // writes hdr.<id>; nothing is durable yet
//   committer.submit(std::move(*msg), done)  // durable, then done(Status): send 250/451
//
// Until the Committer has renamed the files, nothing is visible to readers of the spool
// (list(), -bp, queue runners); an IncomingMessage destroyed before that removes its
// temporary files. Writes go to the page cache: the only fsyncs are the Committer's.
#pragma once

#include <string>
#include <string_view>

#include "core/base/result.hpp"
#include "core/spool/envelope.hpp"
#include "core/spool/fs_util.hpp"
#include "core/spool/spool.hpp"

namespace tern::spool {

class IncomingMessage {
 public:
  static Result<IncomingMessage> create(const Spool& spool, std::string id);
  IncomingMessage(IncomingMessage&&) noexcept = default;
  IncomingMessage& operator=(IncomingMessage&&) noexcept = default;
  ~IncomingMessage();  // removes the temporary files unless committed

  const std::string& id() const { return id_; }
  Status write_body(std::string_view bytes);
  std::int64_t body_size() const { return body_size_; }
  // Flushes what was written and opens the -D for reading, positioned at the body's
  // first byte (after its id line): an after-DATA hook reads the message through it.
  // The descriptor is independent of the writer's and stays valid after an abort().
  Result<Fd> open_body_for_reading();
  // Flushes the body and writes the -H under its temporary name. env.id must be id().
  Status finish(const Envelope& env);
  bool finished() const { return header_fd_.get() >= 0; }
  // Removes the temporary files (the message is refused).
  void abort();

 private:
  friend class Committer;
  IncomingMessage() = default;
  Status flush();

  std::string id_, dir_, data_tmp_, header_tmp_;
  Fd data_fd_, header_fd_;
  std::string buf_;
  std::int64_t body_size_ = 0;
  bool committed_ = false;
};

}  // namespace tern::spool
