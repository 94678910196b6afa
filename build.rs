//! Sets MBOXSCOPE_VERSION for `mboxscope --version`: the package version, with the git commit
//! when built from a checkout (a source tree without .git, or without git, gives the version
//! alone).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    let full = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(commit) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some();
            format!(
                "{version} ({commit}{})",
                if dirty { ", modified" } else { "" }
            )
        }
        None => version.to_string(),
    };
    println!("cargo:rustc-env=MBOXSCOPE_VERSION={full}");
    // Rebuilt when HEAD moves (a commit, a checkout); a tree without .git never reruns this.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        let common = git(&["rev-parse", "--git-common-dir"]).unwrap_or(dir);
        if let Some(head_ref) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={common}/{head_ref}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
