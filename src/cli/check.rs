//! `mboxscope check FILE...`: runs QA scenarios as regression checks; one line per check, a
//! summary, JUnit XML and JSON for CI. Exit 0 all passed, 1 a check failed, 2 usage or
//! scenario error, 3 Target or HTTP error.

use super::common::{Failure, TargetArgs, EXIT_TARGET};
use crate::check::{prepare, run_all, CheckError, CheckResult, Verdict};
use crate::safe_text::one_line_uncapped;
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Lines on stdout: each at once to a terminal, else buffered (thousands of checks, one write
/// per buffer). A closed stdout (`| head`) is not an error of the checks.
struct Say {
    out: std::io::BufWriter<std::io::Stdout>,
    each_line: bool,
}

impl Say {
    fn new() -> Say {
        let stdout = std::io::stdout();
        Say {
            each_line: stdout.is_terminal(),
            out: std::io::BufWriter::with_capacity(64 * 1024, stdout),
        }
    }

    fn line(&mut self, line: &str) {
        let _ = writeln!(self.out, "{line}");
        if self.each_line {
            let _ = self.out.flush();
        }
    }

    fn flush(&mut self) {
        let _ = self.out.flush();
    }
}

/// Exit code: a check failed.
pub const EXIT_FAILED: i32 = 1;

/// Flags of `check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Scenario files (TOML; see assets/scenarios/demo.toml).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Print the results as JSON instead of one line per check.
    #[arg(long)]
    pub json: bool,
    /// How many checks run at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
}

fn line_of(r: &CheckResult) -> String {
    let at = format!("{}:{}", r.file.display(), r.line);
    let ms = r.elapsed.as_millis();
    let line = match &r.verdict {
        Verdict::Passed => {
            let visitors = if r.visitors > 1 {
                format!("{} visitors, ", r.visitors)
            } else {
                String::new()
            };
            format!("ok    {} ({at}, {visitors}{ms} ms)", r.name)
        }
        Verdict::Failed(lines) => format!("FAIL  {} ({at}): {}", r.name, lines.join("; ")),
        Verdict::Error(e) => format!("ERROR {} ({at}): {e}", r.name),
    };
    one_line_uncapped(&line)
}

fn json_of(results: &[CheckResult], passed: usize) -> serde_json::Value {
    let checks: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let (status, problems) = match &r.verdict {
                Verdict::Passed => ("passed", Vec::new()),
                Verdict::Failed(lines) => ("failed", lines.clone()),
                Verdict::Error(e) => ("error", vec![e.clone()]),
            };
            serde_json::json!({
                "name": r.name,
                "file": r.file,
                "line": r.line,
                "status": status,
                "problems": problems,
                "visitors": r.visitors,
                "ms": r.elapsed.as_secs_f64() * 1000.0,
            })
        })
        .collect();
    serde_json::json!({
        "checks": checks,
        "passed": passed,
        "failed": results.len() - passed,
    })
}

/// Runs the checks of every file and reports them.
pub async fn run(target: &TargetArgs, args: &CheckArgs) -> Result<(), Failure> {
    // Thousands of checks touch fresh memory at a high rate: first touches of huge pages
    // (zeroed, and compacted for) cost more than the small pages they replace.
    if let Err(e) = crate::priority::avoid_huge_page_stalls() {
        tracing::debug!("transparent huge pages stay on: {e}");
    }
    let checks = prepare(target, &args.files).await.map_err(|e| match e {
        CheckError::Scenario(e) => Failure::usage(e),
        CheckError::Target(e) => Failure::usage(e),
    })?;
    let json = args.json;
    let mut say = Say::new();
    let results = run_all(checks, usize::from(args.concurrency), |r| {
        if r.verdict != Verdict::Passed {
            tracing::warn!("{}", line_of(r));
        }
        if !json {
            say.line(&line_of(r));
        }
    })
    .await;
    let passed = results
        .iter()
        .filter(|r| r.verdict == Verdict::Passed)
        .count();
    let summary = format!("check: {passed} passed, {} failed", results.len() - passed);
    tracing::info!("{summary}");
    if json {
        let text = serde_json::to_string_pretty(&json_of(&results, passed))
            .map_err(|e| Failure::usage(e.to_string()))?;
        say.line(&text);
        say.flush();
        eprintln!("{summary}");
    } else {
        say.line(&summary);
        say.flush();
    }
    if let Some(path) = &args.junit {
        let xml = crate::check::junit::junit_xml(&results)
            .map_err(|e| Failure::usage(format!("JUnit XML: {e}")))?;
        std::fs::write(path, xml)
            .map_err(|e| Failure::usage(format!("--junit {}: {e}", path.display())))?;
    }
    let errors = results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Error(_)))
        .count();
    if errors > 0 {
        return Err(Failure {
            code: EXIT_TARGET,
            message: format!("{errors} check(s) could not run (Target or HTTP error)"),
        });
    }
    if passed < results.len() {
        return Err(Failure {
            code: EXIT_FAILED,
            message: format!("{} check(s) failed", results.len() - passed),
        });
    }
    Ok(())
}
