//! Routing: which API route a path names, which methods it takes, and the two entry
//! points that dispatch a request to its handler.

use http::Method;
use serde_json::Value;

use super::batch::{self, Lists};
use super::resp;
use super::store::World;
use super::types::{ApiRequest, ApiResponse, Caller, Policy};
use super::validate as v;

/// Which API route a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route<'a> {
    Groups,
    MyGroups,
    Statuses,
    Group(&'a str),
    Children(&'a str),
    Policies(&'a str),
    Fields(&'a str),
    Verified(&'a str),
    Preferences,
    SubscriptionInfo(&'a str),
}

impl<'a> Route<'a> {
    fn parse(path: &'a str) -> Option<Route<'a>> {
        let rest = path.strip_prefix("/v2/")?;
        if rest == "preferences" {
            return Some(Route::Preferences);
        }
        if let Some(sid) = rest.strip_prefix("subscription_info/") {
            return (!sid.is_empty() && !sid.contains('/')).then_some(Route::SubscriptionInfo(sid));
        }
        if rest == "groups" {
            return Some(Route::Groups);
        }
        let rest = rest.strip_prefix("groups/")?;
        let mut parts = rest.splitn(2, '/');
        let first = parts.next()?;
        if first.is_empty() {
            return None;
        }
        match (first, parts.next()) {
            ("my_groups", None) => Some(Route::MyGroups),
            ("statuses", None) => Some(Route::Statuses),
            (id, None) => Some(Route::Group(id)),
            (id, Some("children")) => Some(Route::Children(id)),
            (id, Some("policies")) => Some(Route::Policies(id)),
            (id, Some("membership_fields")) => Some(Route::Fields(id)),
            (id, Some("subscription_admin_verified")) => Some(Route::Verified(id)),
            _ => None,
        }
    }

    fn methods(self) -> &'static [&'static str] {
        match self {
            Route::Groups => &["POST"],
            Route::MyGroups | Route::Statuses | Route::Children(_) => &["GET"],
            Route::SubscriptionInfo(_) => &["GET"],
            Route::Group(_) => &["GET", "PUT", "POST", "DELETE"],
            Route::Policies(_) | Route::Fields(_) | Route::Preferences => &["GET", "PUT"],
            Route::Verified(_) => &["PUT"],
        }
    }
}

/// A write request's body, parsed and validated without the world: made by
/// [`World::prepare`] (no lock needed), used by [`World::handle_prepared`]. The parse,
/// the batch checks and any 422 answer are all built here, so a server that prepares
/// before it takes the write lock holds the lock only for the rules themselves.
#[derive(Debug)]
pub struct Prepared(Body);

#[derive(Debug)]
enum Body {
    /// The route reads no body (or the route or method is unknown: answered later).
    None,
    /// The JSON body, or the 422 to answer.
    Json(Result<Value, ApiResponse>),
    /// A batch's items, or the 422 to answer.
    Batch(Result<Lists, ApiResponse>),
}

impl Prepared {
    fn json(&self) -> Result<&Value, ApiResponse> {
        match &self.0 {
            Body::Json(Ok(v)) => Ok(v),
            Body::Json(Err(e)) | Body::Batch(Err(e)) => Err(e.clone()),
            _ => Err(resp::internal("the request was prepared for another route")),
        }
    }

    fn batch(&self) -> Result<&Lists, ApiResponse> {
        match &self.0 {
            Body::Batch(Ok(l)) => Ok(l),
            Body::Json(Err(e)) | Body::Batch(Err(e)) => Err(e.clone()),
            _ => Err(resp::internal("the request was prepared for another route")),
        }
    }
}

impl World {
    /// Parse and validate the body of a write request, without the world (see
    /// [`Prepared`]). Cheap for requests without a body; pure for every request.
    pub fn prepare(req: &ApiRequest<'_>) -> Prepared {
        let Some(route) = Route::parse(req.path) else {
            return Prepared(Body::None);
        };
        if World::is_read_only(req.method) || !route.methods().contains(&req.method.as_str()) {
            return Prepared(Body::None);
        }
        Prepared(match route {
            Route::Group(_) if *req.method == Method::POST => {
                Body::Batch(batch::parse_batch(req.body))
            }
            Route::Group(_) if *req.method == Method::DELETE => Body::None,
            _ => Body::Json(v::parse_body(req.body)),
        })
    }

    /// True when the request cannot change state (GET, HEAD, OPTIONS, TRACE):
    /// the server may answer it with [`World::handle_read`] under a read lock.
    pub fn is_read_only(method: &Method) -> bool {
        matches!(
            *method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        )
    }

    /// Answer a request that cannot change state (see [`World::is_read_only`]).
    /// Unknown routes answer 404 and other methods on a known route 405; a write
    /// method on a route that supports it is a wiring mistake and answers 500.
    pub fn handle_read(
        &self,
        caller: &Caller,
        req: &ApiRequest<'_>,
        now: &str,
        policy: &Policy,
    ) -> ApiResponse {
        let _ = now;
        let route = match self.route_checked(req) {
            Ok(r) => r,
            Err(r) => return r,
        };
        if *req.method != Method::GET {
            return resp::internal("handle_read called for a write request; use handle.");
        }
        if let Some(r) = self.scope_check(caller, false, policy) {
            return r;
        }
        let r = match route {
            Route::MyGroups => self.my_groups(caller, req.query),
            Route::Statuses => self.statuses(caller),
            Route::Group(id) => self.get_group(caller, id, req.query, policy),
            Route::Children(id) => self.children(caller, id, req.query, policy),
            Route::Policies(id) => self.get_policies(caller, id),
            Route::Fields(id) => self.get_fields(caller, id),
            Route::Preferences => self.get_preferences(caller),
            Route::SubscriptionInfo(id) => self.subscription_info(id),
            Route::Groups | Route::Verified(_) => Err(resp::internal("route has no GET handler")),
        };
        r.unwrap_or_else(|e| e)
    }

    /// Route the request and apply the rules. `now` is the RFC 3339 timestamp used
    /// for `updated` / `invite_time`. The same as [`World::prepare`] followed by
    /// [`World::handle_prepared`].
    pub fn handle(
        &mut self,
        caller: &Caller,
        req: &ApiRequest<'_>,
        now: &str,
        policy: &Policy,
    ) -> ApiResponse {
        let prepared = World::prepare(req);
        self.handle_prepared(caller, req, &prepared, now, policy)
    }

    /// Like [`World::handle`], with the body already parsed by [`World::prepare`] from
    /// the same request. The answers are the same, in the same order of checks (route,
    /// scope, then the body's 422).
    pub fn handle_prepared(
        &mut self,
        caller: &Caller,
        req: &ApiRequest<'_>,
        prepared: &Prepared,
        now: &str,
        policy: &Policy,
    ) -> ApiResponse {
        if World::is_read_only(req.method) {
            return self.handle_read(caller, req, now, policy);
        }
        let route = match self.route_checked(req) {
            Ok(r) => r,
            Err(r) => return r,
        };
        if let Some(r) = self.scope_check(caller, true, policy) {
            return r;
        }
        let m = req.method;
        let p = prepared;
        let r = match route {
            Route::Groups => p.json().and_then(|b| self.create_group(caller, b, now)),
            Route::Group(id) if *m == Method::PUT => {
                p.json().and_then(|b| self.update_group(caller, id, b))
            }
            Route::Group(id) if *m == Method::POST => p
                .batch()
                .and_then(|l| self.batch(caller, id, l, now, policy)),
            Route::Group(id) => self.delete_group(caller, id),
            Route::Policies(id) => p.json().and_then(|b| self.set_policies(caller, id, b)),
            Route::Fields(id) => p.json().and_then(|b| self.set_fields(caller, id, b)),
            Route::Preferences => p.json().and_then(|b| self.set_preferences(caller, b)),
            Route::Verified(id) => p.json().and_then(|b| self.set_verified(caller, id, b)),
            Route::MyGroups | Route::Statuses | Route::Children(_) | Route::SubscriptionInfo(_) => {
                Err(resp::internal("route has no write handler"))
            }
        };
        match r {
            Ok(ok) => {
                // Known from now on (strict_identities); only successful writes change state.
                self.register_caller(caller);
                ok
            }
            Err(e) => e,
        }
    }

    fn route_checked<'r>(&self, req: &ApiRequest<'r>) -> Result<Route<'r>, ApiResponse> {
        let route = Route::parse(req.path).ok_or_else(resp::route_not_found)?;
        let methods = route.methods();
        if !methods.contains(&req.method.as_str()) {
            return Err(resp::method_not_allowed(methods));
        }
        Ok(route)
    }
}
