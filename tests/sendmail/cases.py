"""tests/sendmail/cases.py: the submissions both Exim 4.96 and tern are given.

Each case: the command line's options and arguments after `-C conf -odq`, and the
message on standard input. make_expectations.sh records what the reference Exim did
with each (exim/<name>.txt); sendmail_test.py makes tern do the same and compares.
"""

CASES = {
    # The dot ends the message; Message-Id:, From: (gecos), Date: added.
    "plain": (["bob"], "Subject: hi\n\nbody\n.\nafter\n"),
    # -i: the dot is data; -f by a trusted caller and -F make From:.
    "f_and_F": (["-oi", "-f", "sender@else.example", "-F", "Full Name", "bob"],
                "Subject: i\n\nbody\n.\nafter\n"),
    # -t: recipients from To:, Cc:, Bcc: (Bcc: kept on the spool only); the argument is
    # removed (extract_addresses_remove_arguments), unqualified addresses qualified.
    "extract": (["-t", "bob"],
                'To: bob, carol@x.example\nCc: "Dave D" <dave@test.example>\nBcc: eve\nSubject: t\n\nbody\n'),
    # From: that is the login gets the gecos name; Return-Path: dropped; header
    # addresses qualified (old line kept as '*').
    "fixups": (["bob"],
               "From: root\nSender: me@x\nReturn-Path: <a@b>\nTo: Bob <bob>, (c) carol\nBcc: eve\n\nb\n"),
    # CR LF and lone CR are newlines; a line that is not a header starts the body; ".."
    # is not unstuffed. (Exim 4.96 puts a space before the body's second line when the
    # header lines ended in CR LF and the first body line in LF alone: not copied.)
    "line_ends": (["bob"], "Subject: x\r\nX-A: 1\r\n  cont\r\nnot a header\r\nline\r\n..dots\r\nlone\rcr\n.x\n"),
    # A folded To: line; -t takes both addresses.
    "folded": (["-t"], "To: alice,\n\tbob (Bob)\nSubject: f\n\nb\n"),
    # With Resent- lines, -t reads only them, and the fix-ups are Resent- lines.
    "resent": (["-t"], "To: alice\nResent-From: root\nResent-To: carol\nSubject: r\n\nb\n"),
    # Nothing at all: still a message, with the local fix-ups.
    "empty": (["bob"], ""),
    # Several recipients in one argument; -- ends the options.
    "commas": (["--", "bob, carol@x.example", "dave"], "Subject: c\n\nb\n"),
}

# Refused submissions: arguments and stdin; what Exim prints on stderr and its status.
ERRORS = {
    "no_recipients": ([], "Subject: x\n\nbody\n"),
    "bad_recipient": (["-oep", "a b@@c"], "Subject: x\n\nbody\n"),
    "bad_domain": (["-oep", "x@@y", "bob"], "Subject: x\n\nbody\n"),
    "t_no_recipients": (["-oep", "-t"], "Subject: x\n\nbody\n"),
    "t_bad_address": (["-oep", "-t"], "To: a@@b, carl\n\nbody\n"),
    "t_all_overridden": (["-oep", "-t", "bob@test.example"], "To: bob@test.example\n\nbody\n"),
}
