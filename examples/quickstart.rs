//! Quickstart: the main job of the SDK, end to end, over real HTTP.
//!
//! ```text
//! cargo run --release --example quickstart
//! ```
//!
//! With no token configured it starts the embedded Groups emulator on
//! 127.0.0.1 (no account, no network) and works against it. With
//! `GLOBUS_GROUPS_TOKEN` set (an access token for the Groups resource
//! server, scope `urn:globus:auth:scope:groups.api.globus.org:all`) the very
//! same code runs against the real Globus service chosen by
//! `GLOBUS_SDK_ENVIRONMENT` / `GLOBUS_SDK_SERVICE_URL_GROUPS`; there, pass
//! colleagues' identity ids in `QUICKSTART_IDENTITIES` (comma-separated,
//! at least five) since the demo people below exist only in the emulator.
//!
//! It creates a group, sets its policies, adds and invites members, prints
//! the roster, syncs the roster to a desired list (dry run, apply, and a
//! second run that finds nothing to do) and deletes the group again.

use std::collections::HashMap;
use std::process::ExitCode;

use globus_groups::hyper_client::GroupsClient;
use globus_groups::manager::{GroupsManager, PolicySettings, SyncOptions};
use globus_groups::types::*;
use groups_emulator::Emulator;

mod common;

type Manager = GroupsManager<globus_groups::hyper_client::HyperTransport>;

/// The demo people and their usernames.
type People = (Vec<IdentityId>, HashMap<IdentityId, String>);

/// The people of the demo: (username, role in the final roster).
const PEOPLE: [&str; 6] = [
    "grace@radio.example.org",
    "jocelyn@radio.example.org",
    "karl@radio.example.org",
    "ruby@radio.example.org",
    "vera@radio.example.org",
    "arno@radio.example.org",
];

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    common::init_logging();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quickstart failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (manager, people, names, emulator) = match std::env::var("GLOBUS_GROUPS_TOKEN") {
        Ok(token) if !token.trim().is_empty() => {
            let client = globus_groups::hyper_client::client_from_env(token.trim())?;
            println!(
                "Using the Globus Groups service at {}",
                client.config().base_url()
            );
            let people = real_identities()?;
            let names = HashMap::new();
            (GroupsManager::new(client), people, names, None)
        }
        _ => {
            let (emu, manager, people, names) = on_emulator().await?;
            println!(
                "Started the embedded Groups emulator at {} (no account needed).",
                emu.base_url()
            );
            (manager, people, names, Some(emu))
        }
    };
    let result = demo(&manager, &people, &names).await;
    if let Some(emu) = emulator {
        emu.shutdown().await?;
    }
    result
}

/// The embedded emulator, seeded with the demo people, and a manager for
/// the organiser.
async fn on_emulator() -> Result<
    (
        Emulator,
        Manager,
        Vec<IdentityId>,
        HashMap<IdentityId, String>,
    ),
    Box<dyn std::error::Error>,
> {
    let emu = Emulator::start().await?;
    let (people, names) = seed_people(&emu)?;
    let client: GroupsClient = globus_groups::hyper_client::HyperClientBuilder::new()
        .base_url(emu.base_url())
        .allow_plain_http_loopback(true)
        .app_name("quickstart")
        .build_with_token("quickstart-token")?;
    Ok((emu, GroupsManager::new(client), people, names))
}

/// Seed the emulator with readable people and a token for the organiser.
fn seed_people(emu: &Emulator) -> Result<People, Box<dyn std::error::Error>> {
    let organiser = IdentityId::from_uuid(uuid::Uuid::from_u128(0x0a11ce));
    let mut people = Vec::new();
    let mut identities =
        vec![serde_json::json!({"id": organiser, "username": "alice@radio.example.org"})];
    let mut names = HashMap::from([(organiser, "alice@radio.example.org".to_owned())]);
    for (n, username) in PEOPLE.iter().enumerate() {
        let id = IdentityId::from_uuid(uuid::Uuid::from_u128(0xbeef_0000 + n as u128));
        identities.push(serde_json::json!({"id": id, "username": username}));
        names.insert(id, (*username).to_owned());
        people.push(id);
    }
    let seed = serde_json::json!({
        "identities": identities,
        "tokens": [{"token": "quickstart-token", "identity": organiser}],
    });
    emu.load_seed(serde_json::from_value(seed)?)?;
    Ok((people, names))
}

