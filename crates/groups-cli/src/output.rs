//! Printing results: text records and tables with globus-cli's field names
//! and layout, JSON (the whole response, indent 2, keys sorted) and unix
//! (tab-separated lines), after an optional JMESPath expression.

use std::borrow::Cow;
use std::io::Write;

use serde_json::Value;

use crate::cli::Format;
use crate::error::CliError;
pub use crate::json_text::to_json_text;

/// How a cell's value is looked up and shown.
#[derive(Clone, Debug)]
pub enum Key {
    /// A dotted path (`policies.group_visibility`), shown as globus-cli
    /// shows a value: `None`, `True`/`False`, the string or number.
    Path(String),
    /// An array at a dotted path, sorted and comma-joined.
    SortedArray(String),
    /// The caller's roles: `my_memberships[].role`, sorted, comma-joined.
    Roles,
    /// `enforce_session` as `strict`/`not strict` (null counts as false).
    SessionEnforcement,
}

/// A named field of a record or a column of a table.
#[derive(Clone, Debug)]
pub struct Field {
    /// The name shown (`Group ID`).
    pub name: String,
    /// Where the value comes from.
    pub key: Key,
    /// Wrap long values (records only).
    pub wrap: bool,
}

impl Field {
    /// A field at a dotted path.
    pub fn new(name: &str, path: &str) -> Self {
        Field {
            name: name.to_owned(),
            key: Key::Path(path.to_owned()),
            wrap: false,
        }
    }

    /// A field with another kind of key.
    pub fn with_key(name: &str, key: Key) -> Self {
        Field {
            name: name.to_owned(),
            key,
            wrap: false,
        }
    }

    /// A wrapped field at a dotted path.
    pub fn wrapped(name: &str, path: &str) -> Self {
        Field {
            wrap: true,
            ..Field::new(name, path)
        }
    }

    /// The cell text of this field in `doc`.
    pub fn render(&self, doc: &Value) -> String {
        match &self.key {
            Key::Path(p) => show(lookup(doc, p)),
            Key::SortedArray(p) => sorted_join(lookup(doc, p)),
            Key::Roles => {
                let mut roles: Vec<String> = lookup(doc, "my_memberships")
                    .and_then(Value::as_array)
                    .map(|ms| {
                        ms.iter()
                            .filter_map(|m| m.get("role").map(|r| show(Some(r))))
                            .collect()
                    })
                    .unwrap_or_default();
                roles.sort();
                roles.dedup();
                roles.join(",")
            }
            Key::SessionEnforcement => {
                if lookup(doc, "enforce_session").and_then(Value::as_bool) == Some(true) {
                    "strict".to_owned()
                } else {
                    "not strict".to_owned()
                }
            }
        }
    }
}

/// The value at a dotted path (`a.b.c`), if any.
pub fn lookup<'v>(doc: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(doc, |v, key| match v {
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => v.get(key),
    })
}

/// A value as globus-cli prints a cell.
pub fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "None".to_owned(),
        Some(Value::Bool(true)) => "True".to_owned(),
        Some(Value::Bool(false)) => "False".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Array(_)) => sorted_join(v),
        Some(o @ Value::Object(_)) => o.to_string(),
    }
}

fn sorted_join(v: Option<&Value>) -> String {
    match v {
        Some(Value::Array(items)) => {
            let mut parts: Vec<String> = items.iter().map(|i| show(Some(i))).collect();
            parts.sort();
            parts.join(",")
        }
        other => show_scalar(other),
    }
}

fn show_scalar(v: Option<&Value>) -> String {
    match v {
        Some(Value::Array(_)) => String::new(),
        other => show(other),
    }
}

/// What text mode prints for a result.
#[derive(Debug)]
pub enum Text {
    /// A record of fields of the document (or of a part of it).
    Record {
        /// The fields.
        fields: Vec<Field>,
        /// A dotted path to the part shown (`None`: the whole document).
        at: Option<String>,
    },
    /// A table over the array at a dotted path (`None`: the document is the array).
    Table {
        /// The columns.
        fields: Vec<Field>,
        /// Where the rows are.
        at: Option<String>,
    },
    /// Lines printed as they are.
    Lines(String),
    /// Nothing (the command printed already).
    Nothing,
}

