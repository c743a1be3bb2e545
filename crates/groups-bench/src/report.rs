//! Result rows, the JSON file and the `BENCHMARKS.md` table.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

/// How a row's ratio is judged.
#[derive(Clone, Copy, Debug, Serialize)]
pub enum Cmp {
    /// Met when `ratio >= target`.
    AtLeast,
    /// Met when `ratio <= target`.
    AtMost,
    /// Met when `ratio < target`.
    Below,
}

/// A goal on a row's ratio.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Goal {
    /// Comparison.
    pub cmp: Cmp,
    /// Target ratio.
    pub target: f64,
}

impl Goal {
    /// `ratio >= target`.
    pub const fn at_least(target: f64) -> Goal {
        Goal {
            cmp: Cmp::AtLeast,
            target,
        }
    }
    /// `ratio <= target`.
    pub const fn at_most(target: f64) -> Goal {
        Goal {
            cmp: Cmp::AtMost,
            target,
        }
    }
    /// `ratio < target`.
    pub const fn below(target: f64) -> Goal {
        Goal {
            cmp: Cmp::Below,
            target,
        }
    }
    fn met(&self, ratio: f64) -> bool {
        match self.cmp {
            Cmp::AtLeast => ratio >= self.target,
            Cmp::AtMost => ratio <= self.target,
            Cmp::Below => ratio < self.target,
        }
    }
    fn text(&self) -> String {
        let op = match self.cmp {
            Cmp::AtLeast => "≥",
            Cmp::AtMost => "≤",
            Cmp::Below => "<",
        };
        format!("{op} {}×", trim_float(self.target))
    }
}

/// The performance goals, by row id. This is the one place goals are set:
/// a row listed here is judged on its ratio against the goal, a row not
/// listed is measured and reported without a goal.
pub const GOALS: &[(&str, Goal)] = &[
    // Sequential `get_group`: ours ÷ the bare hyper-util client.
    ("1a", Goal::at_least(0.95)),
    // 16 concurrent tasks: ours ÷ the bare client.
    ("1b", Goal::at_least(0.90)),
    // 2,000 sequential `get_group`: ours ÷ Python globus-sdk.
    ("2a", Goal::at_least(22.0)),
    // Sequential `get_my_groups` of 50 groups: ours ÷ Python.
    ("2b", Goal::at_least(10.0)),
    // Sequential `add_member` through the manager: ours ÷ Python.
    ("2d", Goal::at_least(20.0)),
    // Typed decode of 10,000 groups: speed relative to `serde_json::Value`.
    ("3a", Goal::at_least(5.0)),
    // Typed decode of 10,000 groups: speed relative to a plain
    // `derive(Deserialize)` struct that drops unknown keys.
    ("3d", Goal::at_least(1.0)),
    // The emulator's throughput ÷ a minimal hyper server's.
    ("4a", Goal::at_least(0.5)),
    // The emulator's throughput ÷ the `fauxbus` fake's.
    ("4c", Goal::at_least(10.0)),
    // Per-identity cost of one batch of 10,000 ÷ of 1,000 (linear scaling).
    ("5a", Goal::at_most(1.2)),
    // Per-member cost of a 10,000-member sync ÷ of a 1,000-member one.
    ("5b", Goal::at_most(1.2)),
    // Peak RSS decoding 10,000 groups ÷ body size.
    ("6", Goal::below(2.0)),
    // 64 tasks across a token expiry: token requests (exactly one).
    ("10a", Goal::at_most(1.0)),
    // 64 tasks across a token expiry: p99 in the renewal window ÷ steady p99.
    ("10b", Goal::at_most(2.0)),
    // A one-member write with a state file: latency at a 50 MB state ÷ at an empty one.
    ("7a", Goal::at_most(1.5)),
    // Wall time of one command of globus-groups vs globus-cli (list, show,
    // member add, member list of 1,000): globus-cli's time ÷ ours.
    ("8a", Goal::at_least(50.0)),
    ("8b", Goal::at_least(50.0)),
    ("8c", Goal::at_least(50.0)),
    ("8d", Goal::at_least(50.0)),
];

