//! `login`, `logout`, `whoami`, `session show`: a user's login through
//! groups-app's [`UserApp`], its tokens in globus-sdk's JSON token file
//! (`~/.globus/app/<client id>/globus-groups/tokens.json`).
//!
//! User logins need the id of a registered native client (a "thick
//! client") in `GLOBUS_GROUPS_LOGIN_CLIENT_ID`; see the README for how to
//! register one.

use std::io::IsTerminal;

use groups_app::{AppError, AppErrorKind, LocalServerLoginFlow, SystemBrowser, UserApp};
use groups_core::GroupsScopes;
use groups_core::auth::ops::GetUserInfo;
use serde_json::{Value, json};

use crate::cli::{LoginArgs, SessionCommand};
use crate::error::CliError;
use crate::output::{Output, Text, table_of};

/// The variable naming the native client of user logins.
pub const LOGIN_CLIENT_ID_VAR: &str = "GLOBUS_GROUPS_LOGIN_CLIENT_ID";
/// The app name (it names the token file's directory).
pub use crate::client_tokens::APP_NAME;
/// Globus Auth's resource server.
const AUTH_RS: &str = "auth.globus.org";
/// The Auth scopes of a login, as globus-cli asks for them.
const AUTH_SCOPES: [&str; 4] = [
    "openid",
    "profile",
    "email",
    "urn:globus:auth:scope:auth.globus.org:view_identity_set",
];

fn app_error(e: AppError) -> CliError {
    match e.kind() {
        k if k.needs_login() => CliError::MissingLogin,
        AppErrorKind::Config => CliError::usage(e.to_string()),
        AppErrorKind::EndOfInput | AppErrorKind::LoginFlow | AppErrorKind::StateMismatch => {
            CliError::Failed {
                name: "LoginError",
                message: e.to_string(),
            }
        }
        _ => CliError::Failed {
            name: "LoginError",
            message: e.to_string(),
        },
    }
}

