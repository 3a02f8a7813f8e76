//! Issue 19 item 6: `leaksweep schema` prints the JSON Schema of a finding
//! and of a group record, and real output of every kind (plain text, a
//! HAR, an archive member, grouped records) validates against it.

use crate::archives::tar;
use crate::har::{capture, secrets};
use crate::scan::mixed;
use crate::util::{python_check, Env, Run};

/// Validates each JSON line of argv[2] against the schema in argv[1]
/// (draft 7, Python's `jsonschema`, which CI installs).
const VALIDATE: &str = r#"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
bad = 0
for n, line in enumerate(open(sys.argv[2]), 1):
    for e in v.iter_errors(json.loads(line)):
        bad += 1
        print(n, list(e.absolute_path), e.message)
sys.exit(3 if bad else 0)
"#;

fn validate(env: &Env, run: &Run, schema: &str, lines: &[u8], what: &str) {
    let schema_file = env.write(&format!("{what}.schema.json"), schema);
    let lines_file = env.write(&format!("{what}.jsonl"), lines);
    python_check(
        run,
        VALIDATE,
        &[&schema_file, &lines_file],
        &format!("{what} records against `leaksweep schema`"),
    );
}

#[test]
fn issue_19_real_findings_and_group_records_fit_the_printed_schemas() {
    let env = Env::new();
    env.write("in/mixed.log", &mixed().bytes);
    env.write("in/capture.har", capture(&secrets()));
    env.write(
        "in/logs.tar",
        tar(&[("app/mixed.log", mixed().bytes.as_slice())]),
    );
    let finding = env.run(&["schema"]);
    finding.expect_code(0);
    let group = env.run(&["schema", "group"]);
    group.expect_code(0);

    let run = env.run(&["scan", "--format", "jsonl", "in"]);
    run.expect_code(1);
    let found = run.findings();
    run.check(found.iter().any(|f| f.har.is_some()), "HAR findings");
    run.check(found.iter().any(|f| f.member.is_some()), "archive members");
    validate(&env, &run, &finding.stdout(), &run.stdout, "finding");

    let grouped = env.run(&["scan", "--format", "jsonl", "--group-by", "secret", "in"]);
    grouped.expect_code(1);
    grouped.check(grouped.stdout().lines().count() > 10, "group records");
    validate(&env, &grouped, &group.stdout(), &grouped.stdout, "group");
}
