/* tern/module.h: the whole contract between the tern core and a module.
 *
 * Plain C11 (also valid C++20), no header but <stddef.h> and <stdint.h>.
 * A module is a shared object exporting one symbol, tern_module_v1, that
 * returns a tern_module descriptor. The core checks it, then calls init with
 * the host table: what the core offers (logging, expansion, variables,
 * options, DNS, buffers) and the registration calls through which the module
 * says what it brings (options, ACL conditions and controls, expansion
 * operators and items, lookup types, variables, event listeners, hooks).
 *
 * Rules that keep the ABI stable:
 *  - tern_host only grows at its end; entries added in minor N sit below a
 *    "1.N" marker. A module checks that an entry exists with TERN_HOST_HAS
 *    before calling it when it may run on an older core.
 *  - Every struct that crosses the boundary starts with uint32_t size; the
 *    reader uses only the fields the size covers and treats the rest as 0.
 *    New fields are appended, never inserted.
 *  - Reordering, removing, or changing a signature or a meaning is a new
 *    major: a new entry point tern_module_v2.
 *  - Strings are tern_str (pointer + length, borrowed: valid during the call
 *    that passes them, unless stated). What a module produces (an operator's
 *    result, a lookup's data, a verdict, a message) goes into a host-owned
 *    tern_buf it appends to; what the host answers (expand, get_variable,
 *    get_option, recipient_data, raise_event's verdict) comes back as a
 *    host-owned tern_str the module reads. Definitions passed to add_* are
 *    copied by the core, their `user` pointer included.
 *  - No mutable static state in a module: the host table and the module's
 *    own data are reached through the tern_ctx every callback gets
 *    (ctx->host, ctx->data), and `user` tells one registration from another.
 *  - OpenSSL objects cross as void*, documented as OpenSSL's own types: core
 *    and modules share the process's libssl.
 *
 * Lifetimes:
 *  - tern_ctx: one loaded module, from init to fini. init may also run in
 *    discovery mode (host->discovery != 0): the core only records what the
 *    module registers (to name it in configuration errors) and calls fini at
 *    once, so init must register and allocate, never connect or start work.
 *  - tern_call: one call's surroundings (a session, a message, a delivery
 *    attempt, an expansion); valid only during the callback that gets it.
 *  - tern_buf: valid during the callback that gets it.
 *  - A tern_str the host writes into an `out` argument: host-owned, valid
 *    until the callback that received the tern_call returns.
 *  - `user` of a definition: the module's; the core only hands it back.
 *
 * ABI history:
 *   1.0  descriptor; tern_ctx a public head (size, host, data) reached by
 *        every callback; registrations (options, ACL conditions, operators,
 *        items, lookup types with the caller's context, variables, event
 *        listeners, hooks), each definition with a `user` pointer handed to
 *        its callbacks; expansion, variables and options with readable
 *        host-owned results; events, DNS, per-recipient data.
 *   1.1  per-session module data; raw connection access for pre-banner hooks
 *        (conn_read, conn_set_addresses).
 *   1.2  host lists matched by the core for a module (match_host_list); a
 *        pre-banner hook's own read deadline (conn_set_timeout); the text
 *        of the most recent error on a call (call_error).
 */
#ifndef TERN_MODULE_H
#define TERN_MODULE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_ABI_MAJOR 1
#define TERN_ABI_MINOR 2
#define TERN_MODULE_MAGIC 0x4d4e5254u /* the bytes "TRNM" on little-endian */

#if defined(__GNUC__)
#define TERN_EXPORT __attribute__((visibility("default")))
#else
#define TERN_EXPORT
#endif

/* ---- basic types ------------------------------------------------------ */

/* A borrowed string; not NUL-terminated unless said so. */
typedef struct tern_str {
  const char *ptr;
  size_t len;
} tern_str;

typedef enum tern_status {
  TERN_OK = 0,      /* done; for conditions: true */
  TERN_DECLINE = 1, /* not mine, or false, or unset: go on */
  TERN_FAIL = 2,    /* permanent failure; lookups: not found; expand: forced fail */
  TERN_DEFER = 3,   /* temporary failure: try again later */
  TERN_ERROR = 4    /* an error; its text was set with host->set_error */
} tern_status;

typedef enum tern_log_level {
  TERN_LOG_MAIN = 1,
  TERN_LOG_REJECT = 2,
  TERN_LOG_PANIC = 4,
  TERN_LOG_DEBUG = 8
} tern_log_level;

struct tern_host;

