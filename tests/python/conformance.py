#!/usr/bin/env python3
"""Conformance check: drive the official globus-sdk against the groups emulator.

Usage:
    GLOBUS_SDK_SERVICE_URL_GROUPS=http://127.0.0.1:PORT/ python conformance.py

The emulator must be fresh or resettable: the script resets it through the
control plane (``POST /_emulator/reset``) before it starts, seeds the
subscription data it needs (``POST /_emulator/seed``) and injects faults
(``POST /_emulator/faults``) to check the SDK's retries.

Every ``GroupsClient`` method and every ``GroupsManager`` method is called at
least once; the script checks that coverage itself. Identities are tokens: the
emulator maps any bearer token to a stable identity, so each ``client("x")`` is a
different user (a few identities, linked sets and scopes come from seeds).

Scenarios, in order (later ones reuse groups made by earlier ones): environment,
identities and preferences, create/get/visibility, subgroups, update, policies,
the eleven batch verbs through GroupsManager and GroupsClient (including per-identity
errors and whole-request failures), subscriptions, linked identities, scopes, error
bodies, request shapes, delete, retries through injected faults, then globus-sdk's own
Auth against the emulated Auth on the same port (``GLOBUS_SDK_SERVICE_URL_AUTH`` defaults
to the Groups URL): discovery and JWKS, client credentials (token, authorizer, ClientApp
with memory token storage), a native PKCE login auto-approved through
``PUT /_emulator/auth/approve`` with ``decode_id_token()``, userinfo and identities, a
RefreshTokenAuthorizer renewing after ``POST /_emulator/clock`` moves past the expiry,
introspect and revoke; and coverage.

Error codes that the public Groups API documentation
(https://docs.globus.org/api/groups/) does not fix, so the emulator picks its own,
are printed on an informational line, not asserted.

The last line is ``N passed, M failed``; the exit status is 0 only when M is 0.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
import typing as t
import urllib.error
import urllib.request
import uuid

# Requests (used by the SDK) honours proxy variables; loopback must never be proxied.
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
# The emulator also serves Globus Auth on the same port: globus-sdk's own Auth
# clients (token grants, id_token decoding, identities) talk to it, never to Globus.
if os.environ.get("GLOBUS_SDK_SERVICE_URL_GROUPS"):
    os.environ.setdefault("GLOBUS_SDK_SERVICE_URL_AUTH", os.environ["GLOBUS_SDK_SERVICE_URL_GROUPS"])

import globus_sdk  # noqa: E402
from globus_sdk import (  # noqa: E402
    AccessTokenAuthorizer,
    BatchMembershipActions,
    GroupPolicies,
    GroupsAPIError,
    GroupsClient,
    GroupsManager,
    NullAuthorizer,
)
from globus_sdk.transport import RetryConfig  # noqa: E402

BASE_URL = os.environ.get("GLOBUS_SDK_SERVICE_URL_GROUPS", "")
AUTH_URL = os.environ.get("GLOBUS_SDK_SERVICE_URL_AUTH", "")
if not BASE_URL.startswith("http://127.0.0.1:") and not BASE_URL.startswith("http://localhost:"):
    print(f"GLOBUS_SDK_SERVICE_URL_GROUPS must point at a local emulator, got {BASE_URL!r}")
    sys.exit(2)
if not BASE_URL.endswith("/"):
    BASE_URL += "/"

CLIENT_METHODS = (
    "get_my_groups",
    "get_group",
    "get_group_by_subscription_id",
    "delete_group",
    "create_group",
    "update_group",
    "get_group_policies",
    "set_group_policies",
    "get_identity_preferences",
    "set_identity_preferences",
    "get_membership_fields",
    "set_membership_fields",
    "batch_membership_action",
    "set_subscription_admin_verified",
)
MANAGER_METHODS = (
    "accept_invite",
    "add_member",
    "approve_pending",
    "change_role",
    "create_group",
    "decline_invite",
    "invite_member",
    "join",
    "leave",
    "reject_join_request",
    "remove_member",
    "request_join",
    "set_group_policies",
)
POLICY_KEYS = {
    "is_high_assurance",
    "authentication_assurance_timeout",
    "group_visibility",
    "group_members_visibility",
    "join_requests",
    "signup_fields",
}
VERBS = {
    "accept", "add", "approve", "change_role", "decline", "invite",
    "join", "leave", "reject", "remove", "request_join",
}

# Fixed ids so runs are reproducible. "Bare" ids are identities that only ever
# appear as batch targets (the emulator accepts unknown ids by default).
SUBSCRIPTION_ID = "5b3c0c1e-0000-4000-8000-00000000a001"
SUBSCRIPTION_GROUP_ID = "5b3c0c1e-0000-4000-8000-00000000a002"
UNKNOWN_SUBSCRIPTION_ID = "5b3c0c1e-0000-4000-8000-00000000a0ff"
CONNECTOR_ID = "052be037-7dda-4d20-b163-3077314dc3e6"
LINKED_PRIMARY = "5b3c0c1e-0000-4000-8000-0000000c0001"
LINKED_OTHER = "5b3c0c1e-0000-4000-8000-0000000c0002"
READONLY_IDENTITY = "5b3c0c1e-0000-4000-8000-0000000e0001"
MISSING_GROUP_ID = "5b3c0c1e-0000-4000-8000-000000000404"
NOBODY = "5b3c0c1e-0000-4000-8000-0000000b0000"
BARE = [f"5b3c0c1e-0000-4000-8000-0000000b000{i}" for i in range(1, 10)]

CALLED: set[tuple[str, str]] = set()


def _tracked(kind: str, cls: type, names: t.Iterable[str]) -> type:
    """Subclass `cls` so that every listed method records that it was called."""
    ns: dict[str, t.Any] = {}
    for name in names:
        orig = getattr(cls, name)

        def wrapper(self: t.Any, *a: t.Any, __o: t.Any = orig, __n: str = name, **k: t.Any) -> t.Any:
            CALLED.add((kind, __n))
            return __o(self, *a, **k)

        wrapper.__name__ = name
        ns[name] = wrapper
    return type(f"Tracked{cls.__name__}", (cls,), ns)


TGroupsClient = _tracked("client", GroupsClient, CLIENT_METHODS)
TGroupsManager = _tracked("manager", GroupsManager, MANAGER_METHODS)


# --------------------------------------------------------------------------- checks


class Failure(Exception):
    """A failed expectation that makes the rest of the current scenario meaningless."""


class Run:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.scenario = ""

    def ok(self, cond: bool, what: str, detail: t.Any = None) -> bool:
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            extra = "" if detail is None else f"\n      got: {detail!r}"
            print(f"  FAIL [{self.scenario}] {what}{extra}")
        return cond

    def eq(self, actual: t.Any, expected: t.Any, what: str) -> bool:
        if actual == expected:
            self.passed += 1
            return True
        self.failed += 1
        print(f"  FAIL [{self.scenario}] {what}\n      expected: {expected!r}\n      actual:   {actual!r}")
        return False

    def must(self, cond: bool, what: str, detail: t.Any = None) -> None:
        if not self.ok(cond, what, detail):
            raise Failure(what)

    def api_error(
        self,
        what: str,
        call: t.Callable[[], t.Any],
        status: int | t.Container[int],
        code: str | None | type[Ellipsis] = ...,  # type: ignore[valid-type]
    ) -> GroupsAPIError | None:
        """Expect `call` to raise GroupsAPIError with this status (and code, if given)."""
        try:
            resp = call()
        except GroupsAPIError as err:
            statuses = (status,) if isinstance(status, int) else status
            good = err.http_status in statuses
            self.ok(good, f"{what}: HTTP status {status}", f"{err.http_status} {err.text[:300]}")
            if good and code is not ...:
                self.eq(err.code, code, f"{what}: error code")
            if good:
                self.ok(
                    (err.content_type or "").startswith("application/json") and isinstance(err.raw_json, dict),
                    f"{what}: JSON error body",
                    (err.content_type, err.text[:200]),
                )
            return err
        self.ok(False, f"{what}: expected GroupsAPIError {status}", f"{getattr(resp, 'http_status', '?')} {resp!r}"[:400])
        return None


R = Run()


# --------------------------------------------------------------------------- helpers


def _control(method: str, path: str, body: t.Any = None) -> tuple[int, t.Any]:
    """Call the emulator control plane (no proxies). Returns (status, parsed JSON or text)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE_URL + "_emulator/" + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=10) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as err:
        raw = err.read()
        status = err.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def control(path: str, body: t.Any = None, method: str = "POST") -> t.Any:
    status, parsed = _control(method, path, body)
    R.must(200 <= status < 300, f"control plane {method} /_emulator/{path} succeeds", (status, parsed))
    return parsed


