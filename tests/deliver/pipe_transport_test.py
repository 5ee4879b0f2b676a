#!/usr/bin/env python3
"""tests/deliver/pipe_transport_test.py: the pipe transport end to end, as Exim 4.96 does it.

Messages are received with `tern -bs` (queue_only) and delivered by `tern -qf` as
root, each recipient through its own pipe transport running as nobody. The log
lines expected below are what Exim 4.96 wrote for the same transports
(scripts/exim-ref.sh, messages submitted with -odq and delivered with -M; only
the scratch directory differs), so every text is Exim's: exit statuses with
their sysexits meaning, the shell's 128+signal, a command killed past
max_output, a timeout, exec failure, path lookup, restrict_to_path,
allow_commands, temp_errors, ignore_status, $pipe_addresses in a batch,
log_output and log_fail_output, return_output, an expansion failure, and a
"|command" made by a redirect router. What the command received is checked
too: Exim's message_prefix ("From " line), the message, message_suffix, and
the environment Exim gives it.

Not compared: what follows a permanent failure (Exim sends a bounce) and
freeze_exec_fail's "Frozen" (tern does not freeze messages yet).

Run: python3 tests/deliver/pipe_transport_test.py --tern build/bin/tern
"""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import ternlab  # noqa: E402

TERN = None

SHOW = """#!/bin/sh
echo "args: $*"
echo "to stderr" >&2
exit ${CODE:-0}
"""

# transport name -> its options (routers: pa1/pa2 to t_pa, alias to a redirect, the rest to t_<local part>)
TRANSPORTS = {
    "ok": 'command = /bin/sh -c "cat > DIR/out.txt; env | sort > DIR/env.txt"',
    "exit1": "command = /bin/false",
    "exit75": 'command = /bin/sh -c "exit 75"',
    "noexec": 'command = /no/such/command arg "two words"',
    "relpath": "command = nosuchcmd",
    "output": "command = /bin/echo hello from pipe\n  return_output",
    "timeout": "command = /bin/sleep 10\n  timeout = 1s",
    "timeoutdefer": "command = /bin/sleep 10\n  timeout = 1s\n  timeout_defer",
    "shell": "command = echo to $local_part; exit 3\n  use_shell",
    "c130": "command = DIR/show.sh\n  environment = CODE=130",
    "c77": "command = DIR/show.sh\n  environment = CODE=77",
    "logfail": "command = DIR/show.sh y\n  environment = CODE=69\n  log_fail_output",
    "maxout": 'command = /bin/sh -c "yes | head -c 100000"\n  max_output = 1K\n  return_output',
    "restrict": "command = /bin/true\n  restrict_to_path",
    "allow": "command = /bin/true\n  allow_commands = /bin/echo",
    "ignore": "command = /bin/false\n  ignore_status",
    "tempall": "command = /bin/false\n  temp_errors = *",
    "dollar": 'command = /bin/sh -c "kill -TERM $$"',
    "pa": "command = DIR/show.sh $pipe_addresses\n  batch_max = 10\n  log_output",
    "addrpipe": "log_output",
    "env2": 'command = /bin/sh -c "env | sort > DIR/env2.txt"\n'
            "  environment = FOO=bar : BAZ=$sender_address : RN=$router_name : TN=$transport_name",
}

