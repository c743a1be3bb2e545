//! What one write changed, as a journal record: the records changed since the last save
//! with their current values (or their removal), and the counters. Built from the notes
//! of the [`Tracked`](super::tracked::Tracked) maps, so its size is the size of the
//! change, never of the world; replayed over the last snapshot at start-up.
//!
//! A group changed in place is saved as its fields plus the memberships that changed;
//! a group inserted or removed is saved whole. The Auth part (clients, codes, issued
//! tokens) is saved whole when it changed: its size is bounded by its own limits.

use groups_types::{GroupId, IdentityId, SubscriptionId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::oauth::AuthState;
use super::state::{GroupMeta, GroupRec, IdentityRec, MembershipRec, SubscriptionRec, TokenRec};
use super::store::World;
use super::tracked::{Tracked, Undo};

/// Save bookkeeping kept beside a world (never saved itself).
#[derive(Debug, Default)]
pub(crate) struct Saved {
    /// True when the state files hold exactly this world as of the last save. A new or
    /// cloned world is not: replacing the world means a new snapshot, not a journal
    /// record.
    in_files: bool,
    /// `generation` at the last save (restored by an undo).
    generation: u64,
    /// `group_counter` at the last save (restored by an undo).
    group_counter: u64,
}

impl Clone for Saved {
    /// A copy of a world is another world: the files do not hold it (yet).
    fn clone(&self) -> Self {
        Saved {
            in_files: false,
            generation: self.generation,
            group_counter: self.group_counter,
        }
    }
}

/// One key's new value, or `None` for a removal.
type Put<K, V> = Vec<(K, Option<V>)>;

/// A group changed in place.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupChange {
    id: GroupId,
    meta: GroupMeta,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    memberships: Put<IdentityId, MembershipRec>,
}

/// The changes of one write (one journal record).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Changes {
    generation: u64,
    group_counter: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    identities: Put<IdentityId, IdentityRec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tokens: Put<Uuid, TokenRec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    subscriptions: Put<SubscriptionId, SubscriptionRec>,
    /// Groups inserted, replaced or removed: saved whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    groups: Put<GroupId, GroupRec>,
    /// Groups changed in place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    group_changes: Vec<GroupChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth: Option<AuthState>,
}

/// The current value of every changed key of a map.
fn puts<K: Ord + Copy, V: Undo>(map: &Tracked<K, V>) -> Put<K, V> {
    map.changed()
        .map(|(k, _)| (k, map.get(&k).cloned()))
        .collect()
}

/// Apply puts to a map.
fn apply_puts<K: Ord + Copy, V: Undo>(map: &mut Tracked<K, V>, puts: Put<K, V>) {
    for (k, v) in puts {
        match v {
            Some(v) => {
                map.insert(k, v);
            }
            None => {
                map.remove(&k);
            }
        }
    }
}

impl World {
    /// Whether the state files hold this world (else a snapshot is due).
    pub(crate) fn is_in_files(&self) -> bool {
        self.saved.in_files
    }

    /// Whether anything changed since the last save.
    pub(crate) fn has_changes(&self) -> bool {
        self.generation != self.saved.generation
            || self.group_counter != self.saved.group_counter
            || self.identities.is_changed()
            || self.tokens.is_changed()
            || self.subscriptions.is_changed()
            || self.groups.is_changed()
            || self.auth.is_changed()
    }

    /// The changes since the last save, with their current values.
    pub(crate) fn changes(&self) -> Changes {
        let mut groups = Vec::new();
        let mut group_changes = Vec::new();
        for (id, replaced) in self.groups.changed() {
            match self.groups.get(&id) {
                Some(g) if !replaced => group_changes.push(GroupChange {
                    id,
                    meta: g.meta(),
                    memberships: puts(&g.memberships),
                }),
                g => groups.push((id, g.cloned())),
            }
        }
        Changes {
            generation: self.generation,
            group_counter: self.group_counter,
            identities: puts(&self.identities),
            tokens: puts(&self.tokens),
            subscriptions: puts(&self.subscriptions),
            groups,
            group_changes,
            auth: self.auth.is_changed().then(|| (*self.auth).clone()),
        }
    }

    /// The changes are saved (`in_files`: the files hold this world now).
    pub(crate) fn settle(&mut self, in_files: bool) {
        self.identities.settle();
        self.tokens.settle();
        self.subscriptions.settle();
        self.groups.settle();
        self.auth.settle();
        self.saved.generation = self.generation;
        self.saved.group_counter = self.group_counter;
        self.saved.in_files = in_files;
    }

    /// Undo every change since the last save (a write that could not be saved, or that
    /// panicked half-way), then recompute the derived counters and indexes.
    pub(crate) fn undo(&mut self) {
        self.identities.undo();
        self.tokens.undo();
        self.subscriptions.undo();
        self.groups.undo();
        self.auth.undo();
        self.generation = self.saved.generation;
        self.group_counter = self.saved.group_counter;
        self.rebuild();
    }