/// The goal of the row `id`, from [`GOALS`].
pub fn goal_for(id: &str) -> Option<Goal> {
    GOALS.iter().find(|(g, _)| *g == id).map(|(_, goal)| *goal)
}

/// One measured value with its unit.
#[derive(Clone, Debug, Serialize)]
pub struct Measure {
    /// The number.
    pub value: f64,
    /// Its unit, e.g. `ops/s`, `ms`, `µs/identity`, `MiB`.
    pub unit: String,
}

impl Measure {
    /// A measure.
    pub fn new(value: f64, unit: &str) -> Self {
        Measure {
            value,
            unit: unit.to_owned(),
        }
    }
    fn text(&self) -> String {
        format!("{} {}", fmt_num(self.value), self.unit)
    }
}

/// One line of the table.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// Workload number and letter, e.g. `1a`.
    pub id: String,
    /// What was measured.
    pub workload: String,
    /// Our side.
    pub ours: Measure,
    /// What we compare against (name).
    pub baseline_name: String,
    /// The baseline's value (absent when it could not run).
    pub baseline: Option<Measure>,
    /// The ratio the goal is judged on (see `ratio_meaning`).
    pub ratio: Option<f64>,
    /// How the ratio is computed.
    pub ratio_meaning: String,
    /// Goal, if this row has one.
    pub goal: Option<Goal>,
    /// Whether the goal was met (absent without goal or ratio).
    pub met: Option<bool>,
    /// Free text (what was skipped, which variant was measured).
    pub note: String,
}

impl Row {
    /// A row; its goal is the one [`GOALS`] lists for `id` (none if it is
    /// not listed), and `met` is computed from `ratio` and that goal.
    /// Goals are set only in [`GOALS`], so no call site can disagree with
    /// the table.
    pub fn new(
        id: &str,
        workload: &str,
        ours: Measure,
        baseline_name: &str,
        baseline: Option<Measure>,
        ratio: Option<f64>,
        ratio_meaning: &str,
    ) -> Row {
        let goal = goal_for(id);
        let ratio = ratio.filter(|r| r.is_finite());
        let met = match (goal, ratio) {
            (Some(g), Some(r)) => Some(g.met(r)),
            _ => None,
        };
        Row {
            id: id.to_owned(),
            workload: workload.to_owned(),
            ours,
            baseline_name: baseline_name.to_owned(),
            baseline,
            ratio,
            ratio_meaning: ratio_meaning.to_owned(),
            goal,
            met,
            note: String::new(),
        }
    }

    /// Attach a note.
    pub fn note(mut self, note: impl Into<String>) -> Row {
        self.note = note.into();
        self
    }
}

/// Format a number with about three significant digits, thousands grouped.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_owned();
    }
    let a = v.abs();
    if a >= 1000.0 {
        group_thousands(v.round() as i64)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v}");
    s.trim_end_matches(".0").to_owned()
}

/// The markdown table of `rows`.
pub fn markdown_table(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str("| # | workload | ours | baseline | ratio | goal | met? |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- | --- |\n");
    for r in rows {
        let baseline = match &r.baseline {
            Some(m) => format!("{}: {}", r.baseline_name, m.text()),
            None => format!("{}: not run", r.baseline_name),
        };
        let ratio = r
            .ratio
            .map(|x| format!("{}×", fmt_num(x)))
            .unwrap_or_else(|| "n/a".to_owned());
        let goal = r.goal.map(|g| g.text()).unwrap_or_else(|| "—".to_owned());
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.id,
            r.workload,
            r.ours.text(),
            baseline,
            ratio,
            goal,
            met
        );
    }
    out
}

/// The notes of `rows` as a bullet list (rows without a note are skipped).
pub fn markdown_notes(rows: &[Row]) -> String {
    let mut out = String::new();
    for r in rows
        .iter()
        .filter(|r| !r.note.is_empty() || !r.ratio_meaning.is_empty())
    {
        let _ = write!(out, "- **{}** ratio = {}.", r.id, r.ratio_meaning);
        if !r.note.is_empty() {
            let _ = write!(out, " {}", r.note);
        }
        out.push('\n');
    }
    out
}

