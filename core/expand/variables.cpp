// core/expand/variables.cpp: Exim 4.96's expansion variables and their values.
//
// The table lists every variable of the reference build (Debian's
// exim4-daemon-heavy 4.96: DKIM, SPF, content scanning, proxy, SRS, TLS;
// no ARC, DMARC, DCC or Brightmail). Defaults are what `exim -be` prints when
// nothing set the variable; the process-specific ones (exim_path,
// config_file, compile_date, ...) come from the lead's VariableSource.
// $event_defer_errno is the core's (the delivery sets it while it raises a
// defer event). Variables that a first-party module brings ($event_name and
// $event_data: events, $proxy_*:
// proxy, $tls_out_dane and $tls_out_tlsa_usage: dane, $tls_in_ocsp and
// $tls_out_ocsp: ocsp, $bmi_*: bmi) are not here: they exist only while
// their module is loaded (core/module_host/first_party.cpp names the owner
// in the error when it is not).
#include "core/expand/variables.hpp"

#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "core/expand/expand.hpp"

namespace tern::expand {
namespace {

// Sorted by name (checked by a test).
constexpr VarDef kTable[] = {
    {"acl_arg1", VarKind::kAclArg, "1", ""},
    {"acl_arg2", VarKind::kAclArg, "2", ""},
    {"acl_arg3", VarKind::kAclArg, "3", ""},
    {"acl_arg4", VarKind::kAclArg, "4", ""},
    {"acl_arg5", VarKind::kAclArg, "5", ""},
    {"acl_arg6", VarKind::kAclArg, "6", ""},
    {"acl_arg7", VarKind::kAclArg, "7", ""},
    {"acl_arg8", VarKind::kAclArg, "8", ""},
    {"acl_arg9", VarKind::kAclArg, "9", ""},
    {"acl_narg", VarKind::kAclNarg, "", ""},
    {"acl_verify_message", VarKind::kSource, "", ""},
    {"address_data", VarKind::kSource, "", ""},
    {"address_file", VarKind::kSource, "", ""},
    {"address_pipe", VarKind::kSource, "", ""},
    {"authenticated_fail_id", VarKind::kSource, "", ""},
    {"authenticated_id", VarKind::kSource, "", ""},
    {"authenticated_sender", VarKind::kSource, "", ""},
    {"authentication_failed", VarKind::kSource, "0", ""},
    {"av_failed", VarKind::kSource, "0", ""},
    {"body_linecount", VarKind::kSource, "0", ""},
    {"body_zerocount", VarKind::kSource, "0", ""},
    {"bounce_recipient", VarKind::kSource, "", ""},
    {"bounce_return_size_limit", VarKind::kSource, "102400", ""},
    {"caller_gid", VarKind::kSource, "0", ""},
    {"caller_uid", VarKind::kSource, "0", ""},
    {"callout_address", VarKind::kSource, "", ""},
    {"compile_date", VarKind::kCompileDate, "", ""},
    {"compile_number", VarKind::kSource, "0", ""},
    {"config_dir", VarKind::kSource, "", ""},
    {"config_file", VarKind::kSource, "", ""},
    {"csa_status", VarKind::kSource, "", ""},
    {"dkim_algo", VarKind::kSource, "", ""},
    {"dkim_bodylength", VarKind::kSource, "9999999999999", ""},
    {"dkim_canon_body", VarKind::kSource, "", ""},
    {"dkim_canon_headers", VarKind::kSource, "", ""},
    {"dkim_copiedheaders", VarKind::kSource, "", ""},
    {"dkim_created", VarKind::kSource, "0", ""},
    {"dkim_cur_signer", VarKind::kSource, "", ""},
    {"dkim_domain", VarKind::kSource, "", ""},
    {"dkim_expires", VarKind::kSource, "9999999999999", ""},
    {"dkim_headernames", VarKind::kSource, "", ""},
    {"dkim_identity", VarKind::kSource, "", ""},
    {"dkim_key_granularity", VarKind::kSource, "*", ""},
    {"dkim_key_length", VarKind::kSource, "0", ""},
    {"dkim_key_nosubdomains", VarKind::kSource, "0", ""},
    {"dkim_key_notes", VarKind::kSource, "", ""},
    {"dkim_key_srvtype", VarKind::kSource, "*", ""},
    {"dkim_key_testing", VarKind::kSource, "0", ""},
    {"dkim_selector", VarKind::kSource, "", ""},
    {"dkim_signers", VarKind::kSource, "", ""},
    {"dkim_verify_reason", VarKind::kSource, "", ""},
    {"dkim_verify_status", VarKind::kSource, "", ""},
    {"dnslist_domain", VarKind::kSource, "", ""},
    {"dnslist_matched", VarKind::kSource, "", ""},
    {"dnslist_text", VarKind::kSource, "", ""},
    {"dnslist_value", VarKind::kSource, "", ""},
    {"domain", VarKind::kSource, "", ""},
    {"domain_data", VarKind::kSource, "", ""},
    {"event_defer_errno", VarKind::kSource, "0", ""},
    {"exim_gid", VarKind::kSource, "0", ""},
    {"exim_path", VarKind::kEximPath, "", ""},
    {"exim_uid", VarKind::kSource, "0", ""},
    {"exim_version", VarKind::kSource, "4.96", ""},
    {"headers_added", VarKind::kSource, "", ""},
    {"home", VarKind::kSource, "", ""},
    {"host", VarKind::kSource, "", ""},
    {"host_address", VarKind::kSource, "", ""},
    {"host_data", VarKind::kSource, "", ""},
    {"host_lookup_deferred", VarKind::kSource, "0", ""},
    {"host_lookup_failed", VarKind::kSource, "0", ""},
    {"host_port", VarKind::kSource, "0", ""},
    {"initial_cwd", VarKind::kSource, "", ""},
    {"inode", VarKind::kSource, "0", ""},
    {"interface_address", VarKind::kSource, "", ""},
    {"interface_port", VarKind::kSource, "-1", ""},
    {"item", VarKind::kItem, "", ""},
    {"ldap_dn", VarKind::kSource, "", ""},
    {"load_average", VarKind::kLoadAvg, "", ""},
    {"local_part", VarKind::kSource, "", ""},
    {"local_part_data", VarKind::kSource, "", ""},
    {"local_part_prefix", VarKind::kSource, "", ""},
    {"local_part_prefix_v", VarKind::kSource, "", ""},
    {"local_part_suffix", VarKind::kSource, "", ""},
    {"local_part_suffix_v", VarKind::kSource, "", ""},
    {"local_scan_data", VarKind::kSource, "", ""},
    {"local_user_gid", VarKind::kSource, "4294967295", ""},
    {"local_user_uid", VarKind::kSource, "4294967295", ""},
    {"localhost_number", VarKind::kSource, "0", ""},
    {"log_inodes", VarKind::kLogInodes, "", ""},
    {"log_space", VarKind::kLogSpace, "", ""},
    {"lookup_dnssec_authenticated", VarKind::kSource, "", ""},
    {"mailstore_basename", VarKind::kSource, "", ""},
    {"malware_name", VarKind::kSource, "", ""},
    {"max_received_linelength", VarKind::kSource, "0", ""},
    {"message_age", VarKind::kSource, "0", ""},
    {"message_body", VarKind::kSource, "", ""},
    {"message_body_end", VarKind::kSource, "", ""},
    {"message_body_size", VarKind::kSource, "0", ""},
    {"message_exim_id", VarKind::kSource, "", ""},
    {"message_headers", VarKind::kSource, "", ""},
    {"message_headers_raw", VarKind::kSource, "", ""},
    {"message_id", VarKind::kSource, "", ""},
    {"message_linecount", VarKind::kSource, "0", ""},
    {"message_size", VarKind::kSource, "0", ""},
    {"message_smtputf8", VarKind::kSource, "no", ""},
    {"mime_anomaly_level", VarKind::kSource, "0", ""},
    {"mime_anomaly_text", VarKind::kSource, "", ""},
    {"mime_boundary", VarKind::kSource, "", ""},
    {"mime_charset", VarKind::kSource, "", ""},
    {"mime_content_description", VarKind::kSource, "", ""},
    {"mime_content_disposition", VarKind::kSource, "", ""},
    {"mime_content_id", VarKind::kSource, "", ""},
    {"mime_content_size", VarKind::kSource, "0", ""},
    {"mime_content_transfer_encoding", VarKind::kSource, "", ""},
    {"mime_content_type", VarKind::kSource, "", ""},
    {"mime_decoded_filename", VarKind::kSource, "", ""},
    {"mime_filename", VarKind::kSource, "", ""},
    {"mime_is_coverletter", VarKind::kSource, "0", ""},
    {"mime_is_multipart", VarKind::kSource, "0", ""},
    {"mime_is_rfc822", VarKind::kSource, "0", ""},
    {"mime_part_count", VarKind::kSource, "-1", ""},
    {"n0", VarKind::kFilterInt, "", ""},
    {"n1", VarKind::kFilterInt, "", ""},
    {"n2", VarKind::kFilterInt, "", ""},
    {"n3", VarKind::kFilterInt, "", ""},
    {"n4", VarKind::kFilterInt, "", ""},
    {"n5", VarKind::kFilterInt, "", ""},
    {"n6", VarKind::kFilterInt, "", ""},
    {"n7", VarKind::kFilterInt, "", ""},
    {"n8", VarKind::kFilterInt, "", ""},
    {"n9", VarKind::kFilterInt, "", ""},
    {"original_domain", VarKind::kSource, "", ""},
    {"original_local_part", VarKind::kSource, "", ""},
    {"originator_gid", VarKind::kSource, "0", ""},
    {"originator_uid", VarKind::kSource, "0", ""},
    {"parent_domain", VarKind::kSource, "", ""},
    {"parent_local_part", VarKind::kSource, "", ""},
    {"pid", VarKind::kPid, "", ""},
    {"prdr_requested", VarKind::kSource, "no", ""},
    {"primary_hostname", VarKind::kSource, "", ""},
    {"prvscheck_address", VarKind::kPrvsAddress, "", ""},
    {"prvscheck_keynum", VarKind::kPrvsKeynum, "", ""},
    {"prvscheck_result", VarKind::kPrvsResult, "", ""},
    {"qualify_domain", VarKind::kSource, "", ""},
    {"qualify_recipient", VarKind::kSource, "", ""},
    {"queue_name", VarKind::kSource, "", ""},
    {"queue_size", VarKind::kSource, "", ""},
    {"rcpt_count", VarKind::kSource, "0", ""},
    {"rcpt_defer_count", VarKind::kSource, "0", ""},
    {"rcpt_fail_count", VarKind::kSource, "0", ""},
    {"received_count", VarKind::kSource, "0", ""},
    {"received_for", VarKind::kSource, "", ""},
    {"received_ip_address", VarKind::kSource, "", ""},
    {"received_port", VarKind::kSource, "-1", ""},
    {"received_protocol", VarKind::kSource, "", ""},
    {"received_time", VarKind::kSource, "0", ""},
    {"recipient_data", VarKind::kSource, "", ""},
    {"recipient_verify_failure", VarKind::kSource, "", ""},
    {"recipients", VarKind::kSource, "", ""},
    {"recipients_count", VarKind::kSource, "0", ""},
    {"regex_match_string", VarKind::kSource, "", ""},
    {"reply_address", VarKind::kSource, "", ""},
    {"return_path", VarKind::kSource, "", ""},
    {"return_size_limit", VarKind::kSource, "102400", ""},
    {"router_name", VarKind::kSource, "", ""},
    {"runrc", VarKind::kRunrc, "", ""},
    {"self_hostname", VarKind::kSource, "", ""},
    {"sender_address", VarKind::kSource, "", ""},
    {"sender_address_data", VarKind::kSource, "", ""},
    {"sender_address_domain", VarKind::kDomainOf, "", "sender_address"},
    {"sender_address_local_part", VarKind::kLocalPartOf, "", "sender_address"},
    {"sender_data", VarKind::kSource, "", ""},
    {"sender_fullhost", VarKind::kSource, "", ""},
    {"sender_helo_dnssec", VarKind::kSource, "no", ""},
    {"sender_helo_name", VarKind::kSource, "", ""},
    {"sender_host_address", VarKind::kSource, "", ""},
    {"sender_host_authenticated", VarKind::kSource, "", ""},
    {"sender_host_dnssec", VarKind::kSource, "no", ""},
    {"sender_host_name", VarKind::kSource, "", ""},
    {"sender_host_port", VarKind::kSource, "0", ""},
    {"sender_ident", VarKind::kSource, "", ""},
    {"sender_rate", VarKind::kSource, "", ""},
    {"sender_rate_limit", VarKind::kSource, "", ""},
    {"sender_rate_period", VarKind::kSource, "", ""},
    {"sender_rcvhost", VarKind::kSource, "", ""},
    {"sender_verify_failure", VarKind::kSource, "", ""},
    {"sending_ip_address", VarKind::kSource, "", ""},
    {"sending_port", VarKind::kSource, "-1", ""},
    {"smtp_active_hostname", VarKind::kSource, "", ""},
    {"smtp_command", VarKind::kSource, "", ""},
    {"smtp_command_argument", VarKind::kSource, "", ""},
    {"smtp_command_history", VarKind::kSource, "", ""},
    {"smtp_count_at_connection_start", VarKind::kSource, "0", ""},
    {"smtp_notquit_reason", VarKind::kSource, "", ""},
    {"sn0", VarKind::kFilterInt, "", ""},
    {"sn1", VarKind::kFilterInt, "", ""},
    {"sn2", VarKind::kFilterInt, "", ""},
    {"sn3", VarKind::kFilterInt, "", ""},
    {"sn4", VarKind::kFilterInt, "", ""},
    {"sn5", VarKind::kFilterInt, "", ""},
    {"sn6", VarKind::kFilterInt, "", ""},
    {"sn7", VarKind::kFilterInt, "", ""},
    {"sn8", VarKind::kFilterInt, "", ""},
    {"sn9", VarKind::kFilterInt, "", ""},
    {"spam_action", VarKind::kSource, "", ""},
    {"spam_bar", VarKind::kSource, "", ""},
    {"spam_report", VarKind::kSource, "", ""},
    {"spam_score", VarKind::kSource, "", ""},
    {"spam_score_int", VarKind::kSource, "", ""},
    {"spf_guess", VarKind::kSource, "v=spf1 a/24 mx/24 ptr ?all", ""},
    {"spf_header_comment", VarKind::kSource, "", ""},
    {"spf_received", VarKind::kSource, "", ""},
    {"spf_result", VarKind::kSource, "", ""},
    {"spf_result_guessed", VarKind::kSource, "no", ""},
    {"spf_smtp_comment", VarKind::kSource, "", ""},
    {"spool_directory", VarKind::kSource, "", ""},
    {"spool_inodes", VarKind::kSpoolInodes, "", ""},
    {"spool_space", VarKind::kSpoolSpace, "", ""},
    {"srs_recipient", VarKind::kSource, "", ""},
    {"thisaddress", VarKind::kSource, "", ""},
    {"tls_bits", VarKind::kSource, "0", ""},
    {"tls_certificate_verified", VarKind::kSource, "0", ""},
    {"tls_cipher", VarKind::kSource, "", ""},
    {"tls_in_bits", VarKind::kSource, "0", ""},
    {"tls_in_certificate_verified", VarKind::kSource, "0", ""},
    {"tls_in_cipher", VarKind::kSource, "", ""},
    {"tls_in_cipher_std", VarKind::kSource, "", ""},
    {"tls_in_ourcert", VarKind::kSource, "", ""},
    {"tls_in_peercert", VarKind::kSource, "", ""},
    {"tls_in_peerdn", VarKind::kSource, "", ""},
    {"tls_in_resumption", VarKind::kSource, "0", ""},
    {"tls_in_sni", VarKind::kSource, "", ""},
    {"tls_in_ver", VarKind::kSource, "", ""},
    {"tls_out_bits", VarKind::kSource, "0", ""},
    {"tls_out_certificate_verified", VarKind::kSource, "0", ""},
    {"tls_out_cipher", VarKind::kSource, "", ""},
    {"tls_out_cipher_std", VarKind::kSource, "", ""},
    {"tls_out_ourcert", VarKind::kSource, "", ""},
    {"tls_out_peercert", VarKind::kSource, "", ""},
    {"tls_out_peerdn", VarKind::kSource, "", ""},
    {"tls_out_resumption", VarKind::kSource, "0", ""},
    {"tls_out_sni", VarKind::kSource, "", ""},
    {"tls_out_ver", VarKind::kSource, "", ""},
    {"tls_peerdn", VarKind::kSource, "", ""},
    {"tls_sni", VarKind::kSource, "", ""},
    {"tod_bsdinbox", VarKind::kTodBsdInbox, "", ""},
    {"tod_epoch", VarKind::kTodEpoch, "", ""},
    {"tod_epoch_l", VarKind::kTodEpochL, "", ""},
    {"tod_full", VarKind::kTodFull, "", ""},
    {"tod_log", VarKind::kTodLog, "", ""},
    {"tod_logfile", VarKind::kTodLogfile, "", ""},
    {"tod_zone", VarKind::kTodZone, "", ""},
    {"tod_zulu", VarKind::kTodZulu, "", ""},
    {"transport_name", VarKind::kSource, "", ""},
    {"value", VarKind::kValue, "", ""},
    {"verify_mode", VarKind::kSource, "", ""},
    {"version_number", VarKind::kSource, "4.96", ""},
    {"warn_message_delay", VarKind::kSource, "", ""},
    {"warn_message_recipient", VarKind::kSource, "", ""},
    {"warn_message_recipients", VarKind::kSource, "", ""},
    {"warnmsg_delay", VarKind::kSource, "", ""},
    {"warnmsg_recipient", VarKind::kSource, "", ""},
    {"warnmsg_recipients", VarKind::kSource, "", ""},
};

std::chrono::system_clock::time_point now_of(Context& ctx) {
  return ctx.clock ? ctx.clock() : std::chrono::system_clock::now();
}

void append_tod(VarKind kind, Context& ctx, std::string& out) {
  auto tp = now_of(ctx);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count();
  std::time_t t = static_cast<std::time_t>(us / 1000000);
  struct tm local;
  localtime_r(&t, &local);
  char buf[192];
  long off = local.tm_gmtoff;
  char zone[32];
  long aoff = off < 0 ? -off : off;
  std::snprintf(zone, sizeof zone, "%c%02d%02d", off < 0 ? '-' : '+', static_cast<int>(aoff / 3600 % 100),
                static_cast<int>(aoff % 3600 / 60));
  switch (kind) {
    case VarKind::kTodBsdInbox:
      std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S %Y", &local);
      break;
    case VarKind::kTodEpoch:
      std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(t));
      break;
    case VarKind::kTodEpochL:
      std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(us));
      break;
    case VarKind::kTodFull: {
      char b2[96];
      std::strftime(b2, sizeof b2, "%a, %d %b %Y %H:%M:%S", &local);
      std::snprintf(buf, sizeof buf, "%s %s", b2, zone);
      break;
    }
    case VarKind::kTodLog:
      std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &local);
      break;
    case VarKind::kTodLogfile:
      std::strftime(buf, sizeof buf, "%Y%m%d", &local);
      break;
    case VarKind::kTodZone:
      std::snprintf(buf, sizeof buf, "%s", zone);
      break;
    case VarKind::kTodZulu: {
      struct tm utc;
      gmtime_r(&t, &utc);
      std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &utc);
      break;
    }
    default:
      buf[0] = 0;
  }
  out += buf;
}

