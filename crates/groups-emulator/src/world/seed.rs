//! Seed documents: identities, tokens, groups with memberships, subscriptions.

use std::collections::BTreeMap;
use std::fmt;

use groups_types::{
    GroupId, GroupMemberVisibility, GroupRequiredSignupFields, GroupRole, GroupType,
    GroupVisibility, IdentityId, MembershipStatus, SubscriptionId,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ids::{default_username, token_fingerprint};
use super::oauth::ClientRec;
use super::state::{
    ConnectorRec, GroupRec, IdentityRec, MembershipRec, SIGNUP_FIELDS, SubscriptionRec, TokenRec,
};
use super::store::World;
use super::types::SCOPE_ALL;
use super::vocab::{MemberVisibility, Role, Status, Visibility};

/// A seed document: state to load into a [`World`] (on top of what it holds;
/// records with the same id are replaced).
///
/// Every list and most fields are optional. JSON format:
///
/// ```
/// use groups_emulator::world::{Seed, World};
///
/// let seed: Seed = serde_json::from_str(r#"{
///   "identities": [
///     {"id": "00000000-0000-4000-8000-000000000001", "username": "alice@example.org",
///      "linked": ["00000000-0000-4000-8000-000000000002"]},
///     {"id": "00000000-0000-4000-8000-000000000002", "username": "alice@gmail.example"},
///     {"id": "00000000-0000-4000-8000-000000000003", "username": "bob@example.org",
///      "allow_add": false}
///   ],
///   "tokens": [
///     {"token": "alice-token", "identity": "00000000-0000-4000-8000-000000000001"},
///     {"token": "bob-readonly", "identity": "00000000-0000-4000-8000-000000000003",
///      "scopes": ["urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships"]}
///   ],
///   "groups": [
///     {"id": "00000000-0000-4000-8000-00000000a001", "name": "Lab",
///      "description": "The lab", "group_type": "plus",
///      "policies": {"group_visibility": "authenticated", "join_requests": true},
///      "memberships": [
///        {"identity_id": "00000000-0000-4000-8000-000000000001", "role": "admin"},
///        {"identity_id": "00000000-0000-4000-8000-000000000003", "status": "invited"}
///      ]},
///     {"id": "00000000-0000-4000-8000-00000000a002", "name": "Lab / students",
///      "parent_id": "00000000-0000-4000-8000-00000000a001",
///      "memberships": [{"identity_id": "00000000-0000-4000-8000-000000000001", "role": "admin"}]}
///   ],
///   "subscriptions": [
///     {"id": "00000000-0000-4000-8000-00000000c001",
///      "group_id": "00000000-0000-4000-8000-00000000a001",
///      "name": "Lab subscription", "subscriber_name": "Example University",
///      "is_high_assurance": true,
///      "connectors": {"052be037-7dda-4d20-b163-3077314dc3e6": {"is_ha": true, "is_baa": false}}}
///   ]
/// }"#).unwrap();
/// let mut world = World::new();
/// world.load_seed(seed).unwrap();
/// assert!(world.check_invariants().is_ok());
/// ```
///
/// Defaults: a token's `scopes` default to the `all` scope; a group's fields and
/// policies default to those of a newly created group (private, managers,
/// no join requests, not HA, timeout 28800, regular); `enforce_session` and
/// `session_limit` follow the policies unless given; a membership defaults to
/// role `member`, status `active`. Every group must end up with an active admin.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Seed {
    /// Identities (usernames, linked identities, preferences).
    pub identities: Vec<SeedIdentity>,
    /// Bearer tokens and what they stand for.
    pub tokens: Vec<SeedToken>,
    /// Groups and their memberships (parents may come after children).
    pub groups: Vec<SeedGroup>,
    /// Subscriptions and the groups that provide them.
    pub subscriptions: Vec<SeedSubscription>,
    /// OAuth2 clients of the emulated Globus Auth.
    pub clients: Vec<SeedClient>,
    /// When true, the emulated Auth accepts only the declared clients and secrets
    /// (the same as the `strict_clients` policy). Absent leaves the world's setting.
    pub strict_clients: Option<bool>,
}

