//! The fault matrix at full stack: manager and client over the real hyper
//! transport against the emulator's injected faults. Each cell states how
//! many requests reached the emulator, what the caller gets, and what the
//! emulator's state shows afterwards, so a write applied twice (or a write
//! reported as lost that was in fact applied, without saying so) fails.
//!
//! The client renews its token by client credentials against the
//! emulator's Globus Auth, so the 401 row shows a real renewal.
//!
//! Rows are the faults, injected once on the cell's request; columns are
//! the four kinds of call: a `GET`, an idempotent `PUT`, the batch `POST`
//! (idempotent in effect) and the group-creating `POST` (not idempotent).

mod common;

use std::time::Duration;

use common::fast_retries;
use globus_groups::hyper_client::{HyperClientBuilder, HyperTransport};
use globus_groups::manager::GroupsManager;
use globus_groups::sansio::GroupsScopes;
use globus_groups::sansio::config::BaseUrl;
use globus_groups::sansio::transport::TransportErrorKind;
use globus_groups::types::*;
use groups_emulator::{Emulator, Fault};

/// The attempt timeout of every client here; the delay fault outlasts it.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(250);
const DELAY: Duration = Duration::from_millis(600);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Get,
    Put,
    Batch,
    Create,
}

impl Column {
    const ALL: [Column; 4] = [Column::Get, Column::Put, Column::Batch, Column::Create];

