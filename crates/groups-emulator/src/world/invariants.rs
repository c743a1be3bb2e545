//! The invariants every world must keep, checked after seeding, on loading a state
//! document, and by the tests after every request.

use std::collections::{BTreeSet, HashMap};

use groups_types::GroupId;

use super::store::World;

impl World {
    /// Check the invariants: every group has an active admin; each identity has at
    /// most one membership per group (and the index agrees); the stored status
    /// counts equal a recount; parent/child links are consistent and no group is
    /// its own ancestor; subscriptions point at existing groups. `Err` lists every violation.
    pub fn check_invariants(&self) -> Result<(), Vec<String>> {
        let mut errs = Vec::new();
        let mut indexed = 0usize;
        for (gid, g) in &self.groups {
            let (counts, admins) = g.tally();
            if admins == 0 {
                errs.push(format!("group {gid} has no active admin"));
            }
            if counts != g.counts {
                errs.push(format!(
                    "group {gid}: stored counts {:?} != recount {:?}",
                    g.counts, counts
                ));
            }
            if admins != g.active_admins {
                errs.push(format!(
                    "group {gid}: stored active admins {} != recount {admins}",
                    g.active_admins
                ));
            }
            for id in g.memberships.keys() {
                if !self
                    .idx
                    .by_identity
                    .get(id)
                    .is_some_and(|s| s.contains(gid))
                {
                    errs.push(format!(
                        "membership ({gid}, {id}) missing from the identity index"
                    ));
                }
            }
            indexed += g.memberships.len();
            if let Some(p) = g.parent_id {
                match self.groups.get(&p) {
                    None => errs.push(format!("group {gid} has a missing parent {p}")),
                    Some(pg) if !pg.children.contains(gid) => {
                        errs.push(format!("group {gid} not among the children of {p}"))
                    }
                    Some(_) => {}
                }
            }
            for c in &g.children {
                if self.groups.get(c).and_then(|c| c.parent_id) != Some(*gid) {
                    errs.push(format!("group {gid} lists child {c} whose parent differs"));
                }
            }
        }
        for gid in self.groups_in_parent_cycles() {
            errs.push(format!("group {gid}: parent chain has a cycle"));
        }
        let index_total: usize = self.idx.by_identity.values().map(BTreeSet::len).sum();
        if index_total != indexed {
            errs.push(format!(
                "identity index holds {index_total} entries for {indexed} memberships"
            ));
        }
        for (sid, s) in &self.subscriptions {
            if !self.groups.contains_key(&s.group_id) {
                errs.push(format!(
                    "subscription {sid} points at missing group {}",
                    s.group_id
                ));
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// Groups that are their own ancestor (directly or through others), each once.
    /// Linear in the number of groups: every group is walked up from at most once.
    fn groups_in_parent_cycles(&self) -> Vec<GroupId> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            OnPath,
            Done,
        }
        let mut marks: HashMap<GroupId, Mark> = HashMap::with_capacity(self.groups.len());
        let mut cyclic = Vec::new();
        for start in self.groups.keys() {
            let mut path = Vec::new();
            let mut cur = Some(*start);
            while let Some(gid) = cur {
                match marks.get(&gid) {
                    Some(Mark::Done) => break,
                    Some(Mark::OnPath) => {
                        // Everything on the path from the first visit of `gid` is a cycle.
                        if let Some(i) = path.iter().position(|p| *p == gid) {
                            cyclic.extend_from_slice(&path[i..]);
                        }
                        break;
                    }
                    None => {}
                }
                marks.insert(gid, Mark::OnPath);
                path.push(gid);
                cur = self.groups.get(&gid).and_then(|g| g.parent_id);
            }
            for gid in path {
                marks.insert(gid, Mark::Done);
            }
        }
        cyclic.sort();
        cyclic
    }
}
