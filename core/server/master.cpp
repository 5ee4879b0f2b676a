// core/server/master.cpp: the daemon's master process (-bd, -bdf).
//
// The master never loads module code: it checks the configuration in a
// child (which loads everything, modules included, and exits), reads the
// few main options it needs itself, binds the listening sockets, and
// starts one SMTP worker per core with fork+exec. It accepts every
// connection, applies the connection limits (smtp_accept_max,
// smtp_accept_reserve with smtp_reserve_hosts, smtp_accept_max_per_host)
// with Exim's replies, and hands each accepted socket to the worker with
// the fewest sessions. A worker that dies is logged in the panic log and
// replaced. With -q<time> it also starts a queue runner (`tern -q`, exec'd)
// every interval, at most queue_run_max at once (core/deliver/periodic_runs.hpp). A
// worker's immediate delivery is started here too, as root, in batches when many run
// (core/deliver/immediate_deliveries.hpp). SIGTERM: close the listening sockets, tell the workers to
// finish their sessions, wait for them, exit. (SIGHUP reload: its own
// issue; the seam is reload() below.)
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/config/options.hpp"
#include "core/deliver/immediate_deliveries.hpp"
#include "core/deliver/periodic_runs.hpp"
#include "core/lookup/match.hpp"
#include "core/main/runtime.hpp"
#include "core/server/fd_passing.hpp"
#include "core/server/server_log.hpp"
#include "core/log/log_path.hpp"
#include "core/server/listen.hpp"
#include "core/server/modes.hpp"
#include "core/server/privileges.hpp"
#include "core/server/server_context.hpp"
#include "core/spool/recover.hpp"
#include "core/module_host/setup.hpp"
#include "core/text/list.hpp"

extern char** environ;

