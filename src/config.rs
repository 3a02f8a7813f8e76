//! The config file, `leaksweep.toml`: read from the current directory, or
//! the file `--config` names. It tunes a scan to a site:
//!
//! ```toml
//! skip = ["**/*.min.js", "**/fixtures/**", "debug.log"]  # path globs
//! disable = ["jwt"]                                       # rule ids
//! ignore = ["<sha256 fingerprint>"]                       # accepted secrets
//! allow = ['^AKIA[0-9A-Z]{12}EXAMPLE$']                   # secret values to pass over
//!
//! [entropy]                                               # per-rule min_entropy
//! api-key-assignment = 4.2
//! ```
//!
//! A glob matches a path as it was named or found while walking, or its
//! file name alone; a skipped directory is not walked. `allow` regexes are
//! searched in each secret's raw value. Unknown keys, unknown rule ids and
//! bad globs or regexes are errors naming the file: a typo must not
//! silently disable a filter.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};
use globset::{Glob, GlobSet, GlobSetBuilder};
use regex_automata::meta::Regex;
use serde::Deserialize;

use crate::messages;
use crate::redact::escape;
use crate::rules::Rules;

/// The name looked for in the current directory.
pub const FILE_NAME: &str = "leaksweep.toml";

/// Whether a config found in the current directory may be applied: it
/// must belong to the user running leaksweep and not be writable by
/// others. An `allow = ['.']` planted in an evidence directory would
/// otherwise silence the whole sweep of whoever scans from there.
fn trusted(meta: &fs::Metadata) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!(
            "owned by uid {}, not by the running user ({me})",
            meta.uid()
        ));
    }
    if meta.mode() & 0o002 != 0 {
        return Err("writable by others".into());
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    skip: Vec<String>,
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    entropy: BTreeMap<String, f64>,
}

/// A loaded config.
pub struct Config {
    /// Where it was read from, for messages.
    pub source: PathBuf,
    skip: GlobSet,
    disable: Vec<String>,
    /// Fingerprints left out of the report.
    pub ignore: HashSet<String>,
    /// Secret values passed over.
    pub allow: Vec<Regex>,
    entropy: BTreeMap<String, f64>,
}

