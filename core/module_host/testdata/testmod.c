/* core/module_host/testdata/testmod.c: the test modules, one variant per build.
 *
 * VARIANT_GOOD registers one of everything, named after MODULE_NAME
 * ("testop": operator ${testop:x}, item ${testop_item{a}{b}}, variable
 * $testop_var, lookup testoplookup, ACL condition testop_cond, control
 * testop_ctl, main option testop_greeting, smtp transport option
 * testop_tls, an event listener on "msg:*" and a router-precondition
 * hook). The lookup's key "expand" answers host->expand("$primary_hostname")
 * in the caller's context. fini appends "fini <name>" to the file
 * $TERN_TEST_FINI_LOG names. The other variants are each broken in one way
 * the loader must refuse (VARIANT_BUILTIN registers the core's item "if"),
 * or slow (a MAY_BLOCK lookup and operator that overrun their deadline).
 * No mutable static state: the host table is ctx->host, the module's data
 * ctx->data, and the hook's `user` is the text it appends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tern/module.h"

#ifndef MINOR
#define MINOR TERN_ABI_MINOR
#endif
#ifndef DESCRIPTOR_NAME
#define DESCRIPTOR_NAME MODULE_NAME
#endif
#ifdef BAD_MAGIC
#define MAGIC 0x12345678u
#else
#define MAGIC TERN_MODULE_MAGIC
#endif
#ifndef PRIORITY
#define PRIORITY 0
#endif

static tern_str str(const char *s) {
  tern_str t = {s, strlen(s)};
  return t;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---- VARIANT_GOOD ---- */

static tern_status op_apply(tern_ctx *ctx, void *user, tern_call *call, tern_str arg, tern_buf *out) {
  const tern_host *host = ctx->host;
  (void)user;
  host->buf_append(out, str(MODULE_NAME "("));
  host->buf_append(out, arg);
  host->buf_append(out, str(")"));
  if (arg.len == 4 && memcmp(arg.ptr, "fail", 4) == 0) return TERN_FAIL;
  if (arg.len == 5 && memcmp(arg.ptr, "error", 5) == 0) {
    host->set_error(ctx, call, str(MODULE_NAME " was asked to fail"));
    return TERN_ERROR;
  }
  if (arg.len == 6 && memcmp(arg.ptr, "expand", 6) == 0) {
    tern_str got;
    tern_status s = host->expand(call, str("${uc:$primary_hostname}"), &got);
    if (s == TERN_OK) host->buf_append(out, got);
    return s;
  }
  return TERN_OK;
}

static tern_status item_apply(tern_ctx *ctx, void *user, tern_call *call, const tern_str *args, size_t n,
                              tern_buf *out) {
  const tern_host *host = ctx->host;
  size_t i;
  (void)user;
  (void)call;
  for (i = 0; i < n; ++i) {
    if (i) host->buf_append(out, str("+"));
    host->buf_append(out, args[i]);
  }
  return TERN_OK;
}

static tern_status var_get(tern_ctx *ctx, void *user, tern_call *call, tern_buf *out) {
  const char *greeting = (const char *)ctx->data;
  (void)user;
  (void)call;
  ctx->host->buf_append(out, str(greeting));
  return TERN_OK;
}

static tern_status lookup_find(tern_ctx *ctx, void *user, tern_call *call, void *handle, tern_str file,
                               tern_str key, tern_str options, tern_buf *out, int *no_cache) {
  const tern_host *host = ctx->host;
  (void)user;
  (void)handle;
  (void)file;
  (void)options;
  if (key.len == 7 && memcmp(key.ptr, "missing", 7) == 0) return TERN_FAIL;
  if (key.len == 6 && memcmp(key.ptr, "expand", 6) == 0) {
    /* The caller's context: $primary_hostname of the expansion asking. */
    tern_str got;
    tern_status s = host->expand(call, str("$primary_hostname"), &got);
    if (s != TERN_OK) return s;
    host->buf_append(out, str("expanded:"));
    host->buf_append(out, got);
    *no_cache = 1;
    return TERN_OK;
  }
  host->buf_append(out, str("found:"));
  host->buf_append(out, key);
  *no_cache = 1;
  return TERN_OK;
}

