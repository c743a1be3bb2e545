//! What every app shares: its scope requirements, the settings common to
//! [`ClientApp`](crate::ClientApp) and [`UserApp`](crate::UserApp), and
//! logging out.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use groups_core::GroupsScopes;
use groups_core::auth::TokenResponse;
use groups_core::config::{BaseUrl, Environment};
use groups_hyper::{AuthClient, HyperClientBuilder};

use crate::error::{AppError, AppErrorKind};
use crate::storage::{JsonTokenStorage, TokenStorage, TokenStorageData};

/// The resource server of Globus Auth, where every app requires `openid`.
pub const AUTH_RESOURCE_SERVER: &str = "auth.globus.org";

/// The current time, epoch seconds.
pub(crate) fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The root scope string of a scope (without its `[dependencies]` and the
/// optional marker `*`).
fn root_scope(scope: &str) -> &str {
    let s = scope.split('[').next().unwrap_or(scope).trim();
    s.strip_prefix('*').unwrap_or(s)
}

/// The required scopes `granted` (a space-separated scope string) does not
/// cover, compared by root scope (dependent scopes are not checked).
pub(crate) fn missing_scopes<'r>(granted: &str, required: &'r [String]) -> Vec<&'r str> {
    let have: Vec<&str> = granted.split_whitespace().map(root_scope).collect();
    required
        .iter()
        .map(String::as_str)
        .filter(|r| !r.trim_start().starts_with('*') && !have.contains(&root_scope(r)))
        .collect()
}

/// The settings and state shared by both kinds of app.
pub(crate) struct AppCore {
    pub(crate) app_name: String,
    pub(crate) client_id: String,
    pub(crate) environment: Environment,
    pub(crate) http: HyperClientBuilder,
    pub(crate) storage: Arc<dyn TokenStorage>,
    pub(crate) requirements: Arc<Mutex<BTreeMap<String, Vec<String>>>>,
}

impl fmt::Debug for AppCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("app_name", &self.app_name)
            .field("client_id", &self.client_id)
            .field("environment", &self.environment)
            .field("storage", &self.storage)
            .field("requirements", &self.requirements())
            .finish_non_exhaustive()
    }
}

/// The common builder settings.
pub(crate) struct CoreBuilder {
    pub(crate) app_name: String,
    pub(crate) client_id: String,
    pub(crate) environment: Option<Environment>,
    pub(crate) http: Option<HyperClientBuilder>,
    pub(crate) storage: Option<Arc<dyn TokenStorage>>,
    pub(crate) requirements: BTreeMap<String, Vec<String>>,
}

impl CoreBuilder {
    pub(crate) fn new(app_name: String, client_id: String) -> Self {
        CoreBuilder {
            app_name,
            client_id,
            environment: None,
            http: None,
            storage: None,
            requirements: BTreeMap::new(),
        }
    }

    /// Adds `scopes` to the requirements on `resource_server`, each once, in
    /// the order first given.
    pub(crate) fn require<S: ToString>(
        &mut self,
        resource_server: String,
        scopes: impl IntoIterator<Item = S>,
    ) {
        let list = self.requirements.entry(resource_server).or_default();
        for s in scopes {
            let s = s.to_string();
            if !list.contains(&s) {
                list.push(s);
            }
        }
    }

    pub(crate) fn build(self) -> Result<AppCore, AppError> {
        if self.app_name.trim().is_empty() {
            return Err(AppError::new(AppErrorKind::Config, "the app name is empty"));
        }
        if self.client_id.trim().is_empty() {
            return Err(AppError::new(
                AppErrorKind::Config,
                "the client id is empty",
            ));
        }
        let environment = match self.environment {
            Some(e) => e,
            None => Environment::from_lookup(|n| std::env::var(n).ok())?,
        };
        let http = match self.http {
            Some(h) => h,
            None if self.environment.is_some() => HyperClientBuilder::new()
                .base_url(environment.groups_base_url())
                .auth_url(BaseUrl::parse(environment.auth_base_url())?),
            None => HyperClientBuilder::from_env()?,
        }
        .app_name(self.app_name.as_str());
        // The app name must make a valid User-Agent suffix.
        http.build_config()?;
        let storage = match self.storage {
            Some(s) => s,
            None => Arc::new(JsonTokenStorage::for_app(
                &self.client_id,
                &self.app_name,
                environment.as_str(),
            )?),
        };
        Ok(AppCore {
            app_name: self.app_name,
            client_id: self.client_id,
            environment,
            http,
            storage,
            requirements: Arc::new(Mutex::new(self.requirements)),
        })
    }
}

impl AppCore {
    pub(crate) fn requirements(&self) -> BTreeMap<String, Vec<String>> {
        self.requirements
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Add `scopes` to the requirements of `resource_server` (no
    /// duplicates).
    pub(crate) fn add_requirements(&self, resource_server: &str, scopes: &[String]) {
        let mut req = self.requirements.lock().unwrap_or_else(|p| p.into_inner());
        let list = req.entry(resource_server.to_owned()).or_default();
        for s in scopes {
            if !list.contains(s) {
                list.push(s.clone());
            }
        }
    }

    /// The Groups scopes a client asks for: the caller's, or Groups'
    /// default requirement.
    pub(crate) fn register_groups(&self, scopes: Option<Vec<String>>) -> Vec<String> {
        let scopes = scopes
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| vec![GroupsScopes::VIEW_MY_GROUPS_AND_MEMBERSHIPS.to_owned()]);
        self.add_requirements(GroupsScopes::RESOURCE_SERVER, &scopes);
        scopes
    }

    /// Every required scope, across resource servers.
    pub(crate) fn all_required_scopes(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for s in self.requirements().into_values().flatten() {
            if !all.contains(&s) {
                all.push(s);
            }
        }
        all
    }

    /// The hook that writes renewed tokens to storage, keeping
    /// `identity_id` (a renewal's answer has no id_token).
    pub(crate) fn storing_hook(
        &self,
        identity_id: Option<String>,
    ) -> impl Fn(&TokenResponse) + Send + Sync + 'static {
        let storage = Arc::clone(&self.storage);
        move |response: &TokenResponse| {
            let data =
                TokenStorageData::from_response(response, now_epoch(), identity_id.as_deref());
            // The hook cannot fail the call that renewed; the next run
            // renews again if the write was lost.
            let _ = storage.store_token_data(&data);
        }
    }
}

/// Revoke, then remove, the stored tokens of `core`'s requirements (all
/// with `sweep`).
pub(crate) async fn logout(core: &AppCore, auth: &AuthClient, sweep: bool) -> Result<(), AppError> {
    let required = core.requirements();
    for (rs, data) in core.storage.get_all_token_data()? {
        if !sweep && !required.contains_key(&rs) {
            continue;
        }
        auth.revoke(data.access_token.clone()).await?;
        if let Some(rt) = &data.refresh_token {
            auth.revoke(rt.clone()).await?;
        }
        core.storage.remove_token_data(&rs)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_compare_by_root() {
        let req = vec!["a".to_owned(), "b[c]".to_owned(), "*d".to_owned()];
        assert_eq!(missing_scopes("a b", &req), Vec::<&str>::new());
        assert_eq!(missing_scopes("b", &req), vec!["a"]);
        assert_eq!(missing_scopes("", &req), vec!["a", "b[c]"]);
    }
}
