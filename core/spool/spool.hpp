// core/spool/spool.hpp: where a message's files live, and reading them back.
//
// Exim's layout, which tern keeps so Exim's tools and habits work on a tern spool:
//
//   spool_directory/input/<id>-H        envelope and headers (header_file.hpp)
//   spool_directory/input/<id>-D        "<id>-D\n" then the body (LF line ends)
//   spool_directory/input/<id>-J        delivery journal: addresses done, one a line
//   spool_directory/input/hdr.<id>      -H being written (Exim's temporary name)
//   spool_directory/input/dat.<id>      -D being written (tern's: Exim writes -D in place)
//   spool_directory/msglog/<id>         the per-message log
//
// With split_spool_directory, input/ and msglog/ gain one subdirectory level named by the
// id's 6th character (the last digit of the time), as Exim does; readers look in both
// places, as Exim does, so turning the option on or off strands nothing.
//
// The Spool object is immutable after construction and safe to share between threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/spool/envelope.hpp"
#include "core/spool/fs_util.hpp"
#include "core/spool/message_id.hpp"

namespace tern::spool {

struct SpoolConfig {
  std::string directory;  // spool_directory
  bool split = false;     // split_spool_directory
};

// Bytes before the body in a -D file: the id, "-D" and the newline.
inline std::size_t data_start_offset(std::string_view id) { return id.size() + 3; }

class Spool {
 public:
  explicit Spool(SpoolConfig config);

  const SpoolConfig& config() const { return config_; }
  // Creates spool_directory, input/ and msglog/ (and, when split, the subdirectory the id
  // needs, through input_dir_for_write()).
  Status create_dirs() const;

  // The input directory a new message with this id is written to (created if split).
  Result<std::string> input_dir_for_write(std::string_view id) const;
  // Where the message's files are now: the split or the unsplit directory.
  std::string input_dir(std::string_view id) const;
  std::string header_path(std::string_view id) const { return input_dir(id) + "/" + std::string(id) + "-H"; }
  std::string data_path(std::string_view id) const { return input_dir(id) + "/" + std::string(id) + "-D"; }
  std::string journal_path(std::string_view id) const { return input_dir(id) + "/" + std::string(id) + "-J"; }
  std::string msglog_path(std::string_view id) const;
  std::string input_root() const { return config_.directory + "/input"; }

  // Ids of the messages on the spool (those with a -H), sorted, both layouts searched.
  Result<std::vector<std::string>> list() const;
  Result<Envelope> read_header(std::string_view id) const;
  // The body: the -D file without its first line.
  Result<std::string> read_body(std::string_view id) const;
  // Exim's message size (-bp, S=): transmitted headers + body + 1.
  Result<std::int64_t> message_size(std::string_view id) const;
  // Deletes a message's files in Exim's order (-D first, so a crash part-way leaves a -H
  // without -D, which recover() removes and readers treat as gone), then the directory
  // is synced.
  Status remove(std::string_view id) const;

 private:
  SpoolConfig config_;
};

// Exim's lock on a message being delivered: a write lock on the first line of the -D file
// (fcntl, so it also excludes an Exim process working on the same spool). Released when
// the object is destroyed.
class MessageLock {
 public:
  // Fails with kDefer when another process holds the lock, kFailed if there is no -D.
  static Result<MessageLock> acquire(const Spool& spool, std::string_view id);
  MessageLock(MessageLock&&) = default;
  MessageLock& operator=(MessageLock&&) = default;

 private:
  explicit MessageLock(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

}  // namespace tern::spool
