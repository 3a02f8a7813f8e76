//! The command line as typed (clap derive). Resolution into settings
//! happens in `app`; this module only defines and documents the flags.

use crate::discover::Shard;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `--version`: the program's version and the built-in rule set's.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (rule set: ",
    env!("LEAKSWEEP_RULESET"),
    ")"
);

const EXAMPLES: &str = "Examples:
  leaksweep scan /var/log/                       every log, rotated and compressed ones too
  leaksweep scan --format json capture.har       a HAR capture, entry and field per finding
  leaksweep scan --group-by secret incident/     one record per secret, most urgent first
  leaksweep scan --state /var/lib/leaksweep.state /var/log/nginx/   from cron: only what is new
  leaksweep redact logs/ -o sanitized/           copies with every secret replaced
  leaksweep completions bash > /etc/bash_completion.d/leaksweep

Exit status: 0 nothing found, 1 findings (or secrets redacted), 2 an input
could not be read completely or a usage error, 3 the --state file is locked.";

/// Find leaked credentials in logs, proxy logs and HAR captures.
#[derive(Debug, Parser)]
#[command(
    name = "leaksweep",
    version = VERSION,
    propagate_version = true,
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files, directories or stdin for credentials.
    Scan(ScanArgs),
    /// Write the fingerprints of the current findings (never the secrets)
    /// to a baseline file, for `scan --baseline`.
    Baseline(BaselineArgs),
    /// Write sanitized copies: every secret replaced by a marker, every
    /// other byte kept, in the same format and compression.
    Redact(RedactArgs),
    /// Combine the json or jsonl findings of several runs (one per
    /// `--shard`) into one report, as one run over all of their inputs
    /// writes it: duplicates dropped, grouped with `--group-by secret`.
    Merge(MergeArgs),
    /// List the rules or check their examples.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Print the JSON Schema of a finding (json, jsonl) or of a group
    /// record (--group-by secret).
    Schema {
        #[arg(value_enum, default_value = "finding")]
        record: SchemaRecord,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a manual page (roff): leaksweep's, e.g. `leaksweep man >
    /// leaksweep.1`, or a subcommand's with every option, e.g. `leaksweep
    /// man scan > leaksweep-scan.1`.
    Man {
        /// The subcommand whose page to print (`rules list`: a subcommand's
        /// subcommand).
        #[arg(value_name = "SUBCOMMAND")]
        subcommand: Vec<String>,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["output", "in_place"])))]
pub struct RedactArgs {
    /// Files or directories to redact.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,

    /// Where the copies go: a file for one input file, else a directory
    /// under which each input's path is mirrored.
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Replace each input with its redacted copy (atomically; permissions
    /// and owner kept).
    #[arg(long)]
    pub in_place: bool,

    /// Replace every secret with TEXT instead of `[REDACTED:<rule>:<tag>]`
    /// (the tag: 8 hex digits of an HMAC of the secret under this host's
    /// marker key).
    #[arg(long, value_name = "TEXT")]
    pub marker: Option<String>,

    /// The marker key file (created 0600 if absent) [default:
    /// $LEAKSWEEP_MARKER_KEY, else $XDG_STATE_HOME/leaksweep/marker.key,
    /// else ~/.local/state/leaksweep/marker.key].
    #[arg(long, value_name = "FILE")]
    pub marker_key: Option<PathBuf>,

    /// Extra rule file or directory of *.toml rule files (repeatable).
    #[arg(long, value_name = "PATH")]
    pub rules: Vec<PathBuf>,

    /// Redact only secrets of at least this confidence.
    #[arg(long, value_enum, default_value = "low", value_name = "LEVEL")]
    pub min_confidence: ConfidenceArg,

    /// Config file (skip globs, disabled rules, allowed values) [default:
    /// ./leaksweep.toml if any].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Read no config file, not even ./leaksweep.toml.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,

    /// Worker threads [default: number of CPUs].
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Follow symbolic links inside directories.
    #[arg(long, short = 'L')]
    pub follow: bool,

    /// No per-file lines and no summary on stderr (errors are still printed).
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    pub progress: ProgressArgs,

    /// Rewrite archives and compressed streams nested at most this deep
    /// (each compression or archive layer counts one); deeper is an error.
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u8).range(0..=32))]
    pub max_depth: u8,

    /// Fail an input after this many decoded bytes, all layers together
    /// (suffixes K, M, G, T: powers of 1024).
    #[arg(long, default_value = "4T", value_parser = parse_size, value_name = "SIZE")]
    pub max_decoded: u64,

    /// Fail an input whose decoded bytes exceed this many times the bytes
    /// read from disk (a decompression bomb); checked after 256 MiB.
    #[arg(long, default_value_t = 1000, value_name = "RATIO")]
    pub max_ratio: u64,
}