void append_fs(bool spool, bool inodes, Context& ctx, std::string& out) {
  std::string dir;
  if (ctx.variables) {
    if (spool) {
      ctx.variables->append("spool_directory", dir);
    } else {
      ctx.variables->append("log_file_path", dir);
      auto pct = dir.find('%');
      if (pct != std::string::npos) dir = dir.substr(0, dir.rfind('/', pct));
    }
  }
  if (dir.empty()) dir = spool ? "/var/spool/exim" : "/var/log/exim";
  struct statvfs st;
  long long v = -1;
  if (statvfs(dir.c_str(), &st) == 0) {
    v = inodes ? static_cast<long long>(st.f_favail)
               : static_cast<long long>(st.f_bavail) * static_cast<long long>(st.f_frsize) / 1024;
  }
  out += std::to_string(v);
}

void append_opt(const std::optional<std::string>& v, std::string& out) {
  if (v) out += *v;
}

}  // namespace

const VarDef* find_variable_def(std::string_view name) {
  auto it = std::lower_bound(std::begin(kTable), std::end(kTable), name,
                             [](const VarDef& d, std::string_view n) { return d.name < n; });
  if (it == std::end(kTable) || it->name != name) return nullptr;
  return &*it;
}

bool append_variable(const VarDef& def, Context& ctx, std::string& out) {
  switch (def.kind) {
    case VarKind::kSource:
      if (!ctx.variables || !ctx.variables->append(def.name, out)) out += def.dflt;
      return true;
    case VarKind::kFilterInt:
      if (!ctx.filter_running) return false;
      if (!ctx.variables || !ctx.variables->append(def.name, out)) out += '0';
      return true;
    case VarKind::kPid:
      out += std::to_string(static_cast<long>(getpid()));
      return true;
    case VarKind::kLoadAvg: {
      double avg[1];
      out += std::to_string(getloadavg(avg, 1) == 1 ? static_cast<int>(avg[0] * 1000.0) : -1);
      return true;
    }
    case VarKind::kSpoolSpace: append_fs(true, false, ctx, out); return true;
    case VarKind::kSpoolInodes: append_fs(true, true, ctx, out); return true;
    case VarKind::kLogSpace: append_fs(false, false, ctx, out); return true;
    case VarKind::kLogInodes: append_fs(false, true, ctx, out); return true;
    case VarKind::kLocalPartOf:
    case VarKind::kDomainOf: {
      std::string addr;
      if (ctx.variables) ctx.variables->append(def.of, addr);
      auto at = addr.rfind('@');
      if (def.kind == VarKind::kLocalPartOf) {
        out.append(addr, 0, at == std::string::npos ? addr.size() : at);
      } else if (at != std::string::npos) {
        out.append(addr, at + 1, std::string::npos);
      }
      return true;
    }
    case VarKind::kValue: append_opt(ctx.value, out); return true;
    case VarKind::kItem: append_opt(ctx.item, out); return true;
    case VarKind::kRunrc: out += std::to_string(ctx.runrc); return true;
    case VarKind::kPrvsAddress: append_opt(ctx.prvscheck_address, out); return true;
    case VarKind::kPrvsKeynum: append_opt(ctx.prvscheck_keynum, out); return true;
    case VarKind::kPrvsResult: append_opt(ctx.prvscheck_result, out); return true;
    case VarKind::kAclArg: {
      size_t i = static_cast<size_t>(def.dflt[0] - '1');
      if (i < ctx.acl_args.size()) out += ctx.acl_args[i];
      return true;
    }
    case VarKind::kAclNarg: out += std::to_string(ctx.acl_args.size()); return true;
    case VarKind::kEximPath: {
      if (ctx.variables && ctx.variables->append(def.name, out)) return true;
      char buf[4096];
      ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
      if (n > 0) out.append(buf, static_cast<size_t>(n));
      return true;
    }
    case VarKind::kCompileDate: {
      if (ctx.variables && ctx.variables->append(def.name, out)) return true;
      // __DATE__ is "Mmm dd yyyy"; Exim prints "dd-Mmm-yyyy hh:mm:ss".
      std::string d = __DATE__;
      std::string day = d.substr(4, 2);
      if (day[0] == ' ') day = day.substr(1);
      out += day + "-" + d.substr(0, 3) + "-" + d.substr(7, 4) + " " + __TIME__;
      return true;
    }
    default:
      append_tod(def.kind, ctx, out);
      return true;
  }
}

std::vector<std::string_view> variable_names() {
  std::vector<std::string_view> v;
  for (const auto& d : kTable) v.push_back(d.name);
  return v;
}

}  // namespace tern::expand
