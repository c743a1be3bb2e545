//! The commands: each takes its arguments and a [`Session`] and returns an
//! [`Output`] (the whole response, and how text mode shows it).

pub mod bulk;
pub mod extras;
pub mod group;
pub mod member;

use groups_types::{BatchItem, BatchMembershipActions, BatchVerb, GroupId};
use serde_json::Value;

use crate::cli::{Command, InviteCommand, MemberCommand};
use crate::error::CliError;
use crate::output::{Output, Printer};
use crate::session::Session;

/// Run an API command.
pub async fn run(command: Command, printer: &Printer, quiet: bool) -> Result<Output, CliError> {
    match command {
        Command::Login(a) => return crate::login::login(a).await,
        Command::Logout => {
            // Client identities' tokens first, then the user's login.
            let removed = crate::session::remove_client_tokens().await?;
            return crate::login::logout(removed).await;
        }
        Command::Whoami => return crate::login::whoami().await,
        Command::Session(c) => return crate::login::session(c).await,
        _ => {}
    }
    let session = Session::from_env()?;
    let s = &session;
    match command {
        Command::List(a) => group::list(s, a).await,
        Command::Show(a) => group::show(s, a.group_id).await,
        Command::Create(a) => group::create(s, a).await,
        Command::Update(a) => group::update(s, a).await,
        Command::Delete(a) => group::delete(s, a.group_id).await,
        Command::SetPolicies(a) => group::set_policies(s, a).await,
        Command::Join(a) => group::join(s, a).await,
        Command::Leave(a) => group::leave_or_answer(s, a, group::SelfVerb::Leave).await,
        Command::Invite(InviteCommand::Accept(a)) => {
            group::leave_or_answer(s, a, group::SelfVerb::Accept).await
        }
        Command::Invite(InviteCommand::Decline(a)) => {
            group::leave_or_answer(s, a, group::SelfVerb::Decline).await
        }
        Command::Member(m) => match m {
            MemberCommand::Add(a) => {
                member::one(s, &a.target, BatchVerb::Add, Some(a.role), false).await
            }
            MemberCommand::Invite(a) => {
                member::one(
                    s,
                    &a.target,
                    BatchVerb::Invite,
                    Some(a.role),
                    a.provision_identity,
                )
                .await
            }
            MemberCommand::Approve(a) => member::one(s, &a, BatchVerb::Approve, None, false).await,
            MemberCommand::Reject(a) => member::one(s, &a, BatchVerb::Reject, None, false).await,
            MemberCommand::Remove(a) => member::one(s, &a, BatchVerb::Remove, None, false).await,
            MemberCommand::ChangeRole(a) => {
                member::one(s, &a.target, BatchVerb::ChangeRole, Some(a.role), false).await
            }
            MemberCommand::List(a) => member::list(s, a, printer).await,
            MemberCommand::Bulk(b) => bulk::bulk(s, b, printer, quiet).await,
            MemberCommand::Sync(a) => bulk::sync(s, a, printer, quiet).await,
        },
        Command::GetSubscriptionInfo(a) => group::subscription_info(s, a.subscription_id).await,
        Command::GetBySubscription(a) => {
            group::by_subscription(s, a.subscription_id, printer.is_json()).await
        }
        Command::SetSubscriptionAdminVerified(a) => group::set_verified(s, a).await,
        Command::Statuses => extras::statuses(s).await,
        Command::Children(a) => extras::children(s, a.group_id).await,
        Command::Preferences(p) => extras::preferences(s, p).await,
        Command::MembershipFields(m) => extras::membership_fields(s, m).await,
        Command::Emulator(_)
        | Command::Completions(_)
        | Command::Man
        | Command::Login(_)
        | Command::Logout
        | Command::Whoami
        | Command::Session(_) => Err(CliError::Internal(
            "a local command reached the API dispatcher".into(),
        )),
    }
}

/// `GET path` with query parameters, the answer as JSON as the service
/// sent it (the read commands print it whole, so it is not decoded into
/// the SDK's models and encoded again).
pub async fn get_json(
    session: &Session,
    path: String,
    query: &[(&str, String)],
) -> Result<Value, CliError> {
    get_as(session, path, query).await
}

/// `GET path` with query parameters, the answer decoded as `T` (a
/// [`RawRequest`](groups_core::ops::RawRequest) whose answer is not
/// `serde_json::Value`).
pub async fn get_as<T: serde::de::DeserializeOwned + Send + 'static>(
    session: &Session,
    path: String,
    query: &[(&str, String)],
) -> Result<T, CliError> {
    let mut raw = groups_core::ops::RawRequest::new(http::Method::GET, path);
    for (k, v) in query {
        raw = raw.query_param(*k, v.clone());
    }
    let op = TypedGet {
        raw,
        output: std::marker::PhantomData::<fn() -> T>,
    };
    Ok(session.client().call(op).await?)
}

/// A raw GET whose 2xx answer decodes into `T`.
struct TypedGet<T> {
    raw: groups_core::ops::RawRequest<'static>,
    output: std::marker::PhantomData<fn() -> T>,
}

impl<T: serde::de::DeserializeOwned> groups_core::Operation for TypedGet<T> {
    type Output = T;
    const NAME: &'static str = "request";

    fn build_request(
        &self,
        ctx: &groups_core::ClientConfig,
    ) -> Result<http::Request<bytes::Bytes>, groups_core::GroupsError> {
        self.raw.build_request(ctx)
    }

    fn parse_response(
        &self,
        response: http::Response<bytes::Bytes>,
    ) -> Result<T, groups_core::GroupsError> {
        groups_core::ops::parse_json_response(response)
    }
}

/// A JSON value of a typed response.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, CliError> {
    serde_json::to_value(value)
        .map_err(|e| CliError::Internal(format!("cannot show the response as JSON: {e}")))
}

/// Send one batch with `items` under `verb`; the answer as JSON.
pub async fn batch(
    session: &Session,
    group: GroupId,
    verb: BatchVerb,
    items: Vec<BatchItem>,
) -> Result<Value, CliError> {
    let mut actions = BatchMembershipActions::new();
    for item in items {
        actions.push(&verb, item);
    }
    let result = session
        .client()
        .batch_membership_action(group, actions)
        .await?;
    to_json(&result)
}

/// The error globus-cli raises when a batch's `verb` list came back empty:
/// the first error's detail, or a generic message.
pub fn batch_refused(answer: &Value, verb: &BatchVerb, generic: &str) -> CliError {
    let first = answer
        .get("errors")
        .and_then(|e| e.get(verb.as_str()))
        .and_then(Value::as_array)
        .and_then(|a| a.first());
    let message = match first {
        Some(e) => {
            let code = e.get("code").and_then(Value::as_str).unwrap_or("ERROR");
            match e.get("detail").and_then(Value::as_str) {
                Some(d) => format!("{d} ({code})"),
                None => format!("{generic} ({code})"),
            }
        }
        None => generic.to_owned(),
    };
    CliError::Failed {
        name: "ValueError",
        message,
    }
}
