//! The command line, as clap definitions: the source of `--help`, the shell
//! completions and the man page.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use groups_types::{GroupId, SubscriptionId};

/// Manage Globus Groups from the command line: globus-cli's `group`
/// commands, with bulk membership changes, roster sync and more.
///
/// Authentication: `globus-groups login`, or GLOBUS_GROUPS_TOKEN (an access
/// token for Globus Groups), or GLOBUS_GROUPS_CLIENT_ID and
/// GLOBUS_GROUPS_CLIENT_SECRET (a confidential client acting as itself).
/// GLOBUS_SDK_ENVIRONMENT and GLOBUS_SDK_SERVICE_URL_GROUPS/_AUTH choose the
/// service, as for globus-cli.
#[derive(Debug, Parser)]
#[command(name = "globus-groups", version, propagate_version = true)]
#[command(after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Options accepted by every command.
    #[command(flatten)]
    pub global: GlobalOpts,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// What the exit status means (shown under `--help`).
pub const EXIT_CODES_HELP: &str = "\
Exit status: 0 success; 1 an API error (or a bulk change with failures); 2 a usage error;
3 the service could not be reached; 4 a login or consent is needed; 255 an internal error.";

/// Output format of `-F/--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Records and tables for people.
    Text,
    /// The whole response, indented by 2, keys sorted.
    Json,
    /// Tab-separated lines for shell scripts.
    Unix,
}

/// The options of every command.
#[derive(Debug, Args)]
pub struct GlobalOpts {
    /// Output format.
    #[arg(short = 'F', long = "format", global = true, value_enum, ignore_case = true, default_value_t = Format::Text)]
    pub format: Format,
    /// A JMESPath expression applied to the JSON response (switches text output to JSON).
    #[arg(
        long = "jmespath",
        visible_alias = "jq",
        global = true,
        value_name = "EXPR"
    )]
    pub jmespath: Option<String>,
    /// Map HTTP statuses of API errors to exit codes, e.g. "404=50,403=51"
    /// (codes 0, 1 and 50-99; repeatable).
    #[arg(long = "map-http-status", global = true, value_name = "MAP", action = clap::ArgAction::Append)]
    pub map_http_status: Vec<String>,
    /// More logging on standard error: -v errors, -vv info, -vvv debug.
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No logging and no progress bar (wins over --verbose).
    #[arg(long, global = true)]
    pub quiet: bool,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the groups you belong to.
    List(ListArgs),
    /// Show a group.
    Show(GroupArg),
    /// Create a group.
    Create(CreateArgs),
    /// Update a group's name, description, terms or verification.
    Update(UpdateArgs),
    /// Delete a group.
    Delete(GroupArg),
    /// Set a group's policies.
    SetPolicies(SetPoliciesArgs),
    /// Join a group (or ask to, with --request).
    Join(JoinArgs),
    /// Leave a group.
    Leave(IdentityOpt),
    /// Accept or decline an invitation.
    #[command(subcommand)]
    Invite(InviteCommand),
    /// Manage the members of a group.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Show the group of a subscription and the subscription's details.
    GetSubscriptionInfo(SubscriptionArg),
    /// Show the group that provides a subscription.
    GetBySubscription(SubscriptionArg),
    /// Mark a group as verified by a subscription's admin, or clear it with `null`.
    SetSubscriptionAdminVerified(SetVerifiedArgs),
    /// Membership counts of the groups you administer or manage.
    Statuses,
    /// The subgroups of a group.
    Children(GroupArg),
    /// Your identity preferences (whether others may add you to groups).
    #[command(subcommand)]
    Preferences(PreferencesCommand),
    /// Your membership fields in a group.
    #[command(subcommand)]
    MembershipFields(MembershipFieldsCommand),
    /// The local Globus Groups emulator: try every command with no account.
    #[command(subcommand)]
    Emulator(EmulatorCommand),
    /// Log in to Globus (a browser on this machine, or a link to open
    /// elsewhere and a code to paste back).
    Login(LoginArgs),
    /// Log out: revoke the stored tokens and remove them.
    Logout,
    /// Show the identity you are logged in as.
    Whoami,
    /// Your login session.
    #[command(subcommand)]
    Session(SessionCommand),
    /// Print shell completions for SHELL to standard output.
    Completions(CompletionsArgs),
    /// Print the man page (roff) to standard output.
    Man,
}

