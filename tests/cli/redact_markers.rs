//! Issue 16 item 7: `redact` markers are keyed. The 8 hex digits of a
//! marker are an HMAC of the secret under a per-user key created 0600 on
//! first use, so a copy that leaves the host cannot confirm a guessed
//! password, while the same secret still gets the same marker on this host.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use crate::families::SEED;
use crate::tokens::password;
use crate::util::{hmac_sha256_hex, sha256_hex, Env, Rng};

/// The marker `redact -o` wrote for the one secret of `line`.
fn marker_of(env: &Env, name: &str, line: &str, extra: &[&str]) -> String {
    env.write(name, line);
    let out = format!("{name}.out");
    let mut args = vec!["redact", name, "-o", &out];
    args.extend_from_slice(extra);
    let run = env.run(&args);
    run.expect_code(1);
    let copy = fs::read_to_string(env.path(&out)).expect("copy");
    let start = copy
        .find("[REDACTED:")
        .unwrap_or_else(|| run.fail(format!("no marker in {copy:?}")));
    let end = start + copy[start..].find(']').expect("marker end") + 1;
    copy[start..end].to_string()
}

#[test]
fn issue16_markers_are_keyed_and_stable_per_host() {
    let env = Env::new();
    let r = &mut Rng::new(SEED ^ 167);
    let secret = password(r);
    let line = format!("DB_PASSWORD={secret}\n");
    let m1 = marker_of(&env, "a.env", &line, &[]);
    // The key was created on first use, private to this user.
    let key_path = env.state_home().join("leaksweep/marker.key");
    let meta = fs::metadata(&key_path).expect("the key file was created");
    assert_eq!(meta.mode() & 0o777, 0o600, "key mode");
    let dir = fs::metadata(key_path.parent().expect("dir")).expect("dir");
    assert_eq!(dir.mode() & 0o777, 0o700, "key directory mode");
    // SAFETY: geteuid has no preconditions.
    assert_eq!(meta.uid(), unsafe { libc::geteuid() }, "key owner");
    let key = env.marker_key();
    let hmac = &hmac_sha256_hex(&key, secret.as_bytes())[..8];
    let plain = &sha256_hex(&secret)[..8];
    assert_eq!(m1, format!("[REDACTED:password-assignment:{hmac}]"));
    assert!(
        !m1.contains(plain),
        "the plain SHA-256 prefix is not in the marker"
    );
    // Same secret, another file and run: the same marker.
    assert_eq!(marker_of(&env, "b.env", &line, &[]), m1);
    // Another key (as on another host): another marker.
    let other = env.path("other.key");
    let m3 = marker_of(
        &env,
        "c.env",
        &line,
        &["--marker-key", other.to_str().expect("utf-8")],
    );
    assert_ne!(m3, m1, "another key gives another marker");
    assert_eq!(
        fs::metadata(&other).expect("created").mode() & 0o777,
        0o600,
        "--marker-key is created 0600 too"
    );
}

#[test]
fn issue16_a_marker_key_others_can_read_or_own_is_refused() {
    let env = Env::new();
    let r = &mut Rng::new(SEED ^ 168);
    env.write("a.env", format!("DB_PASSWORD={}\n", password(r)));
    env.marker_key();
    let key_path = env.state_home().join("leaksweep/marker.key");
    fs::set_permissions(&key_path, fs::Permissions::from_mode(0o644)).expect("chmod");
    let run = env.run(&["redact", "a.env", "-o", "a.out"]);
    run.expect_code(2);
    run.expect_stderr_line(&["marker.key", "refused"]);
    run.check(!env.path("a.out").exists(), "nothing written");
    fs::set_permissions(&key_path, fs::Permissions::from_mode(0o600)).expect("chmod");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        std::os::unix::fs::chown(&key_path, Some(65534), Some(65534)).expect("chown");
        let run = env.run(&["redact", "a.env", "-o", "a.out"]);
        run.expect_code(2);
        run.expect_stderr_line(&["marker.key", "owned by uid 65534", "refused"]);
    }
    // A symbolic link in its place is not followed.
    let link_dir = env.mkdir("state2/leaksweep");
    std::os::unix::fs::symlink(&key_path, link_dir.join("marker.key")).expect("symlink");
    let mut cmd = std::process::Command::new(crate::util::BIN);
    let out = cmd
        .args(["redact", "a.env", "-o", "a.out"])
        .current_dir(env.root())
        .env("XDG_STATE_HOME", env.path("state2"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("symbolic link"));
    // A fixed marker needs no key.
    let run = env.run(&["redact", "a.env", "-o", "a.out", "--marker", "XXX"]);
    run.expect_code(1);
}
