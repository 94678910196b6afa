//! `mboxscope decide` with a damaged `rules.bin`: a clear one-line error, never a panic.

mod common;

use common::*;

#[test]
fn a_rules_bin_with_a_multi_byte_character_in_its_header_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.bin");
    // "ATOD:00" then "é": byte 8 of the header falls inside the character.
    let mut header = "ATOD:00é".to_string();
    header.push_str(&"k".repeat(40 - header.len()));
    std::fs::write(&bad, format!("{header}{{}}")).unwrap();
    let out = run(mboxscope(dir.path()).args([
        "decide",
        "--artifact",
        bad.to_str().unwrap(),
        "--org-id",
        "org@AdobeOrg",
    ]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("unsupported header"), "{stderr}");
}
