//! Credentials and clients: who the tool acts as, from the environment.
//!
//! In order:
//! 1. `GLOBUS_GROUPS_TOKEN`: an access token for Globus Groups, sent as is
//!    (a 401 is final). Auth calls (identity lookups, userinfo) use
//!    `GLOBUS_GROUPS_AUTH_TOKEN` when set, else the same token (enough for
//!    the emulator).
//! 2. `GLOBUS_GROUPS_CLIENT_ID` and `GLOBUS_GROUPS_CLIENT_SECRET`: a
//!    confidential client acting as itself (client credentials, renewed
//!    before expiry); identity lookups authenticate as the client. Setting
//!    only one of the two is a usage error, as in globus-cli. Its tokens
//!    are kept between runs (see [`crate::client_tokens`]).
//!
//! 3. A user's login stored by `globus-groups login` (with the native
//!    client of `GLOBUS_GROUPS_LOGIN_CLIENT_ID`).
//!
//! The service URLs, timeout and TLS settings come from the `GLOBUS_SDK_*`
//! variables (see [`groups_hyper::HyperClientBuilder::from_env`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use groups_core::ClientConfig;
use groups_core::auth::ops::GetUserInfo;
use groups_core::auth::{
    AccessTokenProvider, ClientCredentialsProvider, OAuthClient, SecretString, TokenProvider,
};
use groups_core::config::Environment;
use groups_core::transport::Instant;
use groups_core::{GroupsScopes, Transport};
use groups_hyper::{AuthClient, GroupsClient, HyperClientBuilder, HyperTransport};
use groups_manager::GroupsManager;
use groups_types::IdentityId;

use crate::client_tokens::ClientTokens;
use crate::error::CliError;

/// The static-token variable.
pub const TOKEN_VAR: &str = "GLOBUS_GROUPS_TOKEN";
/// The token for Globus Auth calls when a static token is used.
pub const AUTH_TOKEN_VAR: &str = "GLOBUS_GROUPS_AUTH_TOKEN";
/// The confidential client's id.
pub const CLIENT_ID_VAR: &str = "GLOBUS_GROUPS_CLIENT_ID";
/// The confidential client's secret.
pub const CLIENT_SECRET_VAR: &str = "GLOBUS_GROUPS_CLIENT_SECRET";
/// The `User-Agent` app name.
pub const APP_NAME: &str = concat!("globus-groups v", env!("CARGO_PKG_VERSION"));

/// The client id named in Auth calls made with a static token (they carry
/// the token, so the id is only a label).
const STATIC_CLIENT_LABEL: &str = "globus-groups";

/// How the tool authenticates.
#[derive(Clone)]
pub enum Credential {
    /// A static access token (and the token for Auth calls).
    Token {
        /// For Groups.
        groups: SecretString,
        /// For Auth.
        auth: SecretString,
    },
    /// A user's stored login.
    User(groups_app::UserApp),
    /// A confidential client acting as itself.
    Client {
        /// Its id (also its identity id in Globus).
        id: String,
        /// Its secret.
        secret: SecretString,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Token { .. } => f.write_str("Credential::Token(..)"),
            Credential::User(_) => f.write_str("Credential::User(..)"),
            Credential::Client { id, .. } => write!(f, "Credential::Client({id}, ..)"),
        }
    }
}