/// A command's result: the whole response and how text mode shows it.
#[derive(Debug)]
pub struct Output {
    /// The document for JSON and unix output.
    pub json: Value,
    /// The text view.
    pub text: Text,
}

impl Output {
    /// A message line for text mode over a response document.
    pub fn message(json: Value, line: impl Into<String>) -> Self {
        let mut line = line.into();
        if !line.ends_with('\n') {
            line.push('\n');
        }
        Output {
            json,
            text: Text::Lines(line),
        }
    }

    /// A record over the whole document.
    pub fn record(json: Value, fields: Vec<Field>) -> Self {
        Output {
            json,
            text: Text::Record { fields, at: None },
        }
    }

    /// A table over the document (an array) or an array in it.
    pub fn table(json: Value, fields: Vec<Field>, at: Option<&str>) -> Self {
        Output {
            json,
            text: Text::Table {
                fields,
                at: at.map(str::to_owned),
            },
        }
    }
}

/// Where and how output goes.
#[derive(Debug)]
pub struct Printer {
    /// The format asked for.
    pub format: Format,
    /// The compiled `--jmespath` expression's text.
    pub jmespath: Option<String>,
    /// Terminal width for wrapping (80 when not a terminal).
    pub width: usize,
}

impl Printer {
    /// Whether errors and results are JSON.
    pub fn is_json(&self) -> bool {
        self.format == Format::Json || (self.jmespath.is_some() && self.format == Format::Text)
    }

    /// Check a `--jmespath` expression (a usage error when it does not parse).
    pub fn check_jmespath(expr: &str) -> Result<(), CliError> {
        jmespath::compile(expr)
            .map(|_| ())
            .map_err(|e| CliError::usage(format!("invalid --jmespath expression: {e}")))
    }

    /// Render `output` as the text to print on standard output. Text
    /// already made (a table of lines) is borrowed, not copied.
    pub fn render<'o>(&self, output: &'o Output) -> Result<Cow<'o, str>, CliError> {
        let selected;
        let data = match &self.jmespath {
            Some(expr) => {
                selected = apply_jmespath(expr, &output.json)?;
                &selected
            }
            None => &output.json,
        };
        if self.is_json() {
            return Ok(Cow::Owned(format!("{}\n", to_json_text(data))));
        }
        if self.format == Format::Unix {
            return unix_text(data).map(Cow::Owned);
        }
        Ok(Cow::Owned(match &output.text {
            Text::Lines(s) => return Ok(Cow::Borrowed(s)),
            Text::Nothing => String::new(),
            Text::Record { fields, at } => {
                let doc = match at {
                    Some(p) => lookup(data, p).unwrap_or(&Value::Null),
                    None => data,
                };
                record_text(fields, doc, self.width)
            }
            Text::Table { fields, at } => {
                let rows = match at {
                    Some(p) => lookup(data, p),
                    None => Some(data),
                };
                let empty = Vec::new();
                let rows = rows.and_then(Value::as_array).unwrap_or(&empty);
                table_text(fields, rows)
            }
        }))
    }

    /// Print `output` on standard output.
    pub fn print(&self, output: &Output) -> Result<(), CliError> {
        let text = self.render(output)?;
        write_stdout(&text);
        Ok(())
    }
}

/// Write to standard output; a closed pipe (`| head`) is not an error.
pub fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn apply_jmespath(expr: &str, data: &Value) -> Result<Value, CliError> {
    let compiled = jmespath::compile(expr)
        .map_err(|e| CliError::usage(format!("invalid --jmespath expression: {e}")))?;
    let var = jmespath::Variable::from_json(&data.to_string()).map_err(|e| {
        CliError::Internal(format!("cannot convert the response for JMESPath: {e}"))
    })?;
    let result = compiled
        .search(var)
        .map_err(|e| CliError::usage(format!("--jmespath failed: {e}")))?;
    serde_json::to_value(&*result)
        .map_err(|e| CliError::Internal(format!("cannot convert the JMESPath result: {e}")))
}

