// core/dns/resolver.cpp: Resolver over libunbound's threaded asynchronous interface.
//
// libunbound resolves in a worker thread of its own; results are delivered
// by ub_process() on whichever thread calls it. Here one small thread does
// nothing but wait on ub_fd() and call ub_process(), which completes the
// waiting queries; a caller whose deadline passes cancels its query (if the
// answer is being delivered at that moment, the callback still runs and
// frees what it was given).
#include "core/dns/resolver.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unbound.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "core/text/ipaddr.hpp"

namespace tern::dns {
namespace {

// One query in flight; shared by the caller and the callback.
struct Pending {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int err = 0;
  ub_result* result = nullptr;
  ~Pending() {
    if (result) ub_resolve_free(result);
  }
};

void on_result(void* data, int err, ub_result* result) {
  auto* holder = static_cast<std::shared_ptr<Pending>*>(data);
  {
    std::lock_guard<std::mutex> lock((*holder)->mu);
    (*holder)->err = err;
    (*holder)->result = result;
    (*holder)->done = true;
  }
  (*holder)->cv.notify_all();
  delete holder;
}

// The PTR records of a hosts file ("127.0.0.1 localhost" answers 1.0.0.127.in-addr.arpa),
// which libunbound's ub_ctx_hosts() does not make: the system's gethostbyaddr() reads the
// file, and Exim falls back to it when the DNS has no name. The first name of the first
// line of an address is its name, as glibc's.
std::vector<std::string> hosts_file_ptr_records(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::set<std::string> seen;
  std::string line;
  while (std::getline(in, line)) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string address, name;
    if (!(words >> address >> name)) continue;
    int version = text::ip_version(address);
    if (version == 0 || !seen.insert(address).second) continue;
    out.push_back(text::reverse_ip(address) + (version == 6 ? ".ip6.arpa. PTR " : ".in-addr.arpa. PTR ") + name +
                  ".");
  }
  return out;
}

// The local zones libunbound serves by default (RFC 6761, RFC 6303 and
// friends: unbound's local_zone_enter_defaults).
std::vector<std::string> special_use_zones() {
  std::vector<std::string> z = {"localhost.",
                                "127.in-addr.arpa.",
                                "home.arpa.",
                                "resolver.arpa.",
                                "service.arpa.",
                                "onion.",
                                "test.",
                                "invalid.",
                                "10.in-addr.arpa.",
                                "168.192.in-addr.arpa.",
                                "0.in-addr.arpa.",
                                "254.169.in-addr.arpa.",
                                "2.0.192.in-addr.arpa.",
                                "100.51.198.in-addr.arpa.",
                                "113.0.203.in-addr.arpa.",
                                "255.255.255.255.in-addr.arpa.",
                                "d.f.ip6.arpa.",
                                "8.e.f.ip6.arpa.",
                                "9.e.f.ip6.arpa.",
                                "a.e.f.ip6.arpa.",
                                "b.e.f.ip6.arpa.",
                                "8.b.d.0.1.0.0.2.ip6.arpa."};
  std::string zeros;
  for (int i = 0; i < 31; ++i) zeros += "0.";
  z.push_back("1." + zeros + "ip6.arpa.");
  z.push_back("0." + zeros + "ip6.arpa.");
  for (int i = 16; i <= 31; ++i) z.push_back(std::to_string(i) + ".172.in-addr.arpa.");
  for (int i = 64; i <= 127; ++i) z.push_back(std::to_string(i) + ".100.in-addr.arpa.");
  return z;
}

}  // namespace

struct Resolver::Context {
  ub_ctx* ctx = nullptr;
  int wake[2] = {-1, -1};  // written to stop the processing thread
  std::thread processor;

  ~Context() {
    if (wake[1] >= 0) {
      char c = 0;
      (void)!write(wake[1], &c, 1);
    }
    if (processor.joinable()) processor.join();
    if (ctx) ub_ctx_delete(ctx);  // cancels what is left; callbacks are not called
    for (int fd : wake)
      if (fd >= 0) close(fd);
  }

  void process() {
    pollfd fds[2] = {{ub_fd(ctx), POLLIN, 0}, {wake[0], POLLIN, 0}};
    for (;;) {
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents) return;
      if (fds[0].revents) ub_process(ctx);
    }
  }
};

Resolver::Resolver(ResolverOptions options) : options_(std::move(options)) {}
Resolver::~Resolver() = default;

