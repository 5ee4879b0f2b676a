/* sdk/examples/hello_c/hello_c.c: a tern module in plain C11, the C ABI only.
 *
 * Brings, to show every kind a module registers:
 *   option     hello_c_greeting_text (main, string, default "hello, world")
 *   operator   ${hello_c_rev:text}        the text reversed, byte by byte
 *   item       ${hello_c_join{a}{b}...}   the arguments joined with "-"
 *   variable   $hello_c_greeting          the option above
 *   lookup     ${lookup helloc{key}}      a small in-memory table (a lookup
 *                                         type's name is letters and digits)
 *              ${quote_helloc:text}       backslash before \ and "
 *   condition  hello_c_check = value      true when value starts with "hello"
 *   listener   msg:*                      counts and logs message events
 *
 * The module's state (an event counter) hangs off its tern_ctx; the only
 * static is the host table pointer, which is the core's, one per process
 * and constant (a callback gets the ctx, and needs the table to reach the
 * state through it).
 */
#include <tern/module.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct hello_c_state {
  atomic_ulong events; /* msg:* events seen by this generation */
} hello_c_state;

static const tern_host *host; /* the core's table: set once, never changes */

static tern_str str_of(const char *s) {
  tern_str t = {s, strlen(s)};
  return t;
}

static tern_status rev_apply(tern_ctx *ctx, tern_call *call, tern_str arg, tern_buf *out) {
  (void)ctx;
  (void)call;
  for (size_t i = arg.len; i > 0; --i) {
    tern_str c = {arg.ptr + i - 1, 1};
    host->buf_append(out, c);
  }
  return TERN_OK;
}

static tern_status join_apply(tern_ctx *ctx, tern_call *call, const tern_str *args, size_t nargs,
                              tern_buf *out) {
  (void)ctx;
  (void)call;
  for (size_t i = 0; i < nargs; ++i) {
    if (i > 0) host->buf_append(out, str_of("-"));
    host->buf_append(out, args[i]);
  }
  return TERN_OK;
}

/* $hello_c_greeting: the option's text (the default unless the
 * configuration sets hello_c_greeting_text). */
static tern_status greeting_get(tern_ctx *ctx, tern_call *call, tern_buf *out) {
  (void)ctx;
  return host->get_option(call, "hello_c_greeting_text", out);
}

static const struct {
  const char *key, *value;
} table[] = {
    {"alice", "Alice Liddell"},
    {"bob", "Bob Dobbs"},
    {"a\"b", "quoted"},
};

static tern_status lookup_find(tern_ctx *ctx, tern_call *call, void *handle, tern_str filename,
                               tern_str key, tern_str options, tern_buf *out, int *no_cache) {
  (void)ctx;
  (void)call;
  (void)handle;
  (void)filename;
  (void)options;
  (void)no_cache;
  for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i)
    if (strlen(table[i].key) == key.len && memcmp(table[i].key, key.ptr, key.len) == 0) {
      host->buf_append(out, str_of(table[i].value));
      return TERN_OK;
    }
  return TERN_FAIL; /* not found */
}

static tern_status lookup_quote(tern_ctx *ctx, tern_str in, tern_str options, tern_buf *out) {
  (void)ctx;
  (void)options;
  for (size_t i = 0; i < in.len; ++i) {
    if (in.ptr[i] == '\\' || in.ptr[i] == '"') host->buf_append(out, str_of("\\"));
    tern_str c = {in.ptr + i, 1};
    host->buf_append(out, c);
  }
  return TERN_OK;
}

static tern_status check(tern_ctx *ctx, tern_call *call, tern_str value, tern_buf *message) {
  (void)ctx;
  (void)call;
  if (value.len >= 5 && memcmp(value.ptr, "hello", 5) == 0) return TERN_OK;
  host->buf_append(message, str_of("hello_c_check: the value does not start with \"hello\""));
  return TERN_DECLINE;
}

static tern_status on_event(tern_ctx *ctx, tern_call *call, tern_str event, tern_str data,
                            tern_buf *verdict) {
  (void)call;
  (void)data;
  (void)verdict; /* empty: no objection */
  hello_c_state *st = host->module_data(ctx);
  unsigned long n = atomic_fetch_add(&st->events, 1) + 1;
  host->log(ctx, TERN_LOG_DEBUG, "hello_c: event %.*s (%lu so far)", (int)event.len, event.ptr, n);
  return TERN_OK;
}

static tern_status hello_c_init(const tern_host *h, tern_ctx *ctx) {
  host = h;
  hello_c_state *st = calloc(1, sizeof *st);
  if (!st) {
    h->set_error(ctx, NULL, str_of("hello_c: out of memory"));
    return TERN_ERROR;
  }
  atomic_init(&st->events, 0);
  h->set_module_data(ctx, st);

  static const tern_option_def greeting_opt = {
      .size = sizeof greeting_opt, .name = "hello_c_greeting_text", .type = TERN_OPT_STRING,
      .scopes = TERN_SCOPE_MAIN, .default_value = "hello, world"};
  static const tern_operator_def rev = {.size = sizeof rev, .name = "hello_c_rev",
                                        .apply = rev_apply};
  static const tern_item_def join = {.size = sizeof join, .name = "hello_c_join", .min_args = 1,
                                     .max_args = 9, .apply = join_apply};
  static const tern_variable_def greeting = {.size = sizeof greeting, .name = "hello_c_greeting",
                                             .get = greeting_get};
  static const tern_lookup_def lookup = {.size = sizeof lookup, .name = "helloc",
                                         .flags = TERN_LOOKUP_QUERY, .find = lookup_find,
                                         .quote = lookup_quote};
  static const tern_acl_condition_def cond = {.size = sizeof cond, .name = "hello_c_check",
                                              .where = TERN_ACL_ALL, .check = check};
  static const tern_event_listener_def listener = {.size = sizeof listener, .events = "msg:*",
                                                   .on_event = on_event};
  tern_status s;
  if ((s = h->add_option(ctx, &greeting_opt)) != TERN_OK ||
      (s = h->add_operator(ctx, &rev)) != TERN_OK || (s = h->add_item(ctx, &join)) != TERN_OK ||
      (s = h->add_variable(ctx, &greeting)) != TERN_OK ||
      (s = h->add_lookup(ctx, &lookup)) != TERN_OK ||
      (s = h->add_acl_condition(ctx, &cond)) != TERN_OK ||
      (s = h->add_event_listener(ctx, &listener)) != TERN_OK) {
    h->set_module_data(ctx, NULL);
    free(st);
    return s; /* the core set the error text */
  }
  return TERN_OK;
}

static void hello_c_fini(tern_ctx *ctx) {
  hello_c_state *st = host->module_data(ctx);
  host->set_module_data(ctx, NULL);
  free(st);
}

TERN_EXPORT const tern_module *tern_module_v1(void) {
  static const tern_module descriptor = {
      .magic = TERN_MODULE_MAGIC, .size = sizeof(tern_module), .abi_major = TERN_ABI_MAJOR,
      .abi_minor = TERN_ABI_MINOR, .name = "hello_c", .version = "1.0.0",
      .init = hello_c_init, .fini = hello_c_fini};
  return &descriptor;
}