namespace tern::server {

namespace {

int signal_pipe[2] = {-1, -1};

void on_signal(int sig) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(sig);
  ssize_t n = ::write(signal_pipe[1], &b, 1);
  (void)n;
  errno = saved;
}

// The main options the master uses, read without loading modules.
struct MasterSettings {
  std::string daemon_smtp_ports, local_interfaces, pid_file_path, spool_directory, log_file_path,
      primary_hostname, exim_user, exim_group, smtp_reserve_hosts, smtp_accept_max_per_host, queue_run_max;
  int smtp_accept_max = 20, smtp_accept_reserve = 0, smtp_connect_backlog = 20;
};

Result<MasterSettings> read_master_settings(const cli::CommandLine& cl) {
  config::OptionRegistry reg;
  if (auto s = config::register_exim_options(reg); !s) return s.take_error();
  if (auto s = module_host::register_module_options(reg); !s) return s.take_error();
  static const std::vector<std::string> names = {
      "daemon_smtp_ports", "local_interfaces", "pid_file_path", "spool_directory", "log_file_path",
      "primary_hostname", "exim_user", "exim_group", "smtp_reserve_hosts", "smtp_accept_max_per_host",
      "smtp_accept_max", "smtp_accept_reserve", "smtp_connect_backlog", "queue_run_max"};
  auto found = config::scan_main_settings(cli::load_request(cl, reg), names);
  if (!found) return found.take_error();
  auto text = [&](const std::string& name) {
    if (auto it = found->find(name); it != found->end()) return it->second.value;
    const config::OptionDef* def = reg.find(config::Scope::kMain, "", name);
    return def && def->default_value.is_set ? def->default_value.text : std::string();
  };
  auto number = [&](const std::string& name, int& out) -> Status {
    auto it = found->find(name);
    if (it == found->end()) return {};
    const config::OptionDef* def = reg.find(config::Scope::kMain, "", name);
    auto v = config::parse_option_value(*def, it->second.value);
    if (!v) return Error::failed(it->second.where.file + ":" + std::to_string(it->second.where.line) + ": " +
                                 v.error().message);
    out = static_cast<int>(v->number);
    return {};
  };
  MasterSettings m;
  m.daemon_smtp_ports = text("daemon_smtp_ports");
  m.local_interfaces = text("local_interfaces");
  m.pid_file_path = text("pid_file_path");
  m.spool_directory = text("spool_directory");
  m.log_file_path = text("log_file_path");
  m.primary_hostname = text("primary_hostname");
  m.exim_user = text("exim_user");
  m.exim_group = text("exim_group");
  m.smtp_reserve_hosts = text("smtp_reserve_hosts");
  m.smtp_accept_max_per_host = text("smtp_accept_max_per_host");
  m.queue_run_max = text("queue_run_max");
  for (auto [name, field] : {std::pair{"smtp_accept_max", &m.smtp_accept_max},
                             std::pair{"smtp_accept_reserve", &m.smtp_accept_reserve},
                             std::pair{"smtp_connect_backlog", &m.smtp_connect_backlog}})
    if (Status s = number(name, *field); !s) return s.take_error();
  if (m.primary_hostname.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    m.primary_hostname = host;
  }
  return m;
}

// Loads everything a worker will load, modules included, in a child, so a
// bad configuration or a refused module stops the daemon before it starts
// and the master itself never runs module code.
bool configuration_is_good(const cli::CommandLine& cl) {
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    if (auto setup = ServerSetup::load(cl); !setup) {
      std::fprintf(stderr, "%s\n", setup.error().message.c_str());
      std::fflush(stderr);
      _exit(1);
    }
    _exit(0);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct Worker {
  pid_t pid = -1;
  int channel = -1;  // the master's end
  size_t sessions = 0;
  std::chrono::steady_clock::time_point started;
};

// Workers that die this many times in a row within a second of starting, or
// exit with kWorkerCannotStart, cannot start at all (the configuration or a module went bad on disk):
// the daemon says so and exits rather than restarting them for ever.
constexpr int kMaxQuickDeaths = 5;

struct Connection {
  size_t worker = 0;
  std::string address;
};

class Master {
 public:
  Master(const cli::CommandLine& cl, MasterSettings s, std::vector<int> listeners, ServerLog& log,
         deliver::PeriodicRuns queue_runs)
      : cl_(cl),
        s_(std::move(s)),
        listeners_(std::move(listeners)),
        log_(log),
        queue_runs_(std::move(queue_runs)),
        // Two delivery processes per core at most; more messages wait for the next batch.
        deliveries_(cli::configuration_arguments(cl), 2 * std::max(1u, std::thread::hardware_concurrency())) {}

  int run();

 private:
  bool start_worker(size_t index);
  void accept_from(int listener);
  void refuse(int fd, const std::string& reply);
  bool in_reserve_hosts(const std::string& address);
  int per_host_limit(const std::string& address);
  void reap();
  void read_worker(size_t index);
  // A worker's request (fd_passing.hpp): `tern -Mc id`, as root.
  void start_delivery(const std::string& id);
  void stop();

  const cli::CommandLine& cl_;
  MasterSettings s_;
  std::vector<int> listeners_;
  ServerLog& log_;
  std::vector<Worker> workers_;
  std::map<uint64_t, Connection> connections_;
  std::map<std::string, int> per_host_;
  deliver::PeriodicRuns queue_runs_;  // -q30m: queue runners started from here
  deliver::ImmediateDeliveries deliveries_;  // `tern -Mc id...` for what the workers accepted
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  int quick_deaths_ = 0;
  bool failed_ = false;  // stopped because workers cannot start
};

bool Master::start_worker(size_t index) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    log_.panic(std::string("socketpair for an SMTP worker: ") + std::strerror(errno));
    return false;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    log_.panic(std::string("fork for an SMTP worker: ") + std::strerror(errno));
    ::close(pair[0]);
    ::close(pair[1]);
    return false;
  }
  if (pid == 0) {
    // The child keeps only its end of the channel (no listening sockets:
    // connections come through the channel).
    ::dup2(pair[1], 3);
    std::vector<std::string> args = {"/proc/self/exe"};
    for (auto& a : cli::configuration_arguments(cl_)) args.push_back(std::move(a));
    args.insert(args.end(), {"--tern-smtp-worker", "3"});
    if (cl_.foreground) args.push_back("stderr");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGHUP, SIG_DFL);
    ::signal(SIGCHLD, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    ::execve("/proc/self/exe", argv.data(), environ);
    _exit(127);
  }
  ::close(pair[1]);
  ::fcntl(pair[0], F_SETFL, ::fcntl(pair[0], F_GETFL) | O_NONBLOCK);
  if (index >= workers_.size()) workers_.resize(index + 1);
  workers_[index] = Worker{pid, pair[0], 0, std::chrono::steady_clock::now()};
  return true;
}

void Master::refuse(int fd, const std::string& reply) {
  ssize_t n = ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)n;
  ::close(fd);
}

