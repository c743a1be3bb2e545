//! Change tracking for the world's records, so that a write costs what it changes and
//! not what the world holds: every map of records is a [`Tracked`] map, which reads
//! like a `BTreeMap` (through `Deref`) but can only be changed through methods that
//! note the key and keep the record as it was before its first change. From those
//! notes the state file's journal gets one record per write (the changed records with
//! their current values), and a write that cannot be saved (or that panicked) is undone
//! record by record.
//!
//! There is no `DerefMut`: a change that bypassed the notes would be lost at the next
//! restart, so the compiler refuses it.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A record kept in a [`Tracked`] map: what to keep of it before it is changed in
/// place, and how to put that back.
pub(super) trait Undo: Clone {
    /// What is kept before the first in-place change (`get_mut`).
    type Before;
    /// Take the "before" of an in-place change.
    fn before(&self) -> Self::Before;
    /// Undo the in-place changes since [`Undo::before`].
    fn restore(&mut self, before: Self::Before);
    /// The changes are saved: forget what was kept for them.
    fn settle(&mut self) {}
}

/// What a [`Tracked`] map remembers of one changed key.
#[derive(Clone)]
pub(super) enum Mark<V: Undo> {
    /// Changed in place (`get_mut`): the record as it was, as far as [`Undo`] keeps it.
    Touched(V::Before),
    /// Inserted, replaced or removed: the whole record as it was (`None`: absent).
    Replaced(Option<V>),
}

/// A `BTreeMap` of records that notes every changed key (see the module docs).
pub(super) struct Tracked<K, V: Undo> {
    map: BTreeMap<K, V>,
    marks: BTreeMap<K, Mark<V>>,
}

impl<K, V: Undo> Default for Tracked<K, V> {
    fn default() -> Self {
        Tracked {
            map: BTreeMap::new(),
            marks: BTreeMap::new(),
        }
    }
}

impl<K: Clone, V: Undo> Clone for Tracked<K, V>
where
    V::Before: Clone,
{
    fn clone(&self) -> Self {
        Tracked {
            map: self.map.clone(),
            marks: self.marks.clone(),
        }
    }
}

impl<K: fmt::Debug, V: Undo + fmt::Debug> fmt::Debug for Tracked<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.map.fmt(f)
    }
}

impl<K, V: Undo> Deref for Tracked<K, V> {
    type Target = BTreeMap<K, V>;
    fn deref(&self) -> &BTreeMap<K, V> {
        &self.map
    }
}

impl<'a, K, V: Undo> IntoIterator for &'a Tracked<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::collections::btree_map::Iter<'a, K, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.map.iter()
    }
}

impl<K: Serialize, V: Undo + Serialize> Serialize for Tracked<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.map.serialize(s)
    }
}

impl<'de, K: Ord + Deserialize<'de>, V: Undo + Deserialize<'de>> Deserialize<'de>
    for Tracked<K, V>
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Tracked {
            map: BTreeMap::deserialize(d)?,
            marks: BTreeMap::new(),
        })
    }
}

impl<K: Ord + Copy, V: Undo> From<BTreeMap<K, V>> for Tracked<K, V> {
    fn from(map: BTreeMap<K, V>) -> Self {
        Tracked {
            map,
            marks: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Copy, V: Undo> Tracked<K, V> {
    /// Note that `key` is about to be replaced or removed.
    fn mark_replaced(&mut self, key: K) {
        match self.marks.get_mut(&key) {
            Some(Mark::Replaced(_)) => {}
            Some(mark @ Mark::Touched(_)) => {
                // Rebuild the record as it was before the in-place changes.
                let old = self.map.get(&key).cloned().map(|mut v| {
                    if let Mark::Touched(b) = std::mem::replace(mark, Mark::Replaced(None)) {
                        v.restore(b);
                    }
                    v
                });
                *mark = Mark::Replaced(old);
            }
            None => {
                let old = self.map.get(&key).cloned();
                self.marks.insert(key, Mark::Replaced(old));
            }
        }
    }

    /// Change a record in place.
    pub(super) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let v = self.map.get_mut(key)?;
        if !self.marks.contains_key(key) {
            self.marks.insert(*key, Mark::Touched(v.before()));
        }
        Some(v)
    }

    /// Insert or replace a record.
    pub(super) fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.mark_replaced(key);
        self.map.insert(key, value)
    }

    /// Remove a record.
    pub(super) fn remove(&mut self, key: &K) -> Option<V> {
        if !self.map.contains_key(key) {
            return None;
        }
        self.mark_replaced(*key);
        self.map.remove(key)
    }

    /// The entry of `key` (noted as replaced, whatever is done with it).
    pub(super) fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        self.mark_replaced(key);
        self.map.entry(key)
    }