static tern_status lookup_quote(tern_ctx *ctx, void *user, tern_str in, tern_str options, tern_buf *out) {
  const tern_host *host = ctx->host;
  (void)user;
  (void)options;
  host->buf_append(out, str("'"));
  host->buf_append(out, in);
  host->buf_append(out, str("'"));
  return TERN_OK;
}

static tern_status cond_check(tern_ctx *ctx, void *user, tern_call *call, tern_str value, tern_buf *message) {
  (void)user;
  (void)call;
  ctx->host->buf_append(message, str("checked"));
  return value.len == 3 && memcmp(value.ptr, "yes", 3) == 0 ? TERN_OK : TERN_DECLINE;
}

static tern_status on_event(tern_ctx *ctx, void *user, tern_call *call, tern_str event, tern_str data,
                            tern_buf *verdict) {
  (void)user;
  (void)call;
  (void)event;
  if (data.len == strlen(MODULE_NAME) && memcmp(data.ptr, MODULE_NAME, data.len) == 0)
    ctx->host->buf_append(verdict, str("refused by " MODULE_NAME));
  return TERN_OK;
}

static tern_status hook_run(tern_ctx *ctx, void *user, tern_call *call, void *arg, tern_buf *verdict) {
  const tern_str *router = (const tern_str *)arg;
  (void)call;
  ctx->host->buf_append(verdict, str((const char *)user));
  return router->len == 4 && memcmp(router->ptr, "skip", 4) == 0 ? TERN_DECLINE : TERN_OK;
}

static tern_status good_init(const tern_host *h, tern_ctx *ctx) {
  static const tern_operator_def op = {sizeof op, MODULE_NAME, 0, 0, op_apply, NULL};
  static const tern_item_def item = {sizeof item, MODULE_NAME "_item", 1, 3, 0, 0, item_apply, NULL};
  static const tern_variable_def var = {sizeof var, MODULE_NAME "_var", var_get, NULL};
  static const tern_lookup_def lk = {sizeof lk, MODULE_NAME "lookup", TERN_LOOKUP_QUERY, 0, NULL,
                                     lookup_find, NULL, lookup_quote, NULL};
  static const tern_acl_condition_def cond = {sizeof cond, MODULE_NAME "_cond", TERN_ACL_RCPT, 0, 0, cond_check,
                                              NULL};
  static const tern_acl_condition_def ctl = {sizeof ctl, MODULE_NAME "_ctl", TERN_ACL_ALL, TERN_ACL_CONTROL, 0,
                                             cond_check, NULL};
  static const tern_option_def greeting = {sizeof greeting, MODULE_NAME "_greeting", TERN_OPT_STRING,
                                           TERN_SCOPE_MAIN, NULL, "hello"};
  static const tern_option_def tls = {sizeof tls, MODULE_NAME "_tls", TERN_OPT_BOOL, TERN_SCOPE_TRANSPORT,
                                      "smtp", "false"};
  static const tern_event_listener_def listener = {sizeof listener, "msg:* tcp:connect", PRIORITY, on_event,
                                                   NULL};
  static const tern_hook_def hook = {sizeof hook, TERN_HOOK_ROUTER_PRECONDITION, PRIORITY, 0, 0, hook_run,
                                     (void *)MODULE_NAME};
  if (h->add_operator(ctx, &op) || h->add_item(ctx, &item) || h->add_variable(ctx, &var) ||
      h->add_lookup(ctx, &lk) || h->add_acl_condition(ctx, &cond) || h->add_acl_condition(ctx, &ctl) ||
      h->add_option(ctx, &greeting) || h->add_option(ctx, &tls) || h->add_event_listener(ctx, &listener) ||
      h->add_hook(ctx, &hook))
    return TERN_ERROR;
  ctx->data = (void *)"hello from " MODULE_NAME;
  return TERN_OK;
}

