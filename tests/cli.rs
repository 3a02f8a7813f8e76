//! Integration tests: every test runs the real `leaksweep` binary on files
//! written to a temp directory and asserts what a user sees — stdout,
//! stderr and the exit status. One test target; topics are modules in
//! `tests/cli/`.

#[path = "cli/util.rs"]
mod util;

#[path = "cli/tokens.rs"]
mod tokens;

#[path = "support/emulators.rs"]
mod emulators;
#[path = "support/moto.rs"]
mod moto;

#[path = "cli/archives.rs"]
mod archives;
#[path = "cli/baseline.rs"]
mod baseline;
#[path = "cli/big.rs"]
mod big;
#[path = "cli/config.rs"]
mod config;
#[path = "cli/errors.rs"]
mod errors;
#[path = "cli/escapes.rs"]
mod escapes;
#[path = "cli/exit_status.rs"]
mod exit_status;
#[path = "cli/false_positives.rs"]
mod false_positives;
#[path = "cli/families.rs"]
mod families;
#[path = "cli/flags.rs"]
mod flags;
#[path = "cli/formats.rs"]
mod formats;
#[path = "cli/group.rs"]
mod group;
#[path = "cli/har.rs"]
mod har;
#[path = "cli/hostile.rs"]
mod hostile;
#[path = "cli/manual.rs"]
mod manual;
#[path = "cli/merge.rs"]
mod merge;
#[path = "cli/names.rs"]
mod names;
#[path = "cli/objects.rs"]
mod objects;
#[path = "cli/order.rs"]
mod order;
#[path = "cli/redact.rs"]
mod redact;
#[path = "cli/redact_damage.rs"]
mod redact_damage;
#[path = "cli/redact_markers.rs"]
mod redact_markers;
#[path = "cli/redaction.rs"]
mod redaction;
#[path = "cli/rules.rs"]
mod rules;
#[path = "cli/scan.rs"]
mod scan;
#[path = "cli/schema.rs"]
mod schema;
#[path = "cli/signed.rs"]
mod signed;
#[path = "cli/silent.rs"]
mod silent;
#[path = "cli/spark.rs"]
mod spark;
#[path = "cli/state.rs"]
mod state;
#[path = "cli/stdin.rs"]
mod stdin;
#[path = "cli/truncation.rs"]
mod truncation;