/// What `scan` and `baseline` both take: the inputs, the rules, and how
/// the inputs are read.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files or directories to scan; '-' reads stdin. With no path, stdin is
    /// read when it is a pipe or a file.
    pub paths: Vec<PathBuf>,

    /// Extra rule file or directory of *.toml rule files (repeatable).
    ///
    /// A rule with the id of a built-in rule replaces it.
    #[arg(long, value_name = "PATH")]
    pub rules: Vec<PathBuf>,

    /// Report only findings of at least this confidence.
    #[arg(long, value_enum, default_value = "low", value_name = "LEVEL")]
    pub min_confidence: ConfidenceArg,

    /// Worker threads [default: number of CPUs].
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Follow symbolic links inside directories.
    #[arg(long, short = 'L')]
    pub follow: bool,

    /// No summary, no skip notes and no other notes on stderr (errors,
    /// and the name of each config file read, are still printed).
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    pub progress: ProgressArgs,

    /// Scan every file as text, binary ones too (archives and compressed
    /// files are still decoded).
    ///
    /// Without it, a file is skipped as binary when it is a known binary
    /// format (executable, image, database, an archive format leaksweep
    /// does not read) or when its content, sampled across the file, has
    /// many control bytes. NUL runs alone never make a file binary.
    #[arg(long, short = 'a')]
    pub text: bool,

    /// Config file (skip globs, disabled rules, ignored fingerprints,
    /// allowed values, entropy bounds) [default: ./leaksweep.toml if any].
    ///
    /// Every config read is named on stderr before the scan, even with
    /// -q. ./leaksweep.toml is read only when the running user owns it and
    /// others cannot write it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Read no config file, not even ./leaksweep.toml.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,

    /// Decode archives and compressed streams nested at most this deep
    /// (each compression or archive layer counts one).
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u8).range(0..=32))]
    pub max_depth: u8,

    /// Stop an input after this many decoded bytes, all layers together
    /// (suffixes K, M, G, T: powers of 1024).
    #[arg(long, default_value = "4T", value_parser = parse_size, value_name = "SIZE")]
    pub max_decoded: u64,

    /// Stop an input whose decoded bytes exceed this many times the bytes
    /// read from disk (a decompression bomb); checked after 1 GiB.
    #[arg(long, default_value_t = 1000, value_name = "RATIO")]
    pub max_ratio: u64,

    /// Decode at most this much of a HAR's strings at once (suffixes K,
    /// M, G: powers of 1024). A string that does not fit (a huge response
    /// body) is scanned as text where it lies in the file instead, and
    /// noted; a base64 body that does not fit is not decoded, an error.
    #[arg(long, default_value = "256M", value_parser = parse_har_string, value_name = "SIZE")]
    pub max_har_string: u64,

    /// Leave out files whose path or name matches GLOB (repeatable; as the
    /// config's `skip`).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Scan only files whose path or name matches GLOB (repeatable;
    /// directories are still walked).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,

    /// Skip files larger than SIZE on disk, with a note (suffixes K, M, G,
    /// T: powers of 1024).
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    pub max_filesize: Option<u64>,

    /// Scan only share I of N of the files (I from 0 to N-1), chosen by a
    /// hash of each file's path as named or walked: N runs with I = 0 …
    /// N-1 (machines, Kubernetes Indexed Job pods) cover every file once.
    #[arg(long, value_parser = parse_shard, value_name = "I/N")]
    pub shard: Option<Shard>,

    /// Run only the rule ID (repeatable).
    #[arg(long, value_name = "ID")]
    pub rule: Vec<String>,

    /// Do not run the rule ID (repeatable; as the config's `disable`).
    #[arg(long, value_name = "ID")]
    pub exclude_rule: Vec<String>,

    /// The path findings in stdin are reported under [default: -].
    #[arg(long, value_name = "NAME")]
    pub label: Option<String>,

    /// After the scan, print per rule on stderr: findings, windows its
    /// regex searched, and the time that took (even with -q).
    #[arg(long)]
    pub stats: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format [default: human on a terminal, jsonl otherwise].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,

    /// Write the findings to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Print raw secrets instead of masked ones.
    ///
    /// Off by default: secrets are shown as their public prefix plus a few
    /// characters, e.g. `ghp_Xk12…(redacted)`, in every format and message.
    #[arg(long)]
    pub show_secrets: bool,

    /// Remember what was scanned in FILE: scan only what is new since the
    /// last run with it, follow rotated logs, report each secret once.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Leave out the findings whose fingerprints FILE lists (written by
    /// `leaksweep baseline`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// One record per distinct secret instead of one per finding: count,
    /// files, hosts, first and last seen (json, jsonl or human).
    #[arg(long, value_enum, value_name = "WHAT")]
    pub group_by: Option<GroupBy>,

    /// When to colour human output.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub color: ColorArg,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Findings written by `leaksweep scan --format jsonl` (or `json`);
    /// `-` for stdin.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Output format [default: human on a terminal, jsonl otherwise].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,

    /// Write the findings to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// One record per distinct secret instead of one per finding, as
    /// `scan --group-by secret` writes them (json, jsonl or human).
    #[arg(long, value_enum, value_name = "WHAT")]
    pub group_by: Option<GroupBy>,

    /// When to colour human output.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub color: ColorArg,

    /// No summary on stderr (errors are still printed).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// A [`parse_size`] under 4 GiB: the walk maps decoded bytes back with
