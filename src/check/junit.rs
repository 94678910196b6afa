//! JUnit XML for CI systems: one `<testsuite>` per scenario file, one `<testcase>` per check,
//! a `<failure>` for a check that failed, an `<error>` for one that could not run.

use super::run::{CheckResult, Verdict};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

fn seconds(d: std::time::Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// The JUnit XML document for `results` (in the files' order).
pub fn junit_xml(results: &[CheckResult]) -> Result<String, std::io::Error> {
    let mut files: Vec<&std::path::Path> = Vec::new();
    for r in results {
        if !files.contains(&r.file.as_path()) {
            files.push(&r.file);
        }
    }
    let count = |list: &[&CheckResult], pick: fn(&Verdict) -> bool| {
        list.iter().filter(|r| pick(&r.verdict)).count().to_string()
    };
    let failed = |v: &Verdict| matches!(v, Verdict::Failed(_));
    let errored = |v: &Verdict| matches!(v, Verdict::Error(_));
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let all: Vec<&CheckResult> = results.iter().collect();
    let total: std::time::Duration = results.iter().map(|r| r.elapsed).sum();
    let mut root = BytesStart::new("testsuites");
    root.push_attribute(("name", "mboxscope check"));
    root.push_attribute(("tests", all.len().to_string().as_str()));
    root.push_attribute(("failures", count(&all, failed).as_str()));
    root.push_attribute(("errors", count(&all, errored).as_str()));
    root.push_attribute(("time", seconds(total).as_str()));
    w.write_event(Event::Start(root))?;
    for file in files {
        let cases: Vec<&CheckResult> = results.iter().filter(|r| r.file == file).collect();
        let name = file.display().to_string();
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", name.as_str()));
        suite.push_attribute(("tests", cases.len().to_string().as_str()));
        suite.push_attribute(("failures", count(&cases, failed).as_str()));
        suite.push_attribute(("errors", count(&cases, errored).as_str()));
        let time: std::time::Duration = cases.iter().map(|r| r.elapsed).sum();
        suite.push_attribute(("time", seconds(time).as_str()));
        w.write_event(Event::Start(suite))?;
        for case in cases {
            let mut tc = BytesStart::new("testcase");
            tc.push_attribute(("name", case.name.as_str()));
            tc.push_attribute(("classname", name.as_str()));
            tc.push_attribute(("file", name.as_str()));
            tc.push_attribute(("line", case.line.to_string().as_str()));
            tc.push_attribute(("time", seconds(case.elapsed).as_str()));
            let (tag, lines) = match &case.verdict {
                Verdict::Passed => {
                    w.write_event(Event::Empty(tc))?;
                    continue;
                }
                Verdict::Failed(lines) => ("failure", lines.clone()),
                Verdict::Error(line) => ("error", vec![line.clone()]),
            };
            w.write_event(Event::Start(tc))?;
            let message = lines.first().cloned().unwrap_or_default();
            let mut el = BytesStart::new(tag);
            el.push_attribute(("message", message.as_str()));
            w.write_event(Event::Start(el))?;
            w.write_event(Event::Text(BytesText::new(&lines.join("\n"))))?;
            w.write_event(Event::End(BytesEnd::new(tag)))?;
            w.write_event(Event::End(BytesEnd::new("testcase")))?;
        }
        w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    String::from_utf8(w.into_inner())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn result(name: &str, verdict: Verdict) -> CheckResult {
        CheckResult {
            file: PathBuf::from("a & b.toml"),
            line: 3,
            name: name.into(),
            verdict,
            visitors: 1,
            elapsed: std::time::Duration::from_millis(5),
        }
    }

    #[test]
    fn every_check_is_a_testcase_and_text_is_escaped() {
        let xml = junit_xml(&[
            result("<ok>", Verdict::Passed),
            result(
                "bad",
                Verdict::Failed(vec!["expected \"A\" & got <B>".into()]),
            ),
            result("down", Verdict::Error("cannot connect".into())),
        ])
        .unwrap();
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let cases: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), 3);
        assert_eq!(cases[0].attribute("name"), Some("<ok>"));
        let failure = cases[1]
            .children()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert_eq!(
            failure.attribute("message"),
            Some("expected \"A\" & got <B>")
        );
        assert!(cases[2].children().any(|n| n.has_tag_name("error")));
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        assert_eq!(suite.attribute("failures"), Some("1"));
        assert_eq!(suite.attribute("errors"), Some("1"));
    }
}