def inject_fault(method: str, path: str, *, times: int, status: int | None = None,
                 retry_after: int | None = None, action: str = "status") -> None:
    """Queue a fault for the next `times` requests matching method + path
    (format: crates/groups-emulator/src/faults.rs)."""
    spec: dict[str, t.Any] = {"method": method, "path": path, "times": times, "action": action}
    if status is not None:
        spec["status"] = status
    if retry_after is not None:
        spec["retry_after"] = retry_after
    control("faults", spec)


def token(name: str) -> str:
    return f"conformance-{name}-token"


def client(name: str, **kwargs: t.Any) -> GroupsClient:
    """A client for user `name`. No retries by default so a stray 5xx/429 is never hidden."""
    kwargs.setdefault("retry_config", RetryConfig(max_retries=0))
    return TGroupsClient(authorizer=AccessTokenAuthorizer(token(name)), app_name="groups-conformance", **kwargs)


def manager(gc: GroupsClient) -> GroupsManager:
    return TGroupsManager(gc)


def whoami(gc: GroupsClient) -> str:
    """The caller's identity id, read from the keys of GET /v2/preferences."""
    prefs = gc.get_identity_preferences()
    R.must(prefs.http_status == 200 and isinstance(prefs.data, dict) and len(prefs.data) >= 1,
           "GET /v2/preferences returns an object keyed by the caller's identities", prefs.data)
    ident = next(iter(prefs.data))
    R.must(_is_uuid(ident), "preference keys are identity ids", ident)
    return ident


def _is_uuid(value: t.Any) -> bool:
    try:
        return str(uuid.UUID(str(value))) == value
    except ValueError:
        return False


def only_membership(resp: t.Any, verb: str, what: str) -> dict[str, t.Any]:
    """The single membership a one-identity batch returned under `verb`, no errors."""
    data = resp.data
    R.must(resp.http_status == 200 and isinstance(data, dict), f"{what}: batch answers 200 with an object", data)
    R.ok(not (data.get("errors") or {}).get(verb), f"{what}: no per-identity error", data.get("errors"))
    items = data.get(verb)
    R.must(isinstance(items, list) and len(items) == 1, f"{what}: one membership under '{verb}'", data)
    return items[0]


def only_error(resp: t.Any, verb: str, what: str, identity: str) -> dict[str, t.Any]:
    """The single per-identity error of a one-identity batch that failed for that identity."""
    data = resp.data
    R.must(resp.http_status == 200 and isinstance(data, dict), f"{what}: batch answers 200 with an object", data)
    R.eq(data.get(verb), [], f"{what}: '{verb}' key present with an empty list")
    errs = (data.get("errors") or {}).get(verb)
    R.must(isinstance(errs, list) and len(errs) == 1, f"{what}: one error under errors.{verb}", data)
    err = errs[0]
    R.eq(err.get("identity_id"), identity, f"{what}: error names the identity")
    R.ok(isinstance(err.get("code"), str) and err["code"], f"{what}: error has a code", err)
    R.ok(isinstance(err.get("detail"), str) and err["detail"], f"{what}: error has a detail", err)
    return err


def my_membership(gc: GroupsClient, group_id: str) -> dict[str, t.Any] | None:
    doc = gc.get_group(group_id, include="my_memberships").data
    mine = doc.get("my_memberships") or []
    return mine[0] if len(mine) == 1 else None


def membership_of(doc: dict[str, t.Any], identity: str) -> dict[str, t.Any] | None:
    for m in doc.get("memberships") or []:
        if m.get("identity_id") == identity:
            return m
    return None


# --------------------------------------------------------------------------- scenarios

S: dict[str, t.Any] = {}  # shared state between scenarios


def scenario_environment() -> None:
    gc = client("alice")
    R.eq(os.environ.get("GLOBUS_SDK_ENVIRONMENT"), None, "GLOBUS_SDK_ENVIRONMENT is unset")
    R.eq(gc.base_url, os.environ["GLOBUS_SDK_SERVICE_URL_GROUPS"],
         "GroupsClient resolves its base URL from GLOBUS_SDK_SERVICE_URL_GROUPS")
    control("reset")
    control("faults", method="DELETE")


def scenario_identities() -> None:
    names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
    ids = {n: whoami(client(n)) for n in names}
    R.eq(len(set(ids.values())), len(names), "different tokens are different identities")
    R.eq(whoami(client("alice")), ids["alice"], "the same token is the same identity again")
    S["id"] = ids

    carol = client("carol")
    prefs = carol.get_identity_preferences().data
    R.eq(list(prefs), [ids["carol"]], "preferences cover exactly the caller's identity")
    R.ok(prefs[ids["carol"]].get("allow_add") in (True, None), "allow_add defaults to allow", prefs)
    r = carol.set_identity_preferences({ids["carol"]: {"allow_add": False}})
    R.eq(r.http_status, 200, "PUT /v2/preferences answers 200")
    R.eq((r.data or {}).get(ids["carol"], {}).get("allow_add"), False, "PUT /v2/preferences echoes allow_add=false")
    R.eq(carol.get_identity_preferences().data, {ids["carol"]: {"allow_add": False}},
         "GET /v2/preferences reads back allow_add=false")


def scenario_create_and_get() -> None:
    ids = S["id"]
    alice, bob = client("alice"), client("bob")
    r = alice.create_group({"name": "conformance main", "description": "made by the python SDK"})
    R.eq(r.http_status, 201, "create_group answers 201")
    gid = r.data.get("id")
    R.must(_is_uuid(gid), "created group has a uuid id", r.data)
    S["gid"] = gid
    R.eq(r["name"], "conformance main", "created group name")
    R.eq(r.get("description"), "made by the python SDK", "created group description")
    R.eq(r.get("parent_id", "absent"), None, "root group has parent_id null")
    R.eq(r.get("group_type"), "regular", "new group is regular")

    doc = alice.get_group(gid, include=["my_memberships", "policies"]).data
    R.eq(doc.get("id"), gid, "get_group returns the group")
    mine = doc.get("my_memberships") or []
    R.eq([(m.get("identity_id"), m.get("role"), m.get("status"), m.get("group_id")) for m in mine],
         [(ids["alice"], "admin", "active", gid)], "creator is the only active admin (my_memberships)")
    R.ok(all(isinstance(m.get("username"), str) and m["username"] for m in mine), "memberships carry a username", mine)
    pol = doc.get("policies") or {}
    R.eq({k: pol.get(k) for k in ("group_visibility", "group_members_visibility", "is_high_assurance",
                                  "join_requests", "signup_fields")},
         {"group_visibility": "private", "group_members_visibility": "managers", "is_high_assurance": False,
          "join_requests": False, "signup_fields": []}, "create defaults (embedded policies)")

    doc = alice.get_group(gid, include="memberships,allowed_actions").data
    R.eq([(m.get("identity_id"), m.get("role")) for m in doc.get("memberships") or []],
         [(ids["alice"], "admin")], "include=memberships lists the admin")
    aa = doc.get("allowed_actions")
    R.ok(isinstance(aa, dict) and set(aa) == VERBS, "allowed_actions is an object with the eleven verbs", aa)
    if isinstance(aa, dict):
        R.ok(ids["alice"] in (aa.get("add") or []) and ids["alice"] in (aa.get("change_role") or []),
             "the admin may add and change_role", aa)

    err = R.api_error("private group seen by another identity", lambda: bob.get_group(gid), 403)
    if err is not None:
        R.ok(isinstance(err.code, str) and bool(err.code), "403 carries a code", err.raw_json)
    R.api_error("get_group on a missing id", lambda: alice.get_group(MISSING_GROUP_ID), 404)
    R.api_error("get_group_policies of a hidden group", lambda: bob.get_group_policies(gid), 403)

    groups = alice.get_my_groups()
    R.eq(groups.http_status, 200, "get_my_groups answers 200")
    R.ok(isinstance(groups.data, list), "get_my_groups is a bare array", groups.data)
    R.eq([g["id"] for g in groups], [gid], "get_my_groups lists the new group")
    R.eq([(m.get("identity_id"), m.get("status")) for m in groups.data[0].get("my_memberships") or []],
         [(ids["alice"], "active")], "my_groups entry carries my_memberships")
    R.eq(list(bob.get_my_groups()), [], "get_my_groups is empty for a user without memberships")


