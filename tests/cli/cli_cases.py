"""tests/cli/cli_cases.py: the cases run_cli_tests.py runs.

Each case: name, args, optional conf / files / stdin, and the expected
stdout / stderr (exact, or *_re for a regular expression) and exit status.
Error texts are tern's contract (INTERFACE.md): one line, `file:line: ...`.
"""

OK_CONF = "primary_hostname = a.example\nMAC = hello\nmessage_size_limit = 10M\n"

CASES = [
    # --- the command line itself
    {"name": "unknown-option", "args": ["-Z"], "rc": 1, "stdout": "",
     "stderr": "tern: unknown, malformed, or incomplete option -Z\n"},
    {"name": "missing-config-argument", "args": ["-C"], "rc": 1,
     "stderr": "tern: unknown, malformed, or incomplete option -C\n"},
    {"name": "conflicting-modes", "args": ["-be", "-bV"], "rc": 1,
     "stderr": "tern: conflicting options -be and -bV\n"},
    {"name": "address-test-no-routers", "conf": OK_CONF, "args": ["-C", "{conf}", "-bt", "a@b.example"], "rc": 2,
     "stdout": "a@b.example is undeliverable: Unrouteable address\n"},
    {"name": "remove-missing", "conf": OK_CONF, "args": ["-C", "{conf}", "-Mrm", "1xXbgc-0000000002W-2Pab"],
     "rc": 1, "stderr": "", "stdout": "Message 1xXbgc-0000000002W-2Pab has been removed or did not exist\n"},

    # --- -bV
    {"name": "version", "conf": OK_CONF, "args": ["-C", "{conf}", "-bV"], "rc": 0, "stderr": "",
     "stdout_re": r"tern version \S+ .*\nModule ABI: 1\.\d+\n.*Lookups \(built-in\): lsearch wildlsearch "
                  r"nwildlsearch iplsearch dsearch\n.*Configuration file is {conf}\n"},

    # --- -be
    {"name": "be-args", "conf": OK_CONF, "args": ["-C", "{conf}", "-be", "${uc:abc}", "$primary_hostname"],
     "rc": 0, "stdout": "ABC\na.example\n"},
    {"name": "be-failure", "conf": OK_CONF, "args": ["-C", "{conf}", "-be", "$nosuch"], "rc": 0,
     "stdout": 'Failed: unknown variable name "nosuch"\n'},
    {"name": "be-forced-fail", "conf": OK_CONF, "args": ["-C", "{conf}", "-be", "${if eq{a}{b}{x}fail}"],
     "rc": 0, "stdout": 'Failed: "if" failed and "fail" requested\n'},
    {"name": "be-macro-in-args", "conf": OK_CONF, "args": ["-C", "{conf}", "-be", "MAC world"], "rc": 0,
     "stdout": "hello world\n"},
    {"name": "be-dash-d-overrides", "conf": OK_CONF, "args": ["-C", "{conf}", "-DMAC=bye", "-be", "MAC"],
     "rc": 0, "stdout": "bye\n"},
    {"name": "be-stdin", "conf": OK_CONF, "args": ["-C", "{conf}", "-be"], "rc": 0,
     "stdin": "X = 1\nX MAC\n${lc:A\\\nB}\n$nosuch\n",
     "stdout": "> Defined macro 'X'\n> 1 hello\n> ab\n> Failed: unknown variable name \"nosuch\"\n> \n"},
    {"name": "be-lookup", "conf": OK_CONF,
     "files": {"aliases": "postmaster: root\nuser: user@example.com\n"},
     "args": ["-C", "{conf}", "-be", "${lookup{user}lsearch{{dir}/aliases}{<$value>}{none}}",
              "${lookup{nobody}lsearch{{dir}/aliases}{<$value>}{none}}"],
     "rc": 0, "stdout": "<user@example.com>\nnone\n"},

    # --- -bP
    {"name": "bp-options", "conf": OK_CONF,
     "args": ["-C", "{conf}", "-bP", "message_size_limit", "primary_hostname"], "rc": 0,
     "stdout": "message_size_limit = 10M\nprimary_hostname = a.example\n"},
    {"name": "bp-unknown", "conf": OK_CONF, "args": ["-C", "{conf}", "-bP", "nosuch"], "rc": 1,
     "stdout": "nosuch is not a known option\n"},
    {"name": "bp-boolean", "conf": "no_accept_8bitmime\n", "args": ["-C", "{conf}", "-bP", "accept_8bitmime"],
     "rc": 0, "stdout": "no_accept_8bitmime\n"},
    {"name": "bp-time", "conf": "auto_thaw = 90m\n", "args": ["-C", "{conf}", "-bP", "auto_thaw"],
     "rc": 0, "stdout": "auto_thaw = 1h30m\n"},
    {"name": "bp-all", "conf": OK_CONF, "args": ["-C", "{conf}", "-bP", "all"], "rc": 0,
     "stdout_re": r"accept_8bitmime\n.*\nprimary_hostname = a\.example\n.*"},

    # --- configuration errors: one line, file:line, exit 1
    {"name": "err-unknown-option", "conf": "primary_hostname = a.example\nfoo = 1\n",
     "args": ["-C", "{conf}", "-bV"], "rc": 1, "stdout": "",
     "stderr": '{conf}:2: main option "foo" unknown\n'},
    {"name": "err-bad-integer", "conf": "smtp_accept_max = 10X\n", "args": ["-C", "{conf}", "-bV"], "rc": 1,
     "stderr": "{conf}:1: extra characters follow integer value for smtp_accept_max\n"},
    {"name": "err-unterminated-ifdef", "conf": "primary_hostname = a.example\n.ifdef X\n",
     "args": ["-C", "{conf}", "-bV"], "rc": 1, "stderr": "{conf}:2: .ifdef without matching .endif\n"},
    {"name": "err-missing-include", "conf": ".include {dir}/nonexist.conf\n", "args": ["-C", "{conf}", "-bV"],
     "rc": 1, "stderr": "{conf}:1: failed to open included configuration file {dir}/nonexist.conf\n"},
    {"name": "err-unknown-driver", "conf": "begin routers\nr1:\n  driver = nosuch\n",
     "args": ["-C", "{conf}", "-bV"], "rc": 1,
     "stderr": '{conf}:3: router r1: cannot find router driver "nosuch"\n'},
    {"name": "err-module-not-loaded", "conf": "begin transports\nt1:\n  driver = smtp\n  hosts_try_dane = *\n",
     "args": ["-C", "{conf}", "-bV"], "rc": 1,
     "stderr": '{conf}:4: option "hosts_try_dane" belongs to module "dane", which is not loaded: '
               'add it to "modules"\n'},
    {"name": "err-missing-file", "args": ["-C", "{dir}/nonexist.conf", "-bV"], "rc": 1,
     "stderr": "{dir}/nonexist.conf: failed to open configuration file: No such file or directory\n"},
    {"name": "err-in-include", "conf": ".include {dir}/inc.conf\n",
     "files": {"inc.conf": "# included\nbad_option = 1\n"}, "args": ["-C", "{conf}", "-bV"], "rc": 1,
     "stderr": '{dir}/inc.conf:2: main option "bad_option" unknown\n'},

    # --- macros, conditionals and continuation through the command line
    {"name": "ifdef-from-dash-d", "args": ["-C", "{conf}", "-DLOCAL=1", "-bP", "primary_hostname"],
     "conf": ".ifdef LOCAL\nprimary_hostname = local.example\n.else\nprimary_hostname = other.example\n.endif\n",
     "rc": 0, "stdout": "primary_hostname = local.example\n"},
    {"name": "continuation", "args": ["-C", "{conf}", "-bP", "primary_hostname"],
     "conf": "primary_hostname = a\\\n    .example\n", "rc": 0, "stdout": "primary_hostname = a.example\n"},
]


