//! Help beyond the flags: the examples each command's long help ends with, the topic guides
//! (`mboxscope help counting`, `mboxscope help qa`, the same text as docs/*.md) and the man page.

use clap::{Args, Command};

/// `mboxscope` with no command: the interactive view.
pub const TUI: &str = "\
Examples:
  mboxscope                                   # the interactive view on the built-in emulator
  mboxscope --profile staging --mbox home-hero
  mboxscope --server http://127.0.0.1:8080 --snapshot --mbox home-hero

Guides: `mboxscope help counting`, `mboxscope help qa`.";

/// `mboxscope prefetch`.
pub const PREFETCH: &str = "\
Examples:
  mboxscope prefetch --server http://127.0.0.1:8080 --mbox home-hero --page-load
  mboxscope prefetch --profile staging --mbox product-recs:category=shoes --view home > page.json
  mboxscope prefetch --profile staging --mbox home-hero --qa-url 'https://shop.example.com/?at_preview_token=TOKEN&at_preview_index=1_1'";

/// `mboxscope execute`.
pub const EXECUTE: &str = "\
Examples:
  mboxscope execute --server http://127.0.0.1:8080 --mbox home-hero
  mboxscope execute --profile staging --page-load --tnt-id visitor-1 --session-id s-1";

/// `mboxscope notify`.
pub const NOTIFY: &str = "\
Examples:
  mboxscope notify --server http://127.0.0.1:8080 --from page.json
  mboxscope notify --server http://127.0.0.1:8080 --from page.json --type click
  mboxscope notify --profile staging --resume";

/// `mboxscope decide`.
pub const DECIDE: &str = "\
Examples:
  mboxscope decide --artifact rules.json --request request.json
  mboxscope decide --artifact rules.bin --org-id 0123456789ABCDEF@AdobeOrg --jsonl < requests.jsonl";

/// `mboxscope simulate`.
pub const SIMULATE: &str = "\
Examples:
  mboxscope simulate --mbox home-hero --visitors 100000
  mboxscope simulate --artifact rules.json --mbox home-hero --expect 312345=50/50
  mboxscope simulate --page-load --mix-user-agent '3:Mozilla/5.0 (Windows NT 10.0) Chrome/120.0' --notify-rate 0.8";

/// `mboxscope proxy`.
pub const PROXY: &str = "\
Examples:
  mboxscope proxy --upstream http://127.0.0.1:8080 --client mboxscopedemo
  mboxscope proxy --client acme --upstream acme.tt.omtrdc.net --addr 127.0.0.1:9090
  mboxscope report --server http://127.0.0.1:8080 --client mboxscopedemo";

/// `mboxscope check`.
pub const CHECK: &str = "\
Examples:
  mboxscope check assets/scenarios/demo.toml
  mboxscope check scenarios/*.toml --junit check.xml
  mboxscope check --profile staging scenarios/home.toml --json";

/// `mboxscope serve`.
pub const SERVE: &str = "\
Examples:
  mboxscope serve --addr 127.0.0.1:8080
  mboxscope serve --artifact rules.json --fault-rate 0.2 --latency-ms 300
  mboxscope serve --log-format json --bot-filter off > requests.jsonl";

/// `mboxscope ledger`.
pub const LEDGER: &str = "\
Examples:
  mboxscope ledger --server http://127.0.0.1:8080
  mboxscope ledger --list
  mboxscope ledger --profile staging --json";

/// `mboxscope report`.
pub const REPORT: &str = "\
Examples:
  mboxscope report --server http://127.0.0.1:8080
  mboxscope report --profile staging --json";

/// `mboxscope profile` and its subcommands.
pub const PROFILE: &str = "\
Examples:
  mboxscope profile save staging --client acme --org-id 0123456789ABCDEF@AdobeOrg
  mboxscope profile list
  mboxscope profile show staging --timeout-ms 5000";

/// `mboxscope completions`.
pub const COMPLETIONS: &str = "\
Examples:
  mboxscope completions bash > ~/.local/share/bash-completion/completions/mboxscope
  mboxscope completions zsh > ~/.zfunc/_mboxscope";

/// `mboxscope man`.
pub const MAN: &str = "\
Examples:
  mboxscope man > mboxscope.1 && man ./mboxscope.1
  mboxscope man | gzip > /usr/local/share/man/man1/mboxscope.1.gz";

/// `mboxscope help`.
pub const HELP: &str = "\
Examples:
  mboxscope help counting
  mboxscope help qa
  mboxscope help notify";

/// Where the log is written, then a command's examples.
pub fn with_log(examples: &str) -> String {
    format!("Log: {}\n\n{examples}", crate::log::describe_default_path())
}

/// The topic guides: name, one line, text.
pub const TOPICS: [(&str, &str, &str); 2] = [
    (
        "counting",
        "How Target counts impressions, visits, visitors and clicks",
        include_str!("../../docs/counting.md"),
    ),
    (
        "qa",
        "How QA links (at_preview_token) and Activity QA work",
        include_str!("../../docs/qa.md"),
    ),
];

/// Flags of `help`.
#[derive(Debug, Clone, Args)]
pub struct HelpArgs {
    /// A topic (counting, qa) or a command (e.g. `notify`, `profile save`).
    pub topic: Vec<String>,
}

/// What `mboxscope help …` prints: a topic guide, a command's long help, or the list of both.
pub fn text(root: &mut Command, topic: &[String]) -> Result<String, String> {
    if let [name] = topic {
        if let Some((_, _, guide)) = TOPICS.iter().find(|(t, _, _)| t == name) {
            return Ok(guide.to_string());
        }
    }
    let mut command = root.clone();
    command.build();
    for name in topic {
        command = command
            .find_subcommand(name)
            .cloned()
            .ok_or_else(|| format!("no command or topic {name:?} (see `mboxscope help`)"))?;
    }
    let mut out = command.render_long_help().to_string();
    if topic.is_empty() {
        out.push_str("\nTopics (`mboxscope help TOPIC`):\n");
        for (name, line, _) in TOPICS {
            out.push_str(&format!("  {name:<10} {line}\n"));
        }
    }
    Ok(out)
}

/// The man page, in roff, from the same definitions as `--help` and the completions.
pub fn man_page(root: Command) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(root).render(&mut out)?;
    Ok(out)
}
