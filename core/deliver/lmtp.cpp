// core/deliver/lmtp.cpp: the lmtp transport: a batch to a local LMTP server (RFC 2033).
//
// As Exim's transports/lmtp.c. The server is a Unix socket (`socket`, expanded) or a
// command (`command`, split and expanded as the pipe transport's; its standard input and
// output are the connection). The conversation: the greeting, LHLO primary_hostname,
// MAIL FROM, one RCPT TO per address (with IGNOREQUOTA when ignore_quota is set and the
// server offers it), DATA and the message (CRLF, dot-stuffed), then one reply per
// accepted recipient, in order; QUIT. Every read waits at most `timeout`.
//
// Results, with Exim's texts: an address refused at RCPT or after the data fails (5xx)
// or defers (4xx) alone ("LMTP error after RCPT TO:<a@b>: 550 5.1.1 ...", "LMTP error
// after end of data: 552 5.2.2 ..."); a delivered one carries the server's reply for
// C=. Anything else (no greeting, a refused MAIL, a timeout "LMTP timeout after
// initial connection", a lost connection) applies to every address still pending.
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/deliver/command.hpp"
#include "core/deliver/message_writer.hpp"
#include "core/deliver/smtp_reply.hpp"
#include "core/deliver/transport.hpp"

namespace tern::deliver {

namespace {

using Clock = std::chrono::steady_clock;

// Why a conversation stopped before every address had its own answer.
struct Stop {
  int code = '4';       // '4' defer or '5' fail, as the reply's first digit (or Exim's choice)
  std::string message;  // Exim's text
  int basic_errno = kErrUnknown;
  int more_errno = 0;
};

// The connection to the LMTP server: descriptors to write and read, the command that
// serves it when there is one, and the reply parser.
class LmtpConnection {
 public:
  LmtpConnection(int write_fd, int read_fd, pid_t command, std::int64_t timeout_s)
      : write_fd_(write_fd), read_fd_(read_fd), command_(command), timeout_(std::chrono::seconds(timeout_s)) {}
  ~LmtpConnection() {
    if (command_ > 0) {
      ::killpg(command_, SIGKILL);
      while (::waitpid(command_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    if (read_fd_ != write_fd_ && read_fd_ >= 0) ::close(read_fd_);
    if (write_fd_ >= 0) ::close(write_fd_);
  }
  LmtpConnection(const LmtpConnection&) = delete;
  LmtpConnection& operator=(const LmtpConnection&) = delete;

  // Sends a command (the text without CRLF is kept for error messages: Exim's big_buffer).
  Status command(std::string line) {
    last_ = line;
    return send(line + "\r\n");
  }
  void set_stage(std::string stage) { last_ = std::move(stage); }
  const std::string& stage() const { return last_; }
  const Stop& failure() const { return failure_; }
  std::int64_t bytes_written() const { return written_; }

  // Writes everything, waiting at most the timeout for room each time.
  Status send(std::string_view data) {
    while (!data.empty()) {
      struct pollfd fd = {write_fd_, POLLOUT, 0};
      int n = ::poll(&fd, 1, static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout_).count()));
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return Error::failed("timeout");
      ssize_t w = send_or_write(write_fd_, data);
      if (w < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (w < 0) return Error::failed(std::strerror(errno));
      data.remove_prefix(static_cast<std::size_t>(w));
      written_ += w;
    }
    return {};
  }

  // The next reply; nullopt when none came in time, the connection closed or it was
  // malformed: failure() says which.
  std::optional<SmtpReply> reply() {
    auto deadline = Clock::now() + timeout_;
    while (true) {
      if (auto r = parser_.next()) {
        if (!*r) return stop(Stop{'4', "Malformed LMTP response after " + last_ + ": " + r->error().message,
                                  kErrSmtpFormat});
        return std::move(**r);
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      struct pollfd fd = {read_fd_, POLLIN, 0};
      int n = left <= 0 ? 0 : ::poll(&fd, 1, static_cast<int>(left));
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) {
        std::string m = "LMTP timeout after " + last_;
        if (written_ > 0 && last_ == "sending data block") m += " (" + std::to_string(written_) + " bytes written)";
        return stop(Stop{'4', m});
      }
      char buf[4096];
      ssize_t got = ::read(read_fd_, buf, sizeof buf);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) return stop(Stop{'4', "LMTP connection closed after " + last_, kErrSmtpClosed});
      parser_.feed(std::string_view(buf, static_cast<std::size_t>(got)));
    }
  }

 private:
  std::nullopt_t stop(Stop why) {
    failure_ = std::move(why);
    return std::nullopt;
  }

  // Sockets get MSG_NOSIGNAL; a command's pipe relies on SIGPIPE being ignored.
  static ssize_t send_or_write(int fd, std::string_view data) {
    ssize_t w = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (w < 0 && errno == ENOTSOCK) w = ::write(fd, data.data(), data.size());
    return w;
  }

  int write_fd_, read_fd_;
  pid_t command_;
  std::chrono::seconds timeout_;
  ReplyParser parser_;
  std::string last_ = "initial connection";
  std::int64_t written_ = 0;
  Stop failure_;
};

class Lmtp final : public Transport {
 public:
  Lmtp(const config::DriverInstance& t, const TransportEnv& env) : t_(t), hostname_(env.primary_hostname) {}