def scenario_subgroups() -> None:
    gid = S["gid"]
    alice, bob = client("alice"), client("bob")
    r = manager(alice).create_group("conformance sub", "a subgroup", parent_id=gid)
    R.eq(r.http_status, 201, "GroupsManager.create_group answers 201")
    sub = r.get("id")
    R.must(_is_uuid(sub), "subgroup has an id", r.data)
    S["sub"] = sub
    R.eq(r.get("parent_id"), gid, "subgroup parent_id")
    R.eq(r.get("description"), "a subgroup", "subgroup description")
    doc = alice.get_group(gid, include="child_ids").data
    R.eq(doc.get("child_ids"), [sub], "include=child_ids lists the subgroup")
    r = manager(alice).create_group("conformance root 2", "root via manager")
    R.eq((r.http_status, r.get("parent_id", "absent")), (201, None), "manager create_group without parent sends null")
    S["root2"] = r.get("id")
    R.api_error("non-admin creates a subgroup", lambda: manager(bob).create_group("x", "y", parent_id=gid), 403)


def scenario_update() -> None:
    gid = S["gid"]
    alice, bob = client("alice"), client("bob")
    r = alice.update_group(gid, {"name": "conformance main renamed", "description": "updated",
                                 "terms_and_conditions": "be nice"})
    R.eq(r.http_status, 200, "update_group answers 200")
    R.eq((r.get("name"), r.get("description"), r.get("terms_and_conditions")),
         ("conformance main renamed", "updated", "be nice"), "update_group returns the updated document")
    doc = alice.get_group(gid).data
    R.eq((doc.get("name"), doc.get("description")), ("conformance main renamed", "updated"), "update persisted")
    R.api_error("update by a non-member", lambda: bob.update_group(gid, {"name": "hijack"}), 403)


def scenario_policies() -> None:
    gid = S["gid"]
    alice, bob = client("alice"), client("bob")
    p = alice.get_group_policies(gid)
    R.eq(p.http_status, 200, "get_group_policies answers 200")
    R.eq(set(p.data), POLICY_KEYS, "get_group_policies returns all six keys")
    R.eq({k: p.data.get(k) for k in POLICY_KEYS - {"authentication_assurance_timeout"}},
         {"is_high_assurance": False, "group_visibility": "private", "group_members_visibility": "managers",
          "join_requests": False, "signup_fields": []}, "default policies")

    full = GroupPolicies(
        is_high_assurance=False,
        group_visibility=globus_sdk.GroupVisibility.authenticated,
        group_members_visibility=globus_sdk.GroupMemberVisibility.members,
        join_requests=True,
        signup_fields=[globus_sdk.GroupRequiredSignupFields.institution, "department"],
        authentication_assurance_timeout=3600,
    )
    r = alice.set_group_policies(gid, full)
    R.eq(r.http_status, 200, "set_group_policies answers 200")
    R.eq(r.data, {"is_high_assurance": False, "authentication_assurance_timeout": 3600,
                  "group_visibility": "authenticated", "group_members_visibility": "members",
                  "join_requests": True, "signup_fields": ["institution", "department"]},
         "set_group_policies (GroupPolicies) returns the new policies")

    r = alice.set_group_policies(gid, {"join_requests": False})
    R.eq((r.get("join_requests"), r.get("group_visibility"), r.get("authentication_assurance_timeout"),
          r.get("signup_fields")), (False, "authenticated", 3600, ["institution", "department"]),
         "partial set_group_policies changes only the given key")

    r = manager(alice).set_group_policies(
        gid, is_high_assurance=False, group_visibility="authenticated", group_members_visibility="managers",
        join_requests=True, signup_fields=[])
    R.eq(r.data, {"is_high_assurance": False, "authentication_assurance_timeout": None,
                  "group_visibility": "authenticated", "group_members_visibility": "managers",
                  "join_requests": True, "signup_fields": []},
         "GroupsManager.set_group_policies (timeout sent as null)")
    R.eq(alice.get_group_policies(gid).data, r.data, "policies read back equal what was written")

    R.api_error("invalid group_visibility", lambda: alice.set_group_policies(gid, {"group_visibility": "everyone"}),
                422, None)
    R.eq(bob.get_group(gid).http_status, 200, "authenticated group is visible to any identity")
    R.api_error("set policies by a non-member",
                lambda: manager(bob).set_group_policies(gid, is_high_assurance=False, group_visibility="private",
                                                        group_members_visibility="managers", join_requests=False,
                                                        signup_fields=[]), 403)


