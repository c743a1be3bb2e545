// Workload 2 of `cargo xtask bench`, JavaScript side: the official
// @globus/sdk (npm) driven against the local groups emulator.
//
// Usage:
//   GLOBUS_SDK_SERVICE_URL_GROUPS=http://127.0.0.1:PORT node sdk_bench.mjs CONFIG.json
//
// @globus/sdk reads GLOBUS_SDK_SERVICE_URL_<SERVICE> from process.env (its
// getServiceBaseUrl), so the same variable as the Python SDK points it at the
// emulator. Its service functions return the fetch Response (cross-fetch,
// node-fetch in Node); like an application, we read `.json()` of each.
// The SDK has no GroupsManager, so the 200 single additions are one-identity
// `membership.act` calls (what the Python manager's add_member sends).
//
// Prints one JSON object: for each workload the operations and seconds.

import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import * as sdk from "@globus/sdk/services/groups";

const base = process.env.GLOBUS_SDK_SERVICE_URL_GROUPS ?? "";
if (!base.startsWith("http://127.0.0.1:")) {
  console.error(`GLOBUS_SDK_SERVICE_URL_GROUPS must point at a local server, got ${base}`);
  process.exit(2);
}
const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const headers = { Authorization: `Bearer ${cfg.token}` };

async function ok(responsePromise, what) {
  const response = await responsePromise;
  if (!response.ok) {
    throw new Error(`${what}: HTTP ${response.status}: ${await response.text()}`);
  }
  return response.json();
}

async function timed(fn, n) {
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    await fn(i);
  }
  return { ops: n, seconds: (performance.now() - start) / 1000 };
}

const gid = cfg.get_group_id;
const getGroup = async () => {
  const g = await ok(sdk.groups.get(gid, { headers }), "get");
  if (g.id !== gid) throw new Error(`get answered ${g.id}`);
};
const getMyGroups = async () => {
  const list = await ok(sdk.groups.getMyGroups({ headers }), "getMyGroups");
  if (list.length !== cfg.expect_my_groups) {
    throw new Error(`getMyGroups answered ${list.length} groups`);
  }
};

for (let i = 0; i < (cfg.warmup ?? 20); i++) await getGroup();
await getMyGroups();

const out = { sdk: "@globus/sdk " + JSON.parse(readFileSync(new URL("./node_modules/@globus/sdk/package.json", import.meta.url), "utf8")).version };
out.get_group = await timed(getGroup, cfg.n_get);
out.get_my_groups = await timed(getMyGroups, cfg.n_my_groups);

{
  const start = performance.now();
  const payload = { add: cfg.batch_ids.map((id) => ({ identity_id: id, role: "member" })) };
  const r = await ok(sdk.membership.act(cfg.batch_group_id, { headers, payload }), "act");
  const seconds = (performance.now() - start) / 1000;
  if (r.add.length !== cfg.batch_ids.length || r.errors) {
    throw new Error(`batch add: ${r.add.length} added, errors ${JSON.stringify(r.errors)}`);
  }
  out.batch_add = { ops: 1, identities: cfg.batch_ids.length, seconds };
}

out.add_member = await timed(async (i) => {
  const payload = { add: [{ identity_id: cfg.add_ids[i], role: "member" }] };
  const r = await ok(sdk.membership.act(cfg.add_group_id, { headers, payload }), "act");
  if (r.add.length !== 1) throw new Error(`add: ${JSON.stringify(r)}`);
}, cfg.add_ids.length);

console.log(JSON.stringify(out));
