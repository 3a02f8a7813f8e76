//! The `leaksweep` binary: parse the command line, run, map the outcome to
//! the exit status (0 clean, 1 findings, 2 usage error or incomplete scan,
//! 3 another run holds the `--state` lock).

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use leaksweep::app;
use leaksweep::cli::{Cli, Command, SchemaRecord};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => app::scan(args),
        Command::Baseline(args) => app::baseline(args),
        Command::Redact(args) => app::redact(args),
        Command::Merge(args) => app::merge(args),
        // A listing cut short by its reader (`rules list | head`) is no
        // error.
        Command::Rules(cmd) => match app::rules(cmd) {
            Err(e) if broken_pipe(&e) => return ExitCode::SUCCESS,
            other => other,
        },
        Command::Schema { record } => {
            let schema = match record {
                SchemaRecord::Finding => leaksweep::report::schema::finding(),
                SchemaRecord::Group => leaksweep::report::schema::group(),
            };
            let mut text = serde_json::to_vec_pretty(&schema).unwrap_or_default();
            text.push(b'\n');
            return print(&text, "the schema");
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "leaksweep", &mut script);
            return print(&script, "the completion script");
        }
        Command::Man { subcommand } => {
            let mut cmd = Cli::command();
            // Built, so that a subcommand's page shows the options it
            // inherits.
            cmd.build();
            let mut name = String::from("leaksweep");
            for part in &subcommand {
                let Some(sub) = cmd.find_subcommand(part).cloned() else {
                    let known: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
                    leaksweep::messages::line(&format!(
                        "leaksweep man: {name} has no subcommand '{part}' (it has: {})",
                        known.join(", ")
                    ));
                    return ExitCode::from(2);
                };
                name = format!("{name}-{part}");
                cmd = sub;
            }
            let cmd = cmd.display_name(name);
            let mut page = Vec::new();
            if let Err(e) = clap_mangen::Man::new(cmd)
                .source(format!("leaksweep {}", env!("CARGO_PKG_VERSION")))
                .render(&mut page)
            {
                leaksweep::messages::line(&format!("leaksweep: rendering the manual page: {e}"));
                return ExitCode::from(2);
            }
            return print(&page, "the manual page");
        }
    };
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            leaksweep::messages::line(&format!("leaksweep: {}", chain.join(": ")));
            if e.downcast_ref::<leaksweep::state::Locked>().is_some() {
                ExitCode::from(3)
            } else {
                ExitCode::from(2)
            }
        }
    }
}

fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes generated text to stdout; a closed pipe (`| head`) is no error.
fn print(bytes: &[u8], what: &str) -> ExitCode {
    match std::io::stdout().lock().write_all(bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            leaksweep::messages::line(&format!("leaksweep: writing {what}: {e}"));
            ExitCode::from(2)
        }
        _ => ExitCode::SUCCESS,
    }
}
