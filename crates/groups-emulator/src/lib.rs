//! A local Globus Groups service: every endpoint of Groups API v2 with its rules, and
//! the Globus Auth endpoints its clients need, served over HTTP on loopback on one port,
//! as a library (for tests) and a binary (`groups-emulator serve`). Point both
//! `GLOBUS_SDK_SERVICE_URL_GROUPS` and `GLOBUS_SDK_SERVICE_URL_AUTH` at it.
//!
//! Where it sits: it depends only on `groups-types` (data model); the rest of the SDK
//! (core, hyper transport, manager) is tested against it. The rules live in [`world`]
//! (a pure state machine, no IO); this crate's other modules are the server around it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use groups_emulator::{Emulator, Fault};
//!
//! let emu = Emulator::builder().start().await?;
//! println!("point GLOBUS_SDK_SERVICE_URL_GROUPS at {}", emu.base_url());
//! // The next POST to a group answers 429 with Retry-After: 1.
//! emu.inject(Fault::status(429).retry_after(1).method("POST").path("/v2/groups/*"));
//! let state = emu.dump_state();
//! # let _ = state;
//! emu.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! # Server behaviour
//!
//! - HTTP/1.1 with keep-alive, and HTTP/2 over cleartext (prior knowledge), on one port.
//!   `TCP_NODELAY` on every accepted socket; listen backlog 1024.
//! - Any token is accepted by default and maps to a stable identity; see [`world`] for
//!   the seed format, strict modes and rules.
//! - `GET` requests run under a shared read lock; every other method runs under the
//!   write lock, so a batch is applied atomically (no reader sees half of it).
//! - Request bodies above 4 MiB ([`DEFAULT_BODY_LIMIT`]) get
//!   `413 {"code": "PAYLOAD_TOO_LARGE", ...}`.
//! - At most [`DEFAULT_MAX_CONNECTIONS`] connections are served at once
//!   ([`EmulatorBuilder::max_connections`]); further clients wait in the listen backlog.
//! - A connection must send its request headers within [`DEFAULT_HEADER_READ_TIMEOUT`]
//!   of the accept (or of its previous answer), else it is closed
//!   ([`EmulatorBuilder::header_read_timeout`]); this also closes connections that never
//!   send a byte.
//! - When `accept` fails (for example too many open files), the server pauses, doubling
//!   from 10 ms up to 1 s, and logs one warning per run of failures.
//! - Write bodies are parsed and validated before the write lock is taken; the limits
//!   on one request (batch size, error-list size, name lengths) are listed in [`world`].
//! - A panic inside a handler is caught: the client gets
//!   `500 {"code": "INTERNAL_ERROR", ...}` and the server keeps serving.
//! - Every response body is JSON (`content-type: application/json`).
//! - One `tracing` debug event per request: method, path, status, microseconds
//!   (never headers, so never tokens).
//!
//! # Globus Auth
//!
//! On the same port (rules in the `world` module's Auth part):
//!
//! | method | path | what |
//! | --- | --- | --- |
//! | GET | `/.well-known/openid-configuration` | OIDC discovery; `issuer` is the emulator's base URL as the client addressed it (no trailing slash), signing algorithm `RS512` |
//! | GET | `/jwk.json` | the JWKS: one RSA key, generated once per process at first use |
//! | GET, POST | `/v2/oauth2/authorize` | an HTML page where the tester picks an identity (or types a username) and allows or denies; the form posts back and gets a 302 to the redirect URI with `code` (or `error=access_denied`) and `state` |
//! | GET | `/v2/web/auth-code` | the page that shows the code (the default redirect of native clients) |
//! | POST | `/v2/oauth2/token` | `authorization_code` (PKCE S256), `refresh_token` (rotating), `client_credentials`, `urn:globus:auth:grant_type:dependent_token` (a JSON array) |
//! | POST | `/v2/oauth2/token/revoke`, `/introspect`, `/validate` | revoke (always `{"active": false}`), introspect (a confidential client's Basic auth), validate |
//! | GET, POST | `/v2/oauth2/userinfo` | the identity of a token with `openid` |
//! | GET | `/v2/api/identities` | `ids=` or `usernames=` (comma-separated, at most 100), request order, unknown ones absent, `provision=true` creates `unused` identities |
//! | POST | `/v2/api/clients` | a confidential client from a template: `{"client": {...}, "included": {"client_credential": {"secret": ...}}}` |
//!
//! OAuth2 refusals are `{"error", "error_description"}`: `invalid_grant` 400,
//! `invalid_client` 401, `unsupported_grant_type` 400, `invalid_scope` 400,
//! `invalid_request` 400 (also for a form body above 64 KiB or more than 100 parameters).
//! Issued access tokens work on the Groups endpoints with their scopes; once expired (on
//! the emulator's clock) or revoked they get 401 `INVALID_TOKEN`, strict tokens or not.
//! Clients come from the seed ([`world::SeedClient`]); without
//! [`EmulatorBuilder::strict_clients`] (`--strict-clients`, or the seed's
//! `strict_clients`), an unknown client id is accepted with any secret and acts as its
//! own identity. Token values, codes and secrets are random and never logged or stored:
//! the world keeps one-way fingerprints.
//!
//! ## Consent and session demands
//!
//! A resource server may want more than a valid token: consent to a scope the token
//! lacks, or a login session with a given identity, identity domain, MFA, or one not
//! older than a timeout. [`EmulatorBuilder::auth_demand`],
//! [`Emulator::set_auth_demand`] or `PUT /_emulator/auth/demand` set such a demand
//! ([`world::AuthDemand`]) for every Groups call:
//!
//! ```json
//! {"required_scopes": ["urn:globus:auth:scope:groups.api.globus.org:all"],
//!  "session_required_identities": ["alice@example.org"], "session_required_mfa": true,
//!  "session_timeout_secs": 3600, "session_message": "log in again with MFA"}
//! ```
//!
//! A token that only lacks a scope gets 403 `{"code": "ConsentRequired", "detail",
//! "required_scopes", "authorization_parameters": {"required_scopes", "session_message"}}`;
//! one whose session falls short gets 401 `{"code": "AuthorizationRequired", "detail",
//! "authorization_parameters": {...}}` with what a new login must satisfy:
//! `session_required_identities`, `session_required_single_domain`,
//! `session_required_mfa`, `prompt: "login"` (a session older than the timeout),
//! `required_scopes`, `session_message`. The authorize request of that new login
//! carries them: its page then lists only the required identities (another one is sent
//! back with `access_denied`), `session_required_mfa=True` makes it an MFA login, and
//! the scopes asked for are consented. Tokens issued from that code (and refreshed from
//! it) carry its session: the identity, the login time and the MFA flag. Tokens without
//! a login (client credentials, dependent tokens, seeded or default tokens) never meet a
//! session requirement.
//!
//! # Durability
//!
//! With a state file ([`EmulatorBuilder::state_file`], `--state FILE`), every write that
//! changes the world is saved before its response is sent, and its cost is the size of
//! the change, not of the world: the change (the records it touched, with their new
//! values) is appended to a journal beside the file (`FILE.journal.N`), framed with its
//! length and a CRC-32, and the journal is synced (fdatasync) before the answer. The
//! state file itself is a snapshot, only ever replaced by an atomic rename of a fully
//! written and synced temporary file, so it always parses. When the journal grows past
//! the larger of 8 MiB and the snapshot's size ([`EmulatorBuilder::compact_after`],
//! `--compact-after`), a background thread folds it into a new snapshot and starts a
//! new journal; the old journal is deleted only after the new snapshot is in place, so a
//! crash at any moment of a compaction leaves either the old snapshot and every journal
//! after it, or the new one. A start loads the snapshot, replays the journals after it
//! (a torn last record, a write the crash cut short and never acknowledged, fails its
//! checksum and is dropped), checks the world's invariants, writes a fresh snapshot and
//! removes the temporary files of crashed runs. An emulator killed at any moment
//! restarts from the last acknowledged write. If saving fails, the change is undone
//! record by record and the client gets `500 {"code": "PERSISTENCE_ERROR"}`. A state
//! file that exists but cannot be read or parsed, or a journal that replays to an
//! invalid world, stops the start with an error; nothing is silently replaced.
//!
//! Why a journal rather than SQLite: the world is an in-memory model that the rules
//! engine reads on every request, so a database would only be its durability layer;
//! a journal of changed records keeps one JSON state format (the snapshot is the
//! document `GET /_emulator/state` answers, readable and diffable), adds no native
//! dependency to a test tool, and rests on append, fsync and rename alone, whose
//! guarantees the kill -9 tests check directly. The Auth part of the world (clients,
//! codes, issued tokens) is journaled whole when it changes; its size is bounded by its
//! own limits.
//!
//! # Control plane
//!
//! Under `/_emulator/`, a prefix the real API never uses. Only loopback peers may call it
//! (others get 403, see [`control_plane_allowed`]); faults never apply to it; it needs
//! no token. All bodies are JSON.
//!
//! | method | path | body | answer |
//! | --- | --- | --- | --- |
//! | GET | `/_emulator/health` | | `{"status": "ok", "generation", "requests", "pending_faults", "durable", "open_connections", "accepted_connections"}` |
//! | POST | `/_emulator/reset` | | empties the world: `{"status": "ok"}` |
//! | POST | `/_emulator/seed` | a seed document ([`world::Seed`]) | applies it over the current world: `{"status": "ok"}`; 400 `INVALID_SEED` if refused, 422 `INVALID_JSON` if unparsable |
//! | GET | `/_emulator/invariants` | | the world's invariants checked now: `{"ok", "generation", "problems": [..]}` (for soak and kill tests) |
//! | GET | `/_emulator/state` | | the whole world as JSON |
//! | PUT | `/_emulator/state` | a document from `GET /_emulator/state` | replaces the world with it: `{"status": "ok"}`; 422 `INVALID_JSON` if unparsable or with a missing or unknown key, 400 `INVALID_STATE` if the world breaks an invariant (the checks of a seed: an active admin per group, existing parents, no parent cycle) |
//! | GET | `/_emulator/faults` | | `{"pending": [fault, ...]}` |
//! | POST | `/_emulator/faults` | one [`Fault`] or an array | adds the rules: `{"pending": [...]}`; 422 `INVALID_FAULT` / `INVALID_JSON` (also above 1000 pending rules, a path glob above 1024 bytes or a delay above 10 minutes) |
//! | DELETE | `/_emulator/faults` | | removes every rule: `{"pending": []}` |
//! | GET | `/_emulator/clock` | | `{"now", "now_rfc3339", "offset_secs"}`: the emulator's clock (token and code expiry, timestamps) |
//! | POST | `/_emulator/clock` | `{"advance_secs": N}` (0 to ten years) | moves the clock forward; answers as GET (422 `INVALID_JSON` otherwise). A reset does not move it back |
//! | GET | `/_emulator/auth/approve` | | `{"auto_approve": {"identity", "decision"} or null}` |
//! | PUT, POST | `/_emulator/auth/approve` | `{"identity": "<id or username>", "decision": "allow" or "deny"}` | the authorize endpoint answers at once with the 302 (a code for that identity, or `access_denied`) instead of its page, until DELETE |
//! | DELETE | `/_emulator/auth/approve` | | shows the page again: `{"auto_approve": null}` |
//! | GET | `/_emulator/auth/tokens` | | `{"now", "tokens": [{"fingerprint", "kind", "client_id", "identity", "scopes", "resource_server", "issued_at", "expires_at", "revoked", "active", "session"}]}` (never token values; `session` is `{"auth_time", "mfa"}` for tokens from a login, else null) |
//! | GET | `/_emulator/auth/demand` | | `{"demand": {...} or null}` |
//! | PUT, POST | `/_emulator/auth/demand` | a [`world::AuthDemand`] | the Groups endpoints demand it of every token from now on: `{"demand": {...}}`; 422 `INVALID_JSON` when unparsable or invalid (asks for nothing, an unknown scope, an entry too long) |
//! | DELETE | `/_emulator/auth/demand` | | drops the demand: `{"demand": null}`. A reset drops it too |
//!
//! Other methods on those paths get 405, other paths under the prefix 404.
//! The same operations exist in the library API: [`Emulator::reset`],
//! [`Emulator::load_seed`], [`Emulator::dump_state`], [`Emulator::inject`],
//! [`Emulator::clear_faults`], [`Emulator::with_world`], [`Emulator::advance_clock`],
//! [`Emulator::set_auto_approve`], [`Emulator::set_auth_demand`].
//!
//! Fault rule JSON (details on [`Fault`]):
//!
//! ```json
//! {"method": "POST", "path": "/v2/groups/*", "times": 1, "delay_ms": 100,
//!  "action": "status", "status": 503, "retry_after": 2}
//! {"action": "close"}
//! {"action": "html", "status": 502}
//! {"action": "truncate", "path": "/v2/groups/my_groups", "truncate_to": 10}
//! {"action": "delay", "delay_ms": 1500}
//! ```

mod clock;
mod control;
mod emulator;
mod faults;
mod keys;
mod persist;
mod server;
mod shared;
pub mod world;

pub use emulator::{
    DEFAULT_BACKLOG, DEFAULT_BODY_LIMIT, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    Emulator, EmulatorBuilder, EmulatorError,
};
pub use faults::{Fault, FaultAction};
pub use server::control_plane_allowed;
