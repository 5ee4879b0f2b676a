// core/spool/envelope.hpp: what a -H file holds, as data.
//
// One Envelope is one message's -H file: the fixed lines (id, originator, sender, time),
// the "-name value" option lines in file order, the non-recipients (addresses already
// dealt with), the recipients and the headers. The reader keeps every option line it does
// not know, in order, so a -H file written by Exim reads and writes back byte for byte
// (except the non-recipients tree, whose shape tern rebuilds balanced: Exim reads any
// valid tree). set_var() places new options where Exim's writer puts them.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tern::spool {

// One option line. "-name value", or "--name value" when the value is tainted (from the
// peer). ACL variables ("-aclc NAME LEN" / "-aclm NAME LEN" followed by LEN bytes and a
// newline) have name "aclc"/"aclm", value = the variable's name without the c/m ("0",
// "_flag"), and acl_value = its contents (may hold newlines).
struct SpoolVar {
  std::string name;
  std::string value;
  bool has_value = false;  // "-deliver_firsttime" has none
  bool tainted = false;
  std::string acl_value;

  bool is_acl() const { return name == "aclc" || name == "aclm"; }
  friend bool operator==(const SpoolVar&, const SpoolVar&) = default;
};

// DSN NOTIFY bits as Exim keeps them in dsn_flags (rf_* in Exim's macros.h).
enum DsnFlags : int {
  kDsnNotifyNever = 0x01,
  kDsnNotifySuccess = 0x02,
  kDsnNotifyFailure = 0x04,
  kDsnNotifyDelay = 0x08,
  kDsnHasOrcpt = 0x10,  // not an Exim bit: tern never writes it; here for callers' use
};

struct Recipient {
  std::string address;
  std::string orcpt;      // DSN ORCPT, "rfc822;a@b"; empty if none
  int dsn_flags = 0;
  std::string errors_to;  // one_time alias errors_to; empty if none
  int pno = -1;           // parent number for one_time aliases
  friend bool operator==(const Recipient&, const Recipient&) = default;
};

// Exim's header types (the flag letter after the length).
enum class HeaderType : char {
  kOther = ' ',
  kOld = '*',  // deleted or rewritten: kept for the record, not transmitted
  kReceived = 'P',
  kFrom = 'F',
  kTo = 'T',
  kCc = 'C',
  kBcc = 'B',
  kId = 'I',
  kReplyTo = 'R',
  kSender = 'S',
};

struct Header {
  char type = ' ';   // a HeaderType value; any letter read from a file is kept
  std::string text;  // the whole header, name to final newline(s) included
  friend bool operator==(const Header&, const Header&) = default;
};

// The type Exim gives a header by its name (From: -> 'F', Received: -> 'P', ...).
char header_type_for(std::string_view text);

struct Envelope {
  std::string id;                // the message id text
  std::string originator_login;  // who submitted: login, uid, gid
  std::int64_t originator_uid = 0;
  std::int64_t originator_gid = 0;
  std::string sender;  // envelope sender without <>; empty for bounces
  std::int64_t received_time = 0;
  int warning_count = 0;
  std::vector<SpoolVar> vars;
  std::set<std::string> nonrecipients;
  std::vector<Recipient> recipients;
  std::vector<Header> headers;

  const SpoolVar* var(std::string_view name) const;
  // Sets (or replaces) an option, inserting a new one where Exim writes it.
  void set_var(std::string_view name, std::string_view value, bool tainted = false);
  void set_flag(std::string_view name);  // a valueless option: "-deliver_firsttime"
  void erase_var(std::string_view name);
  // kind 'c' or 'm'; name without the c/m ("0", "_flag").
  void set_acl_var(char kind, std::string_view name, std::string_view value, bool tainted = false);

  // Exim's message_size for -bp and S=: transmitted header bytes + body bytes + 1.
  std::int64_t header_size() const;
  // Recipients not yet in the non-recipients set.
  std::vector<const Recipient*> pending_recipients() const;
};

}  // namespace tern::spool