/// A record: `Name:` padded to the longest name + 2, then the value;
/// wrapped fields fold to the width and stop after 5 lines with `...`.
pub fn record_text(fields: &[Field], doc: &Value, width: usize) -> String {
    let key_width = fields
        .iter()
        .map(|f| f.name.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let mut out = String::new();
    for f in fields {
        let label = format!("{}:", f.name);
        let value = f.render(doc);
        if f.wrap {
            let avail = width.saturating_sub(key_width).max(20);
            let lines = wrap(&value, avail);
            let mut iter = lines.into_iter();
            let first = iter.next().unwrap_or_default();
            out.push_str(&format!("{label:<key_width$}{first}"));
            out.push('\n');
            for line in iter {
                out.push_str(&" ".repeat(key_width));
                out.push_str(&line);
                out.push('\n');
            }
        } else {
            out.push_str(&format!("{label:<key_width$}{value}"));
            out.push('\n');
        }
    }
    out
}

/// Greedy word wrap to `width` columns, at most 5 lines (the last ends
/// with `...` when text was cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let mut word = word.to_owned();
            while word.chars().count() > width {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                let head: String = word.chars().take(width).collect();
                word = word.chars().skip(width).collect();
                lines.push(head);
            }
            if line.is_empty() {
                line = word;
            } else if line.chars().count() + 1 + word.chars().count() <= width {
                line.push(' ');
                line.push_str(&word);
            } else {
                lines.push(std::mem::replace(&mut line, word));
            }
        }
        lines.push(line);
    }
    if lines.len() > 5 {
        lines.truncate(5);
        if let Some(last) = lines.last_mut() {
            last.push_str("...");
        }
    }
    lines
}

/// A table: headers, a `-` rule with `-+-` at the joints, cells
/// left-justified (the last one padded too, as globus-cli does) and joined
/// by ` | `.
pub fn table_text(fields: &[Field], rows: &[Value]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| fields.iter().map(|f| f.render(r)).collect())
        .collect();
    let headers: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
    table_of(&headers, &cells)
}

/// A table of already-formatted cells.
pub fn table_of(headers: &[String], cells: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    // Cells go straight into the output, padded to their column's width in
    // characters (as `{:<w$}` would), with no string per cell or per line.
    let write_row = |out: &mut String, row: &[String]| {
        for (i, (c, w)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                out.push_str(" | ");
            }
            out.push_str(c);
            let pad = w.saturating_sub(c.chars().count());
            out.extend(std::iter::repeat_n(' ', pad));
        }
        out.push('\n');
    };
    let row_len: usize = widths.iter().sum::<usize>() + 3 * widths.len() + 1;
    let mut out = String::with_capacity(row_len * (cells.len() + 2));
    write_row(&mut out, headers);
    for (i, w) in widths.iter().enumerate() {
        if i > 0 {
            out.push_str("-+-");
        }
        out.extend(std::iter::repeat_n('-', *w));
    }
    out.push('\n');
    for row in cells {
        write_row(&mut out, row);
    }
    out
}

/// Unix output: scalars of one object on one tab-separated line (keys
/// sorted), nested objects and arrays of objects on lines of their own
/// prefixed by the upper-cased key; an array of arrays cannot be
/// flattened (a usage error suggesting --jmespath).
pub fn unix_text(v: &Value) -> Result<String, CliError> {
    let mut out = String::new();
    unix_walk(v, None, &mut out)?;
    Ok(out)
}

