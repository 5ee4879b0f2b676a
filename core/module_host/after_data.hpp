// core/module_host/after_data.hpp: running TERN_HOOK_AFTER_DATA for one received message.
//
//   AfterData r = run_after_data(hooks, env, std::move(message));
//
// Builds the tern_message the hooks get (id, sender, recipients, header
// section, a read-only descriptor of the spooled body) and runs the point
// with a writable MessageRecipients as the call's per-recipient store.
// Every after-DATA hook runs with a deadline (its timeout_ms, or the core's
// default), whether or not it says TERN_MAY_BLOCK: an overrun is
// TERN_DEFER "timeout after N ms". The caller runs this off its I/O thread
// (it waits for the hooks). What a late hook still reads (the message, the
// descriptor) lives until it returns.
#pragma once

#include <string>
#include <vector>

#include "core/module_host/hooks.hpp"
#include "core/module_host/recipient_store.hpp"

namespace tern::module_host {

struct AfterDataMessage {
  std::string id, sender, headers;
  std::vector<std::string> recipients;
  int data_fd = -1;  // owned from here on: closed when the last reader is done
};

struct AfterData {
  HookResult hook;         // TERN_OK / TERN_DECLINE: accept; else refuse (verdict, error)
  RecipientValues values;  // what the hooks set, to keep with the message
};

AfterData run_after_data(const HookRegistry& hooks, CallEnv env, AfterDataMessage message);

}  // namespace tern::module_host
