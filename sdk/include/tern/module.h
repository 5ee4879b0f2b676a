/* tern/module.h: the whole contract between the tern core and a module.
 *
 * Plain C11 (also valid C++20), no header but <stddef.h> and <stdint.h>.
 * A module is a shared object exporting one symbol, tern_module_v1, that
 * returns a tern_module descriptor. The core checks it, then calls init with
 * the host table: the functions the core offers (logging, expansion,
 * variables, options, buffers) and the registration calls through which the
 * module says what it brings (options, ACL conditions, expansion operators
 * and items, lookup types, variables, event listeners, hooks).
 *
 * Rules that keep the ABI stable:
 *  - tern_host only grows at its end; entries added in minor N sit below a
 *    "1.N" marker. A module checks an entry exists with TERN_HOST_HAS.
 *  - Every struct that crosses the boundary starts with uint32_t size; the
 *    reader uses only the fields the size covers and treats the rest as 0.
 *  - Reordering, removing, or changing a signature or meaning is a new
 *    major: a new entry point tern_module_v2.
 *  - Strings are tern_str (pointer + length, borrowed: valid for the call
 *    only unless stated). Results go into host-owned tern_buf output buffers.
 *    OpenSSL objects cross as void* documented as OpenSSL's own types: core
 *    and modules share the process's libssl.
 *
 * ABI history:
 *   1.0  first version.
 */
#ifndef TERN_MODULE_H
#define TERN_MODULE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_ABI_MAJOR 1
#define TERN_ABI_MINOR 0
#define TERN_MODULE_MAGIC 0x4d4e5254u /* "TRNM" in memory on little-endian */

#if defined(__GNUC__)
#define TERN_EXPORT __attribute__((visibility("default")))
#else
#define TERN_EXPORT
#endif

/* ---- basic types ------------------------------------------------------ */

/* A borrowed string: not NUL-terminated unless said so. */
typedef struct tern_str {
  const char *ptr;
  size_t len;
} tern_str;

typedef enum tern_status {
  TERN_OK = 0,      /* done; for conditions: true */
  TERN_DECLINE = 1, /* not mine, or condition false: ask the next / go on */
  TERN_FAIL = 2,    /* a permanent failure (lookup: not found) */
  TERN_DEFER = 3,   /* temporary failure: try again later */
  TERN_ERROR = 4    /* an error; its text was set with host->set_error */
} tern_status;

typedef enum tern_log_level {
  TERN_LOG_MAIN = 1,
  TERN_LOG_REJECT = 2,
  TERN_LOG_PANIC = 4,
  TERN_LOG_DEBUG = 8
} tern_log_level;

/* Opaque handles, owned by the core. */
typedef struct tern_ctx tern_ctx;   /* one loaded module: lives from init to fini */
typedef struct tern_call tern_call; /* one call's surroundings (session, message,
                                       delivery, expansion): valid for that call */
typedef struct tern_buf tern_buf;   /* an output buffer: append with host->buf_append */
typedef struct tern_conn tern_conn; /* a raw accepted connection (pre-banner hook) */

/* ---- what a module registers ----------------------------------------- */

