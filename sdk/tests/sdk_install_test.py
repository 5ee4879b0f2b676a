#!/usr/bin/env python3
"""sdk/tests/sdk_install_test.py: the SDK as a third-party module author gets it.

1. `cmake --install <build> --prefix <tmp>/prefix --component sdk`, and the
   files INTERFACE.md promises are there;
2. the package's version file: find_package(TernSDK 1.0) and 1.<minor> are
   accepted, 1.<minor+1>, 0.x and 2.0 refused;
3. each example (sdk/examples/hello_c, sdk/examples/hello), copied out of
   the tree, configures with only -DCMAKE_PREFIX_PATH=<prefix>, builds, and
   its unit tests (the SDK's fake host) pass; the .so exports tern_module_v1
   and nothing else;
4. build/bin/tern loads each one (`modules = /abs/path/<name>.so`, the file
   0755) and -be drives its operator, item, variable, lookup and quote
   function; -bV lists it.
With --bh, step 4 also runs the ACL condition in a fake SMTP session (-bh).
5. for the examples with a "delivery" entry (hello): a daemon with the
   module loaded receives a message over SMTP and delivers it at once; the
   module's msg:* listener, run by the delivery process, writes its lines to
   the main log (hello_log_events), and the message is in the mailbox.

    sdk_install_test.py --build build --source . --tern build/bin/tern [--bh]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "lib"))
import ternlab  # noqa: E402

EXAMPLES = {
    "hello_c": {
        "conf": "",
        "be": [
            ("${hello_c_rev:abc}", "cba"),
            ("${hello_c_rev:}", ""),
            ("${hello_c_join{a}{b}}", "a-b"),
            ("${hello_c_join{x}{y}{z}}", "x-y-z"),
            ("$hello_c_greeting", "hello, world"),
            ("${lookup helloc{alice}}", "Alice Liddell"),
            ("${lookup helloc{nobody}{$value}{none}}", "none"),
            ("${lookup helloc{bob}{<$value>}}", "<Bob Dobbs>"),
            ('${quote_helloc:a"b\\\\c}', 'a\\"b\\\\c'),
            ("${hello_c_rev:${lookup helloc{alice}}}", "lleddiL ecilA"),
        ],
        "conf_be": [("hello_c_greeting_text = hi there\n", "$hello_c_greeting", "hi there")],
        "acl": "hello_c_check",
    },
    "hello": {
        "conf": "",
        "be": [
            ("${hello_rev:abc}", "cba"),
            ("${hello_join{a}{b}}", "a-b"),
            ("$hello_greeting", "hello, world"),
            ("$hello_events", "0"),
            ("${lookup hello{bob}}", "Bob Dobbs"),
            ("${lookup hello{carol}{$value}{none}}", "none"),
            ('${quote_hello:a"b}', 'a\\"b'),
        ],
        "conf_be": [("hello_greeting_text = hi\n", "$hello_greeting", "hi"),
                    ("primary_hostname = mx.example\n", "$hello_host", "MX.EXAMPLE")],
        "fail": [("${hello_fail:x}", 'hello_fail: asked to fail on "x"')],
        "acl": "hello_check",
        # The listener's lines in the delivery process's main log, in order.
        "delivery": {"conf": "hello_log_events = true\n",
                     "log": ["hello: event msg:delivery (1 so far)", "hello: event msg:complete (2 so far)"]},
    },
}


class Run:
    def __init__(self):
        self.passed = 0
        self.failures = []

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failures.append(what)
        return ok


# What the parent (ctest, make) may export that would change what the
# nested cmake, ninja and ctest do: an install redirected under DESTDIR, a
# build type or generator chosen for another tree, a jobserver of the
# parent's make, the parent ctest's own settings.
_LEAKY = ("DESTDIR", "CMAKE_BUILD_TYPE", "CMAKE_GENERATOR", "CMAKE_PREFIX_PATH", "CMAKE_INSTALL_PREFIX",
          "CMAKE_BUILD_PARALLEL_LEVEL", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "CTEST_PARALLEL_LEVEL",
          "CTEST_OUTPUT_ON_FAILURE")


def clean_env():
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY}
    return env


def sh(cmd, **kw):
    kw.setdefault("env", clean_env())
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def install(run, build, prefix):
    p = sh(["cmake", "--install", build, "--prefix", prefix, "--component", "sdk"])
    if not run.check(p.returncode == 0, f"cmake --install failed:\n{p.stdout}{p.stderr}"):
        return False
    for rel in ("include/tern/module.h", "include/tern/module.hpp", "include/tern/testing.hpp",
                "lib/cmake/TernSDK/TernSDKConfig.cmake",
                "lib/cmake/TernSDK/TernSDKConfigVersion.cmake"):
        run.check(os.path.isfile(os.path.join(prefix, rel)), f"not installed: {rel}")
    return True


def header_minor(prefix):
    text = open(os.path.join(prefix, "include/tern/module.h")).read()
    return int(re.search(r"#define TERN_ABI_MINOR (\d+)", text).group(1))


def version_file(run, prefix, tmp):
    minor = header_minor(prefix)
    src = os.path.join(tmp, "version-check")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "CMakeLists.txt"), "w") as f:
        f.write("cmake_minimum_required(VERSION 3.25)\nproject(v LANGUAGES NONE)\n"
                "find_package(TernSDK ${WANT} REQUIRED)\n"
                "if(NOT TARGET TernSDK::module OR NOT COMMAND tern_add_module)\n"
                "  message(FATAL_ERROR \"no TernSDK::module or tern_add_module\")\nendif()\n")
    for want, accepted in (("1.0", True), (f"1.{minor}", True), (f"1.{minor + 1}", False),
                           ("2.0", False), ("0.9", False)):
        b = os.path.join(tmp, f"version-{want}")
        p = sh(["cmake", "-S", src, "-B", b, f"-DCMAKE_PREFIX_PATH={prefix}", f"-DWANT={want}"])
        run.check((p.returncode == 0) == accepted,
                  f"find_package(TernSDK {want}) should be {'accepted' if accepted else 'refused'}"
                  f":\n{p.stdout[-800:]}{p.stderr[-800:]}")


def build_example(run, source, prefix, tmp, name):
    src = os.path.join(tmp, "src", name)
    shutil.copytree(os.path.join(source, "sdk", "examples", name), src)
    b = os.path.join(tmp, "build-" + name)
    steps = [["cmake", "-S", src, "-B", b, "-G", "Ninja", f"-DCMAKE_PREFIX_PATH={prefix}"],
             ["cmake", "--build", b, "-j", "2"],
             ["ctest", "--test-dir", b, "--output-on-failure"]]
    for cmd in steps:
        p = sh(cmd)
        if not run.check(p.returncode == 0, f"{name}: {' '.join(cmd[:2])} failed:\n"
                                            f"{p.stdout[-3000:]}{p.stderr[-3000:]}"):
            return None
    so = os.path.join(b, name + ".so")
    if not run.check(os.path.isfile(so), f"{name}: {so} not built"):
        return None
    p = sh(["nm", "-D", "--defined-only", so])
    exported = sorted(line.split()[-1] for line in p.stdout.splitlines() if line.strip())
    run.check(exported == ["tern_module_v1"], f"{name}: exports {exported}, want tern_module_v1 only")
    os.chmod(so, 0o755)  # the loader refuses group/other-writable files
    return so


def tern_be(tern, conf, expr):
    p = sh([tern, "-C", conf, "-be", expr], timeout=30)
    return p.returncode, p.stdout.rstrip("\n"), p.stderr.strip()


def drive(run, tern, tmp, name, so, spec, bh):
    conf = os.path.join(tmp, name + ".conf")
    with open(conf, "w") as f:
        f.write(f"modules = {so}\n" + spec["conf"])
    for expr, want in spec["be"]:
        rc, out, err = tern_be(tern, conf, expr)
        run.check(rc == 0 and out == want,
                  f"{name}: -be {expr!r}: got {out!r} (exit {rc}, stderr {err!r}), want {want!r}")
    for expr, text in spec.get("fail", []):
        rc, out, err = tern_be(tern, conf, expr)
        run.check(out.startswith("Failed: ") and text in out,
                  f"{name}: -be {expr!r}: got {out!r} (stderr {err!r}), want a failure with {text!r}")
    for extra, expr, want in spec["conf_be"]:
        conf2 = os.path.join(tmp, name + "-2.conf")
        with open(conf2, "w") as f:
            f.write(f"modules = {so}\n" + extra)
        rc, out, err = tern_be(tern, conf2, expr)
        run.check(rc == 0 and out == want,
                  f"{name}: with {extra.strip()!r}, -be {expr!r}: got {out!r} (exit {rc}, "
                  f"stderr {err!r}), want {want!r}")
    p = sh([tern, "-C", conf, "-bV"], timeout=30)
    run.check(p.returncode == 0 and re.search(rf"\b{name}\b.*1\.0\.0", p.stdout),
              f"{name}: -bV does not list the module (exit {p.returncode}):\n{p.stdout}{p.stderr}")
    if bh:
        drive_bh(run, tern, tmp, name, so, spec)


def drive_bh(run, tern, tmp, name, so, spec):
    conf = os.path.join(tmp, name + "-bh.conf")
    with open(conf, "w") as f:
        f.write(f"modules = {so}\nacl_smtp_rcpt = check_rcpt\n\nbegin acl\n\ncheck_rcpt:\n"
                f"  deny    message = not hello\n          !{spec['acl']} = $local_part\n"
                f"  accept\n")
    smtp = ("HELO test\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<hello@example.com>\r\n"
            "RCPT TO:<bye@example.com>\r\nQUIT\r\n")
    p = subprocess.run([tern, "-C", conf, "-bh", "192.0.2.1"], input=smtp, capture_output=True,
                       text=True, timeout=30)
    codes = re.findall(r"^(\d{3})[ -]", p.stdout, re.M)
    replies = [c for c in codes]
    run.check("550" in replies and re.search(r"^550 not hello", p.stdout, re.M)
              and replies.count("250") >= 3,
              f"{name}: -bh: want 250 for hello@, 550 not hello for bye@:\n{p.stdout}{p.stderr}")


DELIVERY_CONF = """\
modules = {so}
{extra}acl_smtp_rcpt = accept

