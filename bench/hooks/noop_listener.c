/* bench/hooks/noop_listener.c: a module whose one listener, on every event,
 * does nothing: what the hook benchmark measures is the core's cost of
 * calling a registered listener through the ABI. */
#include "tern/module.h"

static tern_status on_event(tern_ctx *ctx, void *user, tern_call *call, tern_str event,
                            tern_str data, tern_buf *verdict) {
  (void)ctx, (void)user, (void)call, (void)event, (void)data, (void)verdict;
  return TERN_OK;
}

static tern_status init(const tern_host *host, tern_ctx *ctx) {
  static const tern_event_listener_def listener = {sizeof listener, NULL, 0, on_event, NULL};
  return host->add_event_listener(ctx, &listener);
}

static void fini(tern_ctx *ctx) { (void)ctx; }

TERN_EXPORT const tern_module *tern_module_v1(void) {
  static const tern_module m = {TERN_MODULE_MAGIC, sizeof m, TERN_ABI_MAJOR, TERN_ABI_MINOR,
                                "noop_listener", "1.0.0", init, fini};
  return &m;
}
