//! Internal records of the world: group and membership records with maintained
//! counters, identities, tokens, subscriptions, and the derived indexes. Every record
//! refuses unknown keys when deserialized, so a misspelt state document is an error.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use groups_types::{GroupId, IdentityId, SubscriptionId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::tracked::{Tracked, Undo};
use super::vocab::{MemberVisibility, Role, Status, Visibility};

/// `SignupFieldsEnum` values.
pub(super) const SIGNUP_FIELDS: &[&str] = &[
    "institution",
    "current_project_name",
    "address",
    "city",
    "state",
    "country",
    "address1",
    "address2",
    "zip",
    "phone",
    "department",
    "field_of_science",
];

/// The 15 keys of `MembershipFields`.
pub(super) const MEMBERSHIP_FIELD_KEYS: &[&str] = &[
    "first_name",
    "last_name",
    "organization",
    "institution",
    "current_project_name",
    "address",
    "city",
    "state",
    "country",
    "address1",
    "address2",
    "zip",
    "phone",
    "department",
    "field_of_science",
];

/// Default `authentication_assurance_timeout` / `session_limit` (seconds).
pub(super) const DEFAULT_TIMEOUT: i64 = 28_800;

/// The six policy keys of a group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Policies {
    pub(super) is_high_assurance: bool,
    pub(super) authentication_assurance_timeout: Option<i64>,
    pub(super) group_visibility: Visibility,
    pub(super) group_members_visibility: MemberVisibility,
    pub(super) join_requests: bool,
    pub(super) signup_fields: Vec<String>,
}

impl Default for Policies {
    fn default() -> Self {
        Policies {
            is_high_assurance: false,
            authentication_assurance_timeout: Some(DEFAULT_TIMEOUT),
            group_visibility: Visibility::Private,
            group_members_visibility: MemberVisibility::Managers,
            join_requests: false,
            signup_fields: Vec::new(),
        }
    }
}

/// One membership (the key, the identity id, lives in the group's map).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MembershipRec {
    pub(super) role: Role,
    pub(super) status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) status_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) invite_email_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) updated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) invite_time: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub(super) membership_fields: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) source_group_id: Option<GroupId>,
}

impl MembershipRec {
    pub(super) fn new(role: Role, status: Status) -> Self {
        MembershipRec {
            role,
            status,
            status_reason: None,
            invite_email_address: None,
            updated: None,
            invite_time: None,
            membership_fields: Map::new(),
            source_group_id: None,
        }
    }

    fn is_active_admin(&self) -> bool {
        self.status == Status::Active && self.role == Role::Admin
    }
}

/// One group with its memberships and maintained counters.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GroupRec {
    pub(super) name: String,
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) terms_and_conditions: Option<String>,
    pub(super) group_type: String,
    #[serde(default)]
    pub(super) parent_id: Option<GroupId>,
    pub(super) enforce_session: bool,
    #[serde(default)]
    pub(super) session_limit: Option<i64>,
    pub(super) policies: Policies,
    #[serde(default)]
    pub(super) subscription_admin_verified_id: Option<SubscriptionId>,
    /// Memberships keyed (and listed) by identity id.
    #[serde(default)]
    pub(super) memberships: Tracked<IdentityId, MembershipRec>,
    /// Derived: direct subgroups.
    #[serde(skip)]
    pub(super) children: BTreeSet<GroupId>,
    /// Derived: number of memberships per status (index = `Status::index`).
    #[serde(skip)]
    pub(super) counts: [u64; Status::COUNT],
    /// Derived: number of active admins.
    #[serde(skip)]
    pub(super) active_admins: u64,
}

impl GroupRec {
    pub(super) fn new(name: String) -> Self {
        let policies = Policies::default();
        GroupRec {
            name,
            description: None,
            terms_and_conditions: None,
            group_type: "regular".to_owned(),
            parent_id: None,
            enforce_session: policies.is_high_assurance,
            session_limit: policies.authentication_assurance_timeout,
            policies,
            subscription_admin_verified_id: None,
            memberships: Tracked::default(),
            children: BTreeSet::new(),
            counts: [0; Status::COUNT],
            active_admins: 0,
        }
    }