  void deliver(const TransportCall& call, std::vector<AddressResult>& results) override {
    results.assign(call.addresses->size(), AddressResult{});
    auto connection = connect(call);
    if (!connection) {
      for (auto& r : results) set_stop(r, Stop{'4', connection.error().message});
      return;
    }
    if (call.verify_only) {
      for (auto& r : results) r.outcome = Outcome::kDelivered;
      return;
    }
    converse(**connection, call, results);
  }

 private:
  static void set_stop(AddressResult& r, const Stop& stop) {
    r.outcome = stop.code == '5' ? Outcome::kFailed : Outcome::kDeferred;
    r.message = stop.message;
    r.basic_errno = stop.basic_errno;
    r.more_errno = stop.more_errno;
  }

  // A refusal of one address: "LMTP error after <stage>: <reply>".
  static void set_refused(AddressResult& r, const SmtpReply& reply, const std::string& stage, int temp_errno) {
    r.outcome = reply.permanent() ? Outcome::kFailed : Outcome::kDeferred;
    r.message = "LMTP error after " + stage + ": " + reply.printable();
    if (!reply.permanent()) {
      r.basic_errno = temp_errno;
      r.more_errno = ((reply.code / 10) % 10 * 10 + reply.code % 10) << 8;
    }
  }

  Result<std::unique_ptr<LmtpConnection>> connect(const TransportCall& call) const {
    std::int64_t timeout = t_.options.get_int("timeout");
    if (std::string cmd = t_.options.get_string("command"); !cmd.empty()) {
      auto argv = command_arguments(cmd, true, call, t_.name);
      if (!argv) return argv.take_error();
      auto started = start_command(*argv, nullptr, 022, call.addresses->front().home_directory, t_.name);
      if (!started) return started.take_error();
      ::signal(SIGPIPE, SIG_IGN);  // a command that exits early: EPIPE, not death
      return std::make_unique<LmtpConnection>(started->to_child, started->from_child, started->pid, timeout);
    }
    std::string option = t_.options.get_string("socket");
    auto path = expand::expand(option, *call.expand);
    if (!path) return Error::failed("Expansion of \"" + option + "\" (socket setting for " + t_.name +
                                    " transport) failed: " + path.error().message);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error::failed("Failed to create socket " + option + " for " + t_.name + " transport: " +
                                     std::strerror(errno));
    struct sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path->c_str());
    if (::connect(fd, reinterpret_cast<struct sockaddr*>(&sun), sizeof sun) != 0) {
      int e = errno;
      ::close(fd);
      return Error::failed("Failed to connect to socket " + std::string(sun.sun_path) + " for " + t_.name +
                           " transport: " + std::strerror(e));
    }
    return std::make_unique<LmtpConnection>(fd, fd, -1, timeout);
  }

  // Stops every address still without an answer (all of them when `pending` is empty).
  static void stop_pending(std::vector<AddressResult>& results, const std::vector<bool>& answered, const Stop& stop) {
    for (std::size_t i = 0; i < results.size(); ++i)
      if (!answered[i]) set_stop(results[i], stop);
  }