bool Master::in_reserve_hosts(const std::string& address) {
  if (s_.smtp_reserve_hosts.empty()) return false;
  lookup::MatchEnv env;
  auto r = lookup::match_list(address, s_.smtp_reserve_hosts, lookup::ListKind::kHost, env);
  return r && r->matched();
}

int Master::per_host_limit(const std::string& address) {
  (void)address;
  if (s_.smtp_accept_max_per_host.empty()) return 0;
  return std::atoi(s_.smtp_accept_max_per_host.c_str());
}

void Master::accept_from(int listener) {
  for (;;) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(listener, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) log_.panic(std::string("accept: ") + std::strerror(errno));
      return;
    }
    char text[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET6) {
      auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
      if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
        inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], text, sizeof text);
      else
        inet_ntop(AF_INET6, &s6->sin6_addr, text, sizeof text);
    } else {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, text, sizeof text);
    }
    std::string address = text;
    const int active = static_cast<int>(connections_.size());
    // Exim's daemon.c checks, in this order, with its replies and log lines.
    if (s_.smtp_accept_max > 0 && active >= s_.smtp_accept_max) {
      refuse(fd, "421 Too many concurrent SMTP connections; please try again later.\r\n");
      log_.main("Connection from [" + address + "] refused: too many connections");
      continue;
    }
    if (s_.smtp_accept_reserve > 0 && active >= s_.smtp_accept_max - s_.smtp_accept_reserve &&
        !in_reserve_hosts(address)) {
      refuse(fd, "421 " + s_.primary_hostname + " Too many concurrent SMTP connections; please try again later\r\n");
      log_.main("Connection from [" + address + "] temporarily refused: not in reserve list");
      continue;
    }
    if (int limit = per_host_limit(address); limit > 0 && per_host_[address] >= limit) {
      refuse(fd, "421 Too many concurrent SMTP connections from this IP address; please try again later.\r\n");
      log_.main("Connection from [" + address + "] refused: too many connections from that IP address");
      continue;
    }
    size_t best = workers_.size();
    for (size_t i = 0; i < workers_.size(); ++i)
      if (workers_[i].pid > 0 && (best == workers_.size() || workers_[i].sessions < workers_[best].sessions))
        best = i;
    if (best == workers_.size()) {
      refuse(fd, "421 " + s_.primary_hostname + " Service not available - closing connection\r\n");
      continue;
    }
    uint64_t id = next_id_++;
    if (!send_connection(workers_[best].channel, ControlPacket{id}, fd)) {
      refuse(fd, "421 " + s_.primary_hostname + " Service not available - closing connection\r\n");
      log_.panic(std::string("passing a connection to an SMTP worker: ") + std::strerror(errno));
      continue;
    }
    ::close(fd);
    ++workers_[best].sessions;
    connections_[id] = Connection{best, address};
    ++per_host_[address];
  }
}

void Master::start_delivery(const std::string& id) {
  // Ids are the workers' own; a malformed one is refused rather than passed on.
  bool plausible = !id.empty() && id.find_first_not_of(
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-") == std::string::npos;
  if (!plausible) {
    log_.panic("SMTP worker asked for the delivery of a malformed message id");
    return;
  }
  if (std::string error = deliveries_.request(id); !error.empty())
    log_.panic("failed to start the delivery of " + id + ": " + error);
}

void Master::read_worker(size_t index) {
  Worker& w = workers_[index];
  for (;;) {
    auto p = receive_packet(w.channel);
    if (!p) return;
    if (p->packet.deliver[0] != '\0') {
      start_delivery(std::string(p->packet.deliver, strnlen(p->packet.deliver, sizeof p->packet.deliver)));
      continue;
    }
    auto it = connections_.find(p->packet.connection);
    if (it == connections_.end()) continue;
    if (--per_host_[it->second.address] <= 0) per_host_.erase(it->second.address);
    connections_.erase(it);
    if (w.sessions > 0) --w.sessions;
  }
}

void Master::reap() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (queue_runs_.reaped(pid)) continue;
    if (std::string error; deliveries_.reaped(pid, error)) {
      if (!error.empty()) log_.panic("failed to start waiting deliveries: " + error);
      continue;
    }
    for (size_t i = 0; i < workers_.size(); ++i) {
      if (workers_[i].pid != pid) continue;
      ::close(workers_[i].channel);
      workers_[i].pid = -1;
      workers_[i].channel = -1;
      // Its sessions are gone with it.
      for (auto it = connections_.begin(); it != connections_.end();) {
        if (it->second.worker == i) {
          if (--per_host_[it->second.address] <= 0) per_host_.erase(it->second.address);
          it = connections_.erase(it);
        } else {
          ++it;
        }
      }
      if (stopping_) break;
      // A worker that said it cannot start counts however slow its start was
      // (a loaded machine, a sanitizer build).
      const bool quick = std::chrono::steady_clock::now() - workers_[i].started < std::chrono::seconds(1) ||
                         (WIFEXITED(status) && WEXITSTATUS(status) == kWorkerCannotStart);
      quick_deaths_ = quick ? quick_deaths_ + 1 : 0;
      if (quick_deaths_ >= kMaxQuickDeaths) {
        log_.panic("SMTP workers cannot start (" + std::to_string(kMaxQuickDeaths) +
                   " died within a second of starting): daemon exiting");
        stop();
        failed_ = true;
        break;
      }
      std::string how = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                            : "exited with status " + std::to_string(WEXITSTATUS(status));
      log_.panic("SMTP worker process " + std::to_string(pid) + " " + how + "; starting a new one");
      // A worker that cannot even start (bad module on disk) must not spin.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      start_worker(i);
      break;
    }
  }
}

