// modules/redis/redis.cpp: the tern module "redis": Exim's Redis lookup.
//
// Brings
//   lookup    ${lookup redis{GET key}}, ${lookup redis,servers=<list>{...}}
//             (query style; TERN_MAY_BLOCK, so it runs on the core's
//             thread pool and a slow Redis never stalls a session)
//   operator  ${quote_redis:text}   backslash before white space and backslash
//   options   redis_servers (main, Exim's list of host/db/password)
//             redis_connect_timeout (main, time, default 2s)
//             redis_timeout (main, time, default 5s): wait for one reply
//             redis_hold_down (main, time, default 10s): a listed server
//             that was unreachable or mute is skipped that long
// The Client object (connections, cluster maps) lives in the module object:
// one per loaded generation, shared by the lookup threads.
#include <tern/module.hpp>

#include <optional>
#include <string>

#include "client.hpp"
#include "command.hpp"
#include "server_list.hpp"

namespace {

using namespace tern::redis;

class Redis final : public tern::Module {
 public:
  tern::Status init(tern::Registrar& r) override {
    r.option("redis_servers", tern::OptionType::kString, tern::scope::kMain);
    r.option("redis_connect_timeout", tern::OptionType::kTime, tern::scope::kMain, "2s");
    r.option("redis_timeout", tern::OptionType::kTime, tern::scope::kMain, "5s");
    r.option("redis_hold_down", tern::OptionType::kTime, tern::scope::kMain, "10s");
    r.lookup("redis", {.query = true,
                       .blocking = {true, static_cast<uint32_t>(kCoreDeadline.count())},
                       .find = [this](tern::Call& c, tern::LookupRequest& q) { return find(c, q); },
                       .quote = quote_option});
    return tern::ok();
  }
  void fini() override { client_.close_all(); }

 private:
  std::optional<std::string> find(tern::Call& c, tern::LookupRequest& q) {
    std::optional<std::string> main_list;
    std::string text;
    tern::Status st = c.option("redis_servers", text);
    if (st == tern::ok()) main_list = std::move(text);
    else if (st != tern::decline()) throw tern::Defer("redis_servers: the option cannot be read");

    auto selected = tern::lookup_servers::select_servers(kFlavor, q.key, q.options, main_list);
    if (selected.index() == 1) throw tern::Defer(std::get<1>(selected));
    const tern::lookup_servers::Selection& sel = std::get<0>(selected);
    if (sel.old_syntax) c.log(tern::LogLevel::kMain, "WARNING: obsolete syntax used for lookup");
    if (sel.names.empty()) throw tern::Defer("no Redis servers defined (redis_servers option)");

    LookupResult r = client_.run(sel.names, main_list, sel.query, timeouts(c));
    switch (r.status) {
      case LookupResult::Status::kFound:
        q.no_cache = !r.cacheable;
        return std::move(r.data);
      case LookupResult::Status::kNotFound: return std::nullopt;
      case LookupResult::Status::kDefer: break;
    }
    throw tern::Defer(r.error);
  }

  static Timeouts timeouts(tern::Call& c) {
    Timeouts t;
    if (auto v = c.option_int("redis_connect_timeout")) t.connect = std::chrono::seconds(*v);
    if (auto v = c.option_int("redis_timeout")) t.reply = std::chrono::seconds(*v);
    if (auto v = c.option_int("redis_hold_down"); v && *v >= 0) t.hold_down = std::chrono::seconds(*v);
    return t;
  }

  // ${quote_redis:...}; Exim's redis_quote knows no options.
  static std::string quote_option(std::string_view in, std::string_view options) {
    if (!options.empty()) throw tern::Error("\"" + std::string(options) + "\" unrecognized after \"${quote_redis\"");
    return quote(in);
  }

  Client client_;
};

}  // namespace

TERN_MODULE(Redis, "redis", "1.0.0")
