/* tests/abi/abi_layout.c: pins the layout of every struct of tern/module.h.
 *
 * Compiled as C11 (not run): a moved field, a changed size or a renumbered
 * constant breaks the build. x86_64 (LP64) numbers. When a minor adds an
 * entry at the end of a struct, add its pin and change that struct's size
 * here, in the same change that bumps TERN_ABI_MINOR; any other failure
 * here is an incompatible change: a new major.
 */
#include <tern/module.h>

#include <assert.h>
#include <stddef.h>

#if !defined(__x86_64__)
#error "tests/abi/abi_layout.c pins the x86_64 layout"
#endif

#define TERN_PIN(type, field, off) \
  static_assert(offsetof(type, field) == (off), #type "." #field " moved")
#define TERN_SIZE(type, n) static_assert(sizeof(type) == (n), "sizeof(" #type ") changed")
#define TERN_VALUE(name, v) static_assert((name) == (v), #name " changed")

/* The four fields that never move, in any major. */
TERN_PIN(tern_module, magic, 0);
TERN_PIN(tern_module, size, 4);
TERN_PIN(tern_module, abi_major, 8);
TERN_PIN(tern_module, abi_minor, 10);
TERN_VALUE(TERN_MODULE_MAGIC, 0x4d4e5254u);
TERN_VALUE(TERN_ABI_MAJOR, 1);
TERN_VALUE(TERN_ABI_MINOR, 2);

/* tern_ctx: the public head of the core's per-module context */
TERN_PIN(tern_ctx, size, 0);
TERN_PIN(tern_ctx, host, 8);
TERN_PIN(tern_ctx, data, 16);
TERN_SIZE(tern_ctx, 24);

/* tern_str */
TERN_PIN(tern_str, ptr, 0);
TERN_PIN(tern_str, len, 8);
TERN_SIZE(tern_str, 16);

/* tern_option_def */
TERN_PIN(tern_option_def, size, 0);
TERN_PIN(tern_option_def, name, 8);
TERN_PIN(tern_option_def, type, 16);
TERN_PIN(tern_option_def, scopes, 20);
TERN_PIN(tern_option_def, drivers, 24);
TERN_PIN(tern_option_def, default_value, 32);
TERN_SIZE(tern_option_def, 40);

/* tern_acl_condition_def */
TERN_PIN(tern_acl_condition_def, size, 0);
TERN_PIN(tern_acl_condition_def, name, 8);
TERN_PIN(tern_acl_condition_def, where, 16);
TERN_PIN(tern_acl_condition_def, flags, 20);
TERN_PIN(tern_acl_condition_def, timeout_ms, 24);
TERN_PIN(tern_acl_condition_def, check, 32);
TERN_PIN(tern_acl_condition_def, user, 40);
TERN_SIZE(tern_acl_condition_def, 48);

/* tern_operator_def */
TERN_PIN(tern_operator_def, size, 0);
TERN_PIN(tern_operator_def, name, 8);
TERN_PIN(tern_operator_def, flags, 16);
TERN_PIN(tern_operator_def, timeout_ms, 20);
TERN_PIN(tern_operator_def, apply, 24);
TERN_PIN(tern_operator_def, user, 32);
TERN_SIZE(tern_operator_def, 40);

/* tern_item_def */
TERN_PIN(tern_item_def, size, 0);
TERN_PIN(tern_item_def, name, 8);
TERN_PIN(tern_item_def, min_args, 16);
TERN_PIN(tern_item_def, max_args, 20);
TERN_PIN(tern_item_def, flags, 24);
TERN_PIN(tern_item_def, timeout_ms, 28);
TERN_PIN(tern_item_def, apply, 32);
TERN_PIN(tern_item_def, user, 40);
TERN_SIZE(tern_item_def, 48);

/* tern_lookup_def */
TERN_PIN(tern_lookup_def, size, 0);
TERN_PIN(tern_lookup_def, name, 8);
TERN_PIN(tern_lookup_def, flags, 16);
TERN_PIN(tern_lookup_def, timeout_ms, 20);
TERN_PIN(tern_lookup_def, open, 24);
TERN_PIN(tern_lookup_def, find, 32);
TERN_PIN(tern_lookup_def, close, 40);
TERN_PIN(tern_lookup_def, quote, 48);
TERN_PIN(tern_lookup_def, user, 56);
TERN_SIZE(tern_lookup_def, 64);

/* tern_variable_def */
TERN_PIN(tern_variable_def, size, 0);
TERN_PIN(tern_variable_def, name, 8);
TERN_PIN(tern_variable_def, get, 16);
TERN_PIN(tern_variable_def, user, 24);
TERN_SIZE(tern_variable_def, 32);

/* tern_event_listener_def */
TERN_PIN(tern_event_listener_def, size, 0);
TERN_PIN(tern_event_listener_def, events, 8);
TERN_PIN(tern_event_listener_def, priority, 16);
TERN_PIN(tern_event_listener_def, on_event, 24);
TERN_PIN(tern_event_listener_def, user, 32);
TERN_SIZE(tern_event_listener_def, 40);

/* tern_hook_def */
TERN_PIN(tern_hook_def, size, 0);
TERN_PIN(tern_hook_def, point, 4);
TERN_PIN(tern_hook_def, priority, 8);
TERN_PIN(tern_hook_def, flags, 12);
TERN_PIN(tern_hook_def, timeout_ms, 16);
TERN_PIN(tern_hook_def, run, 24);
TERN_PIN(tern_hook_def, user, 32);
TERN_SIZE(tern_hook_def, 40);

/* tern_message */
TERN_PIN(tern_message, size, 0);
TERN_PIN(tern_message, id, 8);
TERN_PIN(tern_message, sender, 24);
TERN_PIN(tern_message, recipients, 40);
TERN_PIN(tern_message, recipient_count, 48);
TERN_PIN(tern_message, data_fd, 56);
TERN_PIN(tern_message, headers, 64);
TERN_SIZE(tern_message, 80);

/* tern_dns_answer */
TERN_PIN(tern_dns_answer, size, 0);
TERN_PIN(tern_dns_answer, rcode, 4);
TERN_PIN(tern_dns_answer, secure, 8);
TERN_PIN(tern_dns_answer, count, 16);
TERN_PIN(tern_dns_answer, rdata, 24);
TERN_SIZE(tern_dns_answer, 32);

/* tern_host */
TERN_PIN(tern_host, size, 0);
TERN_PIN(tern_host, abi_major, 4);
TERN_PIN(tern_host, abi_minor, 6);
TERN_PIN(tern_host, discovery, 8);
TERN_PIN(tern_host, log, 16);
TERN_PIN(tern_host, set_error, 24);
TERN_PIN(tern_host, buf_append, 32);
TERN_PIN(tern_host, add_option, 40);
TERN_PIN(tern_host, add_acl_condition, 48);
TERN_PIN(tern_host, add_operator, 56);
TERN_PIN(tern_host, add_item, 64);
TERN_PIN(tern_host, add_lookup, 72);
TERN_PIN(tern_host, add_variable, 80);
TERN_PIN(tern_host, add_event_listener, 88);
TERN_PIN(tern_host, add_hook, 96);
TERN_PIN(tern_host, expand, 104);
TERN_PIN(tern_host, get_variable, 112);
TERN_PIN(tern_host, get_option, 120);
TERN_PIN(tern_host, get_option_int, 128);
TERN_PIN(tern_host, raise_event, 136);
TERN_PIN(tern_host, dns_query, 144);
TERN_PIN(tern_host, set_recipient_data, 152);
TERN_PIN(tern_host, recipient_data, 160);
TERN_PIN(tern_host, set_session_data, 168);
TERN_PIN(tern_host, session_data, 176);
TERN_PIN(tern_host, conn_read, 184);
TERN_PIN(tern_host, conn_set_addresses, 192);
TERN_PIN(tern_host, match_host_list, 200);
TERN_PIN(tern_host, conn_set_timeout, 208);
TERN_PIN(tern_host, call_error, 216);
TERN_SIZE(tern_host, 224);

/* tern_module */
TERN_PIN(tern_module, magic, 0);
TERN_PIN(tern_module, size, 4);
TERN_PIN(tern_module, abi_major, 8);
TERN_PIN(tern_module, abi_minor, 10);
TERN_PIN(tern_module, name, 16);
TERN_PIN(tern_module, version, 24);
TERN_PIN(tern_module, init, 32);
TERN_PIN(tern_module, fini, 40);
TERN_SIZE(tern_module, 48);

/* Constants a module compiles in. */
TERN_VALUE(TERN_OK, 0);
TERN_VALUE(TERN_DECLINE, 1);
TERN_VALUE(TERN_FAIL, 2);
TERN_VALUE(TERN_DEFER, 3);
TERN_VALUE(TERN_ERROR, 4);
TERN_VALUE(TERN_LOG_MAIN, 1);
TERN_VALUE(TERN_LOG_REJECT, 2);
TERN_VALUE(TERN_LOG_PANIC, 4);
TERN_VALUE(TERN_LOG_DEBUG, 8);
TERN_VALUE(TERN_MAY_BLOCK, 0x1u);
TERN_VALUE(TERN_ACL_MODIFIER, 0x2u);
TERN_VALUE(TERN_ACL_CONTROL, 0x4u);
TERN_VALUE(TERN_LOOKUP_QUERY, 0x8u);
TERN_VALUE(TERN_LOOKUP_SINGLE_KEY, 0x10u);
TERN_VALUE(TERN_OPT_BOOL, 1);
TERN_VALUE(TERN_OPT_INT, 2);
TERN_VALUE(TERN_OPT_TIME, 3);
TERN_VALUE(TERN_OPT_FIXED, 4);
TERN_VALUE(TERN_OPT_STRING, 5);
TERN_VALUE(TERN_OPT_STRING_LIST, 6);
TERN_VALUE(TERN_OPT_HOST_LIST, 7);
TERN_VALUE(TERN_OPT_UID, 8);
TERN_VALUE(TERN_OPT_GID, 9);
TERN_VALUE(TERN_SCOPE_MAIN, 1);
TERN_VALUE(TERN_SCOPE_ROUTER, 2);
TERN_VALUE(TERN_SCOPE_TRANSPORT, 4);
TERN_VALUE(TERN_ACL_CONNECT, 1u << 0);
TERN_VALUE(TERN_ACL_HELO, 1u << 1);
TERN_VALUE(TERN_ACL_MAIL, 1u << 2);
TERN_VALUE(TERN_ACL_RCPT, 1u << 3);
TERN_VALUE(TERN_ACL_PREDATA, 1u << 4);
TERN_VALUE(TERN_ACL_DATA, 1u << 5);
TERN_VALUE(TERN_ACL_MIME, 1u << 6);
TERN_VALUE(TERN_ACL_QUIT, 1u << 7);
TERN_VALUE(TERN_ACL_NOTQUIT, 1u << 8);
TERN_VALUE(TERN_ACL_VRFY, 1u << 9);
TERN_VALUE(TERN_ACL_EXPN, 1u << 10);
TERN_VALUE(TERN_ACL_STARTTLS, 1u << 11);
TERN_VALUE(TERN_ACL_ALL, 0xfffu);
TERN_VALUE(TERN_HOOK_PRE_BANNER, 1);
TERN_VALUE(TERN_HOOK_TLS_SERVER_CTX, 2);
TERN_VALUE(TERN_HOOK_TLS_SERVER_SSL, 3);
TERN_VALUE(TERN_HOOK_TLS_CLIENT_BEFORE, 4);
TERN_VALUE(TERN_HOOK_TLS_CLIENT_AFTER, 5);
TERN_VALUE(TERN_HOOK_AFTER_DATA, 6);
TERN_VALUE(TERN_HOOK_ROUTER_PRECONDITION, 7);

/* The 1.0 table ends where 1.1 begins: a 1.0 core's host->size. */
TERN_VALUE(offsetof(tern_host, set_session_data), 168);

/* The 1.1 table ends where 1.2 begins: a 1.1 core's host->size. */
TERN_VALUE(offsetof(tern_host, match_host_list), 200);