/// `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only memberships with these statuses (comma-separated: active,
    /// invited, pending, rejected, removed, left, declined, suspended).
    #[arg(long, value_delimiter = ',', value_name = "STATUSES")]
    pub statuses: Vec<String>,
}

/// A group id.
#[derive(Debug, Args)]
pub struct GroupArg {
    /// The group's id.
    #[arg(value_name = "GROUP_ID")]
    pub group_id: GroupId,
}

/// A subscription id.
#[derive(Debug, Args)]
pub struct SubscriptionArg {
    /// The subscription's id.
    #[arg(value_name = "SUBSCRIPTION_ID")]
    pub subscription_id: SubscriptionId,
}

/// `create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The group's name.
    pub name: String,
    /// A description of the group.
    #[arg(long)]
    pub description: Option<String>,
    /// Make it a subgroup of this group.
    #[arg(long, value_name = "GROUP_ID")]
    pub parent_id: Option<GroupId>,
}

/// `update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The group's id.
    #[arg(value_name = "GROUP_ID")]
    pub group_id: GroupId,
    /// A new name.
    #[arg(long)]
    pub name: Option<String>,
    /// A new description.
    #[arg(long)]
    pub description: Option<String>,
    /// New terms and conditions.
    #[arg(long)]
    pub terms_and_conditions: Option<String>,
    /// `null` clears the subscription-admin verification (set it with
    /// set-subscription-admin-verified).
    #[arg(long, value_name = "UUID|null")]
    pub subscription_admin_verified_id: Option<String>,
}

/// Group visibility.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Visibility {
    /// Any logged-in user may see the group.
    Authenticated,
    /// Only members see it.
    Private,
}

/// Member-list visibility.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MembersVisibility {
    /// Members see the member list.
    Members,
    /// Only managers and admins see it.
    Managers,
}

/// `set-policies`.
#[derive(Debug, Args)]
pub struct SetPoliciesArgs {
    /// The group's id.
    #[arg(value_name = "GROUP_ID")]
    pub group_id: GroupId,
    /// Require a high-assurance session.
    #[arg(long, overrides_with = "no_high_assurance")]
    pub high_assurance: bool,
    /// Do not require a high-assurance session.
    #[arg(long)]
    pub no_high_assurance: bool,
    /// Seconds since the last authentication that a high-assurance session allows.
    #[arg(long, value_name = "INTEGER")]
    pub authentication_timeout: Option<i64>,
    /// Who may see the group.
    #[arg(long, value_enum, ignore_case = true)]
    pub visibility: Option<Visibility>,
    /// Who may see the member list.
    #[arg(long, value_enum, ignore_case = true)]
    pub members_visibility: Option<MembersVisibility>,
    /// Allow requests to join.
    #[arg(long, overrides_with = "no_join_requests")]
    pub join_requests: bool,
    /// Do not allow requests to join.
    #[arg(long)]
    pub no_join_requests: bool,
    /// Fields asked of people who join (comma-separated; "" for none).
    #[arg(long, value_name = "FIELDS")]
    pub signup_fields: Option<String>,
}

/// `join`.
#[derive(Debug, Args)]
pub struct JoinArgs {
    /// The group's id.
    #[arg(value_name = "GROUP_ID")]
    pub group_id: GroupId,
    /// The identity to join as (default: yours).
    #[arg(long, value_name = "IDENTITY")]
    pub identity: Option<String>,
    /// Ask to join instead of joining.
    #[arg(long)]
    pub request: bool,
}

/// A group and an optional `--identity`.
#[derive(Debug, Args)]
pub struct IdentityOpt {
    /// The group's id.
    #[arg(value_name = "GROUP_ID")]
    pub group_id: GroupId,
    /// The identity to act as (default: all of yours that apply).
    #[arg(long, value_name = "IDENTITY")]
    pub identity: Option<String>,
}