Result<Resolver::Context*> Resolver::context() {
  std::lock_guard<std::mutex> lock(mu_);
  if (ctx_) return ctx_.get();
  auto c = std::make_unique<Context>();
  c->ctx = ub_ctx_create();
  if (!c->ctx) return Error::defer("cannot create a libunbound context");
  auto check = [](int err, const std::string& what) -> Status {
    if (err == 0) return {};
    return Error::defer(what + ": " + ub_strerror(err));
  };
  if (!options_.resolv_conf.empty()) {
    if (Status s = check(ub_ctx_resolvconf(c->ctx, options_.resolv_conf.c_str()),
                         "reading " + options_.resolv_conf);
        !s)
      return s.take_error();
    // Forwarding: the configured server decides about special-use names
    // (test., the private reverse zones, ...), as the system's resolver
    // lets it; libunbound would answer them itself otherwise.
    for (const std::string& zone : special_use_zones())
      if (Status s =
              check(ub_ctx_set_option(c->ctx, "local-zone:", (zone + " transparent").c_str()),
                    "local-zone");
          !s)
        return s.take_error();
  }
  if (!options_.hosts.empty()) {
    if (Status s = check(ub_ctx_hosts(c->ctx, options_.hosts.c_str()), "reading " + options_.hosts);
        !s)
      return s.take_error();
  }
  if (!options_.trust_anchor_file.empty())
    if (Status s = check(ub_ctx_add_ta_file(c->ctx, options_.trust_anchor_file.c_str()),
                         "reading " + options_.trust_anchor_file);
        !s)
      return s.take_error();
  if (Status s = check(ub_ctx_async(c->ctx, 1), "threaded resolving"); !s) return s.take_error();
  // Local data finalizes the context's settings: after the last of them.
  if (!options_.hosts.empty())
    for (const std::string& record : hosts_file_ptr_records(options_.hosts))
      if (Status s = check(ub_ctx_data_add(c->ctx, record.c_str()), "adding " + record); !s)
        return s.take_error();
  if (pipe2(c->wake, O_CLOEXEC) != 0)
    return Error::defer(std::string("pipe: ") + std::strerror(errno));
  Context* raw = c.get();
  c->processor = std::thread([raw] { raw->process(); });
  ctx_ = std::move(c);
  return ctx_.get();
}

Result<module_host::DnsResolver::Answer> Resolver::query(std::string_view name, uint16_t rrtype) {
  auto c = context();
  if (!c) return c.take_error();
  ub_ctx* ctx = (*c)->ctx;
  auto pending = std::make_shared<Pending>();
  auto* holder = new std::shared_ptr<Pending>(pending);
  int id = 0;
  std::string qname(name);
  if (int err = ub_resolve_async(ctx, qname.c_str(), rrtype, 1 /* IN */, holder, on_result, &id);
      err != 0) {
    delete holder;
    return Error::defer("DNS query for " + qname + " failed: " + ub_strerror(err));
  }
  std::unique_lock<std::mutex> lock(pending->mu);
  if (!pending->cv.wait_for(lock, options_.timeout, [&] { return pending->done; })) {
    lock.unlock();
    // Cancelled: the callback will not run, its data is ours to free. Not
    // cancelled: it is being delivered and frees it itself.
    if (ub_cancel(ctx, id) == 0) delete holder;
    return Error::defer("DNS query for " + qname + " timed out after " +
                        std::to_string(options_.timeout.count()) + " ms");
  }
  if (pending->err != 0)
    return Error::defer("DNS query for " + qname + " failed: " + ub_strerror(pending->err));
  const ub_result* r = pending->result;
  Answer a;
  a.rcode = r->rcode;
  a.secure = r->secure != 0;
  a.ttl = r->havedata && r->ttl > 0 ? static_cast<uint32_t>(r->ttl) : 0;
  for (int i = 0; r->data && r->data[i]; ++i)
    a.rdata.emplace_back(r->data[i], static_cast<size_t>(r->len[i]));
  return a;
}

std::vector<std::string> addresses(const module_host::DnsResolver::Answer& a) {
  std::vector<std::string> out;
  for (const auto& rd : a.rdata) {
    const auto* b = reinterpret_cast<const unsigned char*>(rd.data());
    if (rd.size() == 4) {
      out.push_back(std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) +
                    "." + std::to_string(b[3]));
    } else if (rd.size() == 16) {
      text::IpAddress ip;
      ip.family = 6;
      for (int w = 0; w < 4; ++w)
        ip.words[w] = static_cast<uint32_t>(b[4 * w]) << 24 |
                      static_cast<uint32_t>(b[4 * w + 1]) << 16 |
                      static_cast<uint32_t>(b[4 * w + 2]) << 8 | b[4 * w + 3];
      out.push_back(text::format_ipv6_compressed(ip));
    }
  }
  return out;
}

std::vector<std::string> txt_records(const module_host::DnsResolver::Answer& a) {
  std::vector<std::string> out;
  for (const auto& rd : a.rdata) {
    std::string s;
    for (size_t i = 0; i < rd.size();) {
      size_t len = static_cast<unsigned char>(rd[i]);
      s.append(rd, i + 1, std::min(len, rd.size() - i - 1));
      i += 1 + len;
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string wire_name(std::string_view rdata, std::size_t pos) {
  std::string name;
  while (pos < rdata.size()) {
    auto len = static_cast<unsigned char>(rdata[pos]);
    if (len == 0 || (len & 0xC0) || pos + 1 + len > rdata.size()) break;
    if (!name.empty()) name += '.';
    name.append(rdata.substr(pos + 1, len));
    pos += 1 + len;
  }
  return name;
}

std::vector<std::string> ptr_names(const module_host::DnsResolver::Answer& a) {
  std::vector<std::string> out;
  for (const auto& rd : a.rdata)
    if (std::string name = wire_name(rd, 0); !name.empty()) out.push_back(std::move(name));
  return out;
}

}  // namespace tern::dns