    fn count_in(&mut self, m: &MembershipRec) {
        self.counts[m.status.index()] += 1;
        if m.is_active_admin() {
            self.active_admins += 1;
        }
    }

    fn count_out(&mut self, m: &MembershipRec) {
        let c = &mut self.counts[m.status.index()];
        *c = c.saturating_sub(1);
        if m.is_active_admin() {
            self.active_admins = self.active_admins.saturating_sub(1);
        }
    }

    /// Insert or replace a membership, keeping the counters. Returns true when
    /// the identity had no record in this group before.
    pub(super) fn upsert(&mut self, id: IdentityId, rec: MembershipRec) -> bool {
        self.count_in(&rec);
        match self.memberships.insert(id, rec) {
            Some(old) => {
                self.count_out(&old);
                false
            }
            None => true,
        }
    }

    /// Change an existing membership in place, keeping the counters.
    pub(super) fn modify(&mut self, id: IdentityId, f: impl FnOnce(&mut MembershipRec)) {
        let Some(mut rec) = self.memberships.remove(&id) else {
            return;
        };
        self.count_out(&rec);
        f(&mut rec);
        self.count_in(&rec);
        self.memberships.insert(id, rec);
    }

    /// Recompute the counters from the memberships.
    pub(super) fn recount(&mut self) {
        let (counts, admins) = self.tally();
        self.counts = counts;
        self.active_admins = admins;
    }

    pub(super) fn tally(&self) -> ([u64; Status::COUNT], u64) {
        let mut counts = [0u64; Status::COUNT];
        let mut admins = 0;
        for m in self.memberships.values() {
            counts[m.status.index()] += 1;
            if m.is_active_admin() {
                admins += 1;
            }
        }
        (counts, admins)
    }

    /// The highest role among the active memberships of `ids`.
    pub(super) fn best_role(&self, ids: &[IdentityId]) -> Option<Role> {
        ids.iter()
            .filter_map(|id| self.memberships.get(id))
            .filter(|m| m.status == Status::Active)
            .map(|m| m.role)
            .max()
    }

    /// Whether a caller with identities `ids` may see this group.
    pub(super) fn visible_to(&self, ids: &[IdentityId]) -> bool {
        self.policies.group_visibility == Visibility::Authenticated
            || ids.iter().any(|id| {
                self.memberships
                    .get(id)
                    .is_some_and(|m| m.status.grants_visibility())
            })
    }

    /// Whether a caller with identities `ids` may see every membership.
    pub(super) fn members_visible_to(&self, ids: &[IdentityId]) -> bool {
        match self.best_role(ids) {
            Some(Role::Admin | Role::Manager) => true,
            Some(Role::Member) => {
                self.policies.group_members_visibility == MemberVisibility::Members
            }
            None => false,
        }
    }

    /// Whether direct `join` is open (authenticated-visible and not high assurance, the
    /// emulator's guess at the service's join policy).
    pub(super) fn join_open(&self) -> bool {
        self.policies.group_visibility == Visibility::Authenticated
            && !self.policies.is_high_assurance
    }

    /// Keep `enforce_session` / `session_limit` in step with the policies.
    pub(super) fn mirror_session(&mut self) {
        self.enforce_session = self.policies.is_high_assurance;
        self.session_limit = self.policies.authentication_assurance_timeout;
    }
}

/// A group without its memberships: what the journal saves of a group changed in
/// place (its memberships are saved one by one), and what an undo restores.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GroupMeta {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    terms_and_conditions: Option<String>,
    group_type: String,
    #[serde(default)]
    parent_id: Option<GroupId>,
    enforce_session: bool,
    #[serde(default)]
    session_limit: Option<i64>,
    policies: Policies,
    #[serde(default)]
    subscription_admin_verified_id: Option<SubscriptionId>,
}

