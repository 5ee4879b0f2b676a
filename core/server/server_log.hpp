// core/server/server_log.hpp: where the SMTP side writes its log lines.
//
// The session builds Exim's lines with core/log's builders (reception,
// acl_rejection, command_timeout, ...) or says a plain text, and a
// ServerLog sends them on: the daemon's and -bs's to Exim's log files
// (core/log's Logger), -bh's to stderr as "LOG: ..." (Exim's -bh shows
// what it would log instead of writing it).
#pragma once

#include <memory>
#include <string_view>

#include "core/acl/acl.hpp"
#include "core/log/logger.hpp"
#include "core/log/selector.hpp"

namespace tern::server {

class ServerLog {
 public:
  virtual ~ServerLog() = default;
  virtual void write(const log::Line& line, const log::RejectContext* context = nullptr) = 0;
  virtual const log::Selectors& selectors() const = 0;

  // A plain text in the main log; `id` is the message it is about.
  void main(std::string_view text, std::string_view id = {}) { write(line(text, log::kToMain, id)); }
  // Rejections: the reject log and the main log.
  void reject(std::string_view text, std::string_view id = {}) {
    write(line(text, log::kToMain | log::kToReject, id));
  }
  // Serious errors: the panic log and the main log.
  void panic(std::string_view text) { write(line(text, log::kToMain | log::kToPanic, {})); }
  // An ACL's logwrite or warning line, to the logs it names (acl::kLog* are log::kTo*).
  void acl(const acl::LogLine& l) { write(line(l.text, l.targets, {})); }

 private:
  static log::Line line(std::string_view text, unsigned targets, std::string_view id) {
    log::Line l;
    l.text = std::string(text);
    l.targets = targets;
    l.message_id = std::string(id);
    return l;
  }
};

// Exim's log files through core/log.
class FileLog final : public ServerLog {
 public:
  explicit FileLog(log::LoggerOptions options) : logger_(std::move(options)) {}
  void write(const log::Line& line, const log::RejectContext* context = nullptr) override {
    logger_.write(line, context);
  }
  const log::Selectors& selectors() const override { return logger_.selectors(); }

 private:
  log::Logger logger_;
};

// -bh: "LOG: <line>" on stderr, as Exim shows it.
class TestingLog final : public ServerLog {
 public:
  explicit TestingLog(log::Selectors selectors) : selectors_(selectors) {}
  void write(const log::Line& line, const log::RejectContext* context = nullptr) override;
  const log::Selectors& selectors() const override { return selectors_; }

 private:
  log::Selectors selectors_;
};

}  // namespace tern::server