/* One loaded module, from init to fini: what every callback gets first.
 * The core owns it (it may allocate a larger private struct that starts
 * with this head); the module reads `size` and `host` and owns `data`. */
typedef struct tern_ctx {
  uint32_t size;                /* sizeof(tern_ctx) in the core: fields
                                   beyond it are absent (read as 0) */
  const struct tern_host *host; /* the host table, the same init gets */
  void *data;                   /* the module's own state: NULL at init,
                                   set by the module, freed by it in fini;
                                   the core never touches it */
} tern_ctx;

/* Opaque handles, owned by the core (see "Lifetimes" above). */
typedef struct tern_call tern_call;
typedef struct tern_buf tern_buf;
typedef struct tern_conn tern_conn; /* a raw accepted connection (pre-banner hook) */

/* Flags shared by the definitions below. */
#define TERN_MAY_BLOCK 0x1u         /* runs off the I/O thread, with a deadline */
#define TERN_ACL_MODIFIER 0x2u      /* ACL: a modifier (always true), not a condition */
#define TERN_ACL_CONTROL 0x4u       /* ACL: a `control = name` value, not a condition */
#define TERN_LOOKUP_QUERY 0x8u      /* ${lookup type{query}} */
#define TERN_LOOKUP_SINGLE_KEY 0x10u /* ${lookup{key}type{file}} */

/* ---- what a module registers ------------------------------------------ */

typedef enum tern_option_type {
  TERN_OPT_BOOL = 1,
  TERN_OPT_INT = 2,    /* K, M, G suffixes, octal, hex */
  TERN_OPT_TIME = 3,   /* 1h30m; get_option_int gives seconds */
  TERN_OPT_FIXED = 4,  /* three decimals; get_option_int gives value * 1000 */
  TERN_OPT_STRING = 5, /* the module expands it with host->expand when used */
  TERN_OPT_STRING_LIST = 6,
  TERN_OPT_HOST_LIST = 7,
  TERN_OPT_UID = 8,
  TERN_OPT_GID = 9
} tern_option_type;

typedef enum tern_option_scope {
  TERN_SCOPE_MAIN = 1,
  TERN_SCOPE_ROUTER = 2,
  TERN_SCOPE_TRANSPORT = 4
} tern_option_scope;

typedef struct tern_option_def {
  uint32_t size;
  const char *name;          /* Exim's name, e.g. "hosts_try_dane" */
  tern_option_type type;
  uint32_t scopes;           /* tern_option_scope bits */
  const char *drivers;       /* router/transport drivers it applies to, colon
                                list ("smtp"); NULL: every driver */
  const char *default_value; /* as a configuration would write it; NULL: unset */
} tern_option_def;

/* Which ACLs a condition may appear in (bits). */
typedef enum tern_acl_where {
  TERN_ACL_CONNECT = 1u << 0,
  TERN_ACL_HELO = 1u << 1,
  TERN_ACL_MAIL = 1u << 2,
  TERN_ACL_RCPT = 1u << 3,
  TERN_ACL_PREDATA = 1u << 4,
  TERN_ACL_DATA = 1u << 5,
  TERN_ACL_MIME = 1u << 6,
  TERN_ACL_QUIT = 1u << 7,
  TERN_ACL_NOTQUIT = 1u << 8,
  TERN_ACL_VRFY = 1u << 9,
  TERN_ACL_EXPN = 1u << 10,
  TERN_ACL_STARTTLS = 1u << 11,
  TERN_ACL_ALL = 0xfffu
} tern_acl_where;

/* `name = value` in an ACL statement, or with TERN_ACL_CONTROL the value
 * `name` of `control =`. `value` arrives expanded. Returns TERN_OK (true),
 * TERN_DECLINE (false), TERN_DEFER or TERN_ERROR. `message` may receive a
 * text for the SMTP reply or the log. */
typedef struct tern_acl_condition_def {
  uint32_t size;
  const char *name;
  uint32_t where;      /* tern_acl_where bits */
  uint32_t flags;      /* TERN_MAY_BLOCK, TERN_ACL_MODIFIER, TERN_ACL_CONTROL */
  uint32_t timeout_ms; /* TERN_MAY_BLOCK: deadline; 0: the core's default */
  tern_status (*check)(tern_ctx *ctx, void *user, tern_call *call, tern_str value,
                       tern_buf *message);
  void *user; /* handed to check as is */
} tern_acl_condition_def;

/* ${name:argument}; the argument arrives expanded. TERN_FAIL is a forced
 * failure; TERN_ERROR an expansion failure with the text set. `user` is the
 * definition's, so one function may serve several operators. */
