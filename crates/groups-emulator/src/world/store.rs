//! The world's records and their bookkeeping: the [`World`] struct, its persisted form,
//! the identity registry, and the rebuild of derived indexes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use groups_types::{GroupId, IdentityId, SubscriptionId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ids::{default_username, group_id_for_counter, identity_id_for_username};
use super::oauth::AuthState;
use super::state::{GroupRec, IdentityRec, Indexes, SubscriptionRec, TokenRec};
use super::tracked::{Tracked, Watched};
use super::vocab::Status;

/// Whole emulator state: identities, tokens, groups, memberships, preferences,
/// subscriptions, counters.
///
/// ```
/// use groups_emulator::world::{ApiRequest, Policy, World};
///
/// let mut world = World::new();
/// let policy = Policy::default();
/// let caller = world.authenticate(Some(b"Bearer alice"), &policy).unwrap();
/// let headers = http::HeaderMap::new();
/// let req = ApiRequest {
///     method: &http::Method::POST,
///     path: "/v2/groups",
///     query: None,
///     headers: &headers,
///     body: br#"{"name": "My group"}"#,
/// };
/// let resp = world.handle(&caller, &req, "2026-01-01T00:00:00+00:00", &policy);
/// assert_eq!(resp.status, 201);
/// assert!(world.check_invariants().is_ok());
/// ```
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(try_from = "WorldData")]
pub struct World {
    pub(super) identities: Tracked<IdentityId, IdentityRec>,
    /// Keyed by a one-way fingerprint of the token (UUIDv5/SHA-1), never the token.
    pub(super) tokens: Tracked<Uuid, TokenRec>,
    pub(super) groups: Tracked<GroupId, GroupRec>,
    pub(super) subscriptions: Tracked<SubscriptionId, SubscriptionRec>,
    pub(super) group_counter: u64,
    pub(super) generation: u64,
    /// Globus Auth: clients, codes and issued tokens (fingerprints only).
    pub(super) auth: Watched<AuthState>,
    #[serde(skip)]
    pub(super) idx: Indexes,
    /// The counters as last saved, and whether the state files hold this very world
    /// (see `journal.rs`).
    #[serde(skip)]
    pub(super) saved: super::journal::Saved,
}

/// The persisted part of [`World`]; deserializing goes through it to rebuild indexes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorldData {
    identities: BTreeMap<IdentityId, IdentityRec>,
    tokens: BTreeMap<Uuid, TokenRec>,
    groups: BTreeMap<GroupId, GroupRec>,
    subscriptions: BTreeMap<SubscriptionId, SubscriptionRec>,
    group_counter: u64,
    generation: u64,
    #[serde(default)]
    auth: AuthState,
}

impl TryFrom<WorldData> for World {
    type Error = String;

    /// Rebuild the indexes, then check the invariants a seed must meet too (see
    /// [`World::check_invariants`]): a state document is refused rather than loaded
    /// into a world the rules cannot work on.
    fn try_from(d: WorldData) -> Result<Self, String> {
        let mut w = World {
            identities: d.identities.into(),
            tokens: d.tokens.into(),
            groups: d.groups.into(),
            subscriptions: d.subscriptions.into(),
            group_counter: d.group_counter,
            generation: d.generation,
            auth: d.auth.into(),
            idx: Indexes::default(),
            saved: Default::default(),
        };
        w.rebuild();
        w.check_invariants().map_err(|errs| errs.join("; "))?;
        Ok(w)
    }
}

/// Why a state document was refused by [`World::from_state_json`].
#[derive(Debug)]
pub(crate) enum StateError {
    /// Not JSON, or not the shape of a state document (a wrong type, a missing or an
    /// unknown key).
    Parse(serde_json::Error),
    /// Well formed, but the world it describes breaks an invariant.
    Invalid(String),
}

impl World {
    /// Load a state document (as `Serialize` writes it), telling a malformed document
    /// from one that describes an invalid world.
    pub(crate) fn from_state_json(bytes: &[u8]) -> Result<World, StateError> {
        let data: WorldData = serde_json::from_slice(bytes).map_err(StateError::Parse)?;
        World::try_from(data).map_err(StateError::Invalid)
    }
}

impl fmt::Debug for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never prints tokens (not even their fingerprints).
        f.debug_struct("World")
            .field("identities", &self.identities.len())
            .field("tokens", &self.tokens.len())
            .field("groups", &self.groups.len())
            .field("subscriptions", &self.subscriptions.len())
            .field("auth_clients", &self.auth.clients.len())
            .field("issued_tokens", &self.auth.tokens.len())
            .field("generation", &self.generation)
            .finish()
    }
}

impl World {
    /// An empty world.
    pub fn new() -> Self {
        World::default()
    }

    /// Record a mutation.
    pub(super) fn touch(&mut self) {
        self.generation += 1;
    }

