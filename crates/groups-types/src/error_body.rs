//! Error bodies the service sends with 4xx and 5xx statuses.

use serde_json::{Map, Value};

model! {
    /// `{code, detail}` (`BaseErrorModel`): 404, 409, 500, and 422 on my_groups.
    pub struct BaseError {
        /// Machine-readable code, an open set.
        req code: String = "code",
        /// Human-readable explanation.
        req detail: String = "detail",
    }
}

model! {
    /// A 401 body (`AuthErrorModel`): `AUTHENTICATION_ERROR` or `INVALID_TOKEN`.
    pub struct AuthError {
        /// `AUTHENTICATION_ERROR` (missing or malformed header) or
        /// `INVALID_TOKEN` (expired, revoked, wrong service).
        req code: String = "code",
        /// Human-readable explanation.
        req detail: String = "detail",
        /// What a new login must satisfy.
        req authorization_parameters: AuthorizationParameters = "authorization_parameters",
    }
}

/// A list that some servers send as one comma-separated string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StringOrList {
    /// A JSON list of strings.
    List(Vec<String>),
    /// One string (globus-sdk splits it on commas).
    Joined(String),
}

impl StringOrList {
    /// The items, splitting a joined string on commas.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            StringOrList::List(v) => v.clone(),
            StringOrList::Joined(s) => s
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

impl serde::Serialize for StringOrList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            StringOrList::List(v) => v.serialize(s),
            StringOrList::Joined(v) => s.serialize_str(v),
        }
    }
}

impl<'de> serde::Deserialize<'de> for StringOrList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = StringOrList;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<StringOrList, E> {
                Ok(StringOrList::Joined(v.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<StringOrList, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(StringOrList::List(out))
            }
        }
        d.deserialize_any(V)
    }
}

model! {
    /// What a new login must satisfy (`AuthParamsModel`, the Globus Auth
    /// Requirements Error format).
    pub struct AuthorizationParameters {
        /// A message to show the user.
        opt session_message: String = "session_message",
        /// Identities that must be in the session.
        opt session_required_identities: Vec<String> = "session_required_identities",
        /// Policies the session must satisfy (a list, or a comma-joined string).
        opt session_required_policies: StringOrList = "session_required_policies",
        /// Domains of which one must be in the session.
        opt session_required_single_domain: Vec<String> = "session_required_single_domain",
        /// Whether multi-factor authentication is required.
        opt session_required_mfa: bool = "session_required_mfa",
        /// Scopes the token must carry.
        opt required_scopes: Vec<String> = "required_scopes",
        /// A prompt value for the authorize call (e.g. `login`).
        opt prompt: String = "prompt",
        /// Extra parameters for the authorize call.
        opt extra_parameters: Map<String, Value> = "extra",
    }
}

model! {
    /// A 403 body (`ForbiddenErrorModel`).
    pub struct ForbiddenError {
        /// Machine-readable code.
        req code: String = "code",
        /// Human-readable explanation.
        req detail: String = "detail",
        /// The scopes the token carried.
        opt provided_scopes: Vec<String> = "provided_scopes",
    }
}

model! {
    /// A 400 body (`BadRequestErrorModel`), e.g. an identity under two verbs.
    pub struct BadRequestError {
        /// Machine-readable code.
        req code: String = "code",
        /// Human-readable explanation.
        req detail: String = "detail",
        /// The repeated identities.
        req ambiguous_identities: Vec<String> = "ambiguous_identities",
    }
}

model! {
    /// A 422 body (`HTTPValidationError`): `detail` is a list here.
    pub struct ValidationErrorBody {
        /// What was wrong.
        opt detail: Vec<ValidationError> = "detail",
    }
}

model! {
    /// One validation failure (pydantic style).
    pub struct ValidationError {
        /// Where: e.g. `["body", "name"]` (strings and indexes).
        req loc: Vec<Value> = "loc",
        /// Message.
        req msg: String = "msg",
        /// Kind of failure, e.g. `missing`.
        req error_type: String = "type",
        /// The offending input (a JSON `null` reads as [`crate::Nullable::Null`]).
        opt input: Value = "input",
        /// Context for the message.
        opt ctx: Map<String, Value> = "ctx",
    }
}

impl ValidationError {
    /// `loc` joined with dots, e.g. `body.name`.
    pub fn location(&self) -> String {
        self.loc
            .iter()
            .map(|p| match p {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(".")
    }
}

impl BaseError {
    /// A `{code, detail}` body.
    pub fn new(code: impl Into<String>, detail: impl Into<String>) -> Self {
        BaseError {
            code: code.into(),
            detail: detail.into(),
            extra: crate::JsonObject::new(),
        }
    }
}