# Exim 4.96's lines (without time stamp and message id), DIR for the scratch directory.
EXPECTED = [
    "=> ok <ok@test.example> R=r_any T=t_ok",
    "** exit1@test.example R=r_any T=t_exit1: Child process of t_exit1 transport returned 1 from command: /bin/false",
    "== exit75@test.example R=r_any T=t_exit75 defer (0): Child process of t_exit75 transport returned 75 "
    "(could mean temporary error) from command: /bin/sh",
    "** noexec@test.example R=r_any T=t_noexec: Child process of t_noexec transport returned 127 "
    "(could mean unable to exec or command does not exist) from command: /no/such/command",
    '** relpath@test.example R=r_any T=t_relpath: "nosuchcmd" command not found for t_relpath transport',
    "** output@test.example R=r_any T=t_output: return message generated",
    "** timeout@test.example R=r_any T=t_timeout: pipe delivery process timed out",
    "== timeoutdefer@test.example R=r_any T=t_timeoutdefer defer (0): pipe delivery process timed out",
    "** shell@test.example R=r_any T=t_shell: Child process of t_shell transport returned 3 from command: /bin/sh",
    "** c130@test.example R=r_any T=t_c130: Child process of t_c130 transport returned 130 "
    "(could mean shell command ended by signal 2 (Interrupt)) from command: DIR/show.sh",
    "** c77@test.example R=r_any T=t_c77: Child process of t_c77 transport returned 77 "
    "(could mean permission denied) from command: DIR/show.sh",
    "<logfail@test.example>: t_logfail transport output: args: y",
    "** logfail@test.example R=r_any T=t_logfail: Child process of t_logfail transport returned 69 "
    "(could mean service or program unavailable) from command: DIR/show.sh",
    '** maxout@test.example R=r_any T=t_maxout: Child process of t_maxout transport (running command '
    '"/bin/sh -c "yes | head -c 100000"") was terminated by signal 9 (Killed)',
    '** restrict@test.example R=r_any T=t_restrict: "/" found in "/bin/true" (command for t_restrict transport) '
    "- failed for security reasons",
    '** allow@test.example R=r_any T=t_allow: "/bin/true" command not permitted by t_allow transport',
    "=> ignore <ignore@test.example> R=r_any T=t_ignore",
    "== tempall@test.example R=r_any T=t_tempall defer (0): Child process of t_tempall transport returned 1 "
    "from command: /bin/false",
    '== dollar@test.example R=r_any T=t_dollar defer (0): Expansion of "kill -TERM $$" from command '
    '"/bin/sh -c "kill -TERM $$"" in t_dollar transport failed: $ not followed by letter, digit, or {',
    "<pa1@test.example>: t_pa transport output: args: pa1@test.example pa2@test.example",
    "=> pa1 <pa1@test.example> R=r_pa T=t_pa",
    "-> pa2 <pa2@test.example> R=r_pa T=t_pa",
    '<|DIR/show.sh x "two words">: t_addrpipe transport output: args: x two words',
    '=> |DIR/show.sh x "two words" <alias@test.example> R=r_alias T=t_addrpipe',
    "=> env2 <env2@test.example> R=r_any T=t_env2",
]

# Exim 4.96's environment for the command (env | sort; PWD comes from the shell).
EXPECTED_ENV = """DOMAIN=test.example
HOME=
LOCAL_PART=ok
LOCAL_PART_PREFIX=
LOCAL_PART_SUFFIX=
LOGNAME=ok
MESSAGE_ID=ID
PATH=/bin:/usr/bin
PWD=/
QUALIFY_DOMAIN=test.example
RECIPIENT=ok@test.example
SENDER=s@a.example
SHELL=/bin/sh
USER=ok
"""


def config(directory):
    transports = "".join(f"t_{name}:\n  driver = pipe\n  {options}\n  user = nobody\n"
                         for name, options in TRANSPORTS.items())
    return f"""spool_directory = {directory}/spool
log_file_path = {directory}/log/%slog
primary_hostname = mx.test.example
qualify_domain = test.example
queue_only = true
acl_smtp_rcpt = accept
begin routers
# The senders' bounces (Exim's wording is tested elsewhere) go nowhere.
r_bounces:
  driver = redirect
  domains = a.example
  data = :blackhole:
r_alias:
  driver = redirect
  local_parts = alias
  data = |{directory}/show.sh x "two words"
  pipe_transport = t_addrpipe
r_pa:
  driver = accept
  local_parts = pa1:pa2
  transport = t_pa
r_any:
  driver = accept
  transport = t_$local_part
begin transports
{transports.replace("DIR", directory)}
begin retry
* * F,1h,10m
"""


def smtp_session(recipient_lists):
    lines = ["HELO client.example"]
    for recipients in recipient_lists:
        lines.append("MAIL FROM:<s@a.example>")
        lines += [f"RCPT TO:<{r}@test.example>" for r in recipients]
        lines += ["DATA", "Subject: pipe test", "", "body line", "From inside the body", "..body dot", "."]
    lines.append("QUIT")
    return "".join(line + "\r\n" for line in lines)


