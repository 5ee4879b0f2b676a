// core/smtp/state.cpp: command sequencing and error counting (see state.hpp).
//
// Texts and counting rules follow smtp_in.c (synprot_error(), the OTHER_CMD,
// MAIL_CMD, RCPT_CMD and DATA_CMD cases) and were checked with the reference
// Exim; state_test.cpp replays those sessions.
#include "core/smtp/state.hpp"

namespace tern::smtp {

bool SessionState::count_synprot(const Reply& r, std::string detail) {
  // Exim's L_smtp_syntax_error replies are 500 and 501; the rest are
  // L_smtp_protocol_error.
  errors_.push_back(SynprotError{r.code != 500 && r.code != 501, line_,
                                 detail.empty() ? r.lines.front() : std::move(detail)});
  return ++synprot_ > limits_.max_synprot_errors;
}

Outcome SessionState::synprot_error(Reply r, std::string detail) {
  Outcome o{false, std::move(r), false};
  if (count_synprot(*o.reply, std::move(detail))) {
    o.reply->lines.push_back("Too many syntax or protocol errors");
    o.drop = true;
  }
  return o;
}

Outcome SessionState::reject(const Rejection& r) {
  if (r.synprot) return synprot_error(r.reply, r.detail);
  return Outcome{false, r.reply, false};
}

Outcome SessionState::helo_error(Reply r) {
  const bool drop = count_synprot(r, {});
  return Outcome{false, std::move(r), drop};
}

Outcome SessionState::on_command(const Command& c) {
  line_ = std::string(c.line);
  last_was_rej_mail_ = was_rej_mail_;
  last_was_rcpt_ = was_rcpt_;
  was_rej_mail_ = was_rcpt_ = false;

  switch (c.verb) {
    case Verb::kUnknown:
      if (unknown_++ >= limits_.max_unknown_commands)
        return Outcome{false, replies::too_many_unrecognized(), true};
      return synprot_error(replies::unrecognized());
    case Verb::kNul: {
      // Counted; past the limit Exim drops after this same reply.
      Reply r = replies::nul_in_command();
      const bool drop = count_synprot(r, {});
      return Outcome{false, std::move(r), drop};
    }
    default:
      break;
  }

  // Non-mail commands (Exim counts before the argument check).
  Verb v = c.verb == Verb::kBadArgument ? c.matched : c.verb;
  if (is_nonmail(v)) {
    bool free = false;
    if (v == Verb::kRset && free_rset_) free = true, free_rset_ = false;
    if ((v == Verb::kHelo || v == Verb::kEhlo) && free_helo_) free = true, free_helo_ = false;
    if (v == Verb::kStarttls && free_starttls_) free = true, free_starttls_ = false;
    if (!free && limits_.count_nonmail && ++nonmail_ > limits_.max_nonmail)
      return Outcome{false, replies::too_many_nonmail(), true};
  } else if (v == Verb::kAuth) {
    if (!free_auth_ && limits_.count_nonmail && ++nonmail_ > limits_.max_nonmail)
      return Outcome{false, replies::too_many_nonmail(), true};
    free_auth_ = false;  // repeated failing AUTHs count
  }

  if (c.verb == Verb::kBadArgument) return synprot_error(replies::unexpected_argument());
  return Outcome::go();
}

void SessionState::helo_accepted(bool esmtp, bool pipelining_advertised, bool chunking_advertised) {
  helo_seen_ = true;
  esmtp_ = esmtp;
  pipelining_ = esmtp && pipelining_advertised;
  chunking_ = esmtp && chunking_advertised ? Chunking::kOffered : Chunking::kOff;
  sender_given_ = false;  // EHLO/HELO abandons any transaction
  recipients_ = 0;
  rcpt_first_.reset();
  rcpt_same_ = true;
}

Outcome SessionState::check_mail() {
  was_rej_mail_ = true;  // until accepted
  if (limits_.helo_required && !helo_seen_)
    return Outcome{false, Reply::make(503, "HELO or EHLO required"), false};
  if (sender_given_) return synprot_error(Reply::make(503, "sender already given"));
  return Outcome::go();
}

void SessionState::mail_accepted() {
  was_rej_mail_ = false;
  sender_given_ = true;
  recipients_ = 0;
  rcpt_first_.reset();
  rcpt_same_ = true;
}

void SessionState::mail_rejected() {
  was_rej_mail_ = true;
  sender_given_ = false;
}

Outcome SessionState::check_rcpt() {
  was_rcpt_ = true;
  if (!sender_given_) {
    if (pipelining_ && last_was_rej_mail_) {
      was_rej_mail_ = true;  // further pipelined RCPTs get the same treatment
      return Outcome{false, Reply::make(503, "sender not yet given"), false};
    }
    was_rcpt_ = false;
    return synprot_error(Reply::make(503, "sender not yet given"));
  }
  return Outcome::go();
}

void SessionState::rcpt_response(std::string_view captured, bool accepted) {
  if (accepted) ++recipients_;
  if (!rcpt_first_)
    rcpt_first_ = std::string(captured);
  else if (*rcpt_first_ != captured)
    rcpt_same_ = false;
}

Outcome SessionState::check_data(Verb verb, bool discarded) {
  if (discarded || recipients_ > 0) return Outcome::go();
  const std::string name = verb == Verb::kBdat ? "BDAT" : "DATA";
  Reply r = Reply::make(503, "");
  r.lines.clear();
  if (rcpt_same_ && rcpt_first_) {
    r.lines.push_back("All RCPT commands were rejected with this error:");
    r.lines.push_back(*rcpt_first_);
  }
  if (pipelining_ && last_was_rcpt_) {
    r.lines.push_back("Valid RCPT command must precede " + name);
    return Outcome{false, std::move(r), false};
  }
  r.lines.push_back("valid RCPT command must precede " + name);
  // Only the last line is the counted error; Exim sends the others first.
  Outcome o = synprot_error(Reply::make(503, r.lines.back()));
  r.lines.pop_back();
  for (auto& l : o.reply->lines) r.lines.push_back(l);
  o.reply = std::move(r);
  return o;
}

Outcome SessionState::check_bdat_allowed() {
  if (chunking_ == Chunking::kOffered) return Outcome::go();
  return synprot_error(bdat_not_advertised());
}

void SessionState::chunk_started(bool last) {
  chunking_ = last ? Chunking::kOffered : Chunking::kActive;
}

Outcome SessionState::in_chunking(const Command& c) {
  line_ = std::string(c.line);
  if (chunking_ == Chunking::kRefused) {
    if (c.verb == Verb::kRset || c.verb == Verb::kQuit) return Outcome::go();
    return synprot_error(Reply::make(503, "only RSET accepted now"));
  }
  switch (c.verb) {
    case Verb::kBdat:
    case Verb::kNoop:
    case Verb::kRset:
    case Verb::kQuit:
      return Outcome::go();
    default:
      chunking_ = Chunking::kRefused;
      return synprot_error(Reply::make(503, "only BDAT permissible after non-LAST BDAT"));
  }
}

void SessionState::new_message() {
  sender_given_ = false;
  recipients_ = 0;
  rcpt_first_.reset();
  rcpt_same_ = true;
  free_rset_ = free_helo_ = free_starttls_ = true;
  if (chunking_ != Chunking::kOff) chunking_ = Chunking::kOffered;
}

void SessionState::message_done() { new_message(); }

void SessionState::rset() {
  sender_given_ = false;
  recipients_ = 0;
  rcpt_first_.reset();
  rcpt_same_ = true;
  if (chunking_ != Chunking::kOff) chunking_ = Chunking::kOffered;
}

void SessionState::tls_started() {
  helo_seen_ = esmtp_ = pipelining_ = false;
  sender_given_ = false;
  recipients_ = 0;
  chunking_ = Chunking::kOff;
  free_helo_ = free_auth_ = true;
}

}  // namespace tern::smtp