def scenario_memberships() -> None:
    ids, gid = S["id"], S["gid"]
    alice, bob = client("alice"), client("bob")
    ma, mb = manager(alice), manager(bob)

    m = only_membership(ma.add_member(gid, ids["bob"]), "add", "add bob")
    R.eq((m.get("identity_id"), m.get("group_id"), m.get("role"), m.get("status")),
         (ids["bob"], gid, "member", "active"), "add makes an active member")
    err = only_error(ma.add_member(gid, ids["bob"]), "add", "add bob again", ids["bob"])
    R.eq(err.get("code"), "ALREADY_ACTIVE", "re-adding an active member -> ALREADY_ACTIVE")

    m = only_membership(ma.change_role(gid, ids["bob"], "manager"), "change_role", "bob -> manager")
    R.eq((m.get("role"), m.get("status")), ("manager", "active"), "change_role sets the role")

    # invite / decline / invite / accept (dave), driven by a manager
    dave = client("dave")
    md = manager(dave)
    m = only_membership(mb.invite_member(gid, ids["dave"]), "invite", "manager invites dave")
    R.eq((m.get("status"), m.get("role")), ("invited", "member"), "invite -> invited member")
    mine = my_membership(dave, gid)
    R.eq((mine or {}).get("status"), "invited", "invitee sees the invitation in my_memberships")
    R.eq([g["id"] for g in dave.get_my_groups()], [], "my_groups defaults to active only")
    R.eq([g["id"] for g in dave.get_my_groups(statuses="invited")], [gid], "my_groups statuses=invited")
    m = only_membership(md.decline_invite(gid, ids["dave"]), "decline", "dave declines")
    R.eq(m.get("status"), "declined", "decline -> declined")
    m = only_membership(mb.invite_member(gid, ids["dave"]), "invite", "invite dave again")
    R.eq(m.get("status"), "invited", "a declined identity can be invited again")
    m = only_membership(md.accept_invite(gid, ids["dave"]), "accept", "dave accepts")
    R.eq((m.get("status"), m.get("role")), ("active", "member"), "accept -> active")
    m = only_membership(md.leave(gid, ids["dave"]), "leave", "dave leaves")
    R.eq(m.get("status"), "left", "leave -> left")
    left = dave.get_my_groups(statuses=["left", "declined"])
    R.eq([(g["id"], [x.get("status") for x in g.get("my_memberships") or []]) for g in left],
         [(gid, ["left"])], "my_groups statuses=left,declined shows the left membership")
    err = only_error(ma.add_member(gid, ids["dave"]), "add", "add an identity that left", ids["dave"])
    S.setdefault("codes", {})["add_after_leave"] = err.get("code")

    # request_join -> approve (erin), request_join -> reject (frank); join requests are on
    erin, frank = client("erin"), client("frank")
    m = only_membership(manager(erin).request_join(gid, ids["erin"]), "request_join", "erin requests to join")
    R.eq(m.get("status"), "pending", "request_join -> pending")
    m = only_membership(ma.approve_pending(gid, ids["erin"]), "approve", "approve erin")
    R.eq((m.get("status"), m.get("role")), ("active", "member"), "approve -> active member")
    m = only_membership(manager(frank).request_join(gid, ids["frank"]), "request_join", "frank requests")
    m = only_membership(mb.reject_join_request(gid, ids["frank"]), "reject", "manager rejects frank")
    R.eq(m.get("status"), "rejected", "reject -> rejected")

    # direct join (authenticated, not high assurance), then removal by a manager
    grace = client("grace")
    m = only_membership(manager(grace).join(gid, ids["grace"]), "join", "grace joins")
    R.eq((m.get("status"), m.get("role")), ("active", "member"), "join -> active member")
    m = only_membership(mb.remove_member(gid, ids["grace"]), "remove", "manager removes grace")
    R.eq(m.get("status"), "removed", "remove -> removed")
    err = only_error(ma.remove_member(gid, NOBODY), "remove", "remove an identity without membership", NOBODY)
    R.eq(err.get("code"), "NO_MEMBERSHIP", "remove without membership -> NO_MEMBERSHIP")
    m = only_membership(ma.invite_member(gid, BARE[0]), "invite", "invite a bare id")
    m = only_membership(ma.remove_member(gid, BARE[0]), "remove", "remove an invited identity")
    R.eq(m.get("status"), "removed", "an invitation can be removed")

    # allow_add=false (carol, set earlier) blocks add but not invite
    err = only_error(ma.add_member(gid, ids["carol"]), "add", "add carol (allow_add=false)", ids["carol"])
    S["codes"]["add_not_allowed"] = err.get("code")
    m = only_membership(ma.invite_member(gid, ids["carol"]), "invite", "invite carol (allow_add=false)")
    R.eq(m.get("status"), "invited", "allow_add=false still allows invite")

    # whole-request failures
    erin_err = R.api_error("a plain member sends add",
                           lambda: manager(erin).add_member(gid, BARE[1]), 403)
    if erin_err is not None:
        R.ok(isinstance(erin_err.code, str) and bool(erin_err.code), "403 batch has a code", erin_err.raw_json)
    amb = R.api_error("one identity under two verbs",
                      lambda: alice.batch_membership_action(
                          gid, BatchMembershipActions().add_members(BARE[2]).remove_members([BARE[2]])), 400)
    if amb is not None:
        R.eq((amb.raw_json or {}).get("ambiguous_identities"), [BARE[2]], "400 lists ambiguous_identities")

    # a multi-verb batch through the builder, and a raw dict batch
    actions = (BatchMembershipActions()
               .add_members([BARE[3], uuid.UUID(BARE[4])])
               .invite_members(BARE[5], role=globus_sdk.GroupRole.manager))
    r = alice.batch_membership_action(gid, actions)
    R.eq(r.http_status, 200, "multi-verb batch answers 200")
    R.eq(sorted((m.get("identity_id"), m.get("status"), m.get("role")) for m in r.get("add") or []),
         [(BARE[3], "active", "member"), (BARE[4], "active", "member")], "batch add of two ids")
    R.eq([(m.get("identity_id"), m.get("status"), m.get("role")) for m in r.get("invite") or []],
         [(BARE[5], "invited", "manager")], "batch invite as manager")
    R.ok(not r.get("errors"), "multi-verb batch has no errors", r.get("errors"))
    r = alice.batch_membership_action(gid, {"change_role": [{"identity_id": BARE[3], "role": "admin"}]})
    R.eq([(m.get("identity_id"), m.get("role")) for m in r.get("change_role") or []], [(BARE[3], "admin")],
         "dict batch change_role -> admin")

    # membership visibility: group_members_visibility=managers (set by the manager policies call)
    doc = bob.get_group(gid, include="memberships").data
    members = {m.get("identity_id"): m.get("status") for m in doc.get("memberships") or []}
    R.ok(members.get(ids["alice"]) == "active" and members.get(ids["erin"]) == "active"
         and members.get(ids["bob"]) == "active", "a manager sees the memberships", members)
    doc = erin.get_group(gid, include="memberships").data
    R.ok(not doc.get("memberships"), "a plain member does not see memberships under 'managers'",
         doc.get("memberships"))

    # membership fields (erin is an active member)
    fields = {ids["erin"]: {"institution": "Example University", "department": "Physics"}}
    r = erin.set_membership_fields(gid, fields)
    R.eq(r.http_status, 200, "set_membership_fields answers 200")
    got = (r.data or {}).get(ids["erin"]) or {}
    R.eq((got.get("institution"), got.get("department")), ("Example University", "Physics"),
         "set_membership_fields echoes the fields")
    got = (erin.get_membership_fields(gid).data or {}).get(ids["erin"]) or {}
    R.eq((got.get("institution"), got.get("department")), ("Example University", "Physics"),
         "get_membership_fields reads them back")
    doc = bob.get_group(gid, include="memberships").data
    mf = (membership_of(doc, ids["erin"]) or {}).get("membership_fields") or {}
    R.eq(mf.get("institution"), "Example University", "managers see membership_fields on memberships")

    # last admin: alice cannot leave while she is the only active admin... BARE[3] is admin now,
    # so first demote it, then check the guard, then promote bob and let alice leave.
    only_membership(ma.change_role(gid, BARE[3], "member"), "change_role", "demote the second admin")
    try:
        r = ma.leave(gid, ids["alice"])
    except GroupsAPIError as e:  # a whole-request refusal is tolerated, but noted
        S.setdefault("codes", {})["last_admin_leave"] = f"whole request {e.http_status} {e.code}"
        R.ok(e.http_status in (400, 403, 409), "last admin leave refused", e.text[:300])
    else:
        err = only_error(r, "leave", "last admin leaves", ids["alice"])
        S.setdefault("codes", {})["last_admin_leave"] = err.get("code")
    mine = my_membership(alice, gid)
    R.eq(((mine or {}).get("role"), (mine or {}).get("status")), ("admin", "active"),
         "the last admin is still an active admin")
    only_membership(ma.change_role(gid, ids["bob"], "admin"), "change_role", "promote bob to admin")
    m = only_membership(ma.leave(gid, ids["alice"]), "leave", "alice leaves once bob is admin")
    R.eq(m.get("status"), "left", "an admin may leave when another admin remains")
    R.api_error("alice (left) can no longer update", lambda: alice.update_group(gid, {"name": "nope"}), 403)