typedef struct tern_operator_def {
  uint32_t size;
  const char *name;
  uint32_t flags;
  uint32_t timeout_ms;
  tern_status (*apply)(tern_ctx *ctx, void *user, tern_call *call, tern_str argument,
                       tern_buf *out);
  void *user; /* handed to apply as is */
} tern_operator_def;

/* ${name{arg1}{arg2}...}; the arguments arrive expanded. */
typedef struct tern_item_def {
  uint32_t size;
  const char *name;
  uint32_t min_args, max_args; /* 1..9 */
  uint32_t flags;
  uint32_t timeout_ms;
  tern_status (*apply)(tern_ctx *ctx, void *user, tern_call *call, const tern_str *args,
                       size_t nargs, tern_buf *out);
  void *user; /* handed to apply as is */
} tern_item_def;

/* A lookup type. find: TERN_OK found (data in out), TERN_FAIL not found,
 * TERN_DEFER try later (reason with host->set_error). Set *no_cache to 1
 * when the answer must not be cached (an answer that depends on the call's
 * context, say). `call` is the caller's: inside an expansion, host->expand
 * and get_variable see that expansion's variables. open and close are
 * optional (NULL): single-key types open the file there; query types get
 * an empty filename. quote (optional) implements ${quote_<name>:...};
 * `options` is the text after "quote_<name>_" (empty when none). */
typedef struct tern_lookup_def {
  uint32_t size;
  const char *name;
  uint32_t flags; /* TERN_LOOKUP_QUERY or TERN_LOOKUP_SINGLE_KEY; TERN_MAY_BLOCK */
  uint32_t timeout_ms;
  tern_status (*open)(tern_ctx *ctx, void *user, tern_str filename, void **handle);
  tern_status (*find)(tern_ctx *ctx, void *user, tern_call *call, void *handle,
                      tern_str filename, tern_str key, tern_str options, tern_buf *out,
                      int *no_cache);
  void (*close)(tern_ctx *ctx, void *user, void *handle);
  tern_status (*quote)(tern_ctx *ctx, void *user, tern_str in, tern_str options, tern_buf *out);
  void *user; /* handed to open, find, close and quote as is */
} tern_lookup_def;

/* $name. TERN_OK with the value in out; TERN_DECLINE: unset (empty). */
typedef struct tern_variable_def {
  uint32_t size;
  const char *name;
  tern_status (*get)(tern_ctx *ctx, void *user, tern_call *call, tern_buf *out);
  void *user; /* handed to get as is */
} tern_variable_def;

/* A listener on the event bus. `events` lists names, or prefixes ending in
 * '*' ("msg:*"), separated by white space or commas (event names contain
 * colons, so a colon list would be ambiguous); NULL for every event. A non-empty
 * `verdict` asks the core to act as Exim does on a non-empty event_action
 * result (tcp:connect: do not connect; tls:cert: refuse the certificate;
 * smtp:connect: close). Listeners run in `modules =` order, then by
 * priority (-100 first, 100 last); the first non-empty verdict wins. */
typedef struct tern_event_listener_def {
  uint32_t size;
  const char *events;
  int32_t priority;
  tern_status (*on_event)(tern_ctx *ctx, void *user, tern_call *call, tern_str event,
                          tern_str data, tern_buf *verdict);
  void *user; /* handed to on_event as is */
} tern_event_listener_def;

/* ---- hook points ------------------------------------------------------- */

typedef enum tern_hook_point {
  /* arg: tern_conn*. Before TLS-on-connect and the banner; may read the raw
   * connection (conn_read) and replace the addresses. A non-OK result fails
   * the negotiation: the session continues but refuses every command but
   * QUIT with a 503 whose text is the verdict (the error goes to the log). */
  TERN_HOOK_PRE_BANNER = 1,
  /* arg: SSL_CTX* of the server, once per configuration and certificate. */
  TERN_HOOK_TLS_SERVER_CTX = 2,
  /* arg: SSL* of an inbound connection, before its handshake. */
  TERN_HOOK_TLS_SERVER_SSL = 3,
  /* arg: SSL* of an outbound connection, before its handshake. Non-OK:
   * do not use this host (TERN_DEFER: try later; TERN_FAIL: permanently). */
  TERN_HOOK_TLS_CLIENT_BEFORE = 4,
  /* arg: SSL* after the handshake. Non-OK refuses the connection; text in
   * verdict goes to the log (e.g. "dane" for CV=dane). */
  TERN_HOOK_TLS_CLIENT_AFTER = 5,
  /* arg: const tern_message*, after DATA (acl_smtp_data accepted) and
   * before the 250. Always runs with a deadline (timeout_ms or the core's),
   * TERN_MAY_BLOCK or not. TERN_FAIL: 550 with the verdict (the error goes
   * to the reject log), TERN_DEFER: 451 with the verdict, TERN_ERROR or an
   * overrun: 451; the message is then not kept. */
  TERN_HOOK_AFTER_DATA = 6,
  /* arg: const tern_str* router name, per address, after the router's own
   * preconditions. TERN_DECLINE skips the router for this address, as a
   * failed precondition does; TERN_FAIL fails the address, TERN_DEFER
   * defers it (the verdict, else the error, is its message). */
  TERN_HOOK_ROUTER_PRECONDITION = 7
} tern_hook_point;