static void fini(tern_ctx *ctx) {
  const char *path = getenv("TERN_TEST_FINI_LOG");
  (void)ctx;
  if (path) {
    FILE *f = fopen(path, "a");
    if (f) {
      fputs("fini " MODULE_NAME "\n", f);
      fclose(f);
    }
  }
}

/* ---- the broken and slow variants ---- */

static tern_status initfail_init(const tern_host *h, tern_ctx *ctx) {
  h->set_error(ctx, NULL, str("cannot reach the scanner at 127.0.0.1:1"));
  return TERN_ERROR;
}

static tern_status dup_apply(tern_ctx *ctx, void *user, tern_call *call, tern_str arg, tern_buf *out) {
  (void)user;
  (void)ctx;
  (void)call;
  (void)arg;
  (void)out;
  return TERN_OK;
}

static tern_status dupop_init(const tern_host *h, tern_ctx *ctx) {
  static const tern_operator_def op = {sizeof op, "testop", 0, 0, dup_apply, NULL};
  return h->add_operator(ctx, &op);
}

static tern_status builtin_init(const tern_host *h, tern_ctx *ctx) {
  static const tern_item_def item = {sizeof item, "if", 1, 3, 0, 0, item_apply, NULL};
  return h->add_item(ctx, &item);
}

static tern_status slow_apply(tern_ctx *ctx, void *user, tern_call *call, tern_str arg, tern_buf *out) {
  char ms[32] = {0};
  (void)user;
  (void)call;
  memcpy(ms, arg.ptr, arg.len < sizeof ms - 1 ? arg.len : sizeof ms - 1);
  sleep_ms(atol(ms));
  ctx->host->buf_append(out, str("slept"));
  return TERN_OK;
}

static tern_status slow_find(tern_ctx *ctx, void *user, tern_call *call, void *handle, tern_str file,
                             tern_str key, tern_str options, tern_buf *out, int *no_cache) {
  (void)handle;
  (void)file;
  (void)options;
  (void)no_cache;
  return slow_apply(ctx, user, call, key, out);
}

static tern_status slow_init(const tern_host *h, tern_ctx *ctx) {
  static const tern_lookup_def lk = {sizeof lk, "slow", TERN_LOOKUP_QUERY | TERN_MAY_BLOCK, 100, NULL,
                                     slow_find, NULL, NULL, NULL};
  static const tern_operator_def op = {sizeof op, "slowop", TERN_MAY_BLOCK, 100, slow_apply, NULL};
  if (h->add_lookup(ctx, &lk) || h->add_operator(ctx, &op)) return TERN_ERROR;
  return TERN_OK;
}

#if defined(VARIANT_GOOD)
#define INIT good_init
#elif defined(VARIANT_INITFAIL)
#define INIT initfail_init
#elif defined(VARIANT_DUPOP)
#define INIT dupop_init
#elif defined(VARIANT_BUILTIN)
#define INIT builtin_init
#else
#define INIT slow_init
#endif

static const tern_module descriptor = {
    MAGIC, sizeof(tern_module), TERN_ABI_MAJOR, MINOR, DESCRIPTOR_NAME, "1.2.3", INIT, fini,
};

#if defined(VARIANT_MAJOR2)
/* What a module built for ABI 2.0 exports. */
static const tern_module descriptor2 = {
    TERN_MODULE_MAGIC, sizeof(tern_module), 2, 0, MODULE_NAME, "2.0.0", INIT, fini,
};
TERN_EXPORT const tern_module *tern_module_v2(void) { return &descriptor2; }
#elif !defined(VARIANT_NOENTRY)
TERN_EXPORT const tern_module *tern_module_v1(void) { return &descriptor; }
#endif

/* Keep every variant's functions referenced (-Wunused-function). */
void *const testmod_unused[] = {(void *)good_init, (void *)initfail_init, (void *)dupop_init,
                                (void *)builtin_init, (void *)slow_init, (void *)&descriptor};