void Master::stop() {
  stopping_ = true;
  for (int fd : listeners_) ::close(fd);
  listeners_.clear();
  for (auto& w : workers_)
    if (w.channel >= 0) ::shutdown(w.channel, SHUT_RDWR);
}

int Master::run() {
  size_t n = std::thread::hardware_concurrency();
  if (n == 0) n = 1;
  for (size_t i = 0; i < n; ++i)
    if (!start_worker(i)) return 1;
  log_.main("daemon started: pid=" + std::to_string(::getpid()) + ", " +
            (queue_runs_.enabled() ? queue_runs_.describe() + ", " : "") + std::to_string(n) + " SMTP workers");

  for (;;) {
    std::vector<pollfd> fds;
    fds.push_back({signal_pipe[0], POLLIN, 0});
    for (int l : listeners_) fds.push_back({l, POLLIN, 0});
    for (auto& w : workers_) fds.push_back({w.channel, static_cast<short>(w.channel >= 0 ? POLLIN : 0), 0});
    int r = ::poll(fds.data(), fds.size(), stopping_ ? 200 : queue_runs_.timeout_ms());
    if (r < 0 && errno != EINTR) {
      log_.panic(std::string("poll: ") + std::strerror(errno));
      return 1;
    }
    if (fds[0].revents & POLLIN) {
      unsigned char sig[16];
      ssize_t got = ::read(signal_pipe[0], sig, sizeof sig);
      for (ssize_t i = 0; i < got; ++i) {
        if (sig[i] == SIGCHLD) reap();
        if ((sig[i] == SIGTERM || sig[i] == SIGINT) && !stopping_) {
          log_.main("pid " + std::to_string(::getpid()) + ": SIGTERM received: daemon terminating");
          stop();
        }
        if (sig[i] == SIGHUP)
          log_.main("SIGHUP received: reloading is not in this build yet; the configuration is unchanged");
      }
    }
    if (stopping_) {
      reap();
      bool any = false;
      for (auto& w : workers_) any |= w.pid > 0;
      if (!any) return failed_ ? 1 : 0;
      continue;
    }
    if (std::string e = queue_runs_.start_due(); !e.empty()) log_.panic(e);
    size_t k = 1;
    for (size_t i = 0; i < listeners_.size(); ++i, ++k)
      if (fds[k].revents & POLLIN) accept_from(listeners_[i]);
    for (size_t i = 0; i < workers_.size() && k < fds.size(); ++i, ++k)
      if (fds[k].revents & (POLLIN | POLLHUP)) read_worker(i);
  }
  return 0;
}

}  // namespace

