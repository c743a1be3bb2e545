//! Lean `Serialize` views that borrow from the state, so a group document is
//! written straight to JSON without building intermediate models.

use std::collections::{BTreeMap, BTreeSet};

use groups_types::{GroupId, IdentityId, SubscriptionId};
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Map, Value};

use super::ids::default_username;
use super::state::{GroupRec, MembershipRec, Policies, SubscriptionRec};
use super::store::World;
use super::vocab::{Role, Status, Verb};

/// Which optional parts to put in a group document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Include {
    pub(super) memberships: bool,
    pub(super) my_memberships: bool,
    pub(super) policies: bool,
    pub(super) allowed_actions: bool,
    pub(super) child_ids: bool,
    /// Skip the permission check on `memberships` (inspection only).
    pub(super) force_memberships: bool,
}

impl Include {
    pub(super) const NAMES: &'static [&'static str] = &[
        "memberships",
        "my_memberships",
        "policies",
        "allowed_actions",
        "child_ids",
    ];

    pub(super) const ALL_FOR_INSPECTION: Include = Include {
        memberships: true,
        my_memberships: false,
        policies: true,
        allowed_actions: false,
        child_ids: true,
        force_memberships: true,
    };

    /// Create/update/delete answers: the caller's memberships, short policies.
    pub(super) const WRITE_ANSWER: Include = Include {
        memberships: false,
        my_memberships: true,
        policies: false,
        allowed_actions: false,
        child_ids: false,
        force_memberships: false,
    };

    pub(super) fn set(&mut self, name: &str) {
        match name {
            "memberships" => self.memberships = true,
            "my_memberships" => self.my_memberships = true,
            "policies" => self.policies = true,
            "allowed_actions" => self.allowed_actions = true,
            "child_ids" => self.child_ids = true,
            _ => {}
        }
    }
}

/// `MembershipReadModel` (optional keys left out when unset, as in the recorded fixtures).
#[derive(Serialize)]
pub(super) struct MembershipOut<'a> {
    group_id: GroupId,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_group_id: Option<GroupId>,
    identity_id: IdentityId,
    username: UsernameOut<'a>,
    role: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invite_email_address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invite_time: Option<&'a str>,
    membership_fields: &'a Map<String, Value>,
}

/// A membership's username: the identity's, or the default one of an
/// identity known only by id (the same text as [`default_username`], made
/// on the stack: a large roster renders many of them).
pub(super) enum UsernameOut<'a> {
    /// The identity's username.
    Known(&'a str),
    /// `user-<first 8 hex digits of the id>@emulator.globus.local`.
    Default(IdentityId),
}

impl Serialize for UsernameOut<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            UsernameOut::Known(name) => serializer.serialize_str(name),
            UsernameOut::Default(id) => {
                const PREFIX: &[u8] = b"user-";
                const SUFFIX: &[u8] = b"@emulator.globus.local";
                let mut hex = [0u8; uuid::fmt::Simple::LENGTH];
                let hex = id.as_uuid().simple().encode_lower(&mut hex);
                let mut buf = [0u8; PREFIX.len() + 8 + SUFFIX.len()];
                buf[..PREFIX.len()].copy_from_slice(PREFIX);
                buf[PREFIX.len()..PREFIX.len() + 8].copy_from_slice(&hex.as_bytes()[..8]);
                buf[PREFIX.len() + 8..].copy_from_slice(SUFFIX);
                // Hex digits and ASCII text: always UTF-8.
                match std::str::from_utf8(&buf) {
                    Ok(name) => serializer.serialize_str(name),
                    Err(_) => serializer.serialize_str(&default_username(id)),
                }
            }
        }
    }
}

/// The six policy keys.
#[derive(Serialize)]
pub(super) struct PoliciesFull<'a> {
    is_high_assurance: bool,
    authentication_assurance_timeout: Option<i64>,
    group_visibility: &'static str,
    group_members_visibility: &'static str,
    join_requests: bool,
    signup_fields: &'a [String],
}

impl<'a> PoliciesFull<'a> {
    pub(super) fn of(p: &'a Policies) -> Self {
        PoliciesFull {
            is_high_assurance: p.is_high_assurance,
            authentication_assurance_timeout: p.authentication_assurance_timeout,
            group_visibility: p.group_visibility.as_str(),
            group_members_visibility: p.group_members_visibility.as_str(),
            join_requests: p.join_requests,
            signup_fields: &p.signup_fields,
        }
    }
}