typedef enum tern_option_type {
  TERN_OPT_BOOL = 1,
  TERN_OPT_INT = 2,    /* with K, M, G suffixes, octal, hex */
  TERN_OPT_TIME = 3,   /* 1h30m; value in seconds */
  TERN_OPT_FIXED = 4,  /* three decimals; value * 1000 */
  TERN_OPT_STRING = 5, /* expanded by the module with host->expand when used */
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
  const char *default_value; /* as written in a configuration; NULL: unset */
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

/* Flags shared by the definitions below. */
#define TERN_MAY_BLOCK 0x1u     /* runs off the I/O thread, with a deadline */
#define TERN_ACL_MODIFIER 0x2u  /* an ACL modifier (always true), not a condition */
#define TERN_LOOKUP_QUERY 0x4u  /* query-style lookup: ${lookup type{query}} */
#define TERN_LOOKUP_SINGLE_KEY 0x8u /* key + file: ${lookup{key}type{file}} */

/* `name = value` in an ACL statement (also `control = name`). Returns
 * TERN_OK (true), TERN_DECLINE (false), TERN_DEFER, or TERN_ERROR. `message`
 * may receive a text for the reply or log. */
typedef struct tern_acl_condition_def {
  uint32_t size;
  const char *name;
  uint32_t where; /* tern_acl_where bits */
  uint32_t flags; /* TERN_MAY_BLOCK, TERN_ACL_MODIFIER */
  tern_status (*check)(tern_ctx *ctx, tern_call *call, tern_str value, tern_buf *message);
} tern_acl_condition_def;

/* ${name:argument}; the argument arrives expanded. */
typedef struct tern_operator_def {
  uint32_t size;
  const char *name;
  uint32_t flags;
  tern_status (*apply)(tern_ctx *ctx, tern_call *call, tern_str argument, tern_buf *out);
} tern_operator_def;

/* ${name{arg1}{arg2}...}; the arguments arrive expanded. */
typedef struct tern_item_def {
  uint32_t size;
  const char *name;
  uint32_t min_args, max_args; /* 1..9 */
  uint32_t flags;
  tern_status (*apply)(tern_ctx *ctx, tern_call *call, const tern_str *args, size_t nargs,
                       tern_buf *out);
} tern_item_def;

/* A lookup type. find: TERN_OK found (data in out), TERN_FAIL not found,
 * TERN_DEFER try later (reason with host->set_error). Set *no_cache to 1
 * when the answer must not be cached. open/close are optional (NULL): for
 * single-key types they open the file; query types get an empty filename.
 * quote (optional) is ${quote_<name>:...}. */
typedef struct tern_lookup_def {
  uint32_t size;
  const char *name;
  uint32_t flags; /* TERN_LOOKUP_QUERY or TERN_LOOKUP_SINGLE_KEY, TERN_MAY_BLOCK */
  tern_status (*open)(tern_ctx *ctx, tern_str filename, void **handle);
  tern_status (*find)(tern_ctx *ctx, tern_call *call, void *handle, tern_str filename,
                      tern_str key, tern_str options, tern_buf *out, int *no_cache);
  void (*close)(tern_ctx *ctx, void *handle);
  tern_status (*quote)(tern_ctx *ctx, tern_str in, tern_str options, tern_buf *out);
} tern_lookup_def;

/* $name. TERN_OK with the value in out; TERN_DECLINE: unset (empty). */
typedef struct tern_variable_def {
  uint32_t size;
  const char *name;
  tern_status (*get)(tern_ctx *ctx, tern_call *call, tern_buf *out);
} tern_variable_def;

/* A listener on the event bus. `events` is a colon list of names or
 * prefixes ending in '*' ("msg:*"), NULL for all. A non-empty `verdict`
 * asks the core to act as Exim does for that event (tcp:connect: do not
 * connect; tls:cert: refuse the certificate; smtp:connect: close). */
typedef struct tern_event_listener_def {
  uint32_t size;
  const char *events;
  int32_t priority; /* -100 first .. 100 last; ties in modules= order */
  tern_status (*on_event)(tern_ctx *ctx, tern_call *call, tern_str event, tern_str data,
                          tern_buf *verdict);
} tern_event_listener_def;

/* ---- hook points ------------------------------------------------------ */

typedef enum tern_hook_point {
  TERN_HOOK_PRE_BANNER = 1,       /* raw connection, before TLS-on-connect and banner */
  TERN_HOOK_TLS_SERVER_CTX = 2,   /* arg: SSL_CTX* of the server, per configuration */
  TERN_HOOK_TLS_SERVER_SSL = 3,   /* arg: SSL* of an inbound connection before handshake */
  TERN_HOOK_TLS_CLIENT_BEFORE = 4,/* arg: SSL* of an outbound connection before handshake */
  TERN_HOOK_TLS_CLIENT_AFTER = 5, /* arg: SSL* after the handshake; verdict refuses */
  TERN_HOOK_AFTER_DATA = 6,       /* arg: tern_message* before the 250 */
  TERN_HOOK_ROUTER_PRECONDITION = 7 /* arg: router name (tern_str*); DECLINE skips it */
} tern_hook_point;

/* A hook. `arg` depends on the point (see tern_hook_point); `verdict`
 * carries text back (a log field, a reason). Return TERN_OK to go on,
 * TERN_DECLINE (router precondition: skip the router), TERN_DEFER or
 * TERN_FAIL to refuse what the point guards. */
typedef struct tern_hook_def {
  uint32_t size;
  tern_hook_point point;
  int32_t priority;
  uint32_t flags; /* TERN_MAY_BLOCK */
  tern_status (*run)(tern_ctx *ctx, tern_call *call, void *arg, tern_buf *verdict);
} tern_hook_def;

/* The message at TERN_HOOK_AFTER_DATA. */
typedef struct tern_message {
  uint32_t size;
  tern_str id;               /* Exim-format message id */
  tern_str sender;
  const tern_str *recipients;
  size_t recipient_count;
  int data_fd;               /* the spooled data, readable, positioned at 0 */
  tern_str headers;          /* the header section as received */
} tern_message;

/* ---- the host table --------------------------------------------------- */

typedef struct tern_host {
  uint32_t size; /* sizeof(tern_host) in the core */
  uint16_t abi_major, abi_minor;
  /* 1.0 */
  void (*log)(tern_ctx *ctx, tern_log_level level, const char *fmt, ...);
  /* The text of the error a call returns with TERN_ERROR or TERN_DEFER. */
  void (*set_error)(tern_ctx *ctx, tern_call *call, tern_str text);
  void (*buf_append)(tern_buf *buf, tern_str s);

  tern_status (*add_option)(tern_ctx *ctx, const tern_option_def *def);
  tern_status (*add_acl_condition)(tern_ctx *ctx, const tern_acl_condition_def *def);
  tern_status (*add_operator)(tern_ctx *ctx, const tern_operator_def *def);
  tern_status (*add_item)(tern_ctx *ctx, const tern_item_def *def);
  tern_status (*add_lookup)(tern_ctx *ctx, const tern_lookup_def *def);
  tern_status (*add_variable)(tern_ctx *ctx, const tern_variable_def *def);
  tern_status (*add_event_listener)(tern_ctx *ctx, const tern_event_listener_def *def);
  tern_status (*add_hook)(tern_ctx *ctx, const tern_hook_def *def);

  /* Expand `in` in the call's context; TERN_FAIL for forced failure. */
  tern_status (*expand)(tern_call *call, tern_str in, tern_buf *out);
  /* A variable's value in the call's context ("sender_host_address"). */
  tern_status (*get_variable)(tern_call *call, const char *name, tern_buf *out);
  /* An option's value as text, for the call's router or transport when it
   * has one, else the main option. TERN_DECLINE when unset. */
  tern_status (*get_option)(tern_call *call, const char *name, tern_buf *out);
  /* Raise an event on the bus (dane:fail is raised by the dane module). */
  tern_status (*raise_event)(tern_call *call, tern_str event, tern_str data, tern_buf *verdict);

  /* The module's own state: set in init, freed by the module in fini. */
  void (*set_module_data)(tern_ctx *ctx, void *data);
  void *(*module_data)(tern_ctx *ctx);
  /* Per-session state of this module (e.g. what a PROXY header said); the
   * core calls free_fn when the session ends. */
  void (*set_session_data)(tern_call *call, tern_ctx *ctx, void *data, void (*free_fn)(void *));
  void *(*session_data)(tern_call *call, tern_ctx *ctx);

  /* Pre-banner hook only: read at most `len` bytes of the raw connection,
   * waiting at most until the hook's deadline; *got is 0 at end of input.
   * TERN_DEFER on timeout. Reads only what is asked: nothing is buffered
   * ahead, so the SMTP session sees every byte after. */
  tern_status (*conn_read)(tern_conn *conn, void *dst, size_t len, size_t *got);
  /* Replace the session's peer and local addresses (textual IP, port). */
  tern_status (*conn_set_addresses)(tern_conn *conn, tern_str peer_ip, uint16_t peer_port,
                                    tern_str local_ip, uint16_t local_port);
  /* 1.1: new entries go below this line, never above */
} tern_host;

#define TERN_HOST_HAS(h, f) \
  ((h)->size >= offsetof(tern_host, f) + sizeof((h)->f) && (h)->f != NULL)

/* ---- the module descriptor -------------------------------------------- */

typedef struct tern_module {
  uint32_t magic, size;          /* TERN_MODULE_MAGIC, sizeof(tern_module) */
  uint16_t abi_major, abi_minor; /* these four never move, in any major */
  const char *name;              /* "dane": the file's base name */
  const char *version;           /* the module's own, "1.0.3" */
  tern_status (*init)(const tern_host *host, tern_ctx *ctx);
  void (*fini)(tern_ctx *ctx);
} tern_module;

/* The one exported symbol; the major is in its name. */
typedef const tern_module *(*tern_module_entry_v1)(void);
#define TERN_MODULE_ENTRY_V1 "tern_module_v1"

#ifdef __cplusplus
}
#endif

#endif /* TERN_MODULE_H */
