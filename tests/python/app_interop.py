"""globus-sdk's UserApp on the token file our groups-app writes (and the other way round).

Run by ``crates/groups-app/tests/python_interop.rs`` with the official SDK from the
project's venv, against the emulator (``GLOBUS_SDK_SERVICE_URL_GROUPS`` and
``GLOBUS_SDK_SERVICE_URL_AUTH`` point at it) and with ``HOME`` set to a directory of the
test's, so globus-sdk's default token file is the one our app uses:
``~/.globus/app/{client_id}/{app name slug}/tokens.json``.

Usage: ``app_interop.py login|use``, with ``GROUPS_INTEROP_CLIENT_ID`` and
``GROUPS_INTEROP_APP_NAME`` set.

* ``login``: ``app.login()`` with globus-sdk's command-line flow (the URL on standard
  output, the code read from standard input), then lists my groups.
* ``use``: must need no login (exit 3 otherwise, without trying one), then lists my
  groups with the stored tokens.

The result is one JSON object after the marker ``INTEROP `` (a prompt may stand
before it on the line): ``{"role", "login_required", "token_file", "groups",
"identity_id"}``.
"""

from __future__ import annotations

import json
import os
import sys

import globus_sdk


def token_file(app: globus_sdk.UserApp) -> str | None:
    """The JSON file behind the app's storage (globus-sdk wraps it in a validating one)."""
    storage = app.token_storage
    for _ in range(3):
        path = getattr(storage, "filepath", None)
        if path is not None:
            return os.fspath(path)
        storage = getattr(storage, "token_storage", None)
        if storage is None:
            return None
    return None


def main() -> int:
    if len(sys.argv) != 2 or sys.argv[1] not in ("login", "use"):
        print("usage: app_interop.py login|use", file=sys.stderr)
        return 2
    role = sys.argv[1]
    app = globus_sdk.UserApp(
        os.environ["GROUPS_INTEROP_APP_NAME"],
        client_id=os.environ["GROUPS_INTEROP_CLIENT_ID"],
        config=globus_sdk.GlobusAppConfig(request_refresh_tokens=True),
    )
    groups = globus_sdk.GroupsClient(app=app)
    needed = app.login_required()
    if role == "use" and needed:
        print("INTEROP " + json.dumps({"role": role, "login_required": True}))
        return 3
    if role == "login":
        app.login()
    listed = [g["id"] for g in groups.get_my_groups()]
    data = app.token_storage.get_token_data("groups.api.globus.org")
    print(
        "INTEROP "
        + json.dumps(
            {
                "role": role,
                "login_required": needed,
                "token_file": token_file(app),
                "groups": listed,
                "identity_id": data.identity_id if data else None,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