/// The two visibility keys (the default embedded form, as in the SDK fixtures).
#[derive(Serialize)]
struct PoliciesShort {
    group_visibility: &'static str,
    group_members_visibility: &'static str,
}

#[derive(Serialize)]
#[serde(untagged)]
enum PolicyView<'a> {
    Full(PoliciesFull<'a>),
    Short(PoliciesShort),
}

/// An empty JSON object (`session_timeouts`: the emulator has no sessions).
struct EmptyObject;

impl Serialize for EmptyObject {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_map(Some(0))?.end()
    }
}

/// `ConnectorSubscriptionInfo` map entry.
#[derive(Serialize)]
struct ConnectorOut {
    is_ha: bool,
    is_baa: bool,
}

/// `SubscriptionModel` (full) or `SubscriptionModelLimited`.
#[derive(Serialize)]
pub(super) struct SubscriptionInfoOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subscriber_name: Option<&'a str>,
    is_high_assurance: bool,
    is_baa: bool,
    connectors: BTreeMap<&'a str, ConnectorOut>,
}

impl<'a> SubscriptionInfoOut<'a> {
    pub(super) fn of(s: &'a SubscriptionRec, full: bool) -> Self {
        SubscriptionInfoOut {
            name: full.then_some(s.name.as_str()),
            subscriber_name: full.then_some(s.subscriber_name.as_str()),
            is_high_assurance: s.is_high_assurance,
            is_baa: s.is_baa,
            connectors: s
                .connectors
                .iter()
                .map(|(k, c)| {
                    (
                        k.as_str(),
                        ConnectorOut {
                            is_ha: c.is_ha,
                            is_baa: c.is_baa,
                        },
                    )
                })
                .collect(),
        }
    }
}

/// `GroupReadModel`.
#[derive(Serialize)]
pub(super) struct GroupDoc<'a> {
    id: GroupId,
    name: &'a str,
    description: Option<&'a str>,
    terms_and_conditions: Option<&'a str>,
    group_type: &'a str,
    parent_id: Option<GroupId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    child_ids: Option<&'a BTreeSet<GroupId>>,
    enforce_session: bool,
    session_limit: Option<i64>,
    session_timeouts: EmptyObject,
    #[serde(skip_serializing_if = "Option::is_none")]
    my_memberships: Option<Vec<MembershipOut<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memberships: Option<Vec<MembershipOut<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_actions: Option<BTreeMap<&'static str, Vec<IdentityId>>>,
    subscription_id: Option<SubscriptionId>,
    subscription_info: Option<SubscriptionInfoOut<'a>>,
    policies: PolicyView<'a>,
    subscription_admin_verified_id: Option<SubscriptionId>,
}

impl<'a> GroupDoc<'a> {
    /// About how many bytes the encoded document takes (a group's fields
    /// and about 300 bytes per membership), to encode it into one
    /// allocation instead of a growing buffer.
    pub(super) fn size_hint(&self) -> usize {
        let memberships = self.memberships.as_ref().map_or(0, Vec::len)
            + self.my_memberships.as_ref().map_or(0, Vec::len);
        1024 + self.description.map_or(0, str::len) + memberships * 300
    }

    /// Replace `my_memberships` (my_groups filters them by status).
    pub(super) fn set_my_memberships(&mut self, list: Vec<MembershipOut<'a>>) {
        self.my_memberships = Some(list);
    }
}

