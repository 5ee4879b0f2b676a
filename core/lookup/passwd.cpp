// core/lookup/passwd.cpp: the `passwd` lookup (query style).
//
// `${lookup passwd{user}}` gives the user's password entry as Exim formats
// it: `passwd:uid:gid:gecos:home:shell` (field 1 is the password field as
// getpwnam returns it). An unknown user is "not found", never a defer.
#include <pwd.h>

#include <string>
#include <vector>

#include "core/lookup/internal.hpp"

namespace tern::lookup {
namespace {

class NoHandle : public Handle {};

class PasswdLookup : public LookupType {
 public:
  std::string_view name() const override { return "passwd"; }
  Style style() const override { return Style::kQuery; }
  Result<std::unique_ptr<Handle>> open(std::string_view) override {
    return std::unique_ptr<Handle>(new NoHandle());
  }
  Found find(Handle&, std::string_view, std::string_view key, std::string_view) override {
    std::string user(key);
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) {
      return Found::not_found();
    }
    return Found::found(std::string(pw.pw_passwd) + ":" + std::to_string(pw.pw_uid) + ":" +
                        std::to_string(pw.pw_gid) + ":" + pw.pw_gecos + ":" + pw.pw_dir + ":" +
                        pw.pw_shell);
  }
};

}  // namespace

std::unique_ptr<LookupType> make_passwd() { return std::make_unique<PasswdLookup>(); }

}  // namespace tern::lookup
