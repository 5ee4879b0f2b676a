// core/tls/session_info_test.cpp: Exim's TLS variables and log fields from a SessionInfo.
#include "core/tls/session_info.hpp"

#include <gtest/gtest.h>

namespace tern::tls {
namespace {

SessionInfo sample(Role role) {
  SessionInfo i;
  i.role = role;
  i.active = true;
  i.ver = "TLS1.2";
  i.cipher = "TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256";
  i.cipher_std = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384";
  i.bits = 256;
  i.peerdn = "/C=GB/O=Odd\nName/CN=x";
  i.sni = "a b\tc";
  i.has_peer_certificate = true;
  i.certificate_verified = true;
  return i;
}

TEST(SessionInfo, LogFieldsUnderSelectors) {
  SessionInfo i = sample(Role::kServer);
  EXPECT_EQ(i.log_fields(), " X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=yes");
  EXPECT_EQ(i.log_fields({.tls_cipher = false, .tls_certificate_verified = false}), "");
  // DN= goes through string_printing, SNI= also escapes space and tab.
  EXPECT_EQ(i.log_fields({.tls_peerdn = true, .tls_sni = true}),
            " X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=yes DN=\"/C=GB/O=Odd\\nName/CN=x\" "
            "SNI=a\\040b\\tc");
  i.certificate_verified = false;
  EXPECT_EQ(i.log_fields(), " X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=no");
  SessionInfo out = sample(Role::kClient);
  out.verified_by = "dane";
  EXPECT_EQ(out.log_fields({.tls_sni = true}), " X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=dane");
  EXPECT_EQ(SessionInfo{}.log_fields(), "");
}

TEST(SessionInfo, Variables) {
  SessionInfo in = sample(Role::kServer);
  struct Case {
    const char* name;
    const char* want;  // nullptr: not answered
  };
  const Case cases[] = {
      {"tls_in_ver", "TLS1.2"},
      {"tls_in_cipher", "TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256"},
      {"tls_in_cipher_std", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
      {"tls_in_bits", "256"},
      {"tls_in_peerdn", "/C=GB/O=Odd\nName/CN=x"},
      {"tls_in_sni", "a b\tc"},
      {"tls_in_certificate_verified", "1"},
      {"tls_cipher", "TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256"},  // deprecated forms
      {"tls_bits", "256"},
      {"tls_peerdn", "/C=GB/O=Odd\nName/CN=x"},
      {"tls_sni", "a b\tc"},
      {"tls_certificate_verified", "1"},
      {"tls_cipher_std", nullptr},  // never existed
      {"tls_ver", nullptr},
      {"tls_out_cipher", nullptr},  // the other direction
      {"tls_in_ocsp", nullptr},     // the ocsp module's
      {"sender_host_address", nullptr},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string out = "<";
    bool answered = in.append_variable(c.name, out);
    EXPECT_EQ(answered, c.want != nullptr);
    if (c.want != nullptr) {
      EXPECT_EQ(out, std::string("<") + c.want);
    }
  }
  SessionInfo client = sample(Role::kClient);
  std::string v;
  EXPECT_TRUE(client.append_variable("tls_out_cipher_std", v));
  EXPECT_EQ(v, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
  EXPECT_FALSE(client.append_variable("tls_in_cipher", v));
  EXPECT_FALSE(SessionInfo{}.append_variable("tls_in_cipher", v));
}

}  // namespace
}  // namespace tern::tls