    /// Increases on every mutation (used to decide whether to persist).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The username of an identity (registered or synthesized).
    pub fn username(&self, id: &IdentityId) -> String {
        self.identities
            .get(id)
            .map(|r| r.username.clone())
            .unwrap_or_else(|| default_username(id))
    }

    /// Register an identity with a deterministic id derived from `username`
    /// ([`identity_id_for_username`]) and return the id.
    pub fn add_identity(&mut self, username: &str) -> IdentityId {
        let id = identity_id_for_username(username);
        self.identities
            .entry(id)
            .and_modify(|r| r.username = username.to_owned())
            .or_insert_with(|| IdentityRec::new(username.to_owned()));
        self.touch();
        id
    }

    /// Link two identities into one identity set (symmetric and transitive).
    pub fn link_identities(&mut self, a: IdentityId, b: IdentityId) {
        self.ensure_identity(a);
        self.ensure_identity(b);
        if a != b
            && let Some(r) = self.identities.get_mut(&a)
            && !r.links.contains(&b)
        {
            r.links.push(b);
        }
        self.rebuild_links();
        self.touch();
    }

    /// Set an identity's `allow_add` preference (`None` = unset, which allows).
    pub fn set_allow_add(&mut self, identity: IdentityId, allow_add: Option<bool>) {
        self.ensure_identity(identity);
        if let Some(r) = self.identities.get_mut(&identity) {
            r.allow_add = allow_add;
        }
        self.touch();
    }

    /// Register `id` with a default username unless it is known.
    pub(super) fn ensure_identity(&mut self, id: IdentityId) {
        self.identities
            .entry(id)
            .or_insert_with(|| IdentityRec::new(default_username(&id)));
    }

    /// Ids of every group, sorted.
    pub fn group_ids(&self) -> Vec<GroupId> {
        self.groups.keys().copied().collect()
    }

    /// The stored status counts of a group (as `GET /v2/groups/statuses` reports them).
    pub fn status_counts(&self, id: GroupId) -> Option<BTreeMap<&'static str, u64>> {
        let g = self.groups.get(&id)?;
        Some(
            Status::ALL
                .iter()
                .map(|s| (s.as_str(), g.counts[s.index()]))
                .collect(),
        )
    }

    /// Recompute every derived index and counter from the records.
    pub(super) fn rebuild(&mut self) {
        self.idx.by_identity.clear();
        self.idx.subscription_of.clear();
        let ids: Vec<GroupId> = self.groups.keys().copied().collect();
        // Derived fields only: nothing here is saved, so nothing is noted.
        for g in self.groups.values_mut_unsaved() {
            g.children.clear();
            g.recount();
        }
        for gid in &ids {
            let (parent, members): (Option<GroupId>, Vec<IdentityId>) = match self.groups.get(gid) {
                Some(g) => (g.parent_id, g.memberships.keys().copied().collect()),
                None => continue,
            };
            for m in members {
                self.idx.by_identity.entry(m).or_default().insert(*gid);
            }
            if let Some(p) = parent.and_then(|p| self.groups.get_mut_unsaved(&p)) {
                p.children.insert(*gid);
            }
        }
        for (sid, s) in self.subscriptions.iter() {
            self.idx.subscription_of.insert(s.group_id, *sid);
        }
        self.rebuild_links();
    }

    /// Compute identity sets as the connected components of the declared links.
    pub(super) fn rebuild_links(&mut self) {
        let mut adj: HashMap<IdentityId, Vec<IdentityId>> = HashMap::new();
        for (id, r) in &self.identities {
            for l in &r.links {
                adj.entry(*id).or_default().push(*l);
                adj.entry(*l).or_default().push(*id);
            }
        }
        let mut linked: HashMap<IdentityId, Vec<IdentityId>> = HashMap::new();
        let mut seen: BTreeSet<IdentityId> = BTreeSet::new();
        let starts: Vec<IdentityId> = adj.keys().copied().collect();
        for start in starts {
            if seen.contains(&start) {
                continue;
            }
            let mut comp = vec![start];
            seen.insert(start);
            let mut i = 0;
            while i < comp.len() {
                let cur = comp[i];
                i += 1;
                for n in adj.get(&cur).map(Vec::as_slice).unwrap_or(&[]) {
                    if seen.insert(*n) {
                        comp.push(*n);
                    }
                }
            }
            comp.sort();
            for id in &comp {
                linked.insert(*id, comp.iter().copied().filter(|o| o != id).collect());
            }
        }
        self.idx.linked = linked;
    }

    /// A fresh deterministic group id.
    pub(super) fn next_group_id(&mut self) -> GroupId {
        loop {
            self.group_counter += 1;
            let id = group_id_for_counter(self.group_counter);
            if !self.groups.contains_key(&id) {
                return id;
            }
        }
    }
}