impl Config {
    /// The config `explicit` names (which must exist), else
    /// `leaksweep.toml` in the current directory if there is one and it is
    /// safe to trust (see [`trusted`]); none at all with `--no-config`.
    /// Every config read is announced on stderr, even under `--quiet`: a
    /// file that can silence findings must never act unseen.
    pub fn find(explicit: Option<&Path>, no_config: bool) -> anyhow::Result<Option<Config>> {
        if no_config {
            return Ok(None);
        }
        let path = match explicit {
            Some(p) => p.to_owned(),
            None => PathBuf::from(FILE_NAME),
        };
        let mut file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound && explicit.is_none() => return Ok(None),
            Err(e) => bail!("{}: cannot read the config: {e}", path.display()),
        };
        if explicit.is_none() {
            if let Err(why) = file
                .metadata()
                .map_err(|e| e.to_string())
                .and_then(|m| trusted(&m))
            {
                messages::line(&format!(
                    "leaksweep: {}: config not read: {why} (name it with --config to use it, or --no-config)",
                    escape(path.display().to_string().as_bytes())
                ));
                return Ok(None);
            }
        }
        let mut text = String::new();
        if let Err(e) = file.read_to_string(&mut text) {
            bail!("{}: cannot read the config: {e}", path.display());
        }
        let config = Config::parse(&path, &text)?;
        messages::line(&format!(
            "leaksweep: config {}: {}",
            escape(path.display().to_string().as_bytes()),
            config.summary()
        ));
        Ok(Some(config))
    }

    /// What the config changes, counted: `skip 2, disable 1, …`.
    fn summary(&self) -> String {
        format!(
            "skip {}, disable {}, ignore {}, allow {}, entropy {}",
            self.skip.len(),
            self.disable.len(),
            self.ignore.len(),
            self.allow.len(),
            self.entropy.len()
        )
    }

    fn parse(path: &Path, text: &str) -> anyhow::Result<Config> {
        let name = path.display();
        let file: ConfigFile =
            toml::from_str(text).map_err(|e| anyhow!("{name}: {}", e.message()))?;
        let mut skip = GlobSetBuilder::new();
        for g in &file.skip {
            skip.add(Glob::new(g).map_err(|e| anyhow!("{name}: skip: {e}"))?);
        }
        let skip = skip.build().map_err(|e| anyhow!("{name}: skip: {e}"))?;
        let allow = file
            .allow
            .iter()
            .map(|r| {
                Regex::builder()
                    .syntax(regex_automata::util::syntax::Config::new().utf8(false))
                    .build(r)
                    .map_err(|e| anyhow!("{name}: allow: '{r}': {e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        for (id, e) in &file.entropy {
            if !(0.0..=8.0).contains(e) {
                bail!("{name}: entropy: {id} = {e} is outside 0..=8");
            }
        }
        for fp in &file.ignore {
            if fp.len() != 64 || !fp.bytes().all(|b| b.is_ascii_hexdigit()) {
                bail!("{name}: ignore: '{fp}' is not a SHA-256 fingerprint (64 hex digits)");
            }
        }
        Ok(Config {
            source: path.to_owned(),
            skip,
            disable: file.disable,
            ignore: file
                .ignore
                .into_iter()
                .map(|f| f.to_ascii_lowercase())
                .collect(),
            allow,
            entropy: file.entropy,
        })
    }

    /// Disables rules and overrides entropy bounds; a rule id the rules do
    /// not have is an error.
    pub fn apply(&self, rules: &mut Rules) -> anyhow::Result<()> {
        let name = self.source.display();
        let known: HashSet<String> = rules.rules.iter().map(|r| r.spec.id.clone()).collect();
        for id in self.disable.iter().chain(self.entropy.keys()) {
            if !known.contains(id) {
                bail!("{name}: no rule has the id '{id}'");
            }
        }
        rules.rules.retain(|r| !self.disable.contains(&r.spec.id));
        for r in &mut rules.rules {
            if let Some(&e) = self.entropy.get(&r.spec.id) {
                r.checks.min_entropy = Some(e);
            }
        }
        Ok(())
    }

    /// Whether a path is to be left out.
    pub fn skips(&self, path: &Path) -> bool {
        self.skip.is_match(path) || path.file_name().is_some_and(|n| self.skip.is_match(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Config> {
        Config::parse(Path::new("leaksweep.toml"), text)
    }

    #[test]
    fn globs_match_whole_paths_or_file_names() {
        let c = parse("skip = ['**/fixtures/**', '*.min.js', 'logs/debug.log']").expect("parses");
        assert!(c.skips(Path::new("a/fixtures/x.log")));
        assert!(c.skips(Path::new("web/app.min.js")));
        assert!(c.skips(Path::new("logs/debug.log")));
        assert!(!c.skips(Path::new("logs/access.log")));
    }

    #[test]
    fn mistakes_are_errors_naming_the_file() {
        for bad in [
            "skpi = []",
            "skip = ['a[']",
            "allow = ['(']",
            "ignore = ['abc']",
            "[entropy]\njwt = 9.5",
        ] {
            let e = parse(bad)
                .err()
                .unwrap_or_else(|| panic!("accepted: {bad}"));
            assert!(e.to_string().starts_with("leaksweep.toml: "), "{bad}: {e}");
        }
        let c = parse("disable = ['no-such-rule']").expect("parses");
        let mut rules = Rules::builtin().expect("rules");
        let e = c.apply(&mut rules).expect_err("unknown id");
        assert!(e.to_string().contains("no-such-rule"), "{e}");
    }
}
