/* tests/abi/abi_surface.c: every type of tern/module.h in one small shared
 * library, so that abidw can record the ABI and abidiff compare it with the
 * committed baseline (tests/abi/baseline/tern-abi-<major>.<minor>.xml).
 *
 * One exported function per type, taking a pointer to it: the debug
 * information then describes each type in full. Built with -DTERN_ABI_V1_0
 * it describes tests/abi/module_v1_0.h instead (the 1.0 baseline).
 */
#ifdef TERN_ABI_V1_0
#include "module_v1_0.h"
#else
#include <tern/module.h>
#endif

#define SURFACE(type) \
  TERN_EXPORT void tern_abi_##type(type *p) { (void)p; }

SURFACE(tern_ctx)
SURFACE(tern_str)
SURFACE(tern_status)
SURFACE(tern_log_level)
SURFACE(tern_option_type)
SURFACE(tern_option_scope)
SURFACE(tern_option_def)
SURFACE(tern_acl_where)
SURFACE(tern_acl_condition_def)
SURFACE(tern_operator_def)
SURFACE(tern_item_def)
SURFACE(tern_lookup_def)
SURFACE(tern_variable_def)
SURFACE(tern_event_listener_def)
SURFACE(tern_hook_point)
SURFACE(tern_hook_def)
SURFACE(tern_message)
SURFACE(tern_dns_answer)
SURFACE(tern_host)
SURFACE(tern_module)
SURFACE(tern_module_entry_v1)