/// `invite ...`.
#[derive(Debug, Subcommand)]
pub enum InviteCommand {
    /// Accept an invitation to a group.
    Accept(IdentityOpt),
    /// Decline an invitation to a group.
    Decline(IdentityOpt),
}

/// A role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// A member.
    Member,
    /// A manager: manages memberships.
    Manager,
    /// An admin: also changes roles and the group.
    Admin,
}

impl Role {
    /// The API's role.
    pub fn to_api(self) -> groups_types::GroupRole {
        match self {
            Role::Member => groups_types::GroupRole::Member,
            Role::Manager => groups_types::GroupRole::Manager,
            Role::Admin => groups_types::GroupRole::Admin,
        }
    }
}

/// A group and a user.
#[derive(Debug, Args)]
pub struct GroupUser {
    /// The group's id.
    #[arg(value_name = "GROUP_ID")]
    pub group_id: GroupId,
    /// An identity id or a username (with an @).
    #[arg(value_name = "USER")]
    pub user: String,
}

/// `member add`.
#[derive(Debug, Args)]
pub struct MemberAddArgs {
    /// The group and the user.
    #[command(flatten)]
    pub target: GroupUser,
    /// The new member's role.
    #[arg(long, value_enum, ignore_case = true, default_value_t = Role::Member)]
    pub role: Role,
}

/// `member invite`.
#[derive(Debug, Args)]
pub struct MemberInviteArgs {
    /// The group and the user.
    #[command(flatten)]
    pub target: GroupUser,
    /// The role offered.
    #[arg(long, value_enum, ignore_case = true, default_value_t = Role::Member)]
    pub role: Role,
    /// Create the identity of an unknown username (of a known identity provider).
    #[arg(long)]
    pub provision_identity: bool,
}

/// `member change-role`.
#[derive(Debug, Args)]
pub struct ChangeRoleArgs {
    /// The group and the user.
    #[command(flatten)]
    pub target: GroupUser,
    /// The new role.
    #[arg(long, value_enum, ignore_case = true)]
    pub role: Role,
}

/// `member list`.
#[derive(Debug, Args)]
pub struct MemberListArgs {
    /// The group's id.
    #[arg(value_name = "GROUP_ID")]
    pub group_id: GroupId,
    /// Membership fields to show as extra columns (comma-separated, text output only).
    #[arg(long, value_name = "FIELDS")]
    pub fields: Option<String>,
}

/// `member ...`.
#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Add a member.
    Add(MemberAddArgs),
    /// Invite someone.
    Invite(MemberInviteArgs),
    /// Approve a request to join.
    Approve(GroupUser),
    /// Reject a request to join.
    Reject(GroupUser),
    /// Remove a member.
    Remove(GroupUser),
    /// List the members.
    List(MemberListArgs),
    /// Change a member's role.
    ChangeRole(ChangeRoleArgs),
    /// Apply one action to every identity listed in a file.
    #[command(subcommand)]
    Bulk(BulkCommand),
    /// Make the members match a roster file (shows the plan first).
    Sync(SyncArgs),
}

/// The options of every bulk action.
#[derive(Debug, Args)]
pub struct BulkArgs {
    /// The group's id.
    #[arg(value_name = "GROUP_ID")]
    pub group_id: GroupId,
    /// One identity id or username per line, or CSV whose first column is one
    /// (blank lines and # comments ignored).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Identities per request.
    #[arg(long, default_value_t = groups_manager::DEFAULT_BATCH_SIZE as u64, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub batch_size: u64,
    /// Progress display: a bar on a terminal (auto), always (plain lines
    /// when not a terminal) or never.
    #[arg(long, value_enum, default_value_t = Progress::Auto)]
    pub progress: Progress,
}

/// When to show progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Progress {
    /// A bar when standard error is a terminal (and not --quiet).
    Auto,
    /// Always: a bar on a terminal, else one line per batch.
    Always,
    /// Never.
    Never,
}

