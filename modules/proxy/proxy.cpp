// modules/proxy/proxy.cpp: the tern module "proxy": Exim's PROXY protocol support, and v2's TLVs.
//
// Brings
//   options    hosts_proxy (main, host list): the balancers whose connections
//              start with a PROXY header; proxy_protocol_timeout (main, time,
//              default 3s): how long to wait for it
//   hook       pre-banner: for a host in hosts_proxy, read the header (v1 or
//              v2, exactly its bytes: header.hpp) before TLS on connect and
//              the banner, and make its source the session's client
//              ($sender_host_address/_port, ACLs, logs, Received); a failure
//              (timeout, malformed header) leaves the session refusing every
//              command but QUIT with Exim's 503, and the core logs the reason
//   variables  Exim's $proxy_session, $proxy_external_address/_port (where
//              the client connected on the balancer), $proxy_local_address/
//              _port (the balancer's own address towards us); beyond Exim,
//              v2's TLVs as $proxy_tlv_* (see README.md)
// Requires ABI 1.2 (match_host_list, conn_set_timeout).
#include <tern/module.hpp>

#include <algorithm>
#include <memory>
#include <string>

#include "header.hpp"

namespace {

using tern::proxy::Header;
using tern::proxy::HeaderReader;

constexpr const char* kRefusal = "Command refused, required Proxy negotiation failed";

// What one session learnt (session data).
struct ProxyState {
  bool failed = false;
  Header header;                     // when !failed
  std::string local_address;         // the balancer's address: $proxy_local_*
  uint16_t local_port = 0;
};

std::string yes_no(bool b) { return b ? "yes" : "no"; }

class Proxy final : public tern::Module {
 public:
  tern::Status init(tern::Registrar& r) override {
    r.option("hosts_proxy", tern::OptionType::kHostList, tern::scope::kMain);
    r.option("proxy_protocol_timeout", tern::OptionType::kTime, tern::scope::kMain, "3s");
    r.pre_banner([this](tern::Connection& conn, tern::Out& verdict) { return negotiate(conn, verdict); }, 0,
                 tern::kMayBlock);

    // Exim's variables: unset addresses are empty, unset ports 0.
    r.variable("proxy_session", [](tern::Call& c) { return yes_no(state(c) != nullptr); });
    r.variable("proxy_external_address", [](tern::Call& c) { return with_addresses(c, [](const ProxyState& s) { return s.header.destination.address; }); });
    r.variable("proxy_external_port", [](tern::Call& c) { return port_text(c, [](const ProxyState& s) { return s.header.destination.port; }); });
    r.variable("proxy_local_address", [](tern::Call& c) { return with_addresses(c, [](const ProxyState& s) { return s.local_address; }); });
    r.variable("proxy_local_port", [](tern::Call& c) { return port_text(c, [](const ProxyState& s) { return s.local_port; }); });

    // v2's TLVs (empty or "no" when absent).
    tlv(r, "proxy_tlv_alpn", [](const Header& h) { return h.alpn; });
    tlv(r, "proxy_tlv_authority", [](const Header& h) { return h.authority; });
    tlv(r, "proxy_tlv_unique_id", [](const Header& h) { return h.unique_id; });
    tlv(r, "proxy_tlv_netns", [](const Header& h) { return h.netns; });
    tlv(r, "proxy_tlv_crc32c", [](const Header& h) { return yes_no(h.crc_checked); });
    tlv(r, "proxy_tlv_ssl", [](const Header& h) { return yes_no(h.ssl.present && h.ssl.client_ssl()); });
    tlv(r, "proxy_tlv_ssl_version", [](const Header& h) { return h.ssl.version; });
    tlv(r, "proxy_tlv_ssl_cipher", [](const Header& h) { return h.ssl.cipher; });
    tlv(r, "proxy_tlv_ssl_sig_alg", [](const Header& h) { return h.ssl.sig_alg; });
    tlv(r, "proxy_tlv_ssl_key_alg", [](const Header& h) { return h.ssl.key_alg; });
    tlv(r, "proxy_tlv_ssl_cn", [](const Header& h) { return h.ssl.cn; });
    tlv(r, "proxy_tlv_ssl_client_cert", [](const Header& h) { return yes_no(h.ssl.present && h.ssl.client_cert()); });
    tlv(r, "proxy_tlv_ssl_verified",
        [](const Header& h) { return yes_no(h.ssl.present && h.ssl.client_cert() && h.ssl.verify == 0); });
    return tern::ok();
  }

