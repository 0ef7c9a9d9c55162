#!/usr/bin/env python3
"""Complete package-lock.json with rollup's platform packages.

`npm ci` refuses a lock file that does not list every optional dependency of
every package, and rollup (under vitest) has one optional package per
platform. A lock written by `npm install` against a registry that serves only
some of them lacks the rest, and `npm ci` then fails with "Missing: ... from
lock file". This adds an entry for each missing one, with the os and cpu that
its name says, so that npm skips it on every other platform exactly as it
would with a complete lock.

Run it after any `npm install` that rewrites the lock file:
    python3 scripts/lock-platforms.py [package-lock.json]
"""
import json
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "package-lock.json"
with open(path) as f:
    lock = json.load(f)
packages = lock["packages"]

added = 0
for owner_key, owner in list(packages.items()):
    if not owner_key.endswith("node_modules/rollup"):
        continue
    for name, version in owner.get("optionalDependencies", {}).items():
        key = "node_modules/" + name
        if key in packages or not name.startswith("@rollup/rollup-"):
            continue
        # @rollup/rollup-<os>-<cpu>[-<abi>]
        os_name, cpu = name[len("@rollup/rollup-"):].split("-")[:2]
        packages[key] = {
            "version": version,
            "cpu": [cpu],
            "dev": owner.get("dev", False),
            "license": "MIT",
            "optional": True,
            "os": [os_name],
        }
        added += 1

lock["packages"] = dict(sorted(packages.items(), key=lambda kv: (kv[0] != "", kv[0])))
with open(path, "w") as f:
    json.dump(lock, f, indent=2)
    f.write("\n")
print(f"lock-platforms: {added} entries added to {path}")
