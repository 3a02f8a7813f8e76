//! The `leaksweep` binary: parse the command line, run, map the outcome to
//! the exit status (0 clean, 1 findings, 2 usage error or incomplete scan,
//! 3 another run holds the `--state` lock).

use std::process::ExitCode;

use clap::Parser;

use leaksweep::app;
use leaksweep::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => app::scan(args),
        Command::Baseline(args) => app::baseline(args),
        Command::Redact(args) => app::redact(args),
        Command::Rules(cmd) => app::rules(cmd),
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