    fn method(self) -> &'static str {
        match self {
            Column::Get => "GET",
            Column::Put => "PUT",
            Column::Batch | Column::Create => "POST",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Row {
    TooManyRequests,
    Status(u16),
    /// A load balancer's HTML 502 page in front of the service.
    HtmlBadGateway,
    CloseBeforeAnswer,
    TruncatedBody,
    DelayBeyondAttemptTimeout,
    Unauthorized,
}

impl Row {
    const ALL: [Row; 11] = [
        Row::TooManyRequests,
        Row::Status(500),
        Row::Status(502),
        Row::HtmlBadGateway,
        Row::Status(503),
        Row::Status(504),
        Row::CloseBeforeAnswer,
        Row::TruncatedBody,
        Row::DelayBeyondAttemptTimeout,
        Row::Status(418),
        Row::Unauthorized,
    ];

    fn fault(self) -> Fault {
        match self {
            Row::TooManyRequests => Fault::status(429).retry_after(1),
            Row::Status(s) => Fault::status(s),
            Row::HtmlBadGateway => Fault::html(502),
            Row::CloseBeforeAnswer => Fault::close(),
            Row::TruncatedBody => Fault::truncate(),
            Row::DelayBeyondAttemptTimeout => Fault::delay(DELAY),
            Row::Unauthorized => Fault::status(401),
        }
    }

    /// Whether the emulator applies the request before the fault shows:
    /// `Some(true)` it does, `Some(false)` it does not, `None` it may (a
    /// delayed request whose connection the client closed may be dropped
    /// by the server, as a real one may, or applied).
    fn applies_the_request(self) -> Option<bool> {
        match self {
            Row::TruncatedBody => Some(true),
            Row::DelayBeyondAttemptTimeout => None,
            _ => Some(false),
        }
    }
}

/// What one cell must show.
#[derive(Debug, PartialEq, Eq)]
struct Cell {
    /// Requests that reached the emulator.
    attempts: u64,
    /// `Ok`, or the error's status / transport kind.
    outcome: String,
}

/// The expected cell: retried once where the policy allows it.
fn expected(row: Row, column: Column) -> Cell {
    let idempotent = column != Column::Create;
    let retried = match row {
        // A rate limiter refuses before processing: every call is repeated.
        Row::TooManyRequests | Row::Unauthorized => true,
        Row::Status(s) => idempotent && matches!(s, 500 | 502 | 503 | 504),
        // Not JSON, but a 502 all the same: retried like one.
        Row::HtmlBadGateway => idempotent,
        Row::CloseBeforeAnswer | Row::TruncatedBody | Row::DelayBeyondAttemptTimeout => idempotent,
    };
    if retried {
        // After a 401 the provider fetches a new token first: that request
        // reaches the emulator too.
        let attempts = if matches!(row, Row::Unauthorized) {
            3
        } else {
            2
        };
        // The batch repeated after it was applied reports the identity as
        // already active: an honest answer, not a second application.
        let outcome = if column == Column::Batch && row.applies_the_request() == Some(true) {
            "membership ALREADY_ACTIVE".to_owned()
        } else {
            "Ok".to_owned()
        };
        return Cell { attempts, outcome };
    }
    let outcome = match row {
        Row::Status(s) => format!("status {s}"),
        Row::HtmlBadGateway => "status 502".to_owned(),
        Row::CloseBeforeAnswer | Row::TruncatedBody => "transport io".to_owned(),
        Row::DelayBeyondAttemptTimeout => "transport timeout".to_owned(),
        Row::TooManyRequests | Row::Unauthorized => unreachable!("always retried"),
    };
    Cell {
        attempts: 1,
        outcome,
    }
}

/// A manager whose client renews its token by client credentials against
/// the emulator's Globus Auth (so a 401 makes it fetch a new token).
fn manager(emu: &Emulator) -> GroupsManager<HyperTransport> {
    let client = HyperClientBuilder::new()
        .base_url(emu.base_url())
        .auth_url(BaseUrl::parse(&emu.base_url()).expect("auth URL"))
        .allow_plain_http_loopback(true)
        .retry_policy(fast_retries())
        .attempt_timeout(ATTEMPT_TIMEOUT)
        .build_with_client_credentials("matrix-client", "matrix-secret", [GroupsScopes::ALL])
        .expect("client builds");
    GroupsManager::new(client)
}

fn describe_manager_error(e: &globus_groups::manager::ManagerError) -> String {
    if let Some(m) = e.membership_error() {
        return format!("membership {}", m.code);
    }
    match e.groups_error() {
        Some(g) => describe(g),
        None => format!("other {e}"),
    }
}

fn describe(e: &globus_groups::GroupsError) -> String {
    let e = e.last_error();
    if let Some(status) = e.status() {
        return format!("status {}", status.as_u16());
    }
    match e.transport_error().map(|t| t.kind()) {
        Some(TransportErrorKind::Io) => "transport io".to_owned(),
        Some(TransportErrorKind::Timeout) => "transport timeout".to_owned(),
        Some(other) => format!("transport {other:?}"),
        None => format!("other {e}"),
    }
}

/// Check how often the cell's write shows in the emulator's state: never
/// twice; once when the call succeeded or was retried (the retry applies
/// it, or finds it applied); otherwise as the fault dictates.
fn check_effect(row: Row, column: Column, ok: bool, applied: usize) {
    assert!(applied <= 1, "{row:?}/{column:?}: applied {applied} times");
    let retried = expected(row, column).attempts >= 2;
    let want = if ok || retried {
        Some(true)
    } else {
        row.applies_the_request()
    };
    if let Some(want) = want {
        assert_eq!(
            applied == 1,
            want,
            "{row:?}/{column:?}: applied {applied} times"
        );
    }
}

/// Run one cell on a fresh group; returns what happened and checks the
/// emulator's state for double application.
async fn run_cell(emu: &Emulator, row: Row, column: Column, n: usize) -> Cell {
    let m = manager(emu);
    let setup = m
        .create_group(format!("matrix {n}"))
        .await
        .expect("set-up group");
    let member = IdentityId::from_uuid(uuid::Uuid::from_u128(0x3a7_0000 + n as u128));
    let new_name = format!("created {n}");
    let path = match column {
        Column::Create => "/v2/groups".to_owned(),
        _ => format!("/v2/groups/{}", setup.id),
    };
    emu.inject(row.fault().method(column.method()).path(path).times(1));
    let before = emu.request_count();
    let outcome = match column {
        Column::Get => m
            .client()
            .get_group(setup.id)
            .await
            .map(|_| ())
            .map_err(|e| describe(&e)),
        Column::Put => m
            .client()
            .update_group(setup.id, GroupUpdate::new().description("updated"))
            .await
            .map(|_| ())
            .map_err(|e| describe(&e)),
        Column::Batch => m
            .add_member(setup.id, member)
            .await
            .map(|_| ())
            .map_err(|e| describe_manager_error(&e)),
        Column::Create => m
            .create_group(new_name.clone())
            .await
            .map(|_| ())
            .map_err(|e| describe_manager_error(&e)),
    };
    let attempts = emu.request_count() - before;
    if matches!(row, Row::DelayBeyondAttemptTimeout) {
        // Let a delayed first attempt finish on the emulator.
        tokio::time::sleep(DELAY + Duration::from_millis(100)).await;
    }
    assert!(
        emu.pending_faults().is_empty(),
        "{row:?}/{column:?}: fault unused"
    );

    // Side effects, read from the emulator's own state.
    let state = emu.dump_state();
    let text = state.to_string();
    match column {
        Column::Get => {}
        Column::Put => {
            let doc = m.client().get_group(setup.id).await.expect("read back");
            let applied = doc.description.value().map(String::as_str) == Some("updated");
            check_effect(row, column, outcome.is_ok(), usize::from(applied));
        }
        Column::Batch => {
            let doc = m
                .client()
                .get_group(setup.id)
                .include([GroupInclude::Memberships])
                .await
                .expect("read back");
            let entries = doc
                .membership_list()
                .iter()
                .filter(|x| x.identity_id == member)
                .count();
            check_effect(row, column, outcome.is_ok(), entries);
        }
        Column::Create => {
            let created = text.matches(&format!("\"{new_name}\"")).count();
            check_effect(row, column, outcome.is_ok(), created);
        }
    }
    Cell {
        attempts,
        outcome: match outcome {
            Ok(()) => "Ok".to_owned(),
            Err(e) => e,
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_on_every_kind_of_call() {
    let emu = Emulator::start().await.expect("emulator starts");
    let mut n = 0;
    let mut mismatches = Vec::new();
    for row in Row::ALL {
        for column in Column::ALL {
            n += 1;
            let got = run_cell(&emu, row, column, n).await;
            let want = expected(row, column);
            if got != want {
                mismatches.push(format!("{row:?} / {column:?}: got {got:?}, want {want:?}"));
            }
        }
    }
    emu.shutdown().await.expect("emulator stops");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