begin routers

local:
  driver = accept
  transport = box

begin transports

box:
  driver = appendfile
  directory = {mail}/$local_part
  maildir_format
  user = nobody
"""


def drive_delivery(run, tern, name, so, spec):
    with ternlab.Scratch() as scratch:
        mail = os.path.join(scratch.path, "mail")
        os.makedirs(mail)
        os.chmod(mail, 0o1777)
        # The delivery process runs as exim_user: the module where it can read it.
        so = shutil.copy(so, os.path.join(scratch.path, os.path.basename(so)))
        os.chmod(so, 0o755)
        conf = DELIVERY_CONF.format(so=so, extra=spec["conf"], mail=mail)
        daemon = ternlab.Daemon(tern, scratch, conf, deliver=True)
        try:
            c = ternlab.SmtpClient(daemon.port, timeout=20)
            replies = [c.reply()[0]]
            for line in ("EHLO client.example", "MAIL FROM:<a@client.example>", "RCPT TO:<alice@test.example>",
                         "DATA"):
                replies.append(c.cmd(line)[0])
            c.send("Subject: sdk delivery\r\n\r\nhello\r\n.\r\n")
            code, lines = c.reply()
            c.cmd("QUIT")
            c.close()
            if not run.check(replies == [220, 250, 250, 250, 354] and code == 250,
                             f"{name}: SMTP reception failed: {replies} then {code} {lines}"):
                return
            msg = lines[0].split("id=")[1]
            try:
                daemon.wait_log(f"{msg} Completed", timeout=30)
            except TimeoutError:
                run.check(False, f"{name}: {msg} not delivered:\n{daemon.log()}")
                return
            mine = [line[20:] for line in daemon.log().splitlines() if f" {msg} hello: " in line]
            want = [f"{msg} {text}" for text in spec["log"]]
            run.check(mine == want, f"{name}: the listener's lines in the main log: {mine}, want {want}")
            delivered = os.listdir(os.path.join(mail, "alice", "new"))
            run.check(len(delivered) == 1, f"{name}: {len(delivered)} messages in the mailbox, want 1")
        finally:
            daemon.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--tern", required=True)
    ap.add_argument("--bh", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    run = Run()
    tmp = tempfile.mkdtemp(prefix="tern-sdk-")
    try:
        prefix = os.path.join(tmp, "prefix")
        if install(run, os.path.abspath(a.build), prefix):
            version_file(run, prefix, tmp)
            for name, spec in EXAMPLES.items():
                so = build_example(run, os.path.abspath(a.source), prefix, tmp, name)
                if so:
                    drive(run, os.path.abspath(a.tern), tmp, name, so, spec, a.bh)
                    if "delivery" in spec:
                        drive_delivery(run, os.path.abspath(a.tern), name, so, spec["delivery"])
    finally:
        if a.keep:
            print(f"sdk_install: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    for f in run.failures:
        print("sdk_install: " + f, file=sys.stderr)
    print(f"{run.passed} passed, {len(run.failures)} failed")
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
