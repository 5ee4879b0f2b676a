// core/spool/journal.cpp: the -J file and the -H rewrite that folds it in.
#include "core/spool/journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "core/spool/header_file.hpp"

namespace tern::spool {

Result<DeliveryJournal> DeliveryJournal::open(const Spool& spool, std::string_view id) {
  std::string path = spool.journal_path(id);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return sys_error("open", path, errno);
  Fd f(fd);
  // A new -J must survive a crash as a name too, or its lines would be lost with it.
  if (auto s = fsync_dir(spool.input_dir(id)); !s) return s.take_error();
  return DeliveryJournal(std::move(f), std::move(path));
}

Status DeliveryJournal::mark_done(std::string_view address) {
  std::string line(address);
  line += '\n';
  if (auto s = write_all(fd_.get(), line, path_); !s) return s;
  if (::fdatasync(fd_.get()) < 0) return sys_error("fsync", path_, errno);
  return {};
}

Result<Envelope> load_for_delivery(const Spool& spool, std::string_view id) {
  auto env = spool.read_header(id);
  if (!env) return env;
  auto journal = read_file(spool.journal_path(id));
  if (!journal) return env;  // no -J: nothing was done since the -H was written
  std::string_view rest = *journal;
  for (std::size_t nl; (nl = rest.find('\n')) != std::string_view::npos; rest.remove_prefix(nl + 1))
    if (nl > 0) env->nonrecipients.emplace(rest.substr(0, nl));
  return env;
}

Status rewrite_header(const Spool& spool, const Envelope& env) {
  std::string dir = spool.input_dir(env.id);
  if (auto s = write_durably(dir, dir + "/hdr." + env.id, dir + "/" + env.id + "-H",
                             format_header_file(env));
      !s)
    return s;
  std::string j = spool.journal_path(env.id);
  if (::unlink(j.c_str()) < 0 && errno != ENOENT) return sys_error("unlink", j, errno);
  return {};
}

}  // namespace tern::spool
