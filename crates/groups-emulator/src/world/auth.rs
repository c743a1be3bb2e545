//! Token handling: the `Authorization` header to a [`Caller`], seeded tokens, default
//! identities, scopes, and registering callers on their first successful write.

use groups_types::IdentityId;

use super::codes::ErrorCode;
use super::ids::{default_identity_for_token, default_username, token_fingerprint};
use super::resp;
use super::state::{IdentityRec, TokenRec};
use super::store::World;
use super::types::{ApiResponse, Caller, Policy, SCOPE_ALL, SCOPE_VIEW};

impl World {
    /// Map the `Authorization` header value to a [`Caller`].
    ///
    /// Missing or not `Bearer <token>` -> 401 `AUTHENTICATION_ERROR`. A token declared
    /// in a seed (or with [`World::add_token`]) maps to its identity set and scopes;
    /// any other token maps to [`default_identity_for_token`] with the `all` scope,
    /// unless `policy.strict_tokens`, which answers 401 `INVALID_TOKEN`.
    ///
    /// Tokens issued by the emulated Auth are judged at time 0 here (never expired);
    /// [`World::authenticate_at`] judges them on a clock.
    pub fn authenticate(
        &self,
        authorization: Option<&[u8]>,
        policy: &Policy,
    ) -> Result<Caller, ApiResponse> {
        self.authenticate_at(authorization, policy, 0)
    }

    /// Like [`World::authenticate`], at `now` (seconds since the epoch on the emulator's
    /// clock): an access token issued by the emulated Auth maps to its identity and
    /// scopes while it is active; once expired or revoked (or for a refresh token used
    /// as a bearer token) it answers 401 `INVALID_TOKEN`, strict tokens or not.
    pub fn authenticate_at(
        &self,
        authorization: Option<&[u8]>,
        policy: &Policy,
        now: u64,
    ) -> Result<Caller, ApiResponse> {
        let malformed = || {
            resp::auth_error(
                ErrorCode::AuthenticationError,
                "Authorization header missing or malformed; expected 'Bearer <token>'.",
            )
        };
        let raw = authorization.ok_or_else(malformed)?;
        let s = std::str::from_utf8(raw).map_err(|_| malformed())?.trim();
        let (scheme, token) = s.split_once(' ').ok_or_else(malformed)?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer")
            || token.is_empty()
            || token.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(malformed());
        }
        let (caller, session) = if let Some(t) = self.tokens.get(&token_fingerprint(token)) {
            (self.caller_with_scopes(t.identity, t.scopes.clone()), None)
        } else {
            match self.issued_for_groups(token, now) {
                Some(Ok(t)) => (
                    self.caller_with_scopes(t.identity, t.scopes.clone()),
                    t.session.as_ref(),
                ),
                Some(Err(())) => {
                    return Err(resp::auth_error(
                        ErrorCode::InvalidToken,
                        "The bearer token has expired or was revoked.",
                    ));
                }
                None if policy.strict_tokens => {
                    return Err(resp::auth_error(
                        ErrorCode::InvalidToken,
                        "The bearer token could not be validated.",
                    ));
                }
                None => (
                    self.caller_with_scopes(
                        default_identity_for_token(token),
                        vec![SCOPE_ALL.to_owned()],
                    ),
                    None,
                ),
            }
        };
        // A consent or session demand, when one is set, comes after the token is known.
        match self.demand_unmet(&caller, session, now) {
            Some(refusal) => Err(refusal),
            None => Ok(caller),
        }
    }

    /// The caller whose effective identity is `identity` (its whole identity set,
    /// all scopes). For tests that bypass tokens.
    pub fn caller_for(&self, identity: IdentityId) -> Caller {
        self.caller_with_scopes(identity, vec![SCOPE_ALL.to_owned()])
    }

    pub(super) fn caller_with_scopes(&self, primary: IdentityId, scopes: Vec<String>) -> Caller {
        let mut identities = vec![primary];
        if let Some(others) = self.idx.linked.get(&primary) {
            identities.extend(others.iter().copied().filter(|i| *i != primary));
        }
        Caller {
            primary,
            identities,
            scopes,
        }
    }

    /// 403 `INSUFFICIENT_SCOPE` when the token's scopes do not cover the request.
    pub(super) fn scope_check(
        &self,
        caller: &Caller,
        write: bool,
        policy: &Policy,
    ) -> Option<ApiResponse> {
        if !policy.enforce_scopes || caller.has_scope(SCOPE_ALL) {
            return None;
        }
        if !write && caller.has_scope(SCOPE_VIEW) {
            return None;
        }
        let detail = if write {
            "This operation requires the scope urn:globus:auth:scope:groups.api.globus.org:all."
        } else {
            "This operation requires a Groups scope."
        };
        Some(resp::forbidden(
            ErrorCode::InsufficientScope,
            detail,
            &caller.scopes,
        ))
    }

    /// Whether the token may see memberships (`manage` false: the `all` or the view
    /// scope) or manage them (`manage` true: the `all` scope). A group read leaves out
    /// the `include` parts the token may not see.
    pub(super) fn scope_allows(&self, caller: &Caller, manage: bool, policy: &Policy) -> bool {
        !policy.enforce_scopes
            || caller.has_scope(SCOPE_ALL)
            || (!manage && caller.has_scope(SCOPE_VIEW))
    }

    /// Register the caller's identities (known from now on, for `strict_identities`).
    pub(super) fn register_caller(&mut self, caller: &Caller) {
        let mut changed = false;
        for id in &caller.identities {
            if !self.identities.contains_key(id) {
                self.identities
                    .insert(*id, IdentityRec::new(default_username(id)));
                changed = true;
            }
        }
        if changed {
            self.touch();
        }
    }

    /// The identity a token stands for (seeded, or the default mapping, which is
    /// registered in the world by this call).
    pub fn identity_for_token(&mut self, token: &str) -> IdentityId {
        if let Some(t) = self.tokens.get(&token_fingerprint(token)) {
            return t.identity;
        }
        let id = default_identity_for_token(token);
        if let std::collections::btree_map::Entry::Vacant(e) = self.identities.entry(id) {
            e.insert(IdentityRec::new(default_username(&id)));
            self.touch();
        }
        id
    }

    /// Declare `token` as standing for `identity` (and its identity set) with `scopes`.
    pub fn add_token(&mut self, token: &str, identity: IdentityId, scopes: Vec<String>) {
        self.ensure_identity(identity);
        self.tokens
            .insert(token_fingerprint(token), TokenRec { identity, scopes });
        self.touch();
    }
}