/// An OAuth2 client of a seed. Its `Debug` never shows the secret.
///
/// ```
/// use groups_emulator::world::{Seed, World};
///
/// let seed: Seed = serde_json::from_str(r#"{
///   "clients": [
///     {"id": "6a3bd9e8-0000-4000-8000-000000000001", "client_type": "confidential",
///      "secret": "s3cret", "identity": "00000000-0000-4000-8000-000000000001"},
///     {"id": "6a3bd9e8-0000-4000-8000-000000000002", "client_type": "native",
///      "redirect_uris": ["http://127.0.0.1:8080/callback"]}
///   ],
///   "strict_clients": true
/// }"#).unwrap();
/// let mut world = World::new();
/// world.load_seed(seed).unwrap();
/// ```
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedClient {
    /// The client id (a UUID in Globus; any non-empty string without whitespace here).
    pub id: String,
    /// `native` or `confidential` (default: confidential when a secret is given, else native).
    #[serde(default)]
    pub client_type: Option<SeedClientType>,
    /// The secret of a confidential client.
    #[serde(default)]
    pub secret: Option<String>,
    /// Allowed redirect URIs (for a native client, a loopback one allows any port).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// The identity the client acts as under client credentials (default: its own).
    #[serde(default)]
    pub identity: Option<IdentityId>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
}

impl fmt::Debug for SeedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeedClient")
            .field("id", &self.id)
            .field("client_type", &self.client_type)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("redirect_uris", &self.redirect_uris)
            .field("identity", &self.identity)
            .field("name", &self.name)
            .finish()
    }
}

/// The kind of a seeded OAuth2 client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedClientType {
    /// A public client (no secret; PKCE).
    Native,
    /// A client with a secret (HTTP Basic).
    Confidential,
}

/// An identity of a seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedIdentity {
    /// Identity id.
    pub id: IdentityId,
    /// Username (default `user-<8 hex>@emulator.globus.local`).
    #[serde(default)]
    pub username: Option<String>,
    /// Identities linked to this one (the identity set is the transitive closure).
    #[serde(default)]
    pub linked: Vec<IdentityId>,
    /// The `allow_add` preference (unset allows).
    #[serde(default)]
    pub allow_add: Option<bool>,
    /// Display name (Auth's `name`).
    #[serde(default)]
    pub name: Option<String>,
    /// Email address (Auth's `email`).
    #[serde(default)]
    pub email: Option<String>,
    /// Organization (Auth's `organization`).
    #[serde(default)]
    pub organization: Option<String>,
}

/// A token of a seed. Its `Debug` never shows the token.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedToken {
    /// The bearer token string.
    pub token: String,
    /// The effective identity; the caller is this identity's whole set.
    pub identity: IdentityId,
    /// Scopes (default: the `all` scope).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
}

impl fmt::Debug for SeedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeedToken")
            .field("token", &"<redacted>")
            .field("identity", &self.identity)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Policies of a seeded group; absent fields take the create defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedPolicies {
    /// `is_high_assurance` (default false).
    pub is_high_assurance: Option<bool>,
    /// `authentication_assurance_timeout` (default 28800; explicit null keeps null).
    #[serde(with = "double_option", skip_serializing_if = "Option::is_none")]
    pub authentication_assurance_timeout: Option<Option<i64>>,
    /// `group_visibility` (default private).
    pub group_visibility: Option<GroupVisibility>,
    /// `group_members_visibility` (default managers).
    pub group_members_visibility: Option<GroupMemberVisibility>,
    /// `join_requests` (default false).
    pub join_requests: Option<bool>,
    /// `signup_fields` (default empty).
    pub signup_fields: Option<Vec<GroupRequiredSignupFields>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(
        v: &Option<Option<i64>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<i64>>, D::Error> {
        Option::<i64>::deserialize(d).map(Some)
    }
}

/// A group of a seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedGroup {
    /// Group id (default: the next deterministic id).
    #[serde(default)]
    pub id: Option<GroupId>,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Terms and conditions.
    #[serde(default)]
    pub terms_and_conditions: Option<String>,
    /// Parent group (must exist in the world or the seed).
    #[serde(default)]
    pub parent_id: Option<GroupId>,
    /// `regular` (default) or `plus`.
    #[serde(default)]
    pub group_type: Option<GroupType>,
    /// Default: `policies.is_high_assurance`.
    #[serde(default)]
    pub enforce_session: Option<bool>,
    /// Default: `policies.authentication_assurance_timeout`.
    #[serde(default)]
    pub session_limit: Option<i64>,
    /// Policies over the defaults.
    #[serde(default)]
    pub policies: SeedPolicies,
    /// The subscription whose admins verified this group.
    #[serde(default)]
    pub subscription_admin_verified_id: Option<SubscriptionId>,
    /// Memberships (at most one per identity).
    #[serde(default)]
    pub memberships: Vec<SeedMembership>,
}

