// core/tls/test_support.hpp: shared helpers of the core/tls tests (test code only).
//
// - Pki: a throwaway CA, RSA and ECDSA server certificates, a client
//   certificate and an untrusted one, made with OpenSSL at test time in a
//   scratch directory (no key is ever committed).
// - RawClient: a blocking OpenSSL client on its own thread, configurable
//   (protocol versions, ciphers, signature algorithms, SNI, certificate), so
//   the server is tested against OpenSSL itself rather than against itself.
// - serve_once(): one server connection through ServerTls and TlsStream on
//   a loopback socket and an io_context, recording what the server saw.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/module_host/call_env.hpp"
#include "core/module_host/hooks.hpp"
#include "core/module_host/host.hpp"
#include "core/tls/ossl.hpp"
#include "core/tls/server.hpp"
#include "core/tls/stream.hpp"

namespace tern::tls::testing {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A fresh directory under $TMPDIR (or /tmp), removed with the object.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/tern-tls-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// ---- certificates ----------------------------------------------------------

struct Issued {
  PkeyPtr key;
  X509Ptr cert;
};

inline void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
  if (ext == nullptr) throw std::runtime_error("X509V3_EXT_conf_nid failed");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` with subject `subject` ("/C=GB/O=x/CN=y"), signed
// by `issuer` (self-signed when null).
inline X509Ptr make_cert(EVP_PKEY* key, const std::string& subject, const Issued* issuer, bool ca,
                         const std::vector<std::string>& dns_names, long serial) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7L * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  size_t pos = 1;
  while (pos < subject.size()) {
    size_t next = subject.find('/', pos);
    if (next == std::string::npos) next = subject.size();
    std::string part = subject.substr(pos, next - pos);
    size_t eq = part.find('=');
    X509_NAME_add_entry_by_txt(name, part.substr(0, eq).c_str(), MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(part.c_str() + eq + 1), -1,
                               -1, 0);
    pos = next + 1;
  }
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert));
  add_ext(cert.get(), issuer_cert, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  add_ext(cert.get(), issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) add_ext(cert.get(), issuer_cert, NID_authority_key_identifier, "keyid");
  if (ca) add_ext(cert.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  if (!dns_names.empty()) {
    std::string san;
    for (const std::string& n : dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
    add_ext(cert.get(), issuer_cert, NID_subject_alt_name, san.c_str());
  }
  EVP_PKEY* signer = issuer != nullptr ? issuer->key.get() : key;
  if (X509_sign(cert.get(), signer, EVP_sha256()) == 0)
    throw std::runtime_error("X509_sign failed");
  return cert;
}

inline PkeyPtr new_rsa_key() { return PkeyPtr(EVP_RSA_gen(2048)); }
inline PkeyPtr new_ec_key() { return PkeyPtr(EVP_EC_gen("P-256")); }

inline void write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
  BioPtr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio) throw std::runtime_error("cannot write " + path);
  if (cert != nullptr) PEM_write_bio_X509(bio.get(), cert);
  if (key != nullptr)
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
}

// The test PKI: files in a scratch directory.
struct Pki {
  ScratchDir dir;
  std::string ca;                       // the CA certificate
  std::string rsa_cert, rsa_key;        // mx.test.example, RSA
  std::string ec_cert, ec_key;          // mx.test.example, ECDSA P-256
  std::string rsa_combined;             // RSA certificate and key in one file
  std::string other_cert, other_key;    // other.test.example, ECDSA
  std::string client_cert, client_key;  // CN=client.test.example, from the CA
  std::string rogue_cert, rogue_key;    // a self-signed client certificate

  Pki() {
    Issued ca_i{new_ec_key(), nullptr};
    ca_i.cert =
        make_cert(ca_i.key.get(), "/C=GB/O=Tern Test CA/CN=Tern Test Root", nullptr, true, {}, 1);
    ca = dir.file("ca.pem");
    write_pem(ca, ca_i.cert.get(), nullptr);

    auto issue = [&](PkeyPtr key, const std::string& subject, const std::vector<std::string>& names,
                     long serial, const std::string& base) {
      X509Ptr cert = make_cert(key.get(), subject, &ca_i, false, names, serial);
      write_pem(dir.file(base + ".crt"), cert.get(), nullptr);
      write_pem(dir.file(base + ".key"), nullptr, key.get());
      return Issued{std::move(key), std::move(cert)};
    };
    Issued rsa =
        issue(new_rsa_key(), "/C=GB/O=Tern Test/CN=mx.test.example", {"mx.test.example"}, 2, "rsa");
    rsa_cert = dir.file("rsa.crt");
    rsa_key = dir.file("rsa.key");
    rsa_combined = dir.file("rsa-combined.pem");
    write_pem(rsa_combined, rsa.cert.get(), rsa.key.get());
    issue(new_ec_key(), "/C=GB/O=Tern Test/CN=mx.test.example", {"mx.test.example"}, 3, "ec");
    ec_cert = dir.file("ec.crt");
    ec_key = dir.file("ec.key");
    issue(new_ec_key(), "/C=GB/O=Tern Test/CN=other.test.example", {"other.test.example"}, 4,
          "other");
    other_cert = dir.file("other.crt");
    other_key = dir.file("other.key");
    issue(new_ec_key(), "/C=GB/O=Client Org/CN=client.test.example", {}, 5, "client");
    client_cert = dir.file("client.crt");
    client_key = dir.file("client.key");

    PkeyPtr rogue_k = new_ec_key();
    X509Ptr rogue_c = make_cert(rogue_k.get(), "/CN=rogue.test.example", nullptr, false, {}, 6);
    rogue_cert = dir.file("rogue.crt");
    rogue_key = dir.file("rogue.key");
    write_pem(rogue_cert, rogue_c.get(), nullptr);
    write_pem(rogue_key, nullptr, rogue_k.get());
  }
};

// One PKI per test process. Only one RSA key: RSA key generation is slow.
inline const Pki& pki() {
  static const Pki* p = new Pki();  // never destroyed: its directory goes with the atexit below
  static const bool cleanup = [] {
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(p->dir.path(), ec);
    });
    return true;
  }();
  (void)cleanup;
  return *p;
}

// Server options with the RSA certificate and key.
inline ServerOptions rsa_server_options() {
  ServerOptions o;
  o.tls_certificate = pki().rsa_cert;
  o.tls_privatekey = pki().rsa_key;
  return o;
}

// Server options that present other.test.example's certificate to a client
// asking for that name by SNI, and the RSA one to others.
inline ServerOptions sni_server_options() {
  ServerOptions o;
  o.tls_certificate =
      "${if eq{$tls_in_sni}{other.test.example}{" + pki().other_cert + "}{" + pki().rsa_cert + "}}";
  o.tls_privatekey =
      "${if eq{$tls_in_sni}{other.test.example}{" + pki().other_key + "}{" + pki().rsa_key + "}}";
  return o;
}

// ---- module hooks --------------------------------------------------------------

// A hook function added directly to a HookRegistry (as the module_host
// tests do): it records its argument, runs `action` on it, then answers
// `status`, with `verdict` and `error` when set.
struct TestHook {
  std::vector<void*> args;
  std::function<void(void* arg)> action;
  tern_status status = TERN_OK;
  std::string verdict;
  std::string error;

  static tern_status run(tern_ctx* ctx, void* user, tern_call* call, void* arg,
                         tern_buf* verdict_buf) {
    auto* self = static_cast<TestHook*>(user);
    self->args.push_back(arg);
    if (self->action) self->action(arg);
    if (!self->verdict.empty())
      ctx->host->buf_append(verdict_buf, {self->verdict.data(), self->verdict.size()});
    if (!self->error.empty())
      ctx->host->set_error(ctx, call, {self->error.data(), self->error.size()});
    return self->status;
  }
};

// A registry with TestHooks at some points, as module `module`.
struct TestHooks {
  tern_ctx ctx{sizeof(tern_ctx), module_host::host_table(false), nullptr};
  module_host::HookRegistry registry;
  module_host::CallEnv env;
  void add(tern_hook_point point, TestHook& hook, const std::string& module = "testmod") {
    registry.add(point, {module, 0, 0, 0, 0, &ctx, &TestHook::run, &hook});
  }
};

// ---- a raw OpenSSL client ----------------------------------------------------

struct ClientSpec {
  std::string sni{};
  int min_version = 0;  // TLS1_2_VERSION, ...
  int max_version = 0;
  std::string ciphers{};      // TLS 1.2 cipher list
  std::string sigalgs{};      // "ECDSA+SHA256", ...
  std::string cert{}, key{};  // client certificate
  std::string send = "hello\n";
  bool silent = false;      // connect and say nothing (timeout tests)
  int security_level = -1;  // SSL_CTX_set_security_level when >= 0
};

struct ClientOutcome {
  bool handshake_ok = false;
  std::string error;
  std::string version;  // "TLSv1.3"
  std::string cipher;   // OpenSSL name
  std::string peer_subject;
  int peer_key_type = 0;  // EVP_PKEY_RSA, EVP_PKEY_EC
  int group = 0;          // NID of the negotiated key exchange group
  std::string received;
};

inline int connect_loopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

inline ClientOutcome run_client(uint16_t port, const ClientSpec& spec) {
  ClientOutcome out;
  int fd = connect_loopback(port);
  if (fd < 0) {
    out.error = "connect failed";
    return out;
  }
  if (spec.silent) {
    char c;
    while (::read(fd, &c, 1) > 0) {
    }
    ::close(fd);
    return out;
  }
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (spec.security_level >= 0) SSL_CTX_set_security_level(ctx.get(), spec.security_level);
  if (spec.min_version != 0) SSL_CTX_set_min_proto_version(ctx.get(), spec.min_version);
  if (spec.max_version != 0) SSL_CTX_set_max_proto_version(ctx.get(), spec.max_version);
  if (!spec.ciphers.empty()) SSL_CTX_set_cipher_list(ctx.get(), spec.ciphers.c_str());
  if (!spec.sigalgs.empty()) SSL_CTX_set1_sigalgs_list(ctx.get(), spec.sigalgs.c_str());
  if (!spec.cert.empty()) {
    SSL_CTX_use_certificate_chain_file(ctx.get(), spec.cert.c_str());
    SSL_CTX_use_PrivateKey_file(ctx.get(), spec.key.c_str(), SSL_FILETYPE_PEM);
  }
  SslPtr ssl(SSL_new(ctx.get()));
  SSL_set_fd(ssl.get(), fd);
  if (!spec.sni.empty()) SSL_set_tlsext_host_name(ssl.get(), spec.sni.c_str());
  if (SSL_connect(ssl.get()) != 1) {
    out.error = take_openssl_error();
    ::close(fd);
    return out;
  }
  out.handshake_ok = true;
  out.version = SSL_get_version(ssl.get());
  out.cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl.get()));
  out.group = SSL_get_negotiated_group(ssl.get());
  X509Ptr peer(SSL_get1_peer_certificate(ssl.get()));
  if (peer) {
    out.peer_subject = subject_oneline(peer.get());
    out.peer_key_type = EVP_PKEY_get_base_id(X509_get0_pubkey(peer.get()));
  }
  if (!spec.send.empty())
    SSL_write(ssl.get(), spec.send.data(), static_cast<int>(spec.send.size()));
  char buf[1024];
  for (;;) {
    int n = SSL_read(ssl.get(), buf, sizeof buf);
    if (n <= 0) break;
    out.received.append(buf, static_cast<size_t>(n));
  }
  SSL_shutdown(ssl.get());
  ::close(fd);
  return out;
}

// ---- one server connection ----------------------------------------------------

struct ServerOutcome {
  bool started = false;     // start() succeeded
  std::string start_error;  // its error otherwise
  boost::system::error_code handshake;
  std::string error_text;
  SessionInfo info;
  std::vector<LogLine> log;
  std::string received;  // the first line the client sent
};

// Accept one connection on loopback, run ServerTls::start and the
// handshake (and on success read a line and answer "ok <sni>\n"), while
// `client` runs on another thread against the port. `before_handshake`
// may act on the stream (tests of the SSL object).
template <class Client>
std::pair<ServerOutcome, std::invoke_result_t<Client, uint16_t>> serve_once(
    const ServerTls& server, ServerConnection conn, Client client,
    TlsStream::Duration timeout = std::chrono::seconds(10)) {
  std::signal(SIGPIPE, SIG_IGN);  // the raw client writes to sockets the server closed
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  uint16_t port = acceptor.local_endpoint().port();
  ServerOutcome out;
  asio::ip::tcp::socket socket(io);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        boost::system::error_code ec;
        co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        Result<TlsStream> stream = server.start(socket, conn);
        if (!stream) {
          out.start_error = stream.error().message;
          socket.close();
          co_return;
        }
        out.started = true;
        out.handshake = co_await stream->handshake(timeout);
        out.error_text = stream->error_text();
        out.log = stream->take_log();
        if (out.handshake) {
          socket.close();
          co_return;
        }
        out.info = stream->info();
        std::string line;
        char buf[256];
        while (line.find('\n') == std::string::npos) {
          auto [rec, n] = co_await stream->read_some(buf, 5s);
          if (rec) break;
          line.append(buf, n);
        }
        out.received = line;
        co_await stream->write("ok " + out.info.sni + "\n", 5s);
        co_await stream->shutdown(5s);
        socket.close();
      },
      asio::detached);
  using R = std::invoke_result_t<Client, uint16_t>;
  std::optional<R> client_out;
  std::thread t([&] { client_out = client(port); });
  io.run();
  t.join();
  return {std::move(out), std::move(*client_out)};
}

}  // namespace tern::tls::testing