/// `member bulk add|invite`.
#[derive(Debug, Args)]
pub struct BulkRoleArgs {
    /// The group, the file and the batch size.
    #[command(flatten)]
    pub bulk: BulkArgs,
    /// The role (a second CSV column overrides it per line).
    #[arg(long, value_enum, ignore_case = true, default_value_t = Role::Member)]
    pub role: Role,
}

/// `member bulk ...`.
#[derive(Debug, Subcommand)]
pub enum BulkCommand {
    /// Add every identity of the file.
    Add(BulkRoleArgs),
    /// Invite every identity of the file.
    Invite(BulkRoleArgs),
    /// Remove every identity of the file.
    Remove(BulkArgs),
    /// Approve the requests of every identity of the file.
    Approve(BulkArgs),
    /// Reject the requests of every identity of the file.
    Reject(BulkArgs),
}

/// `member sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The group's id.
    #[arg(value_name = "GROUP_ID")]
    pub group_id: GroupId,
    /// The roster: one identity id or username per line, optionally followed
    /// by a role (CSV or whitespace-separated; default member).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Show the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Keep members that are not on the roster (default: remove them).
    #[arg(long)]
    pub keep_extras: bool,
    /// Identities per request.
    #[arg(long, default_value_t = groups_manager::DEFAULT_BATCH_SIZE as u64, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub batch_size: u64,
    /// Progress display while applying (see `member bulk add --help`).
    #[arg(long, value_enum, default_value_t = Progress::Auto)]
    pub progress: Progress,
}

/// `set-subscription-admin-verified`.
#[derive(Debug, Args)]
pub struct SetVerifiedArgs {
    /// The group's id.
    #[arg(value_name = "GROUP_ID")]
    pub group_id: GroupId,
    /// The subscription's id, or `null` to clear.
    #[arg(value_name = "SUBSCRIPTION_ID|null")]
    pub subscription_id: String,
}

/// `preferences ...`.
#[derive(Debug, Subcommand)]
pub enum PreferencesCommand {
    /// Show your identity preferences.
    Show,
    /// Set whether others may add you to groups.
    Set(PreferencesSetArgs),
}

/// `preferences set`.
#[derive(Debug, Args)]
pub struct PreferencesSetArgs {
    /// Allow others to add you to groups.
    #[arg(
        long,
        conflicts_with = "no_allow_add",
        required_unless_present = "no_allow_add"
    )]
    pub allow_add: bool,
    /// Do not allow others to add you to groups (they may invite you).
    #[arg(long)]
    pub no_allow_add: bool,
    /// The identity (default: every identity of yours the service lists).
    #[arg(long, value_name = "IDENTITY")]
    pub identity: Option<String>,
}

/// `membership-fields ...`.
#[derive(Debug, Subcommand)]
pub enum MembershipFieldsCommand {
    /// Show your membership fields in a group.
    Show(GroupArg),
    /// Set membership fields in a group (e.g. --field institution="Uni").
    Set(MembershipFieldsSetArgs),
}

/// `membership-fields set`.
#[derive(Debug, Args)]
pub struct MembershipFieldsSetArgs {
    /// The group's id.
    #[arg(value_name = "GROUP_ID")]
    pub group_id: GroupId,
    /// NAME=VALUE (repeatable).
    #[arg(long = "field", value_name = "NAME=VALUE", required = true)]
    pub fields: Vec<String>,
    /// The identity (default: every identity of yours with a membership).
    #[arg(long, value_name = "IDENTITY")]
    pub identity: Option<String>,
}

/// `emulator ...`.
#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Serve the emulator on 127.0.0.1 until Ctrl-C.
    Serve(EmulatorServeArgs),
}

/// `emulator serve`.
#[derive(Debug, Args)]
pub struct EmulatorServeArgs {
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// A seed document (JSON) to start from.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// A state file: writes are saved there and a restart continues from it.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

/// `login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Print a link to open in any browser and read the code from standard
    /// input, instead of a browser on this machine.
    #[arg(long)]
    pub no_local_server: bool,
    /// Log in even if already logged in.
    #[arg(long)]
    pub force: bool,
}

/// `session ...`.
#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// The identities of your session and when they authenticated.
    Show,
}

/// `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
