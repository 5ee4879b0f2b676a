// core/tls/key_exchange.cpp: DH parameters and EC groups for server contexts.
//
// The standard primes come from OpenSSL's own tables (its named FFC groups
// and the RFC 2409 primes), so they are not repeated here; only Exim's three
// site-generated primes ("exim.dev.20160529.N", published with Exim 4.87 as
// fixed constants) are data of this file.
#include "core/tls/key_exchange.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/text/list.hpp"

namespace tern::tls {

namespace {

// Exim's three extra 2048-bit primes (std-crypto.c), generator 2.
constexpr const char* kEximDev1 =
    "-----BEGIN DH PARAMETERS-----\n"
    "MIIBCAKCAQEA8ZMf89Gaye4bDEX1BXZ9+2edkXym9EK0GxmFilHEGpnhgLNmCk+H\n"
    "cCb+zn8Ed5bpCOmRuEv9N/VKPjSpno8jYiQbFgUL3vh8uKvQLJNTzDVDbpd3YO7E\n"
    "tiS0L0qWL57zIf8b3VZTMRsH4Orz2Rla61wVl6XpxE5WRfGqPS264Vvfew7xmCoi\n"
    "INaFzIU6zwk2WeD6K5asctYlQG/UtgY1nRFkQTebIOpm03a6/hw7F14l3yUZgXfv\n"
    "I3m4MFaWvxGcuZxddTijXw3VfjMdWvdH3Iz7IcqD32uEzK6Rgi/t4OVSw1kE2oDt\n"
    "cFThPUCWb7O4TVq9Xt2UZqZFNU6kUAkv2wIBAg==\n"
    "-----END DH PARAMETERS-----\n";
constexpr const char* kEximDev2 =
    "-----BEGIN DH PARAMETERS-----\n"
    "MIIBCAKCAQEAot84eqyfSb5l8GRCN2ioWP5T85Z/2lVX9A9r9JzwDfvliAAqm6Vp\n"
    "UcHdAfVt54kc8DsmLiHdDhxY1I/wo+DcBylfVx13cmkroAocowOD5dwQMYk6iXjV\n"
    "ys4heRJhYlAHgt8QZH8dA8c/HLs+rlAHhSUPnetsZmcoPE0LRsjigJsiVXasm+sl\n"
    "g/77u5FCkgSrFILcD9PLPto1ciIXp2y8cjXQDk+D9FH1HaSCXLCLkuHxhQXxjTYO\n"
    "C3Q53aNLkDJ4zpPt7Kc9NxQFBVlNc260IFDOHTWhgV2zpyG6oIzQoHSmmiLAAfcF\n"
    "HrG7I06uZBLjuNGGaM0eeuxHNhs2G2EduwIBAg==\n"
    "-----END DH PARAMETERS-----\n";
constexpr const char* kEximDev3 =
    "-----BEGIN DH PARAMETERS-----\n"
    "MIIBCAKCAQEAkbRYVoge2PtrmV1eKCKluSBFELgckuLSnkuH0TffqbmfoYM34lFu\n"
    "2vPM2LhnzKvEBQlIICOTzQD29kROacRfSKpsNINRXhXKUqI6sFXzUZu4Flk69XKG\n"
    "ZOSDYvWkI5pSn1amQ4Nnvn6s+uwn/f0ZDZDiKLW9TgntxJV4A2+yeymaeoGCbIXX\n"
    "5q8WgajFhAeut36RL93HBnXT1hT7Eja1Y81w9fOzQrwBuXhyfCkAdiMA/VCp0UD4\n"
    "0p7uf+okpckVnwD6WnUCHMij8nGlVblZELFYzNi0udtzIrSwlALbZXIeAqhbZXJO\n"
    "lCuYspJhzV0Vs0lDJwrxvNwtdg1ernVIowIBAg==\n"
    "-----END DH PARAMETERS-----\n";

// Where a named prime comes from: an OpenSSL named group, an RFC 2409 prime
// with generator 2, or PEM text.
struct NamedPrime {
  std::string_view name;
  const char* group = nullptr;          // OpenSSL group name
  BIGNUM* (*prime)(BIGNUM*) = nullptr;  // RFC 2409 prime, g = 2
  const char* pem = nullptr;
};

const NamedPrime kPrimes[] = {
    {"default", nullptr, nullptr, kEximDev3},
    {"exim.dev.20160529.1", nullptr, nullptr, kEximDev1},
    {"exim.dev.20160529.2", nullptr, nullptr, kEximDev2},
    {"exim.dev.20160529.3", nullptr, nullptr, kEximDev3},
    {"ffdhe2048", "ffdhe2048", nullptr, nullptr},
    {"ffdhe3072", "ffdhe3072", nullptr, nullptr},
    {"ffdhe4096", "ffdhe4096", nullptr, nullptr},
    {"ffdhe6144", "ffdhe6144", nullptr, nullptr},
    {"ffdhe8192", "ffdhe8192", nullptr, nullptr},
    {"ike1", nullptr, BN_get_rfc2409_prime_768, nullptr},
    {"ike14", "modp_2048", nullptr, nullptr},
    {"ike15", "modp_3072", nullptr, nullptr},
    {"ike16", "modp_4096", nullptr, nullptr},
    {"ike17", "modp_6144", nullptr, nullptr},
    {"ike18", "modp_8192", nullptr, nullptr},
    {"ike2", nullptr, BN_get_rfc2409_prime_1024, nullptr},
    {"ike22", "dh_1024_160", nullptr, nullptr},
    {"ike23", "dh_2048_224", nullptr, nullptr},
    {"ike24", "dh_2048_256", nullptr, nullptr},
    {"ike5", "modp_1536", nullptr, nullptr},
};

// Exim's default when tls_dhparam is unset: ike23.
constexpr std::string_view kDefaultPrime = "ike23";

// DH domain parameters from OpenSSL parameters (a group name, or p and g).
PkeyPtr dh_from_params(const OSSL_PARAM* params) {
  PkeyCtxPtr pctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr));
  EVP_PKEY* pkey = nullptr;
  if (params == nullptr || !pctx || EVP_PKEY_fromdata_init(pctx.get()) <= 0 ||
      EVP_PKEY_fromdata(pctx.get(), &pkey, EVP_PKEY_KEY_PARAMETERS,
                        const_cast<OSSL_PARAM*>(params)) <= 0) {
    return nullptr;
  }
  return PkeyPtr(pkey);
}