def scenario_role_limits() -> None:
    """What a manager may not do, the demotion guard, and high-assurance join (fresh group)."""
    ids = S["id"]
    alice, frank = client("alice"), client("frank")
    ma, mf = manager(alice), manager(frank)
    gid = alice.create_group({"name": "conformance limits"})["id"]
    codes = S.setdefault("codes", {})
    err = only_error(ma.change_role(gid, ids["alice"], "member"), "change_role", "sole admin demotes self",
                     ids["alice"])
    codes["last_admin_demote"] = err.get("code")
    only_membership(ma.add_member(gid, ids["frank"], role="manager"), "add", "admin adds a manager")
    err = only_error(mf.add_member(gid, BARE[8], role="admin"), "add", "manager adds an admin", BARE[8])
    codes["manager_adds_admin"] = err.get("code")
    err = only_error(mf.invite_member(gid, BARE[8], role="manager"), "invite", "manager invites a manager", BARE[8])
    codes["manager_invites_manager"] = err.get("code")
    err = only_error(mf.remove_member(gid, ids["alice"]), "remove", "manager removes an admin", ids["alice"])
    codes["manager_removes_admin"] = err.get("code")
    err = only_error(mf.remove_member(gid, ids["frank"]), "remove", "manager removes self", ids["frank"])
    codes["remove_self"] = err.get("code")
    R.api_error("a manager sends change_role (admin only: whole request)",
                lambda: mf.change_role(gid, BARE[8], "member"), 403)
    mine = my_membership(alice, gid)
    R.eq(((mine or {}).get("role"), (mine or {}).get("status")), ("admin", "active"), "refusals changed nothing")
    alice.set_group_policies(gid, {"group_visibility": "authenticated", "is_high_assurance": True})
    grace = client("grace")
    err = only_error(manager(grace).join(gid, ids["grace"]), "join", "join a high-assurance group", ids["grace"])
    codes["join_high_assurance"] = err.get("code")
    R.eq(alice.delete_group(gid).get("id"), gid, "limits group deleted")


def scenario_subscriptions() -> None:
    ids = S["id"]
    alice, bob = client("alice"), client("bob")
    seed = {
        "groups": [{
            "id": SUBSCRIPTION_GROUP_ID,
            "name": "conformance subscription group",
            "group_type": "plus",
            "memberships": [{"identity_id": ids["alice"], "role": "admin", "status": "active"}],
        }],
        "subscriptions": [{
            "id": SUBSCRIPTION_ID,
            "group_id": SUBSCRIPTION_GROUP_ID,
            "name": "Conformance Sub",
            "subscriber_name": "Conformance Org",
            "is_high_assurance": False,
            "is_baa": False,
            "connectors": {CONNECTOR_ID: {"is_ha": False, "is_baa": True}},
        }],
    }
    control("seed", seed)
    r = bob.get_group_by_subscription_id(SUBSCRIPTION_ID)
    R.eq(r.http_status, 200, "get_group_by_subscription_id answers 200")
    R.eq((r.get("group_id"), r.get("subscription_id")), (SUBSCRIPTION_GROUP_ID, SUBSCRIPTION_ID),
         "subscription resolves to its group")
    info = r.get("subscription_info") or {}
    R.eq(info, {"is_high_assurance": False, "is_baa": False,
                "connectors": {CONNECTOR_ID: {"is_ha": False, "is_baa": True}}},
         "subscription_info is the limited form (no name, no subscriber_name)")
    R.api_error("the subscription group itself stays hidden", lambda: bob.get_group(SUBSCRIPTION_GROUP_ID), 403)
    R.api_error("unknown subscription id", lambda: bob.get_group_by_subscription_id(UNKNOWN_SUBSCRIPTION_ID), 404)
    full = alice.get_group(SUBSCRIPTION_GROUP_ID).data
    R.eq((full.get("subscription_id"), (full.get("subscription_info") or {}).get("name")),
         (SUBSCRIPTION_ID, "Conformance Sub"), "an admin sees the full subscription info")

    root2 = S["root2"]  # alice is its admin
    r = alice.set_subscription_admin_verified(root2, SUBSCRIPTION_ID)
    R.eq(r.http_status, 200, "set_subscription_admin_verified answers 200")
    R.eq(r.data, {"group_id": root2, "subscription_admin_verified_id": SUBSCRIPTION_ID},
         "set_subscription_admin_verified returns {group_id, subscription_admin_verified_id}")
    R.eq(alice.get_group(root2).get("subscription_admin_verified_id"), SUBSCRIPTION_ID,
         "group shows subscription_admin_verified_id")
    r = alice.update_group(root2, {"subscription_admin_verified_id": None})
    R.eq(r.get("subscription_admin_verified_id", "absent") in (None, "absent"), True,
         "update_group may clear subscription_admin_verified_id")
    R.eq(alice.get_group(root2).get("subscription_admin_verified_id"), None, "cleared value persisted")
    err = R.api_error("update_group cannot set a new subscription_admin_verified_id",
                      lambda: alice.update_group(root2, {"subscription_admin_verified_id": SUBSCRIPTION_ID}),
                      (400, 403, 422))
    S.setdefault("codes", {})["update_sets_verified"] = err.http_status if err else None
    r = alice.set_subscription_admin_verified(root2, SUBSCRIPTION_ID)
    r = alice.set_subscription_admin_verified(root2, None)
    R.eq(r.data, {"group_id": root2, "subscription_admin_verified_id": None},
         "set_subscription_admin_verified(None) clears it")

    bob_group = bob.create_group({"name": "bob's group"}).get("id")
    S["bob_group"] = bob_group
    R.api_error("a non-admin of the subscription group cannot verify",
                lambda: bob.set_subscription_admin_verified(bob_group, SUBSCRIPTION_ID), 403)
    R.eq(bob.get_group(bob_group).get("subscription_admin_verified_id"), None, "refused verification left no trace")


def scenario_linked_identities() -> None:
    """A token standing for an identity set of two linked identities (seeded)."""
    control("seed", {
        "identities": [
            {"id": LINKED_PRIMARY, "username": "linked@example.org", "linked": [LINKED_OTHER]},
            {"id": LINKED_OTHER, "username": "linked@other.example.org"},
        ],
        "tokens": [{"token": token("linked"), "identity": LINKED_PRIMARY}],
    })
    linked, alice = client("linked"), client("alice")
    prefs = linked.get_identity_preferences().data
    R.eq(sorted(prefs), sorted([LINKED_PRIMARY, LINKED_OTHER]), "preferences cover the whole identity set")
    root2 = S["root2"]
    only_membership(manager(alice).add_member(root2, LINKED_OTHER), "add", "add the linked (secondary) identity")
    groups = linked.get_my_groups()
    R.eq([(g["id"], [m.get("identity_id") for m in g.get("my_memberships") or []]) for g in groups],
         [(root2, [LINKED_OTHER])], "my_groups finds a membership of a linked identity")
    R.eq(linked.get_group(root2).get("id"), root2, "a private group is visible through a linked identity")
    m = only_membership(manager(linked).leave(root2, LINKED_OTHER), "leave", "leave as the linked identity")
    R.eq(m.get("status"), "left", "self verbs work for any identity of the set")


def scenario_scopes() -> None:
    """A token holding only the SDK's read scope may read but not write (seeded token)."""
    read_scope = str(globus_sdk.scopes.GroupsScopes.view_my_groups_and_memberships)
    control("seed", {
        "identities": [{"id": READONLY_IDENTITY, "username": "reader@example.org"}],
        "tokens": [{"token": token("reader"), "identity": READONLY_IDENTITY, "scopes": [read_scope]}],
    })
    reader = client("reader")
    R.eq(list(reader.get_my_groups()), [], "a read-scope token may read")
    err = R.api_error("a read-scope token cannot create", lambda: reader.create_group({"name": "nope"}), 403)
    if err is not None:
        R.eq((err.raw_json or {}).get("provided_scopes"), [read_scope], "403 lists provided_scopes")
        R.ok(isinstance(err.code, str) and bool(err.code), "scope 403 has a code", err.raw_json)


