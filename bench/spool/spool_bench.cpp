// bench/spool/spool_bench.cpp: durable accept rate of the spool with 1 and 20 writers.
//
// Each writer thread plays an SMTP session: takes an id, writes a 4 KiB body and a -H,
// hands the message to the shared Committer and waits for "durable" before the next one
// (a session cannot send 250 earlier). Reports messages/s and fsync rounds per message.
//
//   spool_bench [spool_dir] [seconds_per_run]     (default: $TMPDIR, 3 s)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/spool/committer.hpp"
#include "core/spool/incoming.hpp"
#include "core/spool/message_id.hpp"
#include "core/spool/spool.hpp"

using namespace tern::spool;

namespace {

Envelope envelope(const std::string& id) {
  Envelope e;
  e.id = id;
  e.originator_login = "mail";
  e.sender = "sender@client.example";
  e.received_time = 1795946268;
  e.set_var("host_address", "[192.0.2.7]:4242", true);
  e.set_var("received_protocol", "esmtp");
  e.set_var("body_linecount", "64");
  e.recipients.push_back({"alice@test.example", "", 0, "", -1});
  e.headers.push_back({'P', "Received: from client.example ([192.0.2.7])\n\tby mx.test.example with esmtp (tern)\n"});
  e.headers.push_back({' ', "Subject: bench\n"});
  return e;
}

void run(const std::string& base, int writers, double seconds) {
  std::string dir = base + "/bench-" + std::to_string(writers);
  std::filesystem::remove_all(dir);
  Spool spool(SpoolConfig{dir, false});
  if (!spool.create_dirs()) return;
  const std::string body(4096, 'x');
  Committer committer;
  IdGenerator ids;
  std::atomic<bool> stop{false};
  std::atomic<long> done{0}, failed{0};
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&] {
      while (!stop) {
        auto m = IncomingMessage::create(spool, ids.next().text());
        if (!m || !m->write_body(body) || !m->finish(envelope(m->id()))) {
          ++failed;
          continue;
        }
        if (committer.commit(std::move(*m)))
          ++done;
        else
          ++failed;
      }
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CommitStats st = committer.stats();
  std::printf("writers=%2d  messages=%6ld  %8.0f msg/s  rounds/msg=%.3f  fdatasync/msg=%.1f  dirsync/msg=%.3f  failed=%ld\n",
              writers, done.load(), double(done) / secs, double(st.rounds) / double(st.messages),
              double(st.file_syncs) / double(st.messages), double(st.dir_syncs) / double(st.messages),
              failed.load());
  std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  std::string base = argc > 1 ? argv[1] : std::filesystem::temp_directory_path().string();
  double seconds = argc > 2 ? std::stod(argv[2]) : 3.0;
  for (int writers : {1, 20}) run(base, writers, seconds);
}