typedef struct tern_hook_def {
  uint32_t size;
  tern_hook_point point;
  int32_t priority;
  uint32_t flags; /* TERN_MAY_BLOCK */
  uint32_t timeout_ms;
  tern_status (*run)(tern_ctx *ctx, void *user, tern_call *call, void *arg, tern_buf *verdict);
  void *user; /* handed to run as is */
} tern_hook_def;

/* The message at TERN_HOOK_AFTER_DATA. */
typedef struct tern_message {
  uint32_t size;
  tern_str id;      /* Exim-format message id */
  tern_str sender;
  const tern_str *recipients;
  size_t recipient_count;
  int data_fd;      /* the spooled body, read-only, positioned at its first
                       byte; shared by the point's hooks: read with pread() */
  tern_str headers; /* the header section as received */
} tern_message;

/* One DNS answer, valid until the callback returns. */
typedef struct tern_dns_answer {
  uint32_t size;
  int rcode;                /* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ... */
  int secure;               /* 1 when DNSSEC-validated (AD trusted) */
  size_t count;
  const tern_str *rdata;    /* each record's RDATA, wire format */
} tern_dns_answer;

/* ---- the host table ------------------------------------------------------ */

/* Entries that answer with text (expand, get_variable, get_option,
 * recipient_data, raise_event) set a host-owned tern_str: valid until the
 * callback that received the tern_call returns; copy it to keep it. On a
 * result other than TERN_OK it is set to the empty string. */
