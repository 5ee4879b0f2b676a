// core/spool/test_util.hpp: a scratch spool directory and a sample envelope for the tests.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "core/spool/envelope.hpp"
#include "core/spool/spool.hpp"

namespace tern::spool::testing {

// A fresh spool under $TMPDIR, removed at the end of the test.
class ScratchSpool {
 public:
  explicit ScratchSpool(bool split = false) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tern-spool-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    spool_ = std::make_unique<Spool>(SpoolConfig{dir_, split});
    (void)spool_->create_dirs();
  }
  ~ScratchSpool() { std::filesystem::remove_all(dir_); }
  const Spool& spool() const { return *spool_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::unique_ptr<Spool> spool_;
};

inline Envelope sample_envelope(const std::string& id) {
  Envelope e;
  e.id = id;
  e.originator_login = "mail";
  e.originator_uid = 8;
  e.originator_gid = 12;
  e.sender = "sender@client.example";
  e.received_time = 1795946268;
  e.set_var("received_protocol", "esmtp");
  e.set_var("host_address", "[192.0.2.7]:4242", true);
  e.set_var("received_time_usec", ".485475");
  e.set_var("helo_name", "client.example", true);
  e.set_acl_var('m', "_flag", "two\nlines", true);
  e.set_acl_var('c', "0", "connection value");
  e.set_var("body_linecount", "4");
  e.set_flag("deliver_firsttime");
  e.recipients.push_back({"alice@test.example", "", 0, "", -1});
  e.recipients.push_back({"bob@other.example", "rfc822;bob@orig.example", 6, "", -1});
  e.headers.push_back({'P', "Received: from client.example\n\tby mx.test.example; Sun, 29 Nov 2026 09:57:48 +0000\n"});
  e.headers.push_back({'F', "From: Sender <sender@client.example>\n"});
  e.headers.push_back({' ', "Subject: hello\n"});
  return e;
}

}  // namespace tern::spool::testing