# --- modules (core/module_host). The test modules (core/module_host/testdata)
# are built next to the binary, in <build>/lib/tern/test-modules; the runner's
# --tern argument says where the build is.
def _test_module_dir():
    import os
    import sys
    tern = None
    for i, a in enumerate(sys.argv):
        if a == "--tern" and i + 1 < len(sys.argv):
            tern = sys.argv[i + 1]
        elif a.startswith("--tern="):
            tern = a[len("--tern="):]
    if tern is None:
        return "/nonexistent"
    build = os.path.dirname(os.path.dirname(os.path.abspath(tern)))
    return os.path.join(build, "lib", "tern", "test-modules")


def _core_abi():
    """The ABI version module.h declares: "1.1"."""
    import os
    import re
    header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk", "include", "tern",
                          "module.h")
    text = open(header).read()
    major = re.search(r"#define TERN_ABI_MAJOR (\d+)", text).group(1)
    minor = re.search(r"#define TERN_ABI_MINOR (\d+)", text).group(1)
    return major + "." + minor


def _module_cases():
    import re
    tm = _test_module_dir()
    abi = _core_abi()
    conf = "primary_hostname = a.example\nmodule_path = " + tm + "\n"

    def refused(name, modules, reason, path=None):
        path = path or tm + "/" + modules.split(":")[-1].strip() + ".so"
        return {"name": "module-refused-" + name, "conf": conf + "modules = " + modules + "\n",
                "args": ["-C", "{conf}", "-be", "${testop:x}"], "rc": 1, "stdout": "",
                "stderr": path + ": " + reason + "\n"}

    return [
        {"name": "module-bv-lists-modules", "conf": conf + "modules = testop : testsecond\n",
         "args": ["-C", "{conf}", "-bV"], "rc": 0, "stderr": "",
         "stdout_re": r".*\nModule path: " + re.escape(tm) + r"\nModule testop: version 1\.2\.3, ABI 1\.\d+, "
                      + re.escape(tm + "/testop.so") + r"\nModule testsecond: version 1\.2\.3, ABI 1\.\d+, "
                      + re.escape(tm + "/testsecond.so") + r"\nConfiguration file is .*"},
        {"name": "module-bv-none", "conf": conf, "args": ["-C", "{conf}", "-bV"], "rc": 0,
         "stdout_re": r".*\nModules loaded: none\n.*"},
        {"name": "module-be-extensions", "conf": conf + "modules = testop\n",
         "args": ["-C", "{conf}", "-be", "${testop:x}", "${testop_item{a}{b}{c}}", "$testop_var",
                  "${lookup testoplookup{k}}", "${quote_testoplookup:v}", "${testop:expand}"],
         "rc": 0, "stderr": "",
         "stdout": "testop(x)\na+b+c\nhello from testop\nfound:k\n'v'\ntestop(expand)A.EXAMPLE\n"},
        {"name": "module-by-absolute-path", "conf": "modules = " + tm + "/testsecond.so\n",
         "args": ["-C", "{conf}", "-be", "${testsecond:y}"], "rc": 0, "stdout": "testsecond(y)\n"},
        {"name": "module-option", "conf": conf + "modules = testop\ntestop_greeting = hi\n",
         "args": ["-C", "{conf}", "-bP", "testop_greeting", "modules"], "rc": 0,
         "stdout": "testop_greeting = hi\nmodules = testop\n"},
        {"name": "module-modules-from-macro", "conf": conf + "MODS = testop\n.ifdef MODS\nmodules = MODS\n.endif\n",
         "args": ["-C", "{conf}", "-be", "${testop:m}"], "rc": 0, "stdout": "testop(m)\n"},
        {"name": "module-option-not-loaded", "conf": conf + "testop_greeting = hi\n",
         "args": ["-C", "{conf}", "-bV"], "rc": 1, "stdout": "",
         "stderr": '{conf}:3: option "testop_greeting" belongs to module "testop", which is not loaded: '
                   'add it to "modules"\n'},
        {"name": "module-variable-not-loaded", "conf": conf, "args": ["-C", "{conf}", "-be", "$testop_var"],
         "rc": 0, "stdout": 'Failed: variable "testop_var" belongs to module "testop", which is not loaded: '
                            'add it to "modules"\n'},
        refused("missing", "nosuch", "cannot load module: No such file or directory"),
        refused("no-entry-point", "testop : noentry", "not a tern module (no tern_module_v1 entry point)"),
        refused("bad-magic", "badmagic", "not a tern module (bad magic number)"),
        refused("major", "major2", "built for ABI 2.0, tern provides " + abi + ": rebuild it"),
        refused("minor", "minor99", "built for ABI 1.99, tern provides " + abi + ": upgrade tern or rebuild it"),
        refused("name", "wrongname",
                'module name "other" differs from the file name "wrongname": rename one of them'),
        refused("init", "initfail", "init failed: cannot reach the scanner at 127.0.0.1:1"),
        refused("duplicate", "testop : dupop",
                'expansion operator "testop" is registered twice: by "testop" and by "dupop"'),
        refused("builtin-name", "builtin",
                'module "builtin" registers expansion item "if", which is built into tern: rename it'),
        # A module's lookup expands in the caller's context (host->expand from find).
        {"name": "module-lookup-expands-in-caller", "conf": conf + "modules = testop\n",
         "args": ["-C", "{conf}", "-be", "${lookup testoplookup{expand}}"], "rc": 0, "stderr": "",
         "stdout": "expanded:a.example\n"},
        # Variables of first-party modules exist only while they are loaded.
        {"name": "module-first-party-variable-not-loaded", "conf": conf,
         "args": ["-C", "{conf}", "-be", "$event_name", "$proxy_session", "$tls_out_dane", "$tls_in_ocsp"],
         "rc": 0,
         "stdout": 'Failed: variable "event_name" belongs to module "events", which is not loaded: '
                   'add it to "modules"\n'
                   'Failed: variable "proxy_session" belongs to module "proxy", which is not loaded: '
                   'add it to "modules"\n'
                   'Failed: variable "tls_out_dane" belongs to module "dane", which is not loaded: '
                   'add it to "modules"\n'
                   'Failed: variable "tls_in_ocsp" belongs to module "ocsp", which is not loaded: '
                   'add it to "modules"\n'},
    ]