fn real_identities() -> Result<Vec<IdentityId>, Box<dyn std::error::Error>> {
    let list = std::env::var("QUICKSTART_IDENTITIES").unwrap_or_default();
    let ids = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(IdentityId::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if ids.len() < 5 {
        return Err(
            "set QUICKSTART_IDENTITIES to at least five comma-separated identity ids".into(),
        );
    }
    Ok(ids)
}

async fn demo(
    manager: &Manager,
    people: &[IdentityId],
    names: &HashMap<IdentityId, String>,
) -> Result<(), Box<dyn std::error::Error>> {
    let name_of = |id: &IdentityId| names.get(id).cloned().unwrap_or_else(|| id.to_string());

    // 1. Create a group.
    let group = manager
        .create_group("Radio Astronomy Lab")
        .description("Observers of the 21 cm line")
        .await?;
    println!("\n1. Created group \"{}\" ({})", group.name, group.id);

    // Whatever happens next, the group does not outlive the demo.
    let result = steps(manager, group.id, people, &name_of).await;
    let deleted = manager.client().delete_group(group.id).await;
    match (&result, deleted) {
        (Ok(()), Ok(deleted)) => println!("6. Deleted \"{}\". Done.", deleted.name),
        (Ok(()), Err(e)) => return Err(format!("deleting the demo group {}: {e}", group.id).into()),
        (Err(_), Ok(_)) => eprintln!("(the demo group {} was deleted again)", group.id),
        (Err(_), Err(e)) => eprintln!(
            "the demo group {} could not be deleted ({e}); delete it by hand",
            group.id
        ),
    }
    result
}

async fn steps(
    manager: &Manager,
    group_id: GroupId,
    people: &[IdentityId],
    name_of: &impl Fn(&IdentityId) -> String,
) -> Result<(), Box<dyn std::error::Error>> {
    // 2. Policies: private, member list for managers, join requests allowed.
    let policies = manager
        .set_group_policies(
            group_id,
            PolicySettings::new()
                .high_assurance(false)
                .group_visibility(GroupVisibility::Private)
                .group_members_visibility(GroupMemberVisibility::Managers)
                .join_requests(true)
                .signup_fields([GroupRequiredSignupFields::Institution]),
        )
        .await?;
    println!(
        "2. Set policies: visibility {}, member list visible to {}, join requests {}",
        show(&policies.group_visibility),
        show(&policies.group_members_visibility),
        if policies.join_requests.value() == Some(&true) {
            "allowed"
        } else {
            "off"
        },
    );

    // 3. Add three members (one as manager) in one call, invite a fourth.
    let added = manager
        .bulk(group_id)
        .add_members(people[..2].iter().copied(), GroupRole::Member)
        .await?;
    manager
        .add_member(group_id, people[2])
        .role(GroupRole::Manager)
        .await?;
    let invited = manager.invite_member(group_id, people[3]).await?;
    println!(
        "3. Added {} members and {} as manager; invited {} ({})",
        added.succeeded(),
        name_of(&people[2]),
        name_of(&people[3]),
        invited.status
    );

    // 4. The roster.
    println!("4. Roster:");
    print_roster(manager, group_id, name_of).await?;

    // 5. Sync the roster to a desired list: the second person leaves, the
    // manager becomes an admin, the fifth person joins as a manager, and a
    // sixth (when there is one) as a member.
    let mut desired = vec![
        (people[0], GroupRole::Member),
        (people[2], GroupRole::Admin),
        (people[3], GroupRole::Member),
        (people[4], GroupRole::Manager),
    ];
    desired.extend(people.get(5).map(|p| (*p, GroupRole::Member)));
    let dry = manager
        .sync_members(group_id, desired.clone(), SyncOptions::new().dry_run(true))
        .await?;
    println!("5. Sync to the desired roster; the plan (dry run, nothing changed yet):");
    let plan = &dry.plan;
    for p in &plan.add {
        println!("     add     {} as {}", name_of(&p.identity_id), p.role);
    }
    for p in &plan.invite {
        println!("     invite  {} as {}", name_of(&p.identity_id), p.role);
    }
    for c in &plan.change_role {
        println!(
            "     role    {}: {} -> {}",
            name_of(&c.identity_id),
            c.from,
            c.to
        );
    }
    for r in &plan.remove {
        println!(
            "     remove  {} ({} {})",
            name_of(&r.identity_id),
            r.status,
            r.role
        );
    }
    let applied = manager
        .sync_members(group_id, desired.clone(), SyncOptions::new())
        .await?;
    if let Some(report) = &applied.report {
        println!(
            "   Applied: {} changes succeeded, {} failed",
            report.succeeded(),
            report.failed()
        );
        for f in &report.failures {
            println!(
                "     {} {}: {} {}",
                f.verb,
                name_of(&f.identity_id),
                f.code,
                f.detail.as_deref().unwrap_or("")
            );
        }
    }
    println!("   Roster after the sync:");
    print_roster(manager, group_id, name_of).await?;
    let again = manager
        .sync_members(group_id, desired, SyncOptions::new())
        .await?;
    println!(
        "   Syncing again: {}",
        if again.plan.is_empty() {
            "nothing to do".to_owned()
        } else {
            again.plan.describe()
        }
    );

    Ok(())
}

async fn print_roster(
    manager: &Manager,
    group: GroupId,
    name_of: &impl Fn(&IdentityId) -> String,
) -> Result<(), Box<dyn std::error::Error>> {
    let doc = manager
        .client()
        .get_group(group)
        .include([GroupInclude::Memberships])
        .await?;
    let mut rows: Vec<_> = doc
        .membership_list()
        .iter()
        .map(|m| {
            (
                m.role.to_string(),
                m.status.to_string(),
                name_of(&m.identity_id),
            )
        })
        .collect();
    rows.sort_by(|a, b| (rank(&a.0), &a.2).cmp(&(rank(&b.0), &b.2)));
    println!("     {:<8} {:<9} MEMBER", "ROLE", "STATUS");
    for (role, status, name) in rows {
        println!("     {role:<8} {status:<9} {name}");
    }
    Ok(())
}

fn rank(role: &str) -> u8 {
    match role {
        "admin" => 0,
        "manager" => 1,
        _ => 2,
    }
}

fn show<T: std::fmt::Display>(v: &Nullable<T>) -> String {
    v.value()
        .map(ToString::to_string)
        .unwrap_or_else(|| "(unset)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn groups_left(manager: &Manager) -> usize {
        manager
            .client()
            .get_my_groups()
            .await
            .expect("list groups")
            .len()
    }

    #[tokio::test]
    async fn five_identities_are_enough() {
        // The README asks for five identities on the real service.
        let (emu, manager, people, names) = on_emulator().await.unwrap();
        demo(&manager, &people[..5], &names).await.unwrap();
        assert_eq!(groups_left(&manager).await, 0, "the demo group was deleted");
        emu.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn a_failure_midway_deletes_the_group() {
        let (emu, manager, people, names) = on_emulator().await.unwrap();
        // Setting policies is refused (403 is never retried).
        emu.inject(
            groups_emulator::Fault::status(403)
                .method("PUT")
                .path("/v2/groups/*/policies")
                .times(1),
        );
        let err = demo(&manager, &people, &names).await.unwrap_err();
        assert!(err.to_string().contains("403"), "{err}");
        assert_eq!(groups_left(&manager).await, 0, "the demo group was deleted");
        emu.shutdown().await.unwrap();
    }
}
