//! Issue 19 item 2: the manual. `leaksweep man` is leaksweep's page, and
//! every page it refers to (`leaksweep-scan(1)` …) is printed by
//! `leaksweep man SUBCOMMAND`, with every option `--help` lists.

use crate::util::Env;

/// The long options a `--help` text lists, one per line
/// (`  -j, --threads <N>`, `      --format <FORMAT>`).
fn options(help: &str) -> Vec<String> {
    help.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = match l.split_once(", ") {
                Some((short, long)) if short.len() == 2 && short.starts_with('-') => long,
                _ => l,
            };
            let name = l.split([' ', '=']).next()?;
            let word = name.strip_prefix("--")?;
            let option = !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            option.then(|| name.to_string())
        })
        .collect()
}

/// A roff page as text: `\-` is a hyphen.
fn text(page: &str) -> String {
    page.replace("\\-", "-")
}

/// The pages a page refers to: `leaksweep-rules-list(1)` as
/// `["rules", "list"]`.
fn references(page: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for word in page.split(|c: char| c.is_whitespace() || c == ',') {
        if let Some(name) = word
            .strip_prefix("leaksweep-")
            .and_then(|w| w.strip_suffix("(1)"))
        {
            let parts: Vec<String> = name.split('-').map(str::to_string).collect();
            if !out.contains(&parts) {
                out.push(parts);
            }
        }
    }
    out
}

#[test]
fn issue_19_every_page_referred_to_exists_with_every_option() {
    let env = Env::new();
    let top = env.run(&["man"]);
    top.expect_code(0);
    let mut todo = references(&text(&top.stdout()));
    for sub in ["scan", "baseline", "redact", "rules", "completions", "man"] {
        top.check(
            todo.contains(&vec![sub.to_string()]),
            format!("leaksweep(1) refers to leaksweep-{sub}(1)"),
        );
    }
    let mut done = Vec::new();
    while let Some(parts) = todo.pop() {
        let name = format!("leaksweep-{}", parts.join("-"));
        let mut args = vec!["man".to_string()];
        args.extend(parts.iter().cloned());
        let run = env.run(&args);
        run.expect_code(0);
        let page = text(&run.stdout());
        run.check(
            page.contains(&format!(".TH {name} 1")),
            format!("the page is {name}(1)"),
        );
        let mut help_args = parts.clone();
        help_args.push("--help".into());
        let help = env.run(&help_args);
        let listed = options(&help.stdout());
        if parts == ["scan"] {
            help.check(listed.len() >= 18, format!("scan's options: {listed:?}"));
        }
        for option in listed {
            run.check(
                page.contains(&format!("\\fB{option}\\fR")),
                format!("{name}(1) lacks {option}"),
            );
        }
        for more in references(&page) {
            if !done.contains(&more) && !todo.contains(&more) && more != parts {
                todo.push(more);
            }
        }
        done.push(parts);
    }
    top.check(
        done.contains(&vec!["rules".to_string(), "list".to_string()]),
        "leaksweep-rules-list(1) reached",
    );
    let run = env.run(&["man", "nosuch"]);
    run.expect_code(2);
    run.expect_stderr_line(&["leaksweep man", "no subcommand 'nosuch'"]);
}