fn unix_scalar(v: &Value) -> String {
    match v {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn unix_walk(v: &Value, prefix: Option<&str>, out: &mut String) -> Result<(), CliError> {
    let emit = |out: &mut String, cells: Vec<String>| {
        if cells.is_empty() {
            return;
        }
        if let Some(p) = prefix {
            out.push_str(p);
            out.push('\t');
        }
        out.push_str(&cells.join("\t"));
        out.push('\n');
    };
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let scalars: Vec<String> = keys
                .iter()
                .filter(|k| !matches!(m[k.as_str()], Value::Object(_) | Value::Array(_)))
                .map(|k| unix_scalar(&m[k.as_str()]))
                .collect();
            emit(out, scalars);
            for k in keys {
                let child = &m[k.as_str()];
                if matches!(child, Value::Object(_) | Value::Array(_)) {
                    unix_walk(child, Some(&k.to_uppercase()), out)?;
                }
            }
        }
        Value::Array(items) => {
            if items.iter().any(Value::is_array) {
                return Err(CliError::usage(
                    "this output cannot be shown in unix format (nested lists); \
                     select part of it with --jmespath",
                ));
            }
            if items.iter().all(|i| !i.is_object()) {
                emit(out, items.iter().map(unix_scalar).collect());
            } else {
                for i in items {
                    unix_walk(i, prefix, out)?;
                }
            }
        }
        scalar => emit(out, vec![unix_scalar(scalar)]),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn record_pads_to_the_longest_name_plus_two() {
        let fields = vec![
            Field::new("Group ID", "id"),
            Field::new("Added User Username", "u"),
        ];
        let text = record_text(&fields, &json!({"id": "g", "u": null}), 80);
        assert_eq!(
            text,
            format!("Group ID:{}g\nAdded User Username: None\n", " ".repeat(12))
        );
    }

    #[test]
    fn wrap_stops_after_five_lines() {
        let long = "word ".repeat(200);
        let lines = wrap(&long, 20);
        assert_eq!(lines.len(), 5);
        assert!(lines[4].ends_with("..."));
        assert!(lines[..4].iter().all(|l| l.chars().count() <= 20));
    }

    #[test]
    fn table_layout() {
        let fields = vec![Field::new("A", "a"), Field::new("Long name", "b")];
        let text = table_text(&fields, &[json!({"a": "xyz", "b": true})]);
        assert_eq!(text, "A   | Long name\n----+----------\nxyz | True     \n");
    }

    #[test]
    fn json_keys_sorted_recursively() {
        let text = to_json_text(&json!({"b": 1, "a": {"d": 1, "c": [{"f": 1, "e": 2}]}}));
        let a = text.find("\"a\"").unwrap();
        let b = text.find("\"b\"").unwrap();
        let c = text.find("\"c\"").unwrap();
        let d = text.find("\"d\"").unwrap();
        let e = text.find("\"e\"").unwrap();
        let f = text.find("\"f\"").unwrap();
        assert!(a < b && c < d && e < f, "{text}");
        assert!(text.contains("\n  \"a\": {"), "indent 2: {text}");
    }

    #[test]
    fn unix_flattens_and_refuses_nested_lists() {
        let text =
            unix_text(&json!({"id": "g", "name": "n", "my_memberships": [{"role": "admin"}]}))
                .unwrap();
        assert_eq!(text, "g\tn\nMY_MEMBERSHIPS\tadmin\n");
        assert!(unix_text(&json!([[1]])).is_err());
    }

    #[test]
    fn cells_follow_globus_cli() {
        let doc = json!({"enforce_session": null, "my_memberships": [{"role": "member"}, {"role": "admin"}],
                         "p": {"s": ["zip", "city"]}, "b": false});
        assert_eq!(
            Field::with_key("S", Key::SessionEnforcement).render(&doc),
            "not strict"
        );
        assert_eq!(
            Field::with_key("R", Key::Roles).render(&doc),
            "admin,member"
        );
        assert_eq!(
            Field::with_key("F", Key::SortedArray("p.s".into())).render(&doc),
            "city,zip"
        );
        assert_eq!(Field::new("B", "b").render(&doc), "False");
        assert_eq!(Field::new("M", "missing.x").render(&doc), "None");
    }
}
