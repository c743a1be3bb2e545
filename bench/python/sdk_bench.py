#!/usr/bin/env python3
"""Workload 2 of `cargo xtask bench`, Python side: the official globus-sdk
(PyPI) driven against the local groups emulator.

Usage:
    GLOBUS_SDK_SERVICE_URL_GROUPS=http://127.0.0.1:PORT/ python sdk_bench.py CONFIG.json

CONFIG (written by groups-bench) names the token, the groups and the
identities prepared for this run:
    {"token", "get_group_id", "n_get", "n_my_groups", "expect_my_groups",
     "batch_group_id", "batch_ids", "add_group_id", "add_ids", "warmup"}

Prints one JSON object on stdout: for each workload the number of
operations and the seconds they took (time.perf_counter, process start and
setup excluded). Every answer is checked, so a broken run fails loudly
instead of timing errors.
"""

from __future__ import annotations

import json
import os
import sys
import time

# Loopback must never go through a proxy.
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import globus_sdk  # noqa: E402


def timed(fn, n: int) -> dict:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return {"ops": n, "seconds": time.perf_counter() - start}


def main() -> int:
    base = os.environ.get("GLOBUS_SDK_SERVICE_URL_GROUPS", "")
    if not base.startswith("http://127.0.0.1:"):
        print(f"GLOBUS_SDK_SERVICE_URL_GROUPS must point at a local server, got {base!r}", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        cfg = json.load(f)

    client = globus_sdk.GroupsClient(
        authorizer=globus_sdk.AccessTokenAuthorizer(cfg["token"])
    )
    manager = globus_sdk.GroupsManager(client)
    gid = cfg["get_group_id"]

    # Warm-up: open the keep-alive connection, import lazily loaded modules.
    for _ in range(cfg.get("warmup", 20)):
        assert client.get_group(gid)["id"] == gid
    client.get_my_groups()

    out: dict = {"sdk": f"globus-sdk {globus_sdk.__version__}"}

    def get_group(_i: int) -> None:
        r = client.get_group(gid)
        if r["id"] != gid:
            raise SystemExit(f"get_group answered {r['id']!r}")

    out["get_group"] = timed(get_group, cfg["n_get"])

    expect = cfg["expect_my_groups"]

    def get_my_groups(_i: int) -> None:
        r = client.get_my_groups()
        if len(r) != expect:
            raise SystemExit(f"get_my_groups answered {len(r)} groups, expected {expect}")

    out["get_my_groups"] = timed(get_my_groups, cfg["n_my_groups"])

    batch_ids = cfg["batch_ids"]
    start = time.perf_counter()
    actions = globus_sdk.BatchMembershipActions().add_members(batch_ids, role="member")
    r = client.batch_membership_action(cfg["batch_group_id"], actions)
    seconds = time.perf_counter() - start
    if len(r["add"]) != len(batch_ids) or r.get("errors"):
        raise SystemExit(f"batch add: {len(r['add'])} added, errors {r.get('errors')}")
    out["batch_add"] = {"ops": 1, "identities": len(batch_ids), "seconds": seconds}

    add_ids = cfg["add_ids"]
    add_gid = cfg["add_group_id"]

    def add_member(i: int) -> None:
        r = manager.add_member(add_gid, add_ids[i])
        if len(r["add"]) != 1:
            raise SystemExit(f"add_member: {r.data}")

    out["add_member"] = timed(add_member, len(add_ids))

    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