    /// Keep only the records for which `keep` is true.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) {
        let gone: Vec<K> = self
            .map
            .iter()
            .filter(|(k, v)| !keep(k, v))
            .map(|(k, _)| *k)
            .collect();
        for k in gone {
            self.remove(&k);
        }
    }

    /// Every record, mutably, WITHOUT noting anything: only for fields that are not
    /// saved (derived counters and indexes, rebuilt on load).
    pub(super) fn values_mut_unsaved(&mut self) -> impl Iterator<Item = &mut V> {
        self.map.values_mut()
    }

    /// One record, mutably, WITHOUT noting anything: only for fields that are not saved.
    pub(super) fn get_mut_unsaved(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    /// The keys changed since the last [`Tracked::settle`] or [`Tracked::undo`], with
    /// whether each was replaced (true) or changed in place (false).
    pub(super) fn changed(&self) -> impl Iterator<Item = (K, bool)> + '_ {
        self.marks
            .iter()
            .map(|(k, m)| (*k, matches!(m, Mark::Replaced(_))))
    }

    /// Whether anything changed since the last settle or undo.
    pub(super) fn is_changed(&self) -> bool {
        !self.marks.is_empty()
    }

    /// The changes are saved: forget the notes (and the records' own).
    pub(super) fn settle(&mut self) {
        for (k, _) in std::mem::take(&mut self.marks) {
            if let Some(v) = self.map.get_mut(&k) {
                v.settle();
            }
        }
    }

    /// Put every changed record back as it was at the last settle.
    pub(super) fn undo(&mut self) {
        for (k, mark) in std::mem::take(&mut self.marks) {
            match mark {
                Mark::Touched(before) => {
                    if let Some(v) = self.map.get_mut(&k) {
                        v.restore(before);
                    }
                }
                Mark::Replaced(Some(old)) => {
                    self.map.insert(k, old);
                }
                Mark::Replaced(None) => {
                    self.map.remove(&k);
                }
            }
        }
    }
}

/// One value (not a map) whose changes are noted: any mutable access counts as a change
/// and keeps a copy of the value as it was, so it can be saved whole and undone.
pub(super) struct Watched<T: Clone> {
    value: T,
    before: Option<T>,
}

impl<T: Clone + Default> Default for Watched<T> {
    fn default() -> Self {
        Watched {
            value: T::default(),
            before: None,
        }
    }
}

impl<T: Clone> Clone for Watched<T> {
    fn clone(&self) -> Self {
        Watched {
            value: self.value.clone(),
            before: self.before.clone(),
        }
    }
}

impl<T: Clone> Deref for Watched<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: Clone> DerefMut for Watched<T> {
    fn deref_mut(&mut self) -> &mut T {
        if self.before.is_none() {
            self.before = Some(self.value.clone());
        }
        &mut self.value
    }
}

impl<T: Clone + Serialize> Serialize for Watched<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<'de, T: Clone + Deserialize<'de>> Deserialize<'de> for Watched<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Watched::from)
    }
}

impl<T: Clone> From<T> for Watched<T> {
    fn from(value: T) -> Self {
        Watched {
            value,
            before: None,
        }
    }
}

impl<T: Clone> Watched<T> {
    /// Whether it was accessed mutably since the last settle or undo.
    pub(super) fn is_changed(&self) -> bool {
        self.before.is_some()
    }

    /// The changes are saved.
    pub(super) fn settle(&mut self) {
        self.before = None;
    }

    /// Put the value back as it was at the last settle.
    pub(super) fn undo(&mut self) {
        if let Some(b) = self.before.take() {
            self.value = b;
        }
    }

    /// Replace the value (a journal being replayed); noted like any change.
    pub(super) fn set(&mut self, value: T) {
        **self = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Rec(u32);
    impl Undo for Rec {
        type Before = Rec;
        fn before(&self) -> Rec {
            self.clone()
        }
        fn restore(&mut self, b: Rec) {
            *self = b;
        }
    }

    fn map() -> Tracked<u8, Rec> {
        Tracked::from(BTreeMap::from([(1, Rec(1)), (2, Rec(2)), (3, Rec(3))]))
    }

    #[test]
    fn every_change_is_noted_and_undone() {
        let mut m = map();
        assert!(!m.is_changed());
        m.get_mut(&1).unwrap().0 = 10;
        m.get_mut(&1).unwrap().0 = 11;
        m.insert(4, Rec(4));
        m.remove(&2);
        m.get_mut(&3).unwrap().0 = 30;
        m.insert(3, Rec(31));
        m.retain(|k, _| *k != 4);
        assert!(m.remove(&9).is_none() && m.get_mut(&9).is_none());
        let changed: Vec<_> = m.changed().collect();
        assert_eq!(changed, [(1, false), (2, true), (3, true), (4, true)]);
        m.undo();
        assert!(!m.is_changed());
        let back: Vec<_> = m.iter().map(|(k, v)| (*k, v.0)).collect();
        assert_eq!(back, [(1, 1), (2, 2), (3, 3)]);
    }

    #[test]
    fn settle_keeps_the_changes_and_forgets_the_notes() {
        let mut m = map();
        m.get_mut(&2).unwrap().0 = 20;
        m.settle();
        assert!(!m.is_changed());
        m.undo();
        assert_eq!(m[&2], Rec(20));
    }

    #[test]
    fn watched_notes_mutable_access_only() {
        let mut w = Watched::from(vec![1]);
        assert_eq!(w.len(), 1);
        assert!(!w.is_changed());
        w.push(2);
        w.push(3);
        assert!(w.is_changed());
        w.undo();
        assert_eq!(*w, vec![1]);
        w.push(4);
        w.settle();
        w.undo();
        assert_eq!(*w, vec![1, 4]);
    }
}