/// The whole JSON document written next to the table.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    /// `full` or `quick`.
    pub mode: &'a str,
    /// Seconds since the Unix epoch when the run finished.
    pub finished_unix: u64,
    /// Machine facts (cores, kernel, tool versions).
    pub machine: Value,
    /// The table rows.
    pub rows: &'a [Row],
    /// Raw measurements of every workload.
    pub details: &'a Value,
    /// Errors of workloads that could not run.
    pub errors: &'a [String],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_are_judged_on_the_ratio() {
        let r = Row::new(
            "1a",
            "x",
            Measure::new(1.0, "ops/s"),
            "bare",
            Some(Measure::new(1.0, "ops/s")),
            Some(0.95),
            "ours/bare",
        );
        assert_eq!(r.met, Some(true));
        let r = Row::new(
            "6",
            "x",
            Measure::new(1.0, "MiB"),
            "b",
            None,
            Some(2.0),
            "peak/body",
        );
        assert_eq!(r.met, Some(false));
        let r = Row::new(
            "5a",
            "x",
            Measure::new(1.0, "µs"),
            "1k",
            None,
            Some(1.3),
            "10k/1k",
        );
        assert_eq!(r.met, Some(false));
        let r = Row::new(
            "5c",
            "x",
            Measure::new(1.0, "µs"),
            "1k",
            None,
            Some(1.3),
            "10k/1k",
        );
        assert_eq!((r.goal.is_none(), r.met), (true, None));
        let r = Row::new("6", "x", Measure::new(1.0, "MiB"), "b", None, None, "");
        assert_eq!(r.met, None);
    }

    #[test]
    fn goal_table_holds_the_published_goals() {
        let text = |id: &str| goal_for(id).map(|g| g.text());
        assert_eq!(text("1a").as_deref(), Some("≥ 0.95×"));
        assert_eq!(text("1b").as_deref(), Some("≥ 0.9×"));
        assert_eq!(text("2a").as_deref(), Some("≥ 22×"));
        assert_eq!(text("2b").as_deref(), Some("≥ 10×"));
        assert_eq!(text("2d").as_deref(), Some("≥ 20×"));
        assert_eq!(text("3a").as_deref(), Some("≥ 5×"));
        assert_eq!(text("3d").as_deref(), Some("≥ 1×"));
        assert_eq!(text("6").as_deref(), Some("< 2×"));
        assert_eq!(text("4a").as_deref(), Some("≥ 0.5×"));
        assert_eq!(text("4c").as_deref(), Some("≥ 10×"));
        assert_eq!(text("5a").as_deref(), Some("≤ 1.2×"));
        assert_eq!(text("5b").as_deref(), Some("≤ 1.2×"));
        assert_eq!(text("2a-js"), None);
        assert_eq!(text("4b"), None);
    }

    #[test]
    fn numbers_are_short_and_grouped() {
        assert_eq!(fmt_num(12345.6), "12,346");
        assert_eq!(fmt_num(123.4), "123");
        assert_eq!(fmt_num(12.34), "12.3");
        assert_eq!(fmt_num(1.234), "1.23");
        assert_eq!(fmt_num(0.1234), "0.123");
        assert_eq!(fmt_num(f64::NAN), "n/a");
    }

    #[test]
    fn table_marks_missed_goals() {
        let rows = vec![
            Row::new(
                "2a",
                "get_group",
                Measure::new(20000.0, "ops/s"),
                "python",
                Some(Measure::new(500.0, "ops/s")),
                Some(40.0),
                "ours/python",
            ),
            Row::new(
                "2b",
                "get_my_groups",
                Measure::new(1.0, "ops/s"),
                "python",
                None,
                None,
                "",
            ),
            Row::new(
                "4b",
                "rps",
                Measure::new(1.0, "req/s"),
                "minimal",
                Some(Measure::new(1.0, "req/s")),
                Some(1.0),
                "",
            ),
        ];
        let t = markdown_table(&rows);
        assert!(
            t.contains(
                "| 2a | get_group | 20,000 ops/s | python: 500 ops/s | 40.0× | ≥ 22× | yes |"
            ),
            "{t}"
        );
        assert!(t.contains("python: not run | n/a | ≥ 10× | — |"), "{t}");
        assert!(t.contains("| 1.00× | — | — |"), "{t}");
    }
}
