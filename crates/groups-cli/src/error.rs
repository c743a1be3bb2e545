//! What can go wrong, the exit status of each, and how it is reported.
//!
//! Exit statuses follow globus-cli: 0 success, 1 an API error (or another
//! failure, such as a batch whose identity did not change), 2 a usage
//! error, 4 a login or consent is needed; 3 means the service could not be
//! reached and 255 an internal error (a defect). `--map-http-status` maps
//! the status of an API error to another exit code.

use std::collections::BTreeMap;
use std::fmt;

use groups_core::GroupsError;
use serde_json::{Value, json};

/// Exit status: success.
pub const EXIT_OK: u8 = 0;
/// Exit status: an API error or another failure.
pub const EXIT_ERROR: u8 = 1;
/// Exit status: the command line or an input file is wrong.
pub const EXIT_USAGE: u8 = 2;
/// Exit status: the service could not be reached (connection, timeout).
pub const EXIT_NETWORK: u8 = 3;
/// Exit status: a login (or a new consent) is needed.
pub const EXIT_LOGIN: u8 = 4;
/// Exit status: an internal error (a defect of this tool).
pub const EXIT_INTERNAL: u8 = 255;

/// An error of a command.
#[derive(Debug)]
pub enum CliError {
    /// The command line or an input is wrong (exit 2).
    Usage(String),
    /// No credentials are configured (exit 4).
    MissingLogin,
    /// The service answered with an error status (exit 1, or mapped).
    Api(Box<GroupsError>),
    /// The call failed without an answer from the service (exit 3).
    Network(String),
    /// Anything else that failed (exit 1), with a type name as globus-cli
    /// prints it (`ValueError: ...`).
    Failed {
        /// A short name of the kind of failure.
        name: &'static str,
        /// What happened.
        message: String,
    },
    /// A command that printed its own report and only sets the exit status
    /// (a bulk call with failures).
    Reported(u8),
    /// A defect of this tool (exit 255).
    Internal(String),
}

impl CliError {
    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::Usage(message.into())
    }

    /// A failure other than an API error.
    pub fn failed(message: impl Into<String>) -> Self {
        CliError::Failed {
            name: "Error",
            message: message.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) => write!(f, "{m}"),
            CliError::MissingLogin => f.write_str("missing login"),
            CliError::Api(e) => write!(f, "{e}"),
            CliError::Network(m) => write!(f, "{m}"),
            CliError::Failed { name, message } => write!(f, "{name}: {message}"),
            CliError::Reported(code) => write!(f, "failed (exit {code})"),
            CliError::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for CliError {}

impl From<GroupsError> for CliError {
    fn from(e: GroupsError) -> Self {
        classify(e)
    }
}

impl From<groups_manager::ManagerError> for CliError {
    fn from(e: groups_manager::ManagerError) -> Self {
        if let Some(m) = e.membership_error() {
            return CliError::failed(match &m.detail {
                Some(d) => format!("{d} ({})", m.code),
                None => format!("{} for {}", m.code, m.identity_id),
            });
        }
        match e {
            groups_manager::ManagerError::Groups(g) => classify(g),
            other => CliError::failed(other.to_string()),
        }
    }
}

/// Sort an error of the SDK into the kinds above.
fn classify(e: GroupsError) -> CliError {
    let last = e.last_error();
    if last.api_error().is_some() {
        return CliError::Api(Box::new(e));
    }
    if let Some(m) = last.invalid_input_message() {
        return CliError::Usage(m.to_owned());
    }
    if let Some(a) = last.auth_error() {
        if a.requires_login() {
            return CliError::Failed {
                name: "LoginRequired",
                message: format!("{a}; log in again (globus-groups needs new credentials)"),
            };
        }
        if a.transport_kind().is_some() {
            return CliError::Network(a.to_string());
        }
        return CliError::Failed {
            name: "AuthError",
            message: a.to_string(),
        };
    }
    if last.transport_error().is_some() || e.is_timeout() {
        return CliError::Network(e.to_string());
    }
    if matches!(last, GroupsError::Token(_)) {
        return CliError::Failed {
            name: "TokenError",
            message: e.to_string(),
        };
    }
    CliError::failed(e.to_string())
}

/// The `--map-http-status` table: HTTP status to exit code.
#[derive(Clone, Debug, Default)]
pub struct StatusMap(BTreeMap<u16, u8>);

impl StatusMap {
    /// Parse every `--map-http-status` value ("404=50,403=51").
    pub fn parse(values: &[String]) -> Result<Self, CliError> {
        let mut map = BTreeMap::new();
        for value in values {
            for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let bad = || {
                    CliError::usage(format!(
                        "invalid --map-http-status entry {pair:?}: expected STATUS=CODE with a code of 0, 1 or 50-99"
                    ))
                };
                let (status, code) = pair.split_once('=').ok_or_else(bad)?;
                let status: u16 = status.trim().parse().map_err(|_| bad())?;
                let code: u8 = code.trim().parse().map_err(|_| bad())?;
                if !(code <= 1 || (50..=99).contains(&code)) || !(100..=599).contains(&status) {
                    return Err(bad());
                }
                map.insert(status, code);
            }
        }
        Ok(StatusMap(map))
    }

    fn get(&self, status: u16) -> Option<u8> {
        self.0.get(&status).copied()
    }
}