def scenario_errors() -> None:
    alice = client("alice")
    anon = TGroupsClient(authorizer=NullAuthorizer(), retry_config=RetryConfig(max_retries=0))
    err = R.api_error("request without Authorization", lambda: anon.get_my_groups(), 401, "AUTHENTICATION_ERROR")
    if err is not None:
        R.ok(isinstance((err.raw_json or {}).get("authorization_parameters"), dict),
             "401 carries authorization_parameters", err.raw_json)
        R.ok(bool(err.info.authorization_parameters), "SDK exposes err.info.authorization_parameters")
    err = R.api_error("create_group without name", lambda: alice.create_group({"description": "nameless"}), 422, None)
    if err is not None:
        detail = (err.raw_json or {}).get("detail")
        R.ok(isinstance(detail, list) and detail and all({"loc", "msg", "type"} <= set(d) for d in detail),
             "422 is a validation list", err.raw_json)
    R.api_error("membership fields of a missing group", lambda: alice.get_membership_fields(MISSING_GROUP_ID), 404)
    R.api_error("delete a missing group", lambda: alice.delete_group(MISSING_GROUP_ID), 404)


def scenario_request_shapes() -> None:
    """Inputs the SDK lets callers send: passthrough query params, UUID objects, raw dicts,
    the flat preferences body of the SDK docstring, and invalid values."""
    ids, root2 = S["id"], S["root2"]
    alice, heidi = client("alice"), client("heidi")
    doc = alice.get_group(uuid.UUID(root2), query_params={"include": "memberships"}).data
    R.eq(doc.get("id"), root2, "a uuid.UUID group id works")
    R.ok(isinstance(doc.get("memberships"), list) and membership_of(doc, ids["alice"]) is not None,
         "query_params passthrough reaches the server (include=memberships)", doc.get("memberships"))
    r = alice.batch_membership_action(root2, {"invite": [{
        "identity_id": BARE[7], "role": "member", "status_reason": "please join",
        "invite_email_address": "invitee@example.org"}]})
    m = only_membership(r, "invite", "raw invite with status_reason and invite_email_address")
    R.eq((m.get("status_reason"), m.get("invite_email_address")), ("please join", "invitee@example.org"),
         "invite echoes status_reason and invite_email_address")

    r = heidi.set_identity_preferences({"allow_add": False})  # the SDK docstring's example
    R.eq(r.http_status, 200, "flat preferences body (SDK docstring form) is accepted")
    R.eq(heidi.get_identity_preferences().data, {ids["heidi"]: {"allow_add": False}},
         "flat preferences body applies to the caller's identity")
    heidi.set_identity_preferences({ids["heidi"]: {"allow_add": True}})
    R.eq(heidi.get_identity_preferences().data, {ids["heidi"]: {"allow_add": True}}, "allow_add back to true")

    err = R.api_error("my_groups with an unknown status", lambda: alice.get_my_groups(statuses="bogus"), 422)
    if err is not None:
        R.ok(isinstance(err.code, str) and bool(err.code), "an unknown status is a 422 {code, detail} error",
             err.raw_json)
    err = R.api_error("get_group with an unknown include", lambda: alice.get_group(root2, include="bogus"), 422, None)
    if err is not None:
        R.ok(isinstance((err.raw_json or {}).get("detail"), list),
             "an unknown include is a 422 whose detail is a validation list", err.raw_json)
    R.api_error("a group id that is not a uuid", lambda: alice.get_group("not-a-uuid"), 404)
    R.api_error("an unknown batch verb", lambda: alice.batch_membership_action(root2, {"frobnicate": []}), 422, None)
    R.api_error("a batch item without identity_id",
                lambda: alice.batch_membership_action(root2, {"add": [{"role": "member"}]}), 422, None)
    R.api_error("set_subscription_admin_verified with a non-uuid",
                lambda: alice.set_subscription_admin_verified(root2, "not-a-uuid"), 422, None)


def scenario_delete() -> None:
    alice, bob = client("alice"), client("bob")
    sub = S["sub"]
    R.api_error("delete by a non-admin", lambda: bob.delete_group(sub), 403)
    r = alice.delete_group(sub)
    R.eq(r.http_status, 200, "delete_group answers 200")
    R.eq((r.get("id"), r.get("name")), (sub, "conformance sub"), "delete_group returns the deleted group")
    R.api_error("a deleted group is gone", lambda: alice.get_group(sub), 404)
    r = bob.delete_group(S["bob_group"])
    R.eq(r.get("id"), S["bob_group"], "the creator deletes their group")


class BackoffRecorder:
    """A RetryConfig backoff that records what the SDK decided and sleeps almost nothing."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int | None, float | None]] = []

    def __call__(self, ctx: t.Any) -> float:
        status = ctx.response.status_code if ctx.response is not None else None
        self.calls.append((ctx.attempt, status, ctx.backoff))
        return 0.01


def scenario_retries() -> None:
    rec = BackoffRecorder()
    alice = client("alice", retry_config=RetryConfig(backoff=rec, max_sleep=0.05))
    before = alice.get_my_groups().data

    inject_fault("GET", "/v2/groups/my_groups", times=2, status=429, retry_after=1)
    t0 = time.monotonic()
    r = alice.get_my_groups()
    elapsed = time.monotonic() - t0
    R.eq((r.http_status, r.data), (200, before), "get_my_groups recovers through two injected 429s")
    R.eq(rec.calls, [(0, 429, 1.0), (1, 429, 1.0)], "the SDK retried twice, honouring Retry-After: 1")
    R.ok(elapsed < 2.0, "retries used the tuned (short) sleep", elapsed)

    rec.calls.clear()
    inject_fault("GET", "/v2/groups/my_groups", times=1, status=503)
    r = alice.get_my_groups()
    R.eq((r.http_status, rec.calls), (200, [(0, 503, None)]), "a 503 without Retry-After is retried with backoff")

    # A POST batch answered with 429 must not have been applied: the retry then succeeds cleanly.
    rec.calls.clear()
    root2 = S["root2"]
    inject_fault("POST", f"/v2/groups/{root2}", times=1, status=429, retry_after=1)
    m = only_membership(manager(alice).add_member(root2, BARE[6]), "add", "batch add through a 429")
    R.eq(m.get("status"), "active", "the retried batch add succeeded (the 429 attempt changed nothing)")
    R.eq([c[1] for c in rec.calls], [429], "the POST was retried once")

    # A connection closed without an answer is a network error; the SDK retries it too.
    rec.calls.clear()
    inject_fault("GET", "/v2/groups/my_groups", times=1, action="close")
    r = alice.get_my_groups()
    R.eq(r.data, before, "get_my_groups recovers through a dropped connection")
    R.eq([(c[0], c[1]) for c in rec.calls], [(0, None)], "the SDK retried once after the network error")

    # A body cut short (Content-Length larger than what is sent) is a network error too.
    rec.calls.clear()
    inject_fault("GET", "/v2/groups/my_groups", times=1, action="truncate")
    r = alice.get_my_groups()
    R.eq(r.data, before, "get_my_groups recovers through a truncated body")
    R.eq([(c[0], c[1]) for c in rec.calls], [(0, None)], "the SDK retried once after the truncated body")

    # A slow answer past the SDK's HTTP timeout: read timeout, retry, success.
    rec.calls.clear()
    control("faults", {"method": "GET", "path": "/v2/groups/my_groups", "times": 1,
                       "action": "delay", "delay_ms": 1500})
    t0 = time.monotonic()
    with alice.transport.tune(http_timeout=0.3):
        r = alice.get_my_groups()
    R.eq(r.data, before, "get_my_groups recovers through a read timeout")
    R.eq([(c[0], c[1]) for c in rec.calls], [(0, None)], "the SDK retried once after the timeout")
    R.ok(time.monotonic() - t0 < 1.4, "the retry did not wait for the slow answer", time.monotonic() - t0)

    rec.calls.clear()
    limited = client("alice", retry_config=RetryConfig(backoff=rec, max_sleep=0.05, max_retries=1))
    inject_fault("GET", "/v2/groups/my_groups", times=2, status=429)
    R.api_error("429 persists past max_retries", lambda: limited.get_my_groups(), 429)
    R.eq(len(rec.calls), 1, "exactly one retry with max_retries=1")
    R.eq(control("faults", method="GET"), {"pending": []}, "every injected fault was consumed")
    R.eq(alice.get_my_groups().data, before, "no fault left over afterwards")


# --------------------------------------------------------------------------- Auth

AUTH_CONF_ID = "5b3c0c1e-0000-4000-8000-0000000a0c01"
AUTH_CONF_SECRET = "conformance-confidential-secret"
AUTH_CONF_IDENTITY = "5b3c0c1e-0000-4000-8000-0000000a0c11"
AUTH_NATIVE_ID = "5b3c0c1e-0000-4000-8000-0000000a0c02"
AUTH_USER = "5b3c0c1e-0000-4000-8000-0000000a0001"
AUTH_USERNAME = "ada@example.org"
GROUPS_RS = "groups.api.globus.org"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: t.Any, **kwargs: t.Any) -> None:  # type: ignore[override]
        return None


def _get_no_redirect(url: str) -> tuple[int, str]:
    """GET `url` without following redirects: (status, Location header)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    try:
        with opener.open(url, timeout=10) as resp:
            return resp.status, resp.headers.get("Location", "")
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Location", "")