/// 32-bit offsets.
fn parse_har_string(s: &str) -> Result<u64, String> {
    let n = parse_size(s)?;
    if n >= 1 << 32 {
        return Err(format!("'{s}' is too large (at most 4095M)"));
    }
    Ok(n)
}

/// `I/N`, with I below N.
fn parse_shard(s: &str) -> Result<Shard, String> {
    let bad = || format!("'{s}' is not a shard such as 0/4 (I/N, I from 0 to N-1)");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let index: u64 = i.trim().parse().map_err(|_| bad())?;
    let count: u64 = n.trim().parse().map_err(|_| bad())?;
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

/// `123`, `64K`, `512M`, `2G`, `4T` (powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, shift) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("unknown size suffix '{c}' (use K, M, G or T)")),
            };
            (&s[..i], shift)
        }
        _ => (s, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("'{s}' is not a size such as 500M or 4T"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("'{s}' is too large"))
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules by provider: id, kind, confidence, keywords, name.
    List {
        /// Extra rule files or directories, as for `scan --rules`.
        #[arg(long, value_name = "PATH")]
        rules: Vec<PathBuf>,
    },
    /// Run every rule's examples and counter-examples; report every failure.
    Check {
        /// Rule files or directories to check [default: the built-in rules].
        paths: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The baseline file to write (replaced atomically).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,

    #[command(flatten)]
    pub input: InputArgs,
}

/// `--progress` / `--no-progress`, for `scan`, `baseline` and `redact`.
#[derive(Debug, Args)]
pub struct ProgressArgs {
    /// Show the progress line on stderr (bytes done, rate, time left)
    /// whenever stderr is a terminal, -q or not [default: unless -q].
    #[arg(long = "progress", overrides_with = "hide")]
    pub show: bool,

    /// Never show the progress line.
    #[arg(long = "no-progress")]
    pub hide: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaRecord {
    Finding,
    Group,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GroupBy {
    Secret,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Human,
    Json,
    Jsonl,
    Sarif,
    Csv,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ConfidenceArg {
    Low,
    Medium,
    High,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_scan_flags() {
        let cli = Cli::try_parse_from([
            "leaksweep",
            "scan",
            "--format",
            "jsonl",
            "-j",
            "2",
            "--rules",
            "r.toml",
            "a.log",
            "-",
        ])
        .expect("parses");
        let Command::Scan(s) = cli.command else {
            panic!("not scan")
        };
        assert_eq!(s.format, Some(FormatArg::Jsonl));
        assert_eq!(s.input.threads, Some(2));
        assert_eq!(
            s.input.paths,
            vec![PathBuf::from("a.log"), PathBuf::from("-")]
        );
        assert!(!s.show_secrets);
    }

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("4T"), Ok(4 << 40));
        assert!(parse_size("4X").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    #[test]
    fn version_names_the_rule_set() {
        assert!(VERSION.starts_with(env!("CARGO_PKG_VERSION")));
        assert!(VERSION.contains(" rules, digest "), "{VERSION}");
    }

    #[test]
    fn rejects_unknown_format() {
        assert!(Cli::try_parse_from(["leaksweep", "scan", "--format", "xml"]).is_err());
    }
}
