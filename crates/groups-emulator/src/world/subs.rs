//! `GET /v2/subscription_info/{id}` and
//! `PUT /v2/groups/{id}/subscription_admin_verified`.

use groups_types::{GroupId, SubscriptionId};
use http::StatusCode;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::codes::ErrorCode;
use super::ids::parse_group_id;
use super::render::SubscriptionInfoOut;
use super::resp;
use super::store::World;
use super::types::{ApiResponse, Caller};
use super::validate::{self as v, Issues, Seg};
use super::vocab::Role;

type Res = Result<ApiResponse, ApiResponse>;

fn subscription_not_found() -> ApiResponse {
    resp::base_error(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "Subscription not found.",
    )
}

impl World {
    /// `GET /v2/subscription_info/{id}`: any authenticated caller may resolve a subscription to its group
    /// (limited info: no names).
    pub(super) fn subscription_info(&self, id: &str) -> Res {
        #[derive(Serialize)]
        struct Out<'a> {
            group_id: GroupId,
            subscription_id: SubscriptionId,
            subscription_info: SubscriptionInfoOut<'a>,
        }
        let sid = Uuid::try_parse(id)
            .map(SubscriptionId::from)
            .map_err(|_| subscription_not_found())?;
        let s = self
            .subscriptions
            .get(&sid)
            .ok_or_else(subscription_not_found)?;
        Ok(resp::json_response(
            StatusCode::OK,
            &Out {
                group_id: s.group_id,
                subscription_id: sid,
                subscription_info: SubscriptionInfoOut::of(s, false),
            },
        ))
    }

    /// Whether the caller is an active admin of the group providing `sid`.
    fn subscription_admin(&self, caller: &Caller, sid: SubscriptionId) -> bool {
        self.subscriptions
            .get(&sid)
            .and_then(|s| self.groups.get(&s.group_id))
            .is_some_and(|g| g.best_role(&caller.identities) == Some(Role::Admin))
    }

    /// `PUT /v2/groups/{id}/subscription_admin_verified`: the caller must be an admin of the subscription group of the old value
    /// (when set) and of the new value (when non-null). The group itself need not
    /// be visible to the caller, only exist.
    pub(super) fn set_verified(&mut self, caller: &Caller, id: &str, value: &Value) -> Res {
        #[derive(Serialize)]
        struct Out {
            group_id: GroupId,
            subscription_admin_verified_id: Option<SubscriptionId>,
        }
        let mut is = Issues::default();
        let mut new = None;
        if let Some(obj) = v::object(value, &[Seg::K("body")], &mut is) {
            let loc = [Seg::K("body"), Seg::K("subscription_admin_verified_id")];
            match obj.get("subscription_admin_verified_id") {
                Some(x) => new = v::subscription_or_null(x, &loc, &mut is),
                None => is.missing(&loc, value),
            }
        }
        is.finish()?;
        let Some(new) = new else {
            return Err(resp::internal("validated value missing"));
        };
        let gid = parse_group_id(id)?;
        let g = self.groups.get(&gid).ok_or_else(resp::group_not_found)?;
        let old = g.subscription_admin_verified_id;
        if let Some(n) = new
            && !self.subscriptions.contains_key(&n)
        {
            return Err(subscription_not_found());
        }
        let deny = || {
            resp::forbidden(
                ErrorCode::SubscriptionAdminRequired,
                "You must be an admin of the subscription's group to change its verification of this group.",
                &caller.scopes,
            )
        };
        if old.is_none() && new.is_none() && !g.visible_to(&caller.identities) {
            return Err(resp::forbidden(
                ErrorCode::GroupNotVisible,
                "You do not have permission to view this group.",
                &caller.scopes,
            ));
        }
        if let Some(o) = old
            && !self.subscription_admin(caller, o)
        {
            return Err(deny());
        }
        if let Some(n) = new.filter(|n| old != Some(*n))
            && !self.subscription_admin(caller, n)
        {
            return Err(deny());
        }
        if old != new {
            if let Some(g) = self.groups.get_mut(&gid) {
                g.subscription_admin_verified_id = new;
            }
            self.touch();
        }
        Ok(resp::json_response(
            StatusCode::OK,
            &Out {
                group_id: gid,
                subscription_admin_verified_id: new,
            },
        ))
    }
}