class PipeTransport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = ternlab.Scratch()
        d = cls.scratch.path
        os.chmod(d, 0o777)
        for sub in ("spool", "log"):
            os.makedirs(os.path.join(d, sub))
        with open(os.path.join(d, "show.sh"), "w") as f:
            f.write(SHOW)
        os.chmod(os.path.join(d, "show.sh"), 0o755)
        cls.conf = cls.scratch.file("tern.conf", config(d))
        singles = [[name] for name in TRANSPORTS if name not in ("pa", "addrpipe")]
        r = ternlab.run_tern(TERN, ["-C", cls.conf, "-bs"], stdin=smtp_session(singles + [["pa1", "pa2"], ["alias"]]))
        assert r.returncode == 0, r.stderr
        cls.accepted = re.findall(r"^250 OK id=(\S+)", r.stdout, re.M)
        cls.queue_run = ternlab.run_tern(TERN, ["-C", cls.conf, "-qf"], timeout=120)
        with open(os.path.join(d, "log", "mainlog")) as f:
            cls.log = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.scratch.close()

    def delivery_lines(self):
        out = []
        for line in self.log.splitlines():
            m = re.match(r"^\S+ \S+ \S+ (.*)$", line)
            if m and not m.group(1).startswith(("<=", "Completed", "queue run", "=> :blackhole: <s@a.example>")):
                out.append(m.group(1).replace(self.scratch.path, "DIR"))
        return out

    def test_every_message_was_accepted(self):
        self.assertEqual(len(self.accepted), len(TRANSPORTS))
        self.assertEqual(self.queue_run.returncode, 0, self.queue_run.stderr)

    def test_log_lines_are_exims(self):
        got = self.delivery_lines()
        for line in EXPECTED:
            self.assertIn(line, got)
        self.assertEqual(len(got), len(EXPECTED), "\n".join(sorted(set(got) - set(EXPECTED))))

    def test_the_output_line_comes_before_the_delivery_line(self):
        got = self.delivery_lines()
        self.assertLess(got.index("<pa1@test.example>: t_pa transport output: args: pa1@test.example pa2@test.example"),
                        got.index("=> pa1 <pa1@test.example> R=r_pa T=t_pa"))

    def test_the_command_got_the_message_with_exims_prefix_and_suffix(self):
        with open(os.path.join(self.scratch.path, "out.txt")) as f:
            text = f.read()
        self.assertRegex(text.splitlines()[0], r"^From s@a\.example \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$")
        self.assertIn("\nSubject: pipe test\n", text)
        # No ">From" escaping for a pipe unless check_string asks; the suffix is a blank line.
        self.assertTrue(text.endswith("\n\nbody line\nFrom inside the body\n.body dot\n\n"), repr(text[-80:]))

    def test_the_command_got_exims_environment(self):
        with open(os.path.join(self.scratch.path, "env.txt")) as f:
            env = f.read()
        ok_id = self.accepted[0]
        self.assertEqual(env.replace(ok_id, "ID"), EXPECTED_ENV)

    def test_environment_option_and_the_drivers_names(self):
        with open(os.path.join(self.scratch.path, "env2.txt")) as f:
            env = f.read().splitlines()
        # As Exim 4.96: $transport_name is set while a transport runs, $router_name is not.
        for line in ("FOO=bar", "BAZ=s@a.example", "RN=", "TN=t_env2"):
            self.assertIn(line, env)

    def test_failed_and_delivered_messages_left_the_queue_deferred_ones_stayed(self):
        r = ternlab.run_tern(TERN, ["-C", self.conf, "-bp"])
        waiting = re.findall(r"^\s*\S+\s+\S+\s+(\S+) <", r.stdout, re.M)
        # exit75, timeoutdefer, tempall and dollar deferred; everything else is done.
        self.assertEqual(len(waiting), 4, r.stdout)


if __name__ == "__main__":
    ternlab.unittest_main(__name__)