CASES += _module_cases()


# --- ACLs (core/acl): configuration errors are Exim's texts after file:line
# (exim -bV printed "error in ACL: ..." for the same lines), and tern's own
# for conditions of modules that are not loaded and features tern leaves out.
def _acl_cases():
    tm = _test_module_dir()

    def acl_error(name, body, stderr, head="primary_hostname = a.example\n"):
        return {"name": "acl-" + name, "conf": head + "begin acl\nacl_rcpt:\n" + body,
                "args": ["-C", "{conf}", "-bV"], "rc": 1, "stdout": "", "stderr": "{conf}:" + stderr + "\n"}

    return [
        acl_error("unknown-condition", "  accept foo = bar\n",
                  '4: error in ACL: unknown ACL condition/modifier in "accept foo = bar"'),
        acl_error("unknown-continued", "  accept\n    !hosts = 1.2.3.4\n    foo=bar\n",
                  '6: error in ACL: unknown ACL condition/modifier in "foo=bar"'),
        acl_error("negated-modifier", "  accept !message = x\n",
                  '4: error in ACL: ACL error: negation is not allowed with "message"'),
        acl_error("endpass-deny", "  deny endpass\n",
                  '4: error in ACL: ACL error: "endpass" is not allowed with "deny"'),
        acl_error("missing-equals", "  accept hosts\n", '4: error in ACL: "=" missing after ACL "hosts" condition'),
        acl_error("set-name", "  warn set foo = 1\n",
                  '4: error in ACL: invalid variable name after "set" in ACL modifier "set foo = 1" '
                  '(must start "acl_c" or "acl_m")'),
        acl_error("module-condition", "  accept bmi_optin = x\n",
                  '4: condition "bmi_optin" belongs to module "bmi", which is not loaded: add it to "modules"'),
        acl_error("module-control", "  accept control = bmi_run\n",
                  '4: control "bmi_run" belongs to module "bmi", which is not loaded: add it to "modules"'),
        acl_error("installed-module-condition", "  accept testop_cond = yes\n",
                  '5: condition "testop_cond" belongs to module "testop", which is not loaded: add it to "modules"',
                  head="primary_hostname = a.example\nmodule_path = " + tm + "\n"),
        acl_error("left-out", "  accept spf = pass\n",
                  '4: ACL condition "spf" is not supported: tern has no SPF support'),
        # ${acl} in -be runs where "unknown": a module's RCPT condition is
        # not allowed there, its RCPT-or-anywhere control is.
        {"name": "acl-be-module-condition",
         "conf": "primary_hostname = a.example\nmodule_path = " + tm + "\nmodules = testop\nbegin acl\n"
                 "a:\n  accept testop_cond = yes\n         message = ok\n"
                 "b:\n  deny message = refused\n",
         "args": ["-C", "{conf}", "-be", "${acl{a}}", "${acl{b}}", "${if acl{{b}}{Y}{N:$value}}"], "rc": 0,
         "stdout": 'Failed: ERROR from acl "a"\nrefused\nN:refused\n'},
    ]


CASES += _acl_cases()