/// A membership of a seeded group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedMembership {
    /// The member.
    pub identity_id: IdentityId,
    /// Role (default member).
    #[serde(default)]
    pub role: GroupRole,
    /// Status (default active).
    #[serde(default)]
    pub status: MembershipStatus,
    /// `status_reason`.
    #[serde(default)]
    pub status_reason: Option<String>,
    /// `invite_email_address`.
    #[serde(default)]
    pub invite_email_address: Option<String>,
    /// `updated` timestamp.
    #[serde(default)]
    pub updated: Option<String>,
    /// `invite_time` timestamp.
    #[serde(default)]
    pub invite_time: Option<String>,
    /// Free-form `membership_fields`.
    #[serde(default)]
    pub membership_fields: Map<String, Value>,
}

/// A subscription of a seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedSubscription {
    /// Subscription id.
    pub id: SubscriptionId,
    /// The group that provides it (its admins are the subscription admins).
    pub group_id: GroupId,
    /// Subscription name (not shown by `GET /v2/subscription_info/{id}`).
    #[serde(default)]
    pub name: String,
    /// Subscriber name (not shown by `GET /v2/subscription_info/{id}`).
    #[serde(default)]
    pub subscriber_name: String,
    /// High assurance.
    #[serde(default)]
    pub is_high_assurance: bool,
    /// BAA.
    #[serde(default)]
    pub is_baa: bool,
    /// Connectors by id.
    #[serde(default)]
    pub connectors: BTreeMap<String, SeedConnector>,
}

/// `ConnectorSubscriptionInfo` of a seeded subscription.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedConnector {
    /// High assurance.
    pub is_ha: bool,
    /// BAA.
    pub is_baa: bool,
}

/// Why a seed was refused (the world is left unchanged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedError(pub String);

impl fmt::Display for SeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid seed: {}", self.0)
    }
}

impl std::error::Error for SeedError {}

fn err<T>(msg: String) -> Result<T, SeedError> {
    Err(SeedError(msg))
}

impl World {
    /// Apply a seed document atomically: on error nothing changes. The result must meet
    /// [`World::check_invariants`] (every group has an active admin, parents exist and
    /// no group is its own ancestor, ...), the same check a state document passes.
    pub fn load_seed(&mut self, seed: Seed) -> Result<(), SeedError> {
        let mut w = self.clone();
        w.apply_seed(seed)?;
        w.rebuild();
        if let Err(errs) = w.check_invariants() {
            return err(errs.join("; "));
        }
        w.touch();
        *self = w;
        Ok(())
    }