  void converse(LmtpConnection& c, const TransportCall& call, std::vector<AddressResult>& results) const {
    std::vector<bool> answered(results.size(), false);
    auto fail_all = [&](const Stop& stop, bool say_quit) {
      if (say_quit && c.command("QUIT")) (void)c.reply();
      stop_pending(results, answered, stop);
    };
    // A reply that is not the one expected: Exim's check_response().
    auto unexpected = [&](const SmtpReply& reply, int temp_errno) {
      Stop stop{reply.permanent() ? '5' : '4', "LMTP error after " + c.stage() + ": " + reply.printable(), 0};
      if (reply.temporary()) {
        stop.basic_errno = temp_errno;
        stop.more_errno = ((reply.code / 10) % 10 * 10 + reply.code % 10) << 8;
      }
      fail_all(stop, true);
    };
    auto write_failed = [&](const Status& st) {
      fail_all(Stop{'4', "Error " + st.error().message}, false);
    };

    auto greeting = c.reply();
    if (!greeting) return fail_all(c.failure(), false);
    if (greeting->code / 100 != 2) return unexpected(*greeting, kErrUnknown);
    if (auto st = c.command("LHLO " + hostname_); !st) return write_failed(st);
    auto lhlo = c.reply();
    if (!lhlo) return fail_all(c.failure(), false);
    if (lhlo->code / 100 != 2) return unexpected(*lhlo, kErrUnknown);
    std::string ignore_quota;
    if (t_.options.get_bool("ignore_quota"))
      for (const auto& line : lhlo->lines)
        if (line.size() > 4 && strcasecmp(line.c_str() + 4, "IGNOREQUOTA") == 0) ignore_quota = " IGNOREQUOTA";

    if (auto st = c.command("MAIL FROM:<" + call.message->return_path + ">"); !st) return write_failed(st);
    auto mail = c.reply();
    if (!mail) return fail_all(c.failure(), false);
    if (mail->code / 100 != 2) return unexpected(*mail, kErrMail4xx);

    std::vector<bool> accepted(results.size(), false);
    bool any = false;
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (auto st = c.command("RCPT TO:<" + (*call.addresses)[i].address + ">" + ignore_quota); !st)
        return write_failed(st);
      auto rcpt = c.reply();
      if (!rcpt) return fail_all(c.failure(), false);
      if (rcpt->code / 100 == 2) {
        accepted[i] = any = true;
      } else {
        set_refused(results[i], *rcpt, c.stage(), kErrRcpt4xx);
        answered[i] = true;
      }
    }
    if (any) {
      if (auto st = c.command("DATA"); !st) return write_failed(st);
      auto data = c.reply();
      if (!data) return fail_all(c.failure(), false);
      if (data->code / 100 != 3) return unexpected(*data, kErrData4xx);
      c.set_stage("sending data block");
      WriteOptions options;
      options.crlf = options.dot_stuff = options.end_dot = true;
      std::int64_t bytes = 0;
      Status sent = write_message(*call.message, options, [&](std::string_view chunk) { return c.send(chunk); }, &bytes);
      if (!sent) return fail_all(Stop{'4', "LMTP timeout after sending data block"}, false);
      c.set_stage("end of data");
      for (std::size_t i = 0; i < results.size(); ++i) {
        if (!accepted[i]) continue;
        auto reply = c.reply();
        if (!reply) return fail_all(c.failure(), false);
        if (reply->code / 100 == 2) {
          results[i].outcome = Outcome::kDelivered;
          results[i].confirmation = reply->printable();
          results[i].bytes_written = bytes;
        } else {
          set_refused(results[i], *reply, c.stage(), kErrData4xx);
        }
        answered[i] = true;
      }
    }
    if (c.command("QUIT")) (void)c.reply();
  }

  const config::DriverInstance& t_;
  std::string hostname_;
};

}  // namespace

void add_lmtp_transport(TransportRegistry& registry) {
  TransportDriver d;
  d.local = true;
  d.make = [](const config::DriverInstance& t, const TransportEnv& env) -> Result<std::unique_ptr<Transport>> {
    if (t.options.get_string("command").empty() == t.options.get_string("socket").empty())
      return Error::failed("one (and only one) of command or socket must be set for the " + t.name + " transport");
    return std::unique_ptr<Transport>(new Lmtp(t, env));
  };
  registry.add("lmtp", std::move(d));
}

}  // namespace tern::deliver