def _query_param(url: str, name: str) -> str | None:
    import urllib.parse

    values = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get(name)
    return values[0] if values else None


def scenario_auth_setup() -> None:
    """The emulated Auth on the Groups port: discovery and JWKS through globus-sdk."""
    R.eq(AUTH_URL, BASE_URL, "GLOBUS_SDK_SERVICE_URL_AUTH points at the emulator")
    control("seed", {
        "identities": [
            {"id": AUTH_USER, "username": AUTH_USERNAME, "name": "Ada", "email": AUTH_USERNAME},
            {"id": AUTH_CONF_IDENTITY, "username": "service@example.org"},
        ],
        "clients": [
            {"id": AUTH_CONF_ID, "client_type": "confidential", "secret": AUTH_CONF_SECRET,
             "identity": AUTH_CONF_IDENTITY},
            {"id": AUTH_NATIVE_ID, "client_type": "native"},
        ],
    })
    ac = globus_sdk.AuthClient()
    R.eq(ac.base_url, AUTH_URL, "AuthClient resolves its base URL from GLOBUS_SDK_SERVICE_URL_AUTH")
    conf = ac.get_openid_configuration()
    R.eq(conf["id_token_signing_alg_values_supported"], ["RS512"], "openid-configuration: RS512")
    R.ok(str(conf["jwks_uri"]).startswith(AUTH_URL.rstrip("/")), "jwks_uri is on the emulator", conf["jwks_uri"])
    jwk = ac.get_jwk(as_pem=False)
    R.ok(jwk["keys"] and jwk["keys"][0]["kty"] == "RSA", "the JWKS holds an RSA key", jwk)
    R.ok(ac.get_jwk(as_pem=True) is not None, "globus-sdk decodes the JWK to a public key")


def scenario_auth_client_credentials() -> None:
    cac = globus_sdk.ConfidentialAppAuthClient(AUTH_CONF_ID, AUTH_CONF_SECRET)
    all_scope = str(globus_sdk.scopes.GroupsScopes.all)
    tokens = cac.oauth2_client_credentials_tokens(requested_scopes=all_scope)
    R.must(GROUPS_RS in tokens.by_resource_server, "client credentials give a Groups token", tokens.data)
    gtok = tokens.by_resource_server[GROUPS_RS]
    R.eq(gtok["refresh_token"], None, "client credentials give no refresh token")
    gc = TGroupsClient(authorizer=AccessTokenAuthorizer(gtok["access_token"]),
                       retry_config=RetryConfig(max_retries=0))
    R.eq(whoami(gc), AUTH_CONF_IDENTITY, "the client acts as the identity its seed names")
    made = gc.create_group({"name": "made by a confidential client"})
    R.eq(made.http_status, 201, "a client-credentials token creates a group")
    S["cc_group"] = made["id"]
    S["cc_token"] = gtok["access_token"]

    # ClientCredentialsAuthorizer, as services use it.
    cca = globus_sdk.ClientCredentialsAuthorizer(cac, all_scope)
    gc2 = TGroupsClient(authorizer=cca, retry_config=RetryConfig(max_retries=0))
    R.ok(any(g["id"] == made["id"] for g in gc2.get_my_groups()),
         "ClientCredentialsAuthorizer: the group is in my_groups")

    # ClientApp + GroupsClient(app=...), with in-memory token storage.
    app = globus_sdk.ClientApp(
        "groups-conformance", client_id=AUTH_CONF_ID, client_secret=AUTH_CONF_SECRET,
        config=globus_sdk.GlobusAppConfig(token_storage="memory"),
    )
    gc3 = GroupsClient(app=app, app_scopes=[globus_sdk.scopes.GroupsScopes.all])
    R.ok(any(g["id"] == made["id"] for g in gc3.get_my_groups()), "ClientApp: my_groups works")
    R.eq(gc3.get_group(made["id"])["name"], "made by a confidential client", "ClientApp: get_group works")
    gc3.delete_group(made["id"])
    R.api_error("ClientApp: the deleted group is gone", lambda: gc3.get_group(made["id"]), 404)

    # A wrong secret is invalid_client (401).
    bad = globus_sdk.ConfidentialAppAuthClient(AUTH_CONF_ID, "not-the-secret")
    try:
        bad.oauth2_client_credentials_tokens(requested_scopes=all_scope)
        R.ok(False, "a wrong secret is refused")
    except globus_sdk.AuthAPIError as err:
        R.eq(err.http_status, 401, "wrong secret: 401")
        R.eq((err.raw_json or {}).get("error"), "invalid_client", "wrong secret: invalid_client")