PkeyPtr dh_from_group(const char* group) {
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group), 0),
      OSSL_PARAM_construct_end()};
  return dh_from_params(params);
}

PkeyPtr dh_from_prime(BIGNUM* (*prime)(BIGNUM*)) {
  std::unique_ptr<BIGNUM, OsslDeleter<BIGNUM, BN_free>> p(prime(nullptr));
  std::unique_ptr<BIGNUM, OsslDeleter<BIGNUM, BN_free>> g(BN_new());
  std::unique_ptr<OSSL_PARAM_BLD, OsslDeleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>> bld(
      OSSL_PARAM_BLD_new());
  if (!p || !g || !bld || !BN_set_word(g.get(), 2) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_P, p.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_G, g.get())) {
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, OsslDeleter<OSSL_PARAM, OSSL_PARAM_free>> params(
      OSSL_PARAM_BLD_to_param(bld.get()));
  return dh_from_params(params.get());
}

PkeyPtr dh_from_pem(BIO* bio) {
  return PkeyPtr(PEM_read_bio_Parameters_ex(bio, nullptr, nullptr, nullptr));
}

Result<PkeyPtr> named_prime(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const NamedPrime& p : kPrimes) {
    if (p.name != lower) continue;
    PkeyPtr pkey;
    if (p.group != nullptr) {
      pkey = dh_from_group(p.group);
    } else if (p.prime != nullptr) {
      pkey = dh_from_prime(p.prime);
    } else {
      BioPtr bio(BIO_new_mem_buf(p.pem, -1));
      pkey = dh_from_pem(bio.get());
    }
    if (!pkey) {
      return Error::failed(tls_error("Could not read tls_dhparams \"" + std::string(name) + "\""));
    }
    return pkey;
  }
  return Error::failed(
      tls_error("Unknown standard DH prime \"" + std::string(name) + "\"", "unknown name"));
}

}  // namespace

Result<PkeyPtr> load_dh_params(std::string_view dhparam) {
  if (dhparam.empty()) return named_prime(kDefaultPrime);
  if (dhparam == "none") return PkeyPtr();
  if (dhparam.front() != '/') return named_prime(dhparam);
  std::string path(dhparam);
  errno = 0;
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    int err = errno;
    ERR_clear_error();
    return Error::failed(tls_error("could not read dhparams file " + path, std::strerror(err)));
  }
  PkeyPtr pkey = dh_from_pem(bio.get());
  if (!pkey) return Error::failed(tls_error("Could not read tls_dhparams \"" + path + "\""));
  return pkey;
}

Status apply_dhparam(SSL_CTX* ctx, std::string_view dhparam, int64_t max_bits) {
  Result<PkeyPtr> pkey = load_dh_params(dhparam);
  if (!pkey) return pkey.take_error();
  if (!*pkey) return {};  // "none"
  // Too large a prime is dropped silently (Exim: a large DH must not knock
  // out all TLS).
  if (EVP_PKEY_get_bits(pkey->get()) > max_bits) return {};
  if (SSL_CTX_set0_tmp_dh_pkey(ctx, pkey->get()) != 1) {
    std::string what = dhparam.empty() ? std::string("default") : std::string(dhparam);
    return Error::failed(tls_error("D-H param setting '" + what + "'"));
  }
  pkey->release();  // the context owns it now
  return {};
}

Result<std::vector<int>> curve_nids(std::string_view eccurve) {
  std::vector<int> nids;
  for (const std::string& curve : text::list_items(eccurve)) {
    if (curve == "auto") return std::vector<int>();  // "auto" anywhere wins
    int nid = OBJ_sn2nid(curve.c_str());
    if (nid == NID_undef) nid = EC_curve_nist2nid(curve.c_str());
    if (nid == NID_undef) {
      return Error::failed("Unknown curve name in tls_eccurve '" + curve + "'");
    }
    nids.push_back(nid);
  }
  return nids;
}

Status apply_eccurve(SSL_CTX* ctx, std::string_view eccurve) {
  Result<std::vector<int>> nids = curve_nids(eccurve);
  if (!nids) return nids.take_error();
  if (nids->empty()) return {};
  if (SSL_CTX_set1_groups(ctx, nids->data(), static_cast<int>(nids->size())) != 1) {
    return Error::failed(tls_error("Error enabling '" + std::string(eccurve) + "' group(s)"));
  }
  return {};
}

}  // namespace tern::tls