impl GroupRec {
    /// Everything saved of the group except its memberships.
    pub(super) fn meta(&self) -> GroupMeta {
        GroupMeta {
            name: self.name.clone(),
            description: self.description.clone(),
            terms_and_conditions: self.terms_and_conditions.clone(),
            group_type: self.group_type.clone(),
            parent_id: self.parent_id,
            enforce_session: self.enforce_session,
            session_limit: self.session_limit,
            policies: self.policies.clone(),
            subscription_admin_verified_id: self.subscription_admin_verified_id,
        }
    }

    /// Set everything saved of the group except its memberships.
    pub(super) fn set_meta(&mut self, m: GroupMeta) {
        self.name = m.name;
        self.description = m.description;
        self.terms_and_conditions = m.terms_and_conditions;
        self.group_type = m.group_type;
        self.parent_id = m.parent_id;
        self.enforce_session = m.enforce_session;
        self.session_limit = m.session_limit;
        self.policies = m.policies;
        self.subscription_admin_verified_id = m.subscription_admin_verified_id;
    }
}

/// A group changed in place keeps its fields and undoes its memberships one by one (a
/// one-member change never copies the whole group). Derived counters are recomputed
/// after an undo.
impl Undo for GroupRec {
    type Before = GroupMeta;
    fn before(&self) -> GroupMeta {
        self.meta()
    }
    fn restore(&mut self, before: GroupMeta) {
        self.set_meta(before);
        self.memberships.undo();
    }
    fn settle(&mut self) {
        self.memberships.settle();
    }
}

/// Small records are kept whole before a change.
macro_rules! undo_by_copy {
    ($($t:ty),*) => {$(
        impl Undo for $t {
            type Before = $t;
            fn before(&self) -> $t {
                self.clone()
            }
            fn restore(&mut self, before: $t) {
                *self = before;
            }
        }
    )*};
}
undo_by_copy!(MembershipRec, IdentityRec, TokenRec, SubscriptionRec);

/// One identity of the registry.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct IdentityRec {
    pub(super) username: String,
    /// The `allow_add` preference; `None` = unset (treated as allowed).
    #[serde(default)]
    pub(super) allow_add: Option<bool>,
    /// Declared links to other identities (symmetric; closure computed on rebuild).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) links: Vec<IdentityId>,
    /// Display name (Auth's `name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<String>,
    /// Email address (Auth's `email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) email: Option<String>,
    /// Organization (Auth's `organization`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) organization: Option<String>,
    /// True for an identity created by an identities lookup with `provision=true`
    /// (status `unused` until it logs in).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(super) unused: bool,
    /// True for the identity of an OAuth client (identity type `client`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(super) client: bool,
}

impl IdentityRec {
    /// A plain login identity with only a username.
    pub(super) fn new(username: String) -> Self {
        IdentityRec {
            username,
            ..IdentityRec::default()
        }
    }
}

/// A seeded token (keyed in the world by a one-way fingerprint, never the token).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenRec {
    pub(super) identity: IdentityId,
    pub(super) scopes: Vec<String>,
}

/// `ConnectorSubscriptionInfo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConnectorRec {
    pub(super) is_ha: bool,
    pub(super) is_baa: bool,
}

/// A subscription and the group that provides it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SubscriptionRec {
    pub(super) group_id: GroupId,
    pub(super) name: String,
    pub(super) subscriber_name: String,
    #[serde(default)]
    pub(super) is_high_assurance: bool,
    #[serde(default)]
    pub(super) is_baa: bool,
    #[serde(default)]
    pub(super) connectors: BTreeMap<String, ConnectorRec>,
}

/// Derived indexes, rebuilt from the persisted records.
#[derive(Clone, Debug, Default)]
pub(super) struct Indexes {
    /// identity -> groups where it holds a membership record (any status).
    pub(super) by_identity: HashMap<IdentityId, BTreeSet<GroupId>>,
    /// identity -> the other identities of its set (sorted).
    pub(super) linked: HashMap<IdentityId, Vec<IdentityId>>,
    /// group -> the subscription it provides.
    pub(super) subscription_of: HashMap<GroupId, SubscriptionId>,
}
