/* tests/abi/abi_old.c: a module built against ABI 1.0 (tests/abi/module_v1_0.h),
 * loaded into the current core by tests/abi/run_old_module.py: a core of a
 * newer minor must load and serve a module of an older one.
 *
 *   ${abi_old_rev:text}       the text reversed
 *   $abi_old_abi              the ABI the module was built for ("1.0")
 *   $abi_old_host             the ABI the core offers ("1.2" today), read
 *                             from the host table
 *   ${lookup abiold{key}}     "key@" and the caller's $primary_hostname,
 *                             read with host->expand from inside find
 *
 * No mutable static state: the host table is ctx->host; the two variables
 * share one function, told apart by their definitions' `user`.
 */
#include "module_v1_0.h"

#include <stdio.h>
#include <string.h>

static tern_str str_of(const char *s) {
  tern_str t = {s, strlen(s)};
  return t;
}

static tern_status rev(tern_ctx *ctx, void *user, tern_call *call, tern_str arg, tern_buf *out) {
  (void)user;
  (void)call;
  for (size_t i = arg.len; i > 0; --i) {
    tern_str c = {arg.ptr + i - 1, 1};
    ctx->host->buf_append(out, c);
  }
  return TERN_OK;
}

/* user: "built" for the ABI of this header, "host" for the core's. */
static tern_status abi_var(tern_ctx *ctx, void *user, tern_call *call, tern_buf *out) {
  (void)call;
  char text[32];
  int n;
  if (strcmp((const char *)user, "host") == 0)
    n = snprintf(text, sizeof text, "%u.%u", (unsigned)ctx->host->abi_major,
                 (unsigned)ctx->host->abi_minor);
  else
    n = snprintf(text, sizeof text, "%d.%d", TERN_ABI_MAJOR, TERN_ABI_MINOR);
  tern_str s = {text, (size_t)n};
  ctx->host->buf_append(out, s);
  return TERN_OK;
}

static tern_status find(tern_ctx *ctx, void *user, tern_call *call, void *handle, tern_str filename,
                        tern_str key, tern_str options, tern_buf *out, int *no_cache) {
  (void)user;
  (void)handle;
  (void)filename;
  (void)options;
  tern_str host_name;
  tern_status s = ctx->host->expand(call, str_of("$primary_hostname"), &host_name);
  if (s != TERN_OK) return s;
  ctx->host->buf_append(out, key);
  ctx->host->buf_append(out, str_of("@"));
  ctx->host->buf_append(out, host_name);
  *no_cache = 1; /* depends on the caller's context */
  return TERN_OK;
}

static tern_status init(const tern_host *h, tern_ctx *ctx) {
  static const tern_operator_def rev_def = {.size = sizeof rev_def, .name = "abi_old_rev",
                                            .apply = rev};
  static const tern_variable_def abi_def = {.size = sizeof abi_def, .name = "abi_old_abi",
                                            .get = abi_var, .user = (void *)"built"};
  static const tern_variable_def host_def = {.size = sizeof host_def, .name = "abi_old_host",
                                             .get = abi_var, .user = (void *)"host"};
  static const tern_lookup_def lookup_def = {.size = sizeof lookup_def, .name = "abiold",
                                             .flags = TERN_LOOKUP_QUERY, .find = find};
  tern_status s;
  if (ctx->host != h) return TERN_ERROR; /* module.h: ctx->host is init's table */
  if ((s = h->add_operator(ctx, &rev_def)) != TERN_OK) return s;
  if ((s = h->add_variable(ctx, &abi_def)) != TERN_OK) return s;
  if ((s = h->add_lookup(ctx, &lookup_def)) != TERN_OK) return s;
  return h->add_variable(ctx, &host_def);
}

static void fini(tern_ctx *ctx) { (void)ctx; }

TERN_EXPORT const tern_module *tern_module_v1(void) {
  static const tern_module descriptor = {
      .magic = TERN_MODULE_MAGIC, .size = sizeof(tern_module), .abi_major = TERN_ABI_MAJOR,
      .abi_minor = TERN_ABI_MINOR, .name = "abi_old", .version = "1.0.0",
      .init = init, .fini = fini};
  return &descriptor;
}
