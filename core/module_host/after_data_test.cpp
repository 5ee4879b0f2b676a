// core/module_host/after_data_test.cpp: the after-DATA hook point and per-recipient data,
// through the host table as a module calls it.
#include "core/module_host/after_data.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/module_host/boundary.hpp"
#include "core/module_host/host.hpp"
#include "core/module_host/test_support.hpp"

namespace tern::module_host {
namespace {

tern_str s(std::string_view v) { return {v.data(), v.size()}; }

// What a hook saw, for the test to check after the call.
struct Seen {
  std::string id, sender, headers, body;
  std::vector<std::string> recipients;
  std::string from_routing;  // recipient_data at the hook: none selected
};

ModuleCtx& module_ctx() {
  static ModuleCtx ctx;
  ctx.host = host_table(false);
  ctx.module = "testhook";
  return ctx;
}

// Tags each recipient; reads the body through data_fd with pread.
tern_status tagging_hook(tern_ctx* ctx, void* user, tern_call* call, void* arg, tern_buf*) {
  auto* seen = static_cast<Seen*>(user);
  const auto* m = static_cast<const tern_message*>(arg);
  seen->id.assign(m->id.ptr, m->id.len);
  seen->sender.assign(m->sender.ptr, m->sender.len);
  seen->headers.assign(m->headers.ptr, m->headers.len);
  for (size_t i = 0; i < m->recipient_count; ++i) seen->recipients.emplace_back(m->recipients[i].ptr, m->recipients[i].len);
  char buf[256];
  off_t at = lseek(m->data_fd, 0, SEEK_CUR);
  ssize_t n = pread(m->data_fd, buf, sizeof buf, at);
  if (n > 0) seen->body.assign(buf, static_cast<size_t>(n));
  tern_str out{};
  if (ctx->host->recipient_data(call, s("tag"), &out) == TERN_DECLINE) seen->from_routing = "declined";
  for (size_t i = 0; i < m->recipient_count; ++i)
    if (ctx->host->set_recipient_data(call, i, s("tag"), s("t" + std::to_string(i))) != TERN_OK) return TERN_ERROR;
  // Out of range: refused with a reason, the call goes on.
  if (ctx->host->set_recipient_data(call, m->recipient_count, s("tag"), s("x")) != TERN_ERROR) return TERN_ERROR;
  return TERN_OK;
}

tern_status refusing_hook(tern_ctx* ctx, void*, tern_call* call, void*, tern_buf* verdict) {
  ctx->host->buf_append(verdict, s("no thanks"));
  ctx->host->set_error(ctx, call, s("the log's reason"));
  return TERN_FAIL;
}

tern_status sleeping_hook(tern_ctx*, void* user, tern_call*, void*, tern_buf*) {
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  static_cast<std::atomic<bool>*>(user)->store(true);
  return TERN_OK;
}

Hook hook_of(tern_status (*fn)(tern_ctx*, void*, tern_call*, void*, tern_buf*), void* user, uint32_t timeout_ms = 0) {
  Hook h;
  h.module = "testhook";
  h.ctx = &module_ctx();
  h.run = fn;
  h.user = user;
  h.timeout_ms = timeout_ms;  // flags 0: an after-DATA hook gets a deadline anyway
  return h;
}

class AfterDataTest : public ::testing::Test {
 protected:
  AfterDataMessage message() {
    std::string path = dir_.path() + "/data";
    int w = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::string text = "ID-D\nbody line\n";
    EXPECT_EQ(::write(w, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(w);
    AfterDataMessage m;
    m.id = "1xXbfI-0000000001p-1Zab";
    m.sender = "a@b.example";
    m.headers = "Subject: hi\n";
    m.recipients = {"x@y.example", "z@y.example"};
    m.data_fd = ::open(path.c_str(), O_RDONLY);
    ::lseek(m.data_fd, 5, SEEK_SET);  // the body's first byte, as the spool gives it
    return m;
  }
  BlockingPool pool_;
  testing::TempDir dir_;
};

TEST_F(AfterDataTest, HooksSeeTheMessageAndSetPerRecipientData) {
  HookRegistry hooks;
  hooks.set_pool(&pool_);
  Seen seen;
  hooks.add(TERN_HOOK_AFTER_DATA, hook_of(tagging_hook, &seen));
  hooks.freeze();
  AfterData r = run_after_data(hooks, {}, message());
  EXPECT_EQ(r.hook.status, TERN_OK);
  EXPECT_EQ(seen.id, "1xXbfI-0000000001p-1Zab");
  EXPECT_EQ(seen.sender, "a@b.example");
  EXPECT_EQ(seen.headers, "Subject: hi\n");
  EXPECT_EQ(seen.recipients, (std::vector<std::string>{"x@y.example", "z@y.example"}));
  EXPECT_EQ(seen.body, "body line\n");
  EXPECT_EQ(seen.from_routing, "declined");
  RecipientValues want;
  want[0]["tag"] = "t0";
  want[1]["tag"] = "t1";
  EXPECT_EQ(r.values, want);
}

TEST_F(AfterDataTest, AFailureStopsWithItsVerdictAndError) {
  HookRegistry hooks;
  hooks.set_pool(&pool_);
  Seen seen;
  hooks.add(TERN_HOOK_AFTER_DATA, hook_of(tagging_hook, &seen));
  hooks.add(TERN_HOOK_AFTER_DATA, hook_of(refusing_hook, nullptr));
  hooks.freeze();
  AfterData r = run_after_data(hooks, {}, message());
  EXPECT_EQ(r.hook.status, TERN_FAIL);
  EXPECT_EQ(r.hook.verdict, "no thanks");
  EXPECT_EQ(r.hook.error, "the log's reason");
  EXPECT_EQ(r.hook.module, "testhook");
  EXPECT_TRUE(r.values.empty());  // nothing is kept of a refused message
}

TEST_F(AfterDataTest, EveryHookHasADeadlineEvenWithoutMayBlock) {
  HookRegistry hooks;
  hooks.set_pool(&pool_);
  auto finished = std::make_unique<std::atomic<bool>>(false);
  hooks.add(TERN_HOOK_AFTER_DATA, hook_of(sleeping_hook, finished.get(), 50));
  hooks.freeze();
  auto t0 = std::chrono::steady_clock::now();
  AfterData r = run_after_data(hooks, {}, message());
  // Cut off at the deadline, long before the hook's 3 s (a loaded machine is slow, not that slow).
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2000));
  EXPECT_EQ(r.hook.status, TERN_DEFER);
  EXPECT_EQ(r.hook.error, "timeout after 50 ms");
  // The late hook finishes on its own, reading what the call kept alive.
  for (int i = 0; i < 500 && !*finished; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(*finished);
}

TEST(MessageRecipients, RoutingReadsTheSelectedRecipientOnly) {
  RecipientValues v;
  v[1]["tag"] = "red";
  auto store = MessageRecipients::for_routing(3, v);
  EXPECT_EQ(*store.get("tag"), std::nullopt);  // none selected
  store.select(1);
  EXPECT_EQ(*store.get("tag"), "red");
  EXPECT_EQ(*store.get("other"), std::nullopt);
  store.select(0);
  EXPECT_EQ(*store.get("tag"), std::nullopt);
  Status st = store.set(0, "tag", "x");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "set_recipient_data is only available at the after-DATA hook");
}

TEST(MessageRecipients, HookStoreChecksItsArguments) {
  auto store = MessageRecipients::for_hook(2);
  EXPECT_TRUE(store.set(1, "k", "v").ok());
  EXPECT_TRUE(store.set(1, "k", "w").ok());  // the last value wins
  EXPECT_EQ(store.set(2, "k", "v").error().message,
            "set_recipient_data: recipient 2 out of range (the message has 2)");
  EXPECT_EQ(store.set(0, "", "v").error().message, "set_recipient_data: empty key");
  RecipientValues want;
  want[1]["k"] = "w";
  EXPECT_EQ(store.values(), want);
}

}  // namespace
}  // namespace tern::module_host