def scenario_auth_native_login() -> None:
    """NativeAppAuthClient with PKCE: the code comes from the authorize page (auto-approved
    through the control plane), the id_token is decoded and checked by globus-sdk."""
    nac = globus_sdk.NativeAppAuthClient(AUTH_NATIVE_ID)
    scopes = ["openid", "profile", "email", str(globus_sdk.scopes.GroupsScopes.all),
              "urn:globus:auth:scope:auth.globus.org:view_identities"]
    nac.oauth2_start_flow(requested_scopes=scopes, refresh_tokens=True)
    url = nac.oauth2_get_authorize_url()
    R.ok(url.startswith(AUTH_URL.rstrip("/") + "/v2/oauth2/authorize?"), "authorize URL is on the emulator", url)

    control("auth/approve", {"identity": AUTH_USERNAME, "decision": "deny"}, method="PUT")
    status, location = _get_no_redirect(url)
    R.eq((status, _query_param(location, "error")), (302, "access_denied"), "a denied login redirects with access_denied")
    control("auth/approve", {"identity": AUTH_USERNAME}, method="PUT")
    status, location = _get_no_redirect(url)
    control("auth/approve", method="DELETE")
    R.must(status == 302, "the auto-approved authorize URL answers 302", (status, location))
    R.ok(location.startswith(AUTH_URL.rstrip("/") + "/v2/web/auth-code"), "redirect to the auth-code page", location)
    R.eq(_query_param(location, "state"), "_default", "state is returned")
    code = _query_param(location, "code")
    R.must(bool(code), "the redirect carries a code", location)

    tokens = nac.oauth2_exchange_code_for_tokens(code)
    by_rs = tokens.by_resource_server
    R.must(set(by_rs) == {"auth.globus.org", GROUPS_RS}, "one token per resource server", sorted(by_rs))
    R.ok(all(tok["refresh_token"] for tok in by_rs.values()), "offline access gives refresh tokens")
    claims = tokens.decode_id_token()
    R.eq(claims["sub"], AUTH_USER, "decode_id_token: sub is the approved identity")
    R.eq(claims["aud"], AUTH_NATIVE_ID, "decode_id_token: aud is the client")
    R.eq(claims["preferred_username"], AUTH_USERNAME, "decode_id_token: preferred_username")
    try:
        nac.oauth2_exchange_code_for_tokens(code)
        R.ok(False, "a used code is refused")
    except globus_sdk.AuthAPIError as err:
        R.eq(((err.raw_json or {}).get("error"), err.http_status), ("invalid_grant", 400), "a used code: invalid_grant")

    auth_tok = by_rs["auth.globus.org"]["access_token"]
    ac = globus_sdk.AuthClient(authorizer=AccessTokenAuthorizer(auth_tok))
    info = ac.userinfo()
    R.eq((info["sub"], info["preferred_username"], info["email"]), (AUTH_USER, AUTH_USERNAME, AUTH_USERNAME),
         "userinfo")
    ids = ac.get_identities(usernames=["nobody@example.org", AUTH_USERNAME, "service@example.org"])
    R.eq([i["username"] for i in ids["identities"]], [AUTH_USERNAME, "service@example.org"],
         "get_identities: request order, unknown absent")
    R.eq(ids["identities"][0]["id"], AUTH_USER, "get_identities: the id")
    prov = ac.get_identities(usernames="fresh@example.org", provision=True)
    R.eq(prov["identities"][0]["status"], "unused", "get_identities(provision=True) creates an unused identity")
    by_id = ac.get_identities(ids=[AUTH_USER])
    R.eq([i["username"] for i in by_id["identities"]], [AUTH_USERNAME], "get_identities(ids=...)")

    # RefreshTokenAuthorizer: renews after the emulator clock moves past the expiry.
    g = by_rs[GROUPS_RS]
    refreshed: list[t.Any] = []
    rta = globus_sdk.RefreshTokenAuthorizer(
        g["refresh_token"], nac, access_token=g["access_token"], expires_at=g["expires_at_seconds"],
        on_refresh=refreshed.append,
    )
    gc = TGroupsClient(authorizer=rta, retry_config=RetryConfig(max_retries=2))
    R.eq(whoami(gc), AUTH_USER, "RefreshTokenAuthorizer: Groups sees the logged-in identity")
    R.eq(refreshed, [], "no refresh while the token is valid")
    S["native_groups_token"] = g["access_token"]
    S["native_refresh_token"] = g["refresh_token"]
    clock = control("clock", {"advance_secs": 172_800 + 60})
    R.ok(clock["offset_secs"] >= 172_860, "the emulator clock moved", clock)
    stale = TGroupsClient(authorizer=AccessTokenAuthorizer(g["access_token"]), retry_config=RetryConfig(max_retries=0))
    R.api_error("an expired issued token gets 401", lambda: stale.get_my_groups(), 401)
    R.eq(whoami(gc), AUTH_USER, "RefreshTokenAuthorizer renews on 401 and the call succeeds")
    R.eq(len(refreshed), 1, "one refresh happened")
    if refreshed:
        new = refreshed[0].by_resource_server[GROUPS_RS]
        R.ok(new["refresh_token"] and new["refresh_token"] != g["refresh_token"], "the refresh token rotated")
    try:
        nac.oauth2_refresh_token(g["refresh_token"])
        R.ok(False, "the rotated-out refresh token is refused")
    except globus_sdk.AuthAPIError as err:
        R.eq((err.raw_json or {}).get("error"), "invalid_grant", "the old refresh token: invalid_grant")
    S["native_live_token"] = rta.access_token


def scenario_auth_introspect_revoke() -> None:
    cac = globus_sdk.ConfidentialAppAuthClient(AUTH_CONF_ID, AUTH_CONF_SECRET)
    live = S["native_live_token"]
    intro = cac.oauth2_token_introspect(live)
    R.eq((intro["active"], intro["sub"], intro["client_id"]), (True, AUTH_USER, AUTH_NATIVE_ID),
         "introspect: an active token")
    R.ok(str(globus_sdk.scopes.GroupsScopes.all) in intro["scope"].split(), "introspect: its scope", intro.data)
    R.eq(cac.oauth2_token_introspect("never-issued")["active"], False, "introspect: unknown token inactive")
    nac = globus_sdk.NativeAppAuthClient(AUTH_NATIVE_ID)
    R.eq(nac.oauth2_revoke_token(live)["active"], False, "revoke answers active: false")
    R.eq(cac.oauth2_token_introspect(live)["active"], False, "introspect after revoke: inactive")
    gone = TGroupsClient(authorizer=AccessTokenAuthorizer(live), retry_config=RetryConfig(max_retries=0))
    R.api_error("a revoked token gets 401 from Groups", lambda: gone.get_my_groups(), 401)
    R.eq(nac.oauth2_revoke_token("never-issued")["active"], False, "revoking an unknown token is fine")


def scenario_coverage() -> None:
    missing_c = [m for m in CLIENT_METHODS if ("client", m) not in CALLED]
    missing_m = [m for m in MANAGER_METHODS if ("manager", m) not in CALLED]
    R.eq(missing_c, [], f"all {len(CLIENT_METHODS)} GroupsClient methods were exercised")
    R.eq(missing_m, [], f"all {len(MANAGER_METHODS)} GroupsManager methods were exercised")


SCENARIOS = [
    scenario_environment,
    scenario_identities,
    scenario_create_and_get,
    scenario_subgroups,
    scenario_update,
    scenario_policies,
    scenario_memberships,
    scenario_role_limits,
    scenario_subscriptions,
    scenario_linked_identities,
    scenario_scopes,
    scenario_errors,
    scenario_request_shapes,
    scenario_delete,
    scenario_retries,
    scenario_auth_setup,
    scenario_auth_client_credentials,
    scenario_auth_native_login,
    scenario_auth_introspect_revoke,
    scenario_coverage,
]


def _where(err: BaseException) -> str:
    """The script lines (innermost last) that led to `err`, without library frames."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == __file__]
    return "".join(f"\n      at line {f.lineno}: {f.line}" for f in frames[-3:])


def main() -> int:
    print(f"globus-sdk {globus_sdk.__version__} against {BASE_URL}")
    started = time.monotonic()
    for scenario in SCENARIOS:
        R.scenario = scenario.__name__.removeprefix("scenario_")
        before = R.failed
        t0 = time.monotonic()
        try:
            scenario()
        except Failure:
            pass  # already counted; later checks of this scenario depend on it
        except KeyError as err:
            R.ok(False, f"skipped: needs {err} from an earlier scenario that failed")
        except globus_sdk.GlobusAPIError as err:
            R.ok(False, f"unexpected API error {err.http_status} {err.code}: {err.text[:300]}{_where(err)}")
        except (globus_sdk.NetworkError, urllib.error.URLError) as err:
            R.ok(False, f"cannot reach the emulator: {type(err).__name__}: {err}{_where(err)}")
            if scenario is SCENARIOS[0]:
                break
        except Exception as err:  # noqa: BLE001 - report anything and keep going
            R.ok(False, f"scenario crashed: {type(err).__name__}: {err}{_where(err)}")
        verdict = "ok" if R.failed == before else f"{R.failed - before} failed"
        print(f"{R.scenario}: {verdict} ({time.monotonic() - t0:.2f}s)")
    if S.get("codes"):
        print("emulator-specific codes observed:", json.dumps(S["codes"], sort_keys=True))
    print(f"total {time.monotonic() - started:.2f}s")
    print(f"{R.passed} passed, {R.failed} failed")
    return 0 if R.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
