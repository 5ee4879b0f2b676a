/* tests/abi/abi_old.c: a module built against ABI 1.0 (tests/abi/module_v1_0.h),
 * loaded into the current core by tests/abi/run_old_module.py: a core of a
 * newer minor must load and serve a module of an older one.
 *
 *   ${abi_old_rev:text}  the text reversed
 *   $abi_old_abi         the ABI the module was built for ("1.0")
 *   $abi_old_host        the ABI the core offers ("1.1" today), read from
 *                        the host table
 */
#include "module_v1_0.h"

#include <stdio.h>
#include <string.h>

static const tern_host *host; /* the core's table, constant for the process */

static tern_status rev(tern_ctx *ctx, tern_call *call, tern_str arg, tern_buf *out) {
  (void)ctx;
  (void)call;
  for (size_t i = arg.len; i > 0; --i) {
    tern_str c = {arg.ptr + i - 1, 1};
    host->buf_append(out, c);
  }
  return TERN_OK;
}

static tern_status built_for(tern_ctx *ctx, tern_call *call, tern_buf *out) {
  (void)ctx;
  (void)call;
  char text[32];
  int n = snprintf(text, sizeof text, "%d.%d", TERN_ABI_MAJOR, TERN_ABI_MINOR);
  tern_str s = {text, (size_t)n};
  host->buf_append(out, s);
  return TERN_OK;
}

static tern_status host_abi(tern_ctx *ctx, tern_call *call, tern_buf *out) {
  (void)ctx;
  (void)call;
  char text[32];
  int n = snprintf(text, sizeof text, "%u.%u", (unsigned)host->abi_major, (unsigned)host->abi_minor);
  tern_str s = {text, (size_t)n};
  host->buf_append(out, s);
  return TERN_OK;
}

static tern_status init(const tern_host *h, tern_ctx *ctx) {
  static const tern_operator_def rev_def = {.size = sizeof rev_def, .name = "abi_old_rev",
                                            .apply = rev};
  static const tern_variable_def abi_def = {.size = sizeof abi_def, .name = "abi_old_abi",
                                            .get = built_for};
  static const tern_variable_def host_def = {.size = sizeof host_def, .name = "abi_old_host",
                                             .get = host_abi};
  host = h;
  tern_status s;
  if ((s = h->add_operator(ctx, &rev_def)) != TERN_OK) return s;
  if ((s = h->add_variable(ctx, &abi_def)) != TERN_OK) return s;
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