/// The login client id from the environment, if set.
pub fn login_client_id() -> Option<String> {
    std::env::var(LOGIN_CLIENT_ID_VAR)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The app of user logins (`local_server`: the browser flow on 127.0.0.1,
/// else the link is printed and the code read from standard input).
pub fn user_app(local_server: bool) -> Result<UserApp, CliError> {
    let client_id = login_client_id().ok_or_else(|| {
        CliError::usage(format!(
            "set {LOGIN_CLIENT_ID_VAR} to the client id of your native app to log in \
             (see the README: registering a client)"
        ))
    })?;
    let mut builder = UserApp::builder(APP_NAME, client_id)
        .request_refresh_tokens(true)
        .scope_requirements(AUTH_RS, AUTH_SCOPES);
    if local_server {
        builder = builder.login_flow(LocalServerLoginFlow::new());
    }
    builder.build().map_err(app_error)
}

/// The stored login's app, when a login client is configured and a login
/// is stored and valid; `None` when a login is needed.
pub fn stored_login() -> Result<Option<UserApp>, CliError> {
    if login_client_id().is_none() {
        return Ok(None);
    }
    let app = user_app(false)?;
    let _ = app
        .groups_client_with_scopes([GroupsScopes::ALL])
        .map_err(app_error)?;
    match app.login_required() {
        Ok(false) => Ok(Some(app)),
        Ok(true) => Ok(None),
        Err(e) => Err(app_error(e)),
    }
}

/// Whether the browser flow can work here: not in a remote session
/// (`SSH_TTY`/`SSH_CONNECTION`), not without a graphical display, not with a
/// text-only browser (the same refusals as the apps crate's system browser),
/// so that `login` falls back to printing the link instead of failing.
fn browser_usable() -> bool {
    SystemBrowser::refusal(|k| std::env::var(k).ok()).is_none()
}

/// `login [--no-local-server] [--force]`.
pub async fn login(args: LoginArgs) -> Result<Output, CliError> {
    let local = !args.no_local_server && browser_usable() && std::io::stdin().is_terminal();
    let app = user_app(local)?;
    let _ = app
        .groups_client_with_scopes([GroupsScopes::ALL])
        .map_err(app_error)?;
    if !args.force && !app.login_required().map_err(app_error)? {
        return Ok(Output::message(
            json!({"logged_in": true, "new_login": false}),
            "You are already logged in!\n\nYou may force a new login with\n  globus-groups login --force\n\
             You can check your primary identity with\n  globus-groups whoami",
        ));
    }
    app.force_login().await.map_err(app_error)?;
    let who = userinfo(&app).await?;
    let username = who
        .get("preferred_username")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned();
    Ok(Output::message(
        json!({"logged_in": true, "new_login": true, "identity": who}),
        format!(
            "You have successfully logged in to the Globus Groups CLI as {username}!\n\n\
             You can check your primary identity with\n  globus-groups whoami\n\n\
             Logout of the Globus Groups CLI with\n  globus-groups logout"
        ),
    ))
}

/// Who the logged-in user is: userinfo, authorized by the login's Auth
/// token (renewed with the login's refresh token once it has expired, and
/// the new one stored).
async fn userinfo(app: &UserApp) -> Result<Value, CliError> {
    let info = app
        .auth_client()
        .call(GetUserInfo)
        .with_authorizer(app.token_provider(AUTH_RS))
        .await?;
    Ok(userinfo_json(&info))
}

/// The userinfo document as JSON (its known claims and any others).
pub fn userinfo_json(info: &groups_core::auth::models::UserInfo) -> Value {
    let mut doc = serde_json::Map::new();
    for (k, v) in &info.extra {
        doc.insert(k.clone(), v.clone());
    }
    let set: Option<Vec<Value>> = info.identity_set.as_ref().map(|ids| {
        ids.iter()
            .map(|i| {
                let mut one = serde_json::Map::new();
                for (k, v) in &i.extra {
                    one.insert(k.clone(), v.clone());
                }
                one.insert("sub".into(), json!(i.sub));
                one.insert("username".into(), json!(i.username));
                one.insert("name".into(), json!(i.name));
                one.insert("email".into(), json!(i.email));
                one.insert("identity_provider".into(), json!(i.identity_provider));
                one.insert("organization".into(), json!(i.organization));
                one.insert("last_authentication".into(), json!(i.last_authentication));
                Value::Object(one)
            })
            .collect()
    });
    doc.insert("sub".into(), json!(info.sub));
    doc.insert("preferred_username".into(), json!(info.preferred_username));
    doc.insert("name".into(), json!(info.name));
    doc.insert("email".into(), json!(info.email));
    doc.insert("organization".into(), json!(info.organization));
    doc.insert("identity_provider".into(), json!(info.identity_provider));
    doc.insert(
        "identity_provider_display_name".into(),
        json!(info.identity_provider_display_name),
    );
    doc.insert(
        "last_authentication".into(),
        json!(info.last_authentication),
    );
    if let Some(set) = set {
        doc.insert("identity_set".into(), Value::Array(set));
    }
    Value::Object(doc)
}

fn logged_in_app() -> Result<UserApp, CliError> {
    stored_login()?.ok_or(CliError::MissingLogin)
}

/// `logout`: revoke the user's login and remove it; `client_tokens` is how
/// many stored tokens of client identities were removed before
/// (by the session module's `remove_client_tokens`), for the message.
pub async fn logout(client_tokens: usize) -> Result<Output, CliError> {
    let client_note = if client_tokens > 0 {
        format!("\nThe stored tokens of client identities ({client_tokens}) were removed.")
    } else {
        String::new()
    };
    if login_client_id().is_none() {
        return Ok(Output::message(
            json!({"logged_out": false, "client_tokens_removed": client_tokens}),
            format!("You are not logged in (no login client is configured).{client_note}"),
        ));
    }
    let app = user_app(false)?;
    let stored = app
        .token_storage()
        .get_all_token_data()
        .map_err(|e| CliError::failed(format!("token storage: {e}")))?;
    if stored.is_empty() {
        return Ok(Output::message(
            json!({"logged_out": false, "client_tokens_removed": client_tokens}),
            format!("You are not logged in.{client_note}"),
        ));
    }
    app.logout(true).await.map_err(app_error)?;
    Ok(Output::message(
        json!({"logged_out": true, "revoked": stored.keys().collect::<Vec<_>>(),
               "client_tokens_removed": client_tokens}),
        format!(
            "You are now successfully logged out of the Globus Groups CLI.\n\
             Your tokens were revoked and removed from this machine.{client_note}"
        ),
    ))
}

/// `whoami`: the logged-in identity (the whole userinfo document in JSON).
pub async fn whoami() -> Result<Output, CliError> {
    let app = logged_in_app()?;
    let who = userinfo(&app).await?;
    let username = who
        .get("preferred_username")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned();
    Ok(Output::message(who, username))
}

/// `session show`: the identities of the session and when each last
/// authenticated.
pub async fn session(command: SessionCommand) -> Result<Output, CliError> {
    let SessionCommand::Show = command;
    let app = logged_in_app()?;
    let who = userinfo(&app).await?;
    let mut rows = Vec::new();
    let set = who
        .get("identity_set")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let entries: Vec<Value> = if set.is_empty() {
        vec![
            json!({"username": who.get("preferred_username"), "sub": who.get("sub"),
                    "last_authentication": who.get("last_authentication")}),
        ]
    } else {
        set
    };
    for i in &entries {
        let text = |k: &str| match i.get(k) {
            Some(Value::String(s)) => s.clone(),
            _ => "None".to_owned(),
        };
        let auth_time = i
            .get("last_authentication")
            .and_then(Value::as_i64)
            .map(utc_time)
            .unwrap_or_else(|| "None".to_owned());
        rows.push(vec![text("username"), text("sub"), auth_time]);
    }
    let headers = ["Username", "ID", "Auth Time"].map(str::to_owned);
    Ok(Output {
        json: who,
        text: Text::Lines(table_of(&headers, &rows)),
    })
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM UTC`.
fn utc_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Days to civil date (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_times() {
        assert_eq!(super::utc_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::utc_time(1_796_300_000), "2026-12-03 12:13 UTC");
    }
}