/// How an error is reported: the text for standard error and the exit code.
pub struct Report {
    /// What to print on standard error (ends with a newline, or empty).
    pub text: String,
    /// The exit status.
    pub code: u8,
}

/// The report of `error`, in JSON when `json` is set.
pub fn report(error: &CliError, json: bool, map: &StatusMap) -> Report {
    match error {
        CliError::Reported(code) => Report {
            text: String::new(),
            code: *code,
        },
        CliError::Api(e) => api_report(e, json, map),
        CliError::MissingLogin => {
            let message = "Missing login for Globus Groups. Run `globus-groups login`, or set \
                           GLOBUS_GROUPS_TOKEN (an access token for Globus Groups), or \
                           GLOBUS_GROUPS_CLIENT_ID and GLOBUS_GROUPS_CLIENT_SECRET (a confidential client).";
            if json {
                json_report(
                    json!({"error_name": "MissingLoginError", "message": message}),
                    EXIT_LOGIN,
                )
            } else {
                Report {
                    text: "MissingLoginError: Missing login for Globus Groups, please run\n\n  \
                           globus-groups login\n\n\
                           or set GLOBUS_GROUPS_TOKEN (an access token for Globus Groups), or\n\
                           GLOBUS_GROUPS_CLIENT_ID and GLOBUS_GROUPS_CLIENT_SECRET (a confidential client).\n"
                        .to_owned(),
                    code: EXIT_LOGIN,
                }
            }
        }
        CliError::Usage(m) => simple("UsageError", m, json, EXIT_USAGE, "Error: "),
        CliError::Network(m) => simple("NetworkError", m, json, EXIT_NETWORK, "NetworkError: "),
        CliError::Failed { name, message } => {
            simple(name, message, json, EXIT_ERROR, &format!("{name}: "))
        }
        CliError::Internal(m) => simple(
            "InternalError",
            m,
            json,
            EXIT_INTERNAL,
            "globus-groups internal error (please report it): ",
        ),
    }
}

fn simple(name: &str, message: &str, json: bool, code: u8, prefix: &str) -> Report {
    if json {
        json_report(json!({"error_name": name, "message": message}), code)
    } else {
        Report {
            text: format!("{prefix}{message}\n"),
            code,
        }
    }
}

fn json_report(doc: Value, code: u8) -> Report {
    Report {
        text: format!("{}\n", crate::json_text::to_json_text(&doc)),
        code,
    }
}

fn api_report(error: &GroupsError, json: bool, map: &StatusMap) -> Report {
    let Some(api) = error.last_error().api_error() else {
        return simple(
            "GlobusError",
            &error.to_string(),
            json,
            EXIT_ERROR,
            "Error: ",
        );
    };
    let status = api.status.as_u16();
    let needs_consent =
        api.authorization_parameters.is_some() || api.code.as_deref() == Some("ConsentRequired");
    let default_code = if needs_consent && !json {
        EXIT_LOGIN
    } else {
        EXIT_ERROR
    };
    let code = map.get(status).unwrap_or(default_code);
    if json {
        let doc = match &api.json {
            Some(body) => body.clone(),
            None => json!({
                "error_name": "GlobusAPINullDataError",
                "http_status": status,
                "text": truncate(&api.text(), 500),
            }),
        };
        return json_report(doc, code);
    }
    let mut text = String::new();
    if api.json.is_none() {
        text.push_str(
            "Globus Groups Error: A Globus API Error Occurred (the answer was not JSON).\n",
        );
        text.push_str(&format!("HTTP status: {status}\n"));
        let body = api.text();
        if !body.trim().is_empty() {
            text.push_str(&format!("text: {}\n", truncate(body.trim(), 300)));
        }
        return Report { text, code };
    }
    text.push_str("Globus Groups Error: A Globus API Error Occurred.\n");
    text.push_str(&format!("HTTP status: {status}\n"));
    text.push_str(&format!(
        "code: {}\n",
        api.code.as_deref().unwrap_or("Error")
    ));
    if let Some(m) = api.message() {
        text.push_str(&format!("message: {}\n", truncate(&m, 500)));
    }
    if needs_consent {
        text.push_str(
            "\nThis action needs a new login or consent: get a token with the required \
             scopes and set GLOBUS_GROUPS_TOKEN again.\n",
        );
    } else if status == 401 {
        text.push_str(
            "\nThe credentials were refused: check GLOBUS_GROUPS_TOKEN (it may have expired).\n",
        );
    }
    Report { text, code }
}

fn truncate(s: &str, limit: usize) -> String {
    if s.chars().count() <= limit {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(limit).collect();
    out.push_str("...");
    out
}
