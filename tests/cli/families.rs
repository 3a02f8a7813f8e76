//! One test per token family: the family's typical log line between clean
//! lines is reported exactly once, by the expected rule, at the line,
//! column and offset where the secret was written, with the fingerprint of
//! the raw secret, a masked `secret` and the right `kind`.
//!
//! Each family sits in its own file of one directory, scanned once for all
//! the family tests (the binary's start-up — compiling every rule — costs
//! about a second in a debug build); each test checks its own file.

use std::sync::OnceLock;

use crate::tokens::{self, Case};
use crate::util::{clean_lines, Env, Finding, Layout, Located, Placed, Run};

/// Seed of the catalogue every family test uses.
pub const SEED: u64 = 2024;

/// Asserts that `f` reports `case`'s secret where it was `placed` in `path`.
#[track_caller]
pub fn check_case(run: &Run, f: &Finding, case: &Case, placed: &Placed, path: &str) {
    let want = Located::at(case.rule, placed, &case.secret);
    run.check_eq(
        f.located(),
        want,
        format!("{}: rule, position and fingerprint", case.family),
    );
    run.check_eq(f.path.as_str(), path, "path");
    run.check_eq(f.member.as_deref(), None, "member");
    run.check(f.har.is_none(), "har is null");
    run.check_eq(f.kind.as_str(), case.kind, format!("{}: kind", case.family));
    run.check(
        f.secret.ends_with("…(redacted)") && !f.secret.contains(&case.secret),
        format!("{}: secret {:?} is masked", case.family, f.secret),
    );
    if let Some(exp) = case.expires {
        run.check_eq(f.expires.as_deref(), Some(exp), "expires");
    }
}

struct Shared {
    run: Run,
    placed: Vec<(Case, Placed)>,
}

/// Every family in `fam/<family>.log`, scanned once.
fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let env = Env::new();
        let mut placed = Vec::new();
        for (i, case) in tokens::catalogue(SEED).into_iter().enumerate() {
            let mut lay = Layout::new();
            lay.push(clean_lines(i, 3));
            let at = lay.push_secret(&case.text, &case.secret);
            lay.push(clean_lines(i + 3, 2));
            env.write(&format!("fam/{}.log", case.family), &lay.bytes);
            placed.push((case, at));
        }
        let run = env.run(&["scan", "--format", "jsonl", "fam"]);
        Shared { run, placed }
    })
}

/// The family's file holds exactly its secret, found where it was written.
#[track_caller]
fn found_alone(name: &str) {
    let shared = shared();
    let run = &shared.run;
    let (case, at) = shared
        .placed
        .iter()
        .find(|(c, _)| c.family == name)
        .unwrap_or_else(|| panic!("no such family in the catalogue: {name}"));
    let path = format!("fam/{name}.log");
    let found: Vec<Finding> = run
        .findings()
        .into_iter()
        .filter(|f| f.path == path)
        .collect();
    let got: Vec<Located> = found.iter().map(Finding::located).collect();
    run.check_eq(
        found.len(),
        1,
        format!("{name}: exactly one finding in {path}, got {got:#?}"),
    );
    check_case(run, &found[0], case, at, &path);
}

macro_rules! families {
    ($($(#[$attr:meta])* $name:ident),* $(,)?) => {
        $(
            $(#[$attr])*
            #[test]
            fn $name() {
                found_alone(stringify!($name));
            }
        )*
        #[test]
        fn every_catalogue_family_has_a_test() {
            let tested = [$(stringify!($name)),*];
            for c in tokens::catalogue(SEED) {
                assert!(tested.contains(&c.family), "no test for {}", c.family);
            }
        }
    };
}

families! {
    github_pat_classic,
    github_pat_fine_grained,
    aws_access_key_id,
    slack_bot_token,
    slack_webhook,
    stripe_secret_key,
    google_api_key,
    openai_api_key,
    anthropic_api_key,
    sendgrid_api_key,
    npm_token,
    jwt_in_authorization_bearer,
    basic_auth,
    url_credentials,
    postgres_connection_string,
    access_token_in_query,
    pem_private_key_multiline,
    pem_private_key_escaped_newlines,
    flask_session_cookie,
    django_signed_cookie,
    express_connect_sid,
    env_aws_secret_access_key,
    env_db_password,
}

#[test]
fn the_family_scan_reports_nothing_else() {
    let shared = shared();
    let run = &shared.run;
    let files: Vec<String> = shared
        .placed
        .iter()
        .map(|(c, _)| format!("fam/{}.log", c.family))
        .collect();
    let stray: Vec<Located> = run
        .findings()
        .iter()
        .filter(|f| !files.contains(&f.path))
        .map(Finding::located)
        .collect();
    run.check_eq(stray, Vec::new(), "findings outside the family files");
    run.expect_code(1);
}

#[test]
fn synthetic_github_checksum_matches_the_documented_algorithm() {
    // Our independent CRC-32/base62 and the library's agree, so the
    // synthetic tokens really carry a valid checksum.
    let mut rng = crate::util::Rng::new(7);
    for _ in 0..50 {
        let body = rng.string(crate::util::ALNUM, 30);
        assert_eq!(
            tokens::crc32_base62(body.as_bytes()),
            leaksweep::validate::checksum::github_checksum(body.as_bytes()),
            "{body}"
        );
    }
    // Python: zlib.crc32(b"123456789") == 0xcbf43926 -> base62 "3jZRME".
    assert_eq!(tokens::crc32_base62(b"123456789"), "3jZRME");
}