 private:
  static const ProxyState* state(tern::Call& c) { return c.session_data<ProxyState>(); }

  template <class F>
  static std::string with_addresses(tern::Call& c, F f) {
    const ProxyState* s = state(c);
    return s && !s->failed && s->header.has_addresses ? std::string(f(*s)) : std::string();
  }
  template <class F>
  static std::string port_text(tern::Call& c, F f) {
    const ProxyState* s = state(c);
    return std::to_string(s && !s->failed && s->header.has_addresses ? f(*s) : 0);
  }
  template <class F>
  static void tlv(tern::Registrar& r, const char* name, F f) {
    r.variable(name, [f](tern::Call& c) {
      const ProxyState* s = state(c);
      return s && !s->failed ? std::string(f(s->header)) : f(Header{});
    });
  }

  // The pre-banner hook. kDecline: not a proxy host (the session goes on
  // as for any client, and a PROXY line is an unknown SMTP command).
  static tern::Status negotiate(tern::Connection& conn, tern::Out& verdict) {
    const tern::Call& c = conn.call();
    std::string list;
    if (c.option("hosts_proxy", list) != tern::ok() || list.empty()) return tern::decline();
    tern::Status in_list = c.match_host_list(list);
    if (in_list == tern::fail()) return tern::decline();
    if (in_list != tern::ok()) {
      c.log(tern::LogLevel::kMain, "hosts_proxy could not be matched (lookup deferred or bad list): "
                                   "the connection is not treated as proxied");
      return tern::decline();
    }

    auto st = std::make_unique<ProxyState>();
    int64_t seconds = c.option_int("proxy_protocol_timeout").value_or(3);
    conn.set_timeout(static_cast<uint32_t>(std::clamp<int64_t>(seconds, 0, 86400) * 1000));
    std::string why = read_header(conn, st->header);
    if (!why.empty()) {
      st->failed = true;
      c.set_session_data(std::move(st));
      verdict << kRefusal;
      c.set_error("PROXY negotiation failed: " + why);
      return tern::fail();
    }
    if (st->header.has_addresses) {
      // The balancer becomes $proxy_local_*, the header's source the client;
      // the interface we accepted on stays ($received_ip_address), as in Exim.
      std::string proxy_ip, proxy_port, ip, port;
      c.variable("sender_host_address", proxy_ip);
      c.variable("sender_host_port", proxy_port);
      c.variable("received_ip_address", ip);
      c.variable("received_port", port);
      st->local_address = proxy_ip;
      st->local_port = static_cast<uint16_t>(std::stoul(proxy_port.empty() ? "0" : proxy_port));
      conn.set_addresses(st->header.source.address, st->header.source.port, ip,
                         static_cast<uint16_t>(std::stoul(port.empty() ? "0" : port)));
    }
    c.set_session_data(std::move(st));
    return tern::ok();
  }

  // Reads the header into `out`; the reason on failure, else "".
  static std::string read_header(tern::Connection& conn, Header& out) {
    HeaderReader reader;
    char buf[HeaderReader::kV2Fixed + HeaderReader::kMaxV2Body];
    while (reader.state() == HeaderReader::State::kReading) {
      size_t got = 0;
      try {
        got = conn.read(buf, reader.wanted());
      } catch (const tern::Defer&) {
        return "Timeout while reading proxy header";
      } catch (const tern::Error& e) {
        return e.what();
      }
      reader.feed(std::string_view(buf, got));
    }
    if (reader.state() == HeaderReader::State::kFailed) return reader.error();
    out = reader.header();
    return "";
  }
};

}  // namespace

TERN_MODULE(Proxy, "proxy", "1.0.0")
