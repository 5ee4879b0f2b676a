#!/usr/bin/env python3
"""tests/abi/check_abi.py: the ABI of tern/module.h against its committed baseline.

The baselines are abidw's XML of a small library compiled from the header
(tests/abi/abi_surface.c), one per ABI version: baseline/tern-abi-M.m.xml.
abidiff says whether the ABI changed at all (and prints how); a structural
comparison of the two XML files says whether the change is compatible:
fields, entries and enumerators only appended at the end of a struct or an
enum, with every earlier one at the same offset with the same type. Then:

  - a baseline for the header's TERN_ABI_MAJOR.MINOR exists: the ABI must
    not have changed at all (a change needs a bump: minor when compatible,
    major when not);
  - no baseline for this version: the newest baseline of the same major
    must be compatible with it (else the change needs a new major), and the
    new baseline must be recorded (--write) and committed;
  - every baseline of the same major must stay compatible with the header.

      check_abi.py --surface libtern_abi_surface.so --header module.h \
                 --baselines tests/abi/baseline [--write] [--history]

--history checks an old header kept under tests/abi (module_v1_0.h)
against its own baseline only: history does not change.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

ABIDW_FLAGS = ["--no-show-locs", "--no-corpus-path"]


def header_version(path):
    text = open(path).read()
    major = int(re.search(r"#define TERN_ABI_MAJOR (\d+)", text).group(1))
    minor = int(re.search(r"#define TERN_ABI_MINOR (\d+)", text).group(1))
    return major, minor


def baselines(directory):
    out = {}
    for path in glob.glob(os.path.join(directory, "tern-abi-*.xml")):
        m = re.search(r"tern-abi-(\d+)\.(\d+)\.xml$", path)
        if m:
            out[(int(m.group(1)), int(m.group(2)))] = path
    return out


class Corpus:
    """The tern_* types of one abixml file, rendered so that two files compare."""

    def __init__(self, path):
        root = ET.parse(path).getroot()
        self.by_id = {}
        self.structs, self.enums, self.typedefs, self.functions = {}, {}, {}, set()
        for el in root.iter():
            if "id" in el.attrib:
                self.by_id[el.get("id")] = el
        for el in root.iter():
            name = el.get("name", "")
            if el.tag == "function-decl" and name.startswith("tern_abi_"):
                self.functions.add(name)
            if not name.startswith("tern_"):
                continue
            if el.tag == "class-decl" and el.get("is-declaration-only") != "yes":
                self.structs[name] = el
            elif el.tag == "enum-decl":
                self.enums[name] = el
            elif el.tag == "typedef-decl":
                self.typedefs[name] = el

    def render(self, type_id, depth=0):
        el = self.by_id.get(type_id)
        if el is None or depth > 20:
            return "?"
        t = el.tag
        if t == "type-decl":
            return el.get("name")
        if t == "typedef-decl":
            return "typedef " + el.get("name")
        if t == "pointer-type-def":
            return self.render(el.get("type-id"), depth + 1) + "*"
        if t == "qualified-type-def":
            q = " ".join(k for k in ("const", "volatile") if el.get(k) == "yes")
            return q + " " + self.render(el.get("type-id"), depth + 1)
        if t == "class-decl":
            return "struct " + el.get("name", "")
        if t == "enum-decl":
            return "enum " + el.get("name", "")
        if t == "array-type-def":
            return self.render(el.get("type-id"), depth + 1) + "[]"
        if t == "function-type":
            params = []
            ret = "?"
            for c in el:
                if c.tag == "parameter":
                    params.append("..." if c.get("is-variadic") == "yes"
                                  else self.render(c.get("type-id"), depth + 1))
                elif c.tag == "return":
                    ret = self.render(c.get("type-id"), depth + 1)
            return ret + "(" + ", ".join(params) + ")"
        return t

    def members(self, name):
        out = []
        for dm in self.structs[name].findall("data-member"):
            var = dm.find("var-decl")
            out.append((var.get("name"), int(dm.get("layout-offset-in-bits")),
                        self.render(var.get("type-id"))))
        return out

    def size(self, name):
        return int(self.structs[name].get("size-in-bits", "0"))

    def enumerators(self, name):
        return [(e.get("name"), e.get("value")) for e in self.enums[name].findall("enumerator")]


def classify(old_path, new_path):
    """(kind, reasons): kind is "none", "compatible" or "incompatible"."""
    old, new = Corpus(old_path), Corpus(new_path)
    bad, added = [], []
    for s in sorted(old.structs):
        if s not in new.structs:
            bad.append(f"struct {s} removed")
            continue
        new_members = {m[0]: m for m in new.members(s)}
        old_names = set()
        for name, off, typ in old.members(s):
            old_names.add(name)
            m = new_members.get(name)
            if m is None:
                bad.append(f"{s}.{name} removed or renamed")
            elif m[1] != off:
                bad.append(f"{s}.{name} moved from bit {off} to {m[1]}")
            elif m[2] != typ:
                bad.append(f"{s}.{name} changed type: {typ} -> {m[2]}")
        for name, off, typ in new.members(s):
            if name in old_names:
                continue
            if off < old.size(s):
                bad.append(f"{s}.{name} inserted at bit {off}, inside the old struct")
            else:
                added.append(f"{s}.{name} appended")
        if new.size(s) < old.size(s):
            bad.append(f"{s} shrank")
    for e in sorted(old.enums):
        if e not in new.enums:
            bad.append(f"enum {e} removed")
            continue
        new_values = dict(new.enumerators(e))
        old_names = set()
        for name, value in old.enumerators(e):
            old_names.add(name)
            if new_values.get(name) != value:
                bad.append(f"{e}: {name} = {value} changed or removed")
        for name, value in new.enumerators(e):
            if name not in old_names:
                if value in {v for _, v in old.enumerators(e)}:
                    bad.append(f"{e}: {name} reuses value {value}")
                else:
                    added.append(f"{e}: {name} = {value} added")
    for t in sorted(old.typedefs):
        if t not in new.typedefs:
            bad.append(f"typedef {t} removed")
        elif (old.render(old.typedefs[t].get("type-id"))
              != new.render(new.typedefs[t].get("type-id"))):
            bad.append(f"typedef {t} changed")
    for s in sorted(set(new.structs) - set(old.structs)):
        added.append(f"struct {s} added")
    for e in sorted(set(new.enums) - set(old.enums)):
        added.append(f"enum {e} added")
    for f in sorted(old.functions - new.functions):
        bad.append(f"type of {f} no longer in the header")
    if bad:
        return "incompatible", bad
    return ("compatible", added) if added else ("none", [])


def abidiff(old_path, new_path):
    """abidiff's exit status (bit 4: changed, bit 8: incompatible) and report."""
    p = subprocess.run(["abidiff", "--harmless", "--ignore-soname", old_path, new_path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode & 3:
        sys.exit(f"check_abi: abidiff failed ({p.returncode}):\n{p.stdout}")
    return p.returncode, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--surface", required=True, help="the library built from abi_surface.c")
    ap.add_argument("--header", required=True, help="tern/module.h")
    ap.add_argument("--baselines", required=True, help="tests/abi/baseline")
    ap.add_argument("--write", action="store_true", help="record the baseline of this version")
    ap.add_argument("--history", action="store_true",
                    help="an old header (module_v1_0.h): it must match its own baseline exactly")
    a = ap.parse_args()

    major, minor = header_version(a.header)
    version = f"{major}.{minor}"
    known = baselines(a.baselines)
    with tempfile.TemporaryDirectory(prefix="tern-abi-") as tmp:
        current = os.path.join(tmp, "current.xml")
        subprocess.run(["abidw", *ABIDW_FLAGS, "--out-file", current, a.surface], check=True)
        if a.write:
            dest = os.path.join(a.baselines, f"tern-abi-{version}.xml")
            os.makedirs(a.baselines, exist_ok=True)
            # Written beside and renamed: a check running meanwhile never
            # reads half a baseline.
            partial = dest + f".{os.getpid()}.tmp"
            with open(current) as src, open(partial, "w") as out:
                out.write(src.read())
            os.replace(partial, dest)
            print(f"check_abi: wrote {dest}")
            return 0

        failures = []
        newer = [v for v in known if v > (major, minor)]
        # A header whose version has a baseline is compared with it exactly
        # below, whether it is the current header or a history one (a
        # history header always has newer baselines beside it: that is not
        # a version going backwards). Only a version without a baseline that
        # sorts below an existing one went backwards.
        if a.history and (major, minor) not in known:
            failures.append(f"no baseline tern-abi-{version}.xml for the history header")
        elif (major, minor) not in known and newer:
            failures.append(f"the header says ABI {version}, but a baseline for "
                            f"{max(newer)[0]}.{max(newer)[1]} exists: the version went backwards")

        if (major, minor) in known:
            rc, report = abidiff(known[(major, minor)], current)
            if rc & 12:
                kind, reasons = classify(known[(major, minor)], current)
                need = "TERN_ABI_MAJOR (a new major)" if kind == "incompatible" else "TERN_ABI_MINOR"
                failures.append(f"the ABI changed but the header still says {version}: "
                                f"bump {need}, add a line to the ABI history, record the "
                                f"baseline (check_abi.py --write):\n  " + "\n  ".join(reasons)
                                + "\nabidiff:\n" + report)
        elif not a.history and not newer:
            same_major = sorted(v for v in known if v[0] == major and v < (major, minor))
            if not same_major:
                failures.append(f"no baseline for ABI {version} nor an earlier {major}.x: "
                                f"a new major; record it (check_abi.py --write) and commit "
                                f"tests/abi/baseline/tern-abi-{version}.xml")
            else:
                prev = same_major[-1]
                kind, reasons = classify(known[prev], current)
                if kind == "none":
                    failures.append(f"TERN_ABI_MINOR is {minor} but nothing changed since "
                                    f"{prev[0]}.{prev[1]}: undo the bump")
                elif kind == "compatible":
                    failures.append(f"ABI {version} has no baseline: the change since "
                                    f"{prev[0]}.{prev[1]} is compatible; record it "
                                    f"(check_abi.py --write) and commit "
                                    f"tests/abi/baseline/tern-abi-{version}.xml:\n  "
                                    + "\n  ".join(reasons))

        # Every earlier minor of this major must still be a prefix of the ABI.
        for v in sorted(known):
            if a.history or v[0] != major or v >= (major, minor):
                continue
            kind, reasons = classify(known[v], current)
            if kind == "incompatible":
                _, report = abidiff(known[v], current)
                failures.append(f"incompatible with ABI {v[0]}.{v[1]} (modules built for it "
                                f"would break): that needs a new major:\n  "
                                + "\n  ".join(reasons) + "\nabidiff:\n" + report)
            else:
                print(f"check_abi: ABI {version} is compatible with {v[0]}.{v[1]}")

    if failures:
        for f in failures:
            print("check_abi: " + f, file=sys.stderr)
        return 1
    print(f"check_abi: ABI {version} matches tests/abi/baseline/tern-abi-{version}.xml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
