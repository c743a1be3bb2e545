#!/usr/bin/env python3
"""Workload 3 of `cargo xtask bench`, Python side: decoding a large
`get_my_groups` answer the way globus-sdk does.

Usage:
    python decode_bench.py FILE ITERATIONS

Times, on the same bytes groups-bench decodes in Rust:
  * `json_loads`: `json.loads(body)` alone;
  * `sdk_wrapper`: what `GroupsClient.get_my_groups()` does after the bytes
    arrived: a `requests.Response` holding the body, wrapped in globus-sdk's
    `ArrayResponse` (a `GlobusHTTPResponse`), whose `.data` decodes the
    JSON through the SDK's JSON provider, then `len()` over it.
Each is run ITERATIONS times (after one warm-up); the median and minimum
seconds are printed as one JSON object.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import globus_sdk
import requests
from globus_sdk.response import ArrayResponse


def main() -> int:
    path, iterations = sys.argv[1], int(sys.argv[2])
    with open(path, "rb") as f:
        body = f.read()
    client = globus_sdk.GroupsClient(authorizer=globus_sdk.NullAuthorizer())

    def json_loads() -> int:
        return len(json.loads(body))

    def sdk_wrapper() -> int:
        raw = requests.Response()
        raw._content = body  # what requests stores after reading the socket
        raw.status_code = 200
        raw.headers["Content-Type"] = "application/json"
        raw.encoding = "utf-8"
        wrapped = ArrayResponse(raw, client=client)
        return len(wrapped)

    out: dict = {"bytes": len(body), "iterations": iterations}
    for name, fn in (("json_loads", json_loads), ("sdk_wrapper", sdk_wrapper)):
        groups = fn()  # warm-up, and the answer must be the whole listing
        samples = []
        for _ in range(iterations):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
        out[name] = {
            "groups": groups,
            "median_s": statistics.median(samples),
            "min_s": min(samples),
        }
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