int run_daemon(const cli::CommandLine& cl) {
  auto settings = read_master_settings(cl);
  if (!settings) {
    std::fprintf(stderr, "%s\n", settings.error().message.c_str());
    return 1;
  }
  auto queue_runs = deliver::PeriodicRuns::from_command_line(cl, settings->queue_run_max);
  if (!queue_runs) {
    std::fprintf(stderr, "tern: %s\n", queue_runs.error().message.c_str());
    return 1;
  }
  if (!configuration_is_good(cl)) return 1;
  // Before anything listens: remove what a crash left half-written (never
  // acknowledged), keep every message that was.
  std::string recovered;
  std::error_code dir_error;
  std::filesystem::create_directories(settings->spool_directory + "/input", dir_error);
  spool::SpoolConfig spool_config;
  spool_config.directory = settings->spool_directory;
  if (auto report = spool::recover(spool::Spool(spool_config)); !report) {
    std::fprintf(stderr, "tern: %s\n", ("spool recovery failed: " + report.error().message).c_str());
    return 1;
  } else if (!report->removed.empty()) {
    recovered = "spool recovery: removed " + std::to_string(report->removed.size()) +
                " files of messages never acknowledged; " + std::to_string(report->messages) + " messages kept";
  }
  auto addresses = listen_addresses(settings->local_interfaces, settings->daemon_smtp_ports, cl.listen);
  if (!addresses) {
    std::fprintf(stderr, "tern: %s\n", addresses.error().message.c_str());
    return 1;
  }
  std::vector<int> listeners;
  for (const auto& a : *addresses) {
    auto fd = bind_listener(a, settings->smtp_connect_backlog);
    if (!fd) {
      std::fprintf(stderr, "tern: %s\n", fd.error().message.c_str());
      return 1;
    }
    listeners.push_back(*fd);
  }

  // The spool (and the default log directory below it) belong to exim_user.
  std::error_code ec;
  std::filesystem::create_directories(settings->spool_directory + "/input", ec);
  std::filesystem::create_directories(settings->spool_directory + "/msglog", ec);
  std::filesystem::create_directories(settings->spool_directory + "/log", ec);
  if (::getuid() == 0) {
    auto who = resolve_run_as(settings->exim_user, settings->exim_group);
    if (!who) {
      std::fprintf(stderr, "tern: %s\n", who.error().message.c_str());
      return 1;
    }
    give_to(settings->spool_directory, *who, true);
    for (const std::string& item : text::list_items(settings->log_file_path)) {
      if (item.empty() || item == "syslog") continue;
      std::string dir = std::filesystem::path(item).parent_path().string();
      std::filesystem::create_directories(dir, ec);
      give_to(dir, *who, false);
      for (const char* which : {"main", "reject", "panic"}) {
        std::string file = item;
        if (auto p = file.find("%s"); p != std::string::npos) file.replace(p, 2, which);
        int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd >= 0) {
          if (::fchown(fd, who->uid, who->gid) != 0) {
          }
          ::close(fd);
        }
      }
    }
  }

  if (!cl.foreground) {
    pid_t pid = ::fork();
    if (pid < 0) {
      std::perror("tern: fork");
      return 1;
    }
    if (pid > 0) _exit(0);
    ::setsid();
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      if (null > 2) ::close(null);
    }
  }
  // Exim writes no pid file when -oX is given (unless -oP names one).
  std::string pid_file = cl.listen.empty() ? settings->pid_file_path : std::string();
  if (!pid_file.empty()) {
    std::filesystem::create_directories(std::filesystem::path(pid_file).parent_path(), ec);
    if (FILE* f = std::fopen(pid_file.c_str(), "w")) {
      std::fprintf(f, "%d\n", static_cast<int>(::getpid()));
      std::fclose(f);
    }
  }

  // The master's own log: the same files (it has no expansion: log_file_path
  // is taken as written, which covers every path without ${...}).
  auto destinations = log::parse_log_file_path(settings->log_file_path, settings->spool_directory);
  if (!destinations) {
    std::fprintf(stderr, "tern: %s\n", destinations.error().message.c_str());
    return 1;
  }
  log::LoggerOptions log_options;
  log_options.destinations = std::move(*destinations);
  log_options.mirror_fd = cl.foreground ? 2 : -1;
  log_options.stderr_fd = cl.foreground ? 2 : -1;
  FileLog log(std::move(log_options));
  if (::pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return 1;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) ::sigaction(sig, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  if (!recovered.empty()) log.main(recovered);
  Master master(cl, std::move(*settings), std::move(listeners), log, std::move(*queue_runs));
  int rc = master.run();
  if (!pid_file.empty()) ::unlink(pid_file.c_str());
  return rc;
}

}  // namespace tern::server