    fn apply_seed(&mut self, seed: Seed) -> Result<(), SeedError> {
        for i in seed.identities {
            let rec = self
                .identities
                .entry(i.id)
                .or_insert_with(|| IdentityRec::new(default_username(&i.id)));
            if let Some(u) = i.username {
                rec.username = u;
            }
            if i.allow_add.is_some() {
                rec.allow_add = i.allow_add;
            }
            if i.name.is_some() {
                rec.name = i.name;
            }
            if i.email.is_some() {
                rec.email = i.email;
            }
            if i.organization.is_some() {
                rec.organization = i.organization;
            }
            for l in &i.linked {
                if !rec.links.contains(l) && *l != i.id {
                    rec.links.push(*l);
                }
            }
            for l in i.linked {
                self.ensure_identity(l);
            }
        }
        for t in seed.tokens {
            if t.token.trim().is_empty() || t.token.chars().any(char::is_whitespace) {
                return err("a token is empty or contains whitespace".to_owned());
            }
            self.ensure_identity(t.identity);
            self.tokens.insert(
                token_fingerprint(&t.token),
                TokenRec {
                    identity: t.identity,
                    scopes: t.scopes.unwrap_or_else(|| vec![SCOPE_ALL.to_owned()]),
                },
            );
        }
        self.apply_seed_clients(seed.clients)?;
        if let Some(strict) = seed.strict_clients {
            self.auth.strict_clients = strict;
        }
        for sg in seed.groups {
            let gid = match sg.id {
                Some(id) => id,
                None => self.next_group_id(),
            };
            let mut g = GroupRec::new(sg.name);
            g.description = sg.description;
            g.terms_and_conditions = sg.terms_and_conditions;
            g.parent_id = sg.parent_id;
            match sg.group_type {
                None => {}
                Some(GroupType::Regular) => g.group_type = "regular".to_owned(),
                Some(GroupType::Plus) => g.group_type = "plus".to_owned(),
                Some(other) => return err(format!("group {gid}: unknown group_type {other}")),
            }
            let p = sg.policies;
            if let Some(b) = p.is_high_assurance {
                g.policies.is_high_assurance = b;
            }
            if let Some(t) = p.authentication_assurance_timeout {
                g.policies.authentication_assurance_timeout = t;
            }
            if let Some(vis) = p.group_visibility {
                g.policies.group_visibility = Visibility::parse(vis.as_str())
                    .ok_or_else(|| SeedError(format!("group {gid}: bad group_visibility {vis}")))?;
            }
            if let Some(vis) = p.group_members_visibility {
                g.policies.group_members_visibility = MemberVisibility::parse(vis.as_str())
                    .ok_or_else(|| {
                        SeedError(format!("group {gid}: bad group_members_visibility {vis}"))
                    })?;
            }
            if let Some(b) = p.join_requests {
                g.policies.join_requests = b;
            }
            if let Some(fields) = p.signup_fields {
                let mut out = Vec::new();
                for f in fields {
                    if !SIGNUP_FIELDS.contains(&f.as_str()) {
                        return err(format!("group {gid}: bad signup field {f}"));
                    }
                    out.push(f.as_str().to_owned());
                }
                g.policies.signup_fields = out;
            }
            g.mirror_session();
            if let Some(e) = sg.enforce_session {
                g.enforce_session = e;
            }
            if sg.session_limit.is_some() {
                g.session_limit = sg.session_limit;
            }
            g.subscription_admin_verified_id = sg.subscription_admin_verified_id;
            for m in sg.memberships {
                let role = Role::parse(m.role.as_str())
                    .ok_or_else(|| SeedError(format!("group {gid}: bad role {}", m.role)))?;
                let status = Status::parse(m.status.as_str())
                    .ok_or_else(|| SeedError(format!("group {gid}: bad status {}", m.status)))?;
                let mut rec = MembershipRec::new(role, status);
                rec.status_reason = m.status_reason;
                rec.invite_email_address = m.invite_email_address;
                rec.updated = m.updated;
                rec.invite_time = m.invite_time;
                rec.membership_fields = m.membership_fields;
                if g.memberships.insert(m.identity_id, rec).is_some() {
                    return err(format!(
                        "group {gid}: identity {} listed twice",
                        m.identity_id
                    ));
                }
            }
            self.groups.insert(gid, g);
        }
        for s in seed.subscriptions {
            if !self.groups.contains_key(&s.group_id) {
                return err(format!(
                    "subscription {}: group {} does not exist",
                    s.id, s.group_id
                ));
            }
            // one subscription per group: drop any older mapping of that group
            self.subscriptions
                .retain(|_, old| old.group_id != s.group_id);
            self.subscriptions.insert(
                s.id,
                SubscriptionRec {
                    group_id: s.group_id,
                    name: s.name,
                    subscriber_name: s.subscriber_name,
                    is_high_assurance: s.is_high_assurance,
                    is_baa: s.is_baa,
                    connectors: s
                        .connectors
                        .into_iter()
                        .map(|(k, c)| {
                            (
                                k,
                                ConnectorRec {
                                    is_ha: c.is_ha,
                                    is_baa: c.is_baa,
                                },
                            )
                        })
                        .collect(),
                },
            );
        }
        Ok(())
    }
}

impl World {
    fn apply_seed_clients(&mut self, clients: Vec<SeedClient>) -> Result<(), SeedError> {
        for c in clients {
            if c.id.is_empty() || c.id.len() > 256 || c.id.chars().any(char::is_whitespace) {
                return err("a client id is empty, too long or contains whitespace".to_owned());
            }
            let confidential = match c.client_type {
                Some(SeedClientType::Confidential) => true,
                Some(SeedClientType::Native) => false,
                None => c.secret.is_some(),
            };
            if confidential && c.secret.as_deref().is_none_or(str::is_empty) {
                return err(format!(
                    "client {}: a confidential client needs a secret",
                    c.id
                ));
            }
            if !confidential && c.secret.is_some() {
                return err(format!("client {}: a native client has no secret", c.id));
            }
            if let Some(uri) = c
                .redirect_uris
                .iter()
                .find(|u| !(u.starts_with("http://") || u.starts_with("https://")))
            {
                return err(format!(
                    "client {}: redirect URI {uri:?} is not http(s)",
                    c.id
                ));
            }
            if let Some(id) = c.identity {
                self.ensure_identity(id);
            }
            self.auth.clients.insert(
                c.id,
                ClientRec {
                    confidential,
                    secret_fingerprint: c.secret.as_deref().map(token_fingerprint),
                    redirect_uris: c.redirect_uris,
                    identity: c.identity,
                    name: c.name.unwrap_or_default(),
                },
            );
        }
        Ok(())
    }
}
