// core/acl/session_state.cpp: what ACL runs leave for later ones in a session, and its per-message
// reset.
#include "core/acl/acl.hpp"

namespace tern::acl {

void SessionState::new_message() {
  Controls& c = controls;
  c.queue_only = c.freeze = c.freeze_no_tell = c.submission = c.submission_sender_retain = false;
  c.submission_domain.reset();
  c.submission_name.reset();
  c.suppress_local_fixups = c.cutthrough_delivery = c.cutthrough_defer_pass = false;
  c.utf8_downconvert = 0;
  c.utf8_downconvert_set = false;
  c.fake = Controls::Fake::kNone;
  c.fake_text.clear();
  c.queue.clear();
  c.local_part_case = Controls::LocalPartCase::kDefault;
  c.module_controls.clear();
  added_headers.clear();
  removed_headers.clear();
  memory.warned.clear();
  memory.senders_told.clear();
  memory.rates_mail.clear();
  memory.sender_lists.clear();
  memory.sender_domain_lists.clear();
}

bool SessionState::append_variable(std::string_view name, std::string& out) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return false;
  out += it->second;
  return true;
}

void SessionState::set_variable(std::string_view name, std::string value) {
  vars_.insert_or_assign(std::string(name), std::move(value));
}

void SessionState::clear_variable(std::string_view name) {
  if (auto it = vars_.find(name); it != vars_.end()) vars_.erase(it);
}

}  // namespace tern::acl