    /// Apply one journal record (start-up replay). The indexes are rebuilt and the
    /// invariants checked once at the end, by [`World::finish_replay`].
    pub(crate) fn apply_changes(&mut self, c: Changes) -> Result<(), String> {
        apply_puts(&mut self.identities, c.identities);
        apply_puts(&mut self.tokens, c.tokens);
        apply_puts(&mut self.subscriptions, c.subscriptions);
        apply_puts(&mut self.groups, c.groups);
        for gc in c.group_changes {
            let Some(g) = self.groups.get_mut(&gc.id) else {
                return Err(format!("journal changes group {} it never created", gc.id));
            };
            g.set_meta(gc.meta);
            apply_puts(&mut g.memberships, gc.memberships);
        }
        if let Some(a) = c.auth {
            self.auth.set(a);
        }
        self.generation = c.generation;
        self.group_counter = c.group_counter;
        // Keep the notes small while replaying a long journal.
        self.settle(false);
        Ok(())
    }

    /// After a replay: rebuild the indexes and check the invariants every saved world
    /// met; the files hold this world.
    pub(crate) fn finish_replay(&mut self) -> Result<(), String> {
        self.rebuild();
        self.check_invariants().map_err(|e| e.join("; "))?;
        self.settle(true);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{ApiRequest, Policy};

    fn request(w: &mut World, who: &str, method: http::Method, path: &str, body: &str) -> u16 {
        let policy = Policy::default();
        let caller = w
            .authenticate(Some(format!("Bearer {who}").as_bytes()), &policy)
            .unwrap();
        let headers = http::HeaderMap::new();
        let req = ApiRequest {
            method: &method,
            path,
            query: None,
            headers: &headers,
            body: body.as_bytes(),
        };
        w.handle(&caller, &req, "2026-01-01T00:00:00+00:00", &policy)
            .status
            .as_u16()
    }

    /// Alice creates a group from `body`; the creation must succeed.
    fn create_group(w: &mut World, body: &str) {
        assert_eq!(
            request(w, "alice", http::Method::POST, "/v2/groups", body),
            201
        );
    }

    #[test]
    fn a_group_meta_holds_every_saved_field_but_the_memberships() {
        let mut w = World::new();
        create_group(&mut w, r#"{"name":"g","description":"d"}"#);
        let g = w.groups.values().next().unwrap();
        let mut whole = serde_json::to_value(g).unwrap();
        whole.as_object_mut().unwrap().remove("memberships");
        assert_eq!(serde_json::to_value(g.meta()).unwrap(), whole);
    }

    #[test]
    fn a_one_member_change_records_that_member_only_and_replays_to_the_same_world() {
        let mut w = World::new();
        create_group(&mut w, r#"{"name":"big"}"#);
        let gid = *w.groups.keys().next().unwrap();
        let path = format!("/v2/groups/{gid}");
        let adds: Vec<String> = (0..500)
            .map(|i| format!(r#"{{"identity_id":"00000000-0000-4000-8000-{i:012}"}}"#))
            .collect();
        let body = format!(r#"{{"add":[{}]}}"#, adds.join(","));
        assert_eq!(
            request(&mut w, "alice", http::Method::POST, &path, &body),
            200
        );
        w.settle(true);
        let base = serde_json::to_vec(&w).unwrap();

        let one = r#"{"remove":[{"identity_id":"00000000-0000-4000-8000-000000000007"}]}"#;
        assert_eq!(
            request(&mut w, "alice", http::Method::POST, &path, one),
            200
        );
        assert!(w.has_changes());
        let record = serde_json::to_vec(&w.changes()).unwrap();
        assert!(
            record.len() < 2_000 && record.len() * 20 < base.len(),
            "record of {} bytes for a world of {}",
            record.len(),
            base.len()
        );
        let text = String::from_utf8_lossy(&record);
        assert!(
            !text.contains("\"auth\""),
            "a Groups write saves no Auth state: {text}"
        );

        let mut replayed: World = serde_json::from_slice(&base).unwrap();
        replayed
            .apply_changes(serde_json::from_slice(&record).unwrap())
            .unwrap();
        replayed.finish_replay().unwrap();
        assert_eq!(
            serde_json::to_value(&replayed).unwrap(),
            serde_json::to_value(&w).unwrap()
        );
    }

    #[test]
    fn undo_puts_the_world_back_as_last_saved() {
        let mut w = World::new();
        create_group(&mut w, r#"{"name":"kept"}"#);
        w.settle(true);
        let before = serde_json::to_value(&w).unwrap();
        let gid = *w.groups.keys().next().unwrap();
        let path = format!("/v2/groups/{gid}");
        create_group(&mut w, r#"{"name":"child"}"#);
        let body = r#"{"add":[{"identity_id":"00000000-0000-4000-8000-000000000001"}]}"#;
        assert_eq!(
            request(&mut w, "alice", http::Method::POST, &path, body),
            200
        );
        assert_eq!(
            request(
                &mut w,
                "alice",
                http::Method::PUT,
                &path,
                r#"{"name":"renamed"}"#
            ),
            200
        );
        w.undo();
        assert!(!w.has_changes());
        assert_eq!(serde_json::to_value(&w).unwrap(), before);
        assert!(w.check_invariants().is_ok());
    }
}