impl World {
    /// The full document of a group as its admin would see it (every include),
    /// for inspection in tests. `None` when the group does not exist.
    pub fn group(&self, id: GroupId) -> Option<groups_types::Group> {
        let g = self.groups.get(&id)?;
        let doc = self.render_group(id, g, &[], Include::ALL_FOR_INSPECTION);
        let bytes = serde_json::to_vec(&doc).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// One membership as `MembershipReadModel`.
    pub(super) fn membership_out<'a>(
        &'a self,
        gid: GroupId,
        id: IdentityId,
        m: &'a MembershipRec,
    ) -> MembershipOut<'a> {
        let username = match self.identities.get(&id) {
            Some(r) => UsernameOut::Known(r.username.as_str()),
            None => UsernameOut::Default(id),
        };
        MembershipOut {
            group_id: gid,
            source_group_id: m.source_group_id,
            identity_id: id,
            username,
            role: m.role.as_str(),
            status: m.status.as_str(),
            status_reason: m.status_reason.as_deref(),
            invite_email_address: m.invite_email_address.as_deref(),
            updated: m.updated.as_deref(),
            invite_time: m.invite_time.as_deref(),
            membership_fields: &m.membership_fields,
        }
    }

    /// The caller's own memberships in `g`, in identity-set order, filtered.
    pub(super) fn my_memberships_out<'a>(
        &'a self,
        gid: GroupId,
        g: &'a GroupRec,
        ids: &[IdentityId],
        filter: impl Fn(Status) -> bool,
    ) -> Vec<MembershipOut<'a>> {
        ids.iter()
            .filter_map(|id| g.memberships.get_key_value(id))
            .filter(|(_, m)| filter(m.status))
            .map(|(id, m)| self.membership_out(gid, *id, m))
            .collect()
    }

    /// Per verb, the caller identities that may perform it on `g` in principle.
    pub(super) fn allowed_actions(
        g: &GroupRec,
        ids: &[IdentityId],
    ) -> BTreeMap<&'static str, Vec<IdentityId>> {
        let mut out: BTreeMap<&'static str, Vec<IdentityId>> =
            Verb::ALL.iter().map(|v| (v.as_str(), Vec::new())).collect();
        for id in ids {
            let m = g.memberships.get(id);
            let status = m.map(|m| m.status);
            let active_role = m.filter(|m| m.status == Status::Active).map(|m| m.role);
            for &v in Verb::ALL {
                let ok = match v {
                    Verb::Add | Verb::Invite | Verb::Approve | Verb::Reject | Verb::Remove => {
                        active_role >= Some(Role::Manager)
                    }
                    Verb::ChangeRole => active_role == Some(Role::Admin),
                    Verb::Accept | Verb::Decline => status == Some(Status::Invited),
                    Verb::Leave => status == Some(Status::Active),
                    Verb::Join => status != Some(Status::Active) && g.join_open(),
                    Verb::RequestJoin => {
                        !matches!(status, Some(Status::Active | Status::Pending))
                            && g.policies.join_requests
                    }
                };
                if ok && let Some(list) = out.get_mut(v.as_str()) {
                    list.push(*id);
                }
            }
        }
        out
    }

    /// A group document for a caller with identities `ids`.
    pub(super) fn render_group<'a>(
        &'a self,
        gid: GroupId,
        g: &'a GroupRec,
        ids: &[IdentityId],
        inc: Include,
    ) -> GroupDoc<'a> {
        let memberships = (inc.memberships && (inc.force_memberships || g.members_visible_to(ids)))
            .then(|| {
                g.memberships
                    .iter()
                    .map(|(id, m)| self.membership_out(gid, *id, m))
                    .collect()
            });
        let sub = self
            .idx
            .subscription_of
            .get(&gid)
            .and_then(|sid| self.subscriptions.get(sid).map(|s| (*sid, s)));
        GroupDoc {
            id: gid,
            name: &g.name,
            description: g.description.as_deref(),
            terms_and_conditions: g.terms_and_conditions.as_deref(),
            group_type: &g.group_type,
            parent_id: g.parent_id,
            child_ids: inc.child_ids.then_some(&g.children),
            enforce_session: g.enforce_session,
            session_limit: g.session_limit,
            session_timeouts: EmptyObject,
            my_memberships: inc
                .my_memberships
                .then(|| self.my_memberships_out(gid, g, ids, |_| true)),
            memberships,
            allowed_actions: inc.allowed_actions.then(|| World::allowed_actions(g, ids)),
            subscription_id: sub.map(|(sid, _)| sid),
            subscription_info: sub.map(|(_, s)| SubscriptionInfoOut::of(s, true)),
            policies: if inc.policies {
                PolicyView::Full(PoliciesFull::of(&g.policies))
            } else {
                PolicyView::Short(PoliciesShort {
                    group_visibility: g.policies.group_visibility.as_str(),
                    group_members_visibility: g.policies.group_members_visibility.as_str(),
                })
            },
            subscription_admin_verified_id: g.subscription_admin_verified_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_username_renders_as_default_username_says() {
        for n in [
            0u128,
            1,
            0xc11e_0000_0000_4000_8000_0000_0000_0001,
            u128::MAX,
        ] {
            let id = IdentityId::from(uuid::Uuid::from_u128(n));
            assert_eq!(
                serde_json::to_string(&UsernameOut::Default(id)).unwrap(),
                serde_json::to_string(&default_username(&id)).unwrap()
            );
        }
        assert_eq!(
            serde_json::to_string(&UsernameOut::Known("a\"b@x")).unwrap(),
            r#""a\"b@x""#
        );
    }
}