fn non_empty(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

impl Credential {
    /// The credential the environment configures.
    pub fn from_env() -> Result<Credential, CliError> {
        if let Some(token) = non_empty(TOKEN_VAR) {
            let auth = non_empty(AUTH_TOKEN_VAR).unwrap_or_else(|| token.clone());
            return Ok(Credential::Token {
                groups: token.into(),
                auth: auth.into(),
            });
        }
        match (non_empty(CLIENT_ID_VAR), non_empty(CLIENT_SECRET_VAR)) {
            (Some(id), Some(secret)) => Ok(Credential::Client {
                id,
                secret: secret.into(),
            }),
            (Some(_), None) => Err(CliError::usage(format!(
                "{CLIENT_ID_VAR} is set but {CLIENT_SECRET_VAR} is not: set both, or neither"
            ))),
            (None, Some(_)) => Err(CliError::usage(format!(
                "{CLIENT_SECRET_VAR} is set but {CLIENT_ID_VAR} is not: set both, or neither"
            ))),
            (None, None) => match crate::login::stored_login()? {
                Some(app) => Ok(Credential::User(app)),
                None => Err(CliError::MissingLogin),
            },
        }
    }
}

/// The clients of one command run.
pub struct Session {
    /// The Groups manager (and through it the client).
    pub manager: GroupsManager<HyperTransport>,
    /// The Auth client (same connection pool).
    pub auth: AuthClient,
    credential: Credential,
    /// What authorizes the Auth calls made as the caller (identity lookups,
    /// userinfo): the static Auth token, the
    /// user's stored Auth token (renewed with the login's refresh token),
    /// or the client's `view_identities` token (fetched, stored and
    /// renewed by its provider).
    auth_authorizer: Arc<dyn TokenProvider>,
}

/// The scope of identity lookups for a client identity.
const VIEW_IDENTITIES_SCOPE: &str = "urn:globus:auth:scope:auth.globus.org:view_identities";
/// Globus Auth's resource server.
const AUTH_RESOURCE_SERVER: &str = "auth.globus.org";

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

fn build_error(e: groups_hyper::BuildError) -> CliError {
    CliError::usage(format!("cannot configure the client: {e}"))
}

/// A client-credentials provider for `scope` (of `resource_server`): it
/// starts from the token `store` holds while that has more than 60 s left
/// (a stored token that is no valid header value is ignored, and a new one
/// fetched), and stores each token it fetches.
fn client_provider(
    auth_config: &ClientConfig,
    client: OAuthClient,
    scope: &str,
    resource_server: &str,
    store: Option<&ClientTokens>,
    now: Instant,
) -> Result<ClientCredentialsProvider, CliError> {
    let new_provider =
        || ClientCredentialsProvider::new(auth_config.clone(), client.clone(), [scope]);
    let mut provider = new_provider()?;
    if let Some(store) = store {
        if let Some((token, left)) = store.usable(resource_server, scope) {
            provider = provider
                .initial_access_token(token, now + Duration::from_secs(left))
                .or_else(|_| new_provider())?;
        }
        provider = provider.on_refresh(store.hook());
    }
    Ok(provider)
}

impl Session {
    /// Clients for the credential of the environment.
    pub fn from_env() -> Result<Session, CliError> {
        let credential = Credential::from_env()?;
        let builder = HyperClientBuilder::from_env()
            .map_err(build_error)?
            .app_name(APP_NAME);
        Session::new(builder, credential)
    }

    /// Clients over `builder` for `credential`.
    pub fn new(builder: HyperClientBuilder, credential: Credential) -> Result<Session, CliError> {
        let (client, auth, lookups): (GroupsClient, AuthClient, Arc<dyn TokenProvider>) =
            match &credential {
                Credential::Token {
                    groups,
                    auth: auth_token,
                } => {
                    let client = builder
                        .clone()
                        .build_with_token(groups.clone())
                        .map_err(build_error)?;
                    let auth = builder
                        .build_auth_client_for(&client, STATIC_CLIENT_LABEL)
                        .map_err(build_error)?;
                    let lookups = AccessTokenProvider::new(auth_token.clone()).map_err(|e| {
                        CliError::usage(format!("{AUTH_TOKEN_VAR} cannot be sent: {e}"))
                    })?;
                    (client, auth, Arc::new(lookups))
                }
                Credential::User(app) => {
                    let client = app
                        .groups_client_with_scopes([GroupsScopes::ALL])
                        .map_err(|e| CliError::failed(e.to_string()))?;
                    let lookups = app.token_provider(AUTH_RESOURCE_SERVER);
                    (client, app.auth_client().clone(), lookups)
                }
                Credential::Client { id, secret } => {
                    let auth_config = builder.build_auth_config().map_err(build_error)?;
                    let environment = Environment::from_lookup(|n| std::env::var(n).ok())
                        .map_or("production", Environment::as_str);
                    let store = ClientTokens::open(
                        id,
                        secret,
                        auth_config.base_url().as_str(),
                        environment,
                    );
                    let transport = builder.build_transport().map_err(build_error)?;
                    let config = builder.build_config().map_err(build_error)?;
                    let provider = |scope: &str, resource_server: &str| {
                        client_provider(
                            &auth_config,
                            OAuthClient::confidential(id.clone(), secret.clone()),
                            scope,
                            resource_server,
                            store.as_ref(),
                            transport.now(),
                        )
                    };
                    let groups = provider(GroupsScopes::ALL, GroupsScopes::RESOURCE_SERVER)?;
                    let lookups = provider(VIEW_IDENTITIES_SCOPE, AUTH_RESOURCE_SERVER)?;
                    let client =
                        GroupsClient::with_shared_auth(transport, config, Arc::new(groups));
                    let auth = builder
                        .client_secret(secret.clone())
                        .build_auth_client_for(&client, id.clone())
                        .map_err(build_error)?;
                    (client, auth, Arc::new(lookups))
                }
            };
        Ok(Session {
            manager: GroupsManager::new(client),
            auth,
            credential,
            auth_authorizer: lookups,
        })
    }

    /// The Groups client.
    pub fn client(&self) -> &GroupsClient {
        self.manager.client()
    }

    /// Look identities up by username: username (lower-cased) to id; names
    /// Auth does not know are absent. At most 100 names per request.
    pub async fn lookup_usernames(
        &self,
        names: &[String],
        provision: bool,
    ) -> Result<HashMap<String, (IdentityId, String)>, CliError> {
        let mut found = HashMap::new();
        for chunk in names.chunks(100) {
            let mut call = self.auth.get_identities_by_usernames(chunk.iter().cloned());
            if provision {
                call = call.provision();
            }
            let answer = call.with_authorizer(self.auth_authorizer.clone()).await?;
            for identity in answer.identities {
                found.insert(
                    identity.username.to_lowercase(),
                    (identity.id, identity.username.clone()),
                );
            }
        }
        Ok(found)
    }

    /// The caller's own identity id: userinfo's `sub` for a token (falling
    /// back to the one identity of the preferences when the token cannot
    /// call userinfo), the client id for a client identity.
    pub async fn my_identity(&self) -> Result<IdentityId, CliError> {
        match &self.credential {
            Credential::Client { id, .. } => id.parse().map_err(|_| {
                CliError::usage(format!(
                    "the client id {id:?} is not a UUID, so it is no identity id: pass --identity"
                ))
            }),
            Credential::User(_) | Credential::Token { .. } => {
                let answer = self
                    .auth
                    .call(GetUserInfo)
                    .with_authorizer(self.auth_authorizer.clone())
                    .await;
                let info = match (answer, &self.credential) {
                    (Ok(info), _) => info,
                    // A Groups-only static token: the preferences are keyed
                    // by the caller's identities.
                    (Err(_), Credential::Token { .. }) => {
                        let prefs = self.client().get_identity_preferences().await?;
                        let mut ids = prefs.keys();
                        return match (ids.next(), ids.next()) {
                            (Some(id), None) => Ok(*id),
                            _ => Err(CliError::usage(
                                "cannot tell which identity is yours (the token cannot call \
                                 Globus Auth's userinfo): pass --identity",
                            )),
                        };
                    }
                    (Err(e), _) => return Err(e.into()),
                };
                info.sub.parse().map_err(|_| {
                    CliError::failed(format!(
                        "userinfo gave a sub that is not a UUID: {:?}",
                        info.sub
                    ))
                })
            }
        }
    }
}

/// Remove every stored client-credentials token of `globus-groups` (of
/// every client, in the current environment). The tokens of the client the
/// environment configures are revoked first (best effort: a token Auth
/// cannot revoke now still expires on its own); those of other clients
/// cannot be revoked without their secret and are only removed. The number
/// of tokens removed.
pub async fn remove_client_tokens() -> Result<usize, CliError> {
    let environment = groups_core::config::Environment::from_lookup(|n| std::env::var(n).ok())
        .map_or("production", groups_core::config::Environment::as_str);
    let found = crate::client_tokens::stored_client_namespaces(environment);
    if found.is_empty() {
        return Ok(0);
    }
    // The configured client's own namespace, when there is one.
    let mine = match Credential::from_env() {
        Ok(Credential::Client { id, secret }) => {
            let builder = groups_hyper::HyperClientBuilder::from_env()
                .map_err(|e| CliError::usage(format!("cannot configure the client: {e}")))?
                .app_name(APP_NAME);
            let auth_url = builder
                .build_auth_config()
                .map_err(|e| CliError::usage(format!("cannot configure the client: {e}")))?
                .base_url()
                .as_str()
                .to_owned();
            let tokens =
                crate::client_tokens::ClientTokens::open(&id, &secret, &auth_url, environment);
            let auth = builder
                .client_secret(secret)
                .build_auth_client(id)
                .map_err(|e| CliError::usage(format!("cannot configure the client: {e}")))?;
            tokens.map(|t| (t, auth))
        }
        _ => None,
    };
    if let Some((tokens, auth)) = &mine {
        for data in tokens.all() {
            if let Err(e) = auth.revoke(data.access_token.clone()).await {
                tracing::warn!(
                    "cannot revoke the client token of {}: {e}",
                    data.resource_server
                );
            }
        }
    }
    let mut removed = 0;
    for (path, namespaces) in found {
        for ns in namespaces {
            removed += crate::client_tokens::remove_namespace(&path, &ns)
                .map_err(|e| CliError::failed(format!("token storage: {e}")))?
                .len();
        }
    }
    Ok(removed)
}
