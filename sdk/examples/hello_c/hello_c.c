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
 * No mutable static state: every callback gets the module's tern_ctx, and
 * reaches the host table through ctx->host and the module's state (an event
 * counter) through ctx->data. The definitions are static const data; their
 * `user` pointer tells a callback which registration it serves ($hello_c_
 * greeting names the option it reads that way).
 */
#include <tern/module.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct hello_c_state {
  atomic_ulong events; /* msg:* events seen by this generation */
} hello_c_state;

static tern_str str_of(const char *s) {
  tern_str t = {s, strlen(s)};
  return t;
}

static tern_status rev_apply(tern_ctx *ctx, void *user, tern_call *call, tern_str arg,
                             tern_buf *out) {
  (void)user;
  (void)call;
  for (size_t i = arg.len; i > 0; --i) {
    tern_str c = {arg.ptr + i - 1, 1};
    ctx->host->buf_append(out, c);
  }
  return TERN_OK;
}

static tern_status join_apply(tern_ctx *ctx, void *user, tern_call *call, const tern_str *args,
                              size_t nargs, tern_buf *out) {
  (void)user;
  (void)call;
  for (size_t i = 0; i < nargs; ++i) {
    if (i > 0) ctx->host->buf_append(out, str_of("-"));
    ctx->host->buf_append(out, args[i]);
  }
  return TERN_OK;
}

/* A variable whose value is the text of the option named by the
 * definition's `user` ($hello_c_greeting: hello_c_greeting_text, whose
 * default is "hello, world"). The host's answer is host-owned and valid
 * until this callback returns: append it to the result. */
static tern_status option_get(tern_ctx *ctx, void *user, tern_call *call, tern_buf *out) {
  tern_str text;
  tern_status s = ctx->host->get_option(call, (const char *)user, &text);
  if (s == TERN_OK) ctx->host->buf_append(out, text);
  return s;
}

static const struct {
  const char *key, *value;
} table[] = {
    {"alice", "Alice Liddell"},
    {"bob", "Bob Dobbs"},
    {"a\"b", "quoted"},
};

static tern_status lookup_find(tern_ctx *ctx, void *user, tern_call *call, void *handle,
                               tern_str filename, tern_str key, tern_str options, tern_buf *out,
                               int *no_cache) {
  (void)user;
  (void)call;
  (void)handle;
  (void)filename;
  (void)options;
  (void)no_cache;
  for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i)
    if (strlen(table[i].key) == key.len && memcmp(table[i].key, key.ptr, key.len) == 0) {
      ctx->host->buf_append(out, str_of(table[i].value));
      return TERN_OK;
    }
  return TERN_FAIL; /* not found */
}

static tern_status lookup_quote(tern_ctx *ctx, void *user, tern_str in, tern_str options,
                                tern_buf *out) {
  (void)user;
  (void)options;
  for (size_t i = 0; i < in.len; ++i) {
    if (in.ptr[i] == '\\' || in.ptr[i] == '"') ctx->host->buf_append(out, str_of("\\"));
    tern_str c = {in.ptr + i, 1};
    ctx->host->buf_append(out, c);
  }
  return TERN_OK;
}

static tern_status check(tern_ctx *ctx, void *user, tern_call *call, tern_str value,
                         tern_buf *message) {
  (void)user;
  (void)call;
  if (value.len >= 5 && memcmp(value.ptr, "hello", 5) == 0) return TERN_OK;
  ctx->host->buf_append(message, str_of("hello_c_check: the value does not start with \"hello\""));
  return TERN_DECLINE;
}

static tern_status on_event(tern_ctx *ctx, void *user, tern_call *call, tern_str event,
                            tern_str data, tern_buf *verdict) {
  (void)user;
  (void)call;
  (void)data;
  (void)verdict; /* empty: no objection */
  hello_c_state *st = ctx->data;
  unsigned long n = atomic_fetch_add(&st->events, 1) + 1;
  ctx->host->log(ctx, TERN_LOG_DEBUG, "hello_c: event %.*s (%lu so far)", (int)event.len, event.ptr, n);
  return TERN_OK;
}

static tern_status hello_c_init(const tern_host *h, tern_ctx *ctx) {
  hello_c_state *st = calloc(1, sizeof *st);
  if (!st) {
    h->set_error(ctx, NULL, str_of("hello_c: out of memory"));
    return TERN_ERROR;
  }
  atomic_init(&st->events, 0);
  ctx->data = st;

  static const tern_option_def greeting_opt = {
      .size = sizeof greeting_opt, .name = "hello_c_greeting_text", .type = TERN_OPT_STRING,
      .scopes = TERN_SCOPE_MAIN, .default_value = "hello, world"};
  static const tern_operator_def rev = {.size = sizeof rev, .name = "hello_c_rev",
                                        .apply = rev_apply};
  static const tern_item_def join = {.size = sizeof join, .name = "hello_c_join", .min_args = 1,
                                     .max_args = 9, .apply = join_apply};
  static const tern_variable_def greeting = {.size = sizeof greeting, .name = "hello_c_greeting",
                                             .get = option_get,
                                             .user = (void *)"hello_c_greeting_text"};
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
    ctx->data = NULL;
    free(st);
    return s; /* the core set the error text */
  }
  return TERN_OK;
}

static void hello_c_fini(tern_ctx *ctx) {
  free(ctx->data);
  ctx->data = NULL;
}

TERN_EXPORT const tern_module *tern_module_v1(void) {
  static const tern_module descriptor = {
      .magic = TERN_MODULE_MAGIC, .size = sizeof(tern_module), .abi_major = TERN_ABI_MAJOR,
      .abi_minor = TERN_ABI_MINOR, .name = "hello_c", .version = "1.0.0",
      .init = hello_c_init, .fini = hello_c_fini};
  return &descriptor;
}