typedef struct tern_host {
  uint32_t size; /* sizeof(tern_host) in the core */
  uint16_t abi_major, abi_minor;
  /* 1.0 */
  int discovery; /* non-zero: init only records registrations (see top) */

  void (*log)(tern_ctx *ctx, tern_log_level level, const char *fmt, ...);
  /* The text of the error that a callback returns with TERN_ERROR or
   * TERN_DEFER (copied). `call` may be NULL in init. */
  void (*set_error)(tern_ctx *ctx, tern_call *call, tern_str text);
  void (*buf_append)(tern_buf *buf, tern_str s);

  /* Registration, in init only. TERN_ERROR when a name is taken (the
   * error names both owners) or a definition is malformed. */
  tern_status (*add_option)(tern_ctx *ctx, const tern_option_def *def);
  tern_status (*add_acl_condition)(tern_ctx *ctx, const tern_acl_condition_def *def);
  tern_status (*add_operator)(tern_ctx *ctx, const tern_operator_def *def);
  tern_status (*add_item)(tern_ctx *ctx, const tern_item_def *def);
  tern_status (*add_lookup)(tern_ctx *ctx, const tern_lookup_def *def);
  tern_status (*add_variable)(tern_ctx *ctx, const tern_variable_def *def);
  tern_status (*add_event_listener)(tern_ctx *ctx, const tern_event_listener_def *def);
  tern_status (*add_hook)(tern_ctx *ctx, const tern_hook_def *def);

  /* Expand `in` in the call's context into *out (host-owned, see above).
   * TERN_FAIL: forced failure; TERN_ERROR/TERN_DEFER: the text is the
   * call's error (as if set with set_error). */
  tern_status (*expand)(tern_call *call, tern_str in, tern_str *out);
  /* A variable's value in the call's context ("sender_host_address") into
   * *out (host-owned); TERN_DECLINE when unknown. */
  tern_status (*get_variable)(tern_call *call, const char *name, tern_str *out);
  /* An option of the call's router or transport when it has one of that
   * name, else the main option: as text into *out (get_option, host-owned)
   * or as a number (get_option_int: booleans 0/1, times in seconds, fixed
   * * 1000). TERN_DECLINE when the option is unset. */
  tern_status (*get_option)(tern_call *call, const char *name, tern_str *out);
  tern_status (*get_option_int)(tern_call *call, const char *name, int64_t *out);
  /* Raise an event on the bus (the dane module raises dane:fail); *verdict
   * (host-owned; may be NULL) is the listeners' first non-empty verdict. */
  tern_status (*raise_event)(tern_call *call, tern_str event, tern_str data, tern_str *verdict);
  /* A DNS query through the core's resolver, with its DNSSEC status. */
  tern_status (*dns_query)(tern_call *call, tern_str name, uint16_t rrtype,
                           tern_dns_answer *answer);
  /* Per-recipient data kept in the spool with the message (set at
   * TERN_HOOK_AFTER_DATA by index; read while routing that recipient). */
  tern_status (*set_recipient_data)(tern_call *call, size_t recipient, tern_str key,
                                    tern_str value);
  tern_status (*recipient_data)(tern_call *call, tern_str key, tern_str *out);

  /* 1.1 */
  /* Per-session state of this module; free_fn runs when the session ends. */
  void (*set_session_data)(tern_call *call, tern_ctx *ctx, void *data, void (*free_fn)(void *));
  void *(*session_data)(tern_call *call, tern_ctx *ctx);
  /* Pre-banner hook only: read at most `len` bytes of the raw connection,
   * waiting no longer than the hook's deadline; *got is 0 at end of input;
   * TERN_DEFER on timeout. Nothing is read ahead: the SMTP session sees
   * every byte the module did not read. */
  tern_status (*conn_read)(tern_conn *conn, void *dst, size_t len, size_t *got);
  /* Replace the session's client and local addresses (textual IP, port). */
  tern_status (*conn_set_addresses)(tern_conn *conn, tern_str client_ip, uint16_t client_port,
                                    tern_str local_ip, uint16_t local_port);
  /* 1.2 */
  /* Match the call's client ($sender_host_address, and its name where an
   * item needs one) against a host list, as the core matches its own
   * hosts_* options (items expanded, named lists, lookups, negation):
   * TERN_OK it matches, TERN_FAIL it does not, TERN_DEFER a lookup
   * deferred, TERN_ERROR a bad list; the last two with the call's error
   * set. TERN_FAIL also when the call has no remote client. */
  tern_status (*match_host_list)(tern_call *call, tern_str list);
  /* Pre-banner hook only: later conn_read calls wait at most `ms` from now
   * (the core's own deadline for the hook still applies when shorter). */
  tern_status (*conn_set_timeout)(tern_conn *conn, uint32_t ms);
  /* The text of the most recent error on this call: why expand,
   * get_variable, get_option, raise_event, dns_query, ... last answered
   * TERN_ERROR, TERN_DEFER or TERN_FAIL ("integer expected but ..."), or
   * what the module set with set_error. *out is host-owned (see above);
   * empty when there was none. */
  void (*call_error)(tern_call *call, tern_str *out);
  /* 1.3: new entries go below this line, never above */
} tern_host;

#define TERN_HOST_HAS(h, f) \
  ((h)->size >= offsetof(tern_host, f) + sizeof((h)->f) && (h)->f != NULL)

/* ---- the module descriptor ------------------------------------------------ */

typedef struct tern_module {
  uint32_t magic, size;          /* TERN_MODULE_MAGIC, sizeof(tern_module) */
  uint16_t abi_major, abi_minor; /* these four never move, in any major */
  const char *name;              /* "dane": the file's base name */
  const char *version;           /* the module's own, "1.0.3" */
  /* ctx->host is `host` and ctx->data NULL; init sets ctx->data to its
   * state, fini frees it. */
  tern_status (*init)(const tern_host *host, tern_ctx *ctx);
  void (*fini)(tern_ctx *ctx);
} tern_module;

/* The one exported symbol; the major is in its name:
 *   TERN_EXPORT const tern_module *tern_module_v1(void);
 * The descriptor and the strings it points to are static. A core that
 * finds no tern_module_v<its major> looks for the other majors' entry
 * points and reads only the four fields that never move, to name the
 * module's ABI in its refusal ("built for ABI 2.0, tern provides 1.1"):
 * every major keeps this signature and those four fields first.
 * fini runs once for each init that returned TERN_OK (also in discovery
 * mode), never after a failed init: init cleans up after itself. */
typedef const tern_module *(*tern_module_entry_v1)(void);
#define TERN_MODULE_ENTRY_V1 "tern_module_v1"

#ifdef __cplusplus
}
#endif

#endif /* TERN_MODULE_H */
