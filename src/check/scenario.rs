//! Scenario files: TOML with an optional `[target]` and `[[check]]` tables, each with its
//! `[[check.expect]]`s. Every error names the file and the line it is about.

use crate::delivery::{qa_mode_from_url, DeliveryRequest, Geo, MboxSpec, QaMode, RequestSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml1::Spanned;

/// A scenario file that cannot be read or makes no sense, with the file and line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct ScenarioError {
    pub file: PathBuf,
    /// 1-based; 0 when the file itself could not be read.
    pub line: usize,
    pub message: String,
}

/// `[target]`: where the checks run; none is the built-in emulator on the demo artifact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSection {
    /// A saved profile name.
    pub profile: Option<String>,
    /// A Delivery API base URL or server domain.
    pub server: Option<String>,
    /// A Target client code.
    pub client: Option<String>,
    /// A rules artifact for the built-in emulator (relative to the scenario file).
    pub artifact: Option<PathBuf>,
}

/// An activity or experience: its id or its name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum IdOrName {
    Id(i64),
    Text(String),
}

/// Read by hand: a wrong value says what is wanted (serde's `untagged` says only that no
/// variant matched), and no value is first copied into a buffer to try each variant on it.
impl<'de> Deserialize<'de> for IdOrName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;
        impl serde::de::Visitor<'_> for Either {
            type Value = IdOrName;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an id (an integer) or a name (a string)")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<IdOrName, E> {
                Ok(IdOrName::Id(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<IdOrName, E> {
                i64::try_from(v)
                    .map(IdOrName::Id)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<IdOrName, E> {
                Ok(IdOrName::Text(v.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<IdOrName, E> {
                Ok(IdOrName::Text(v))
            }
        }
        deserializer.deserialize_any(Either)
    }
}

impl IdOrName {
    /// Whether a response's `id` / `name` tokens are this.
    pub fn matches(&self, id: Option<&str>, name: Option<&str>) -> bool {
        match self {
            IdOrName::Id(n) => id == Some(n.to_string().as_str()),
            IdOrName::Text(t) => id == Some(t.as_str()) || name == Some(t.as_str()),
        }
    }
}

impl std::fmt::Display for IdOrName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdOrName::Id(n) => write!(f, "{n}"),
            IdOrName::Text(t) => write!(f, "{t:?}"),
        }
    }
}

/// One `[[check.expect]]` as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectFields {
    /// `pageLoad`, a mbox name (or `mbox NAME`), or `view NAME`.
    pub location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<IdOrName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub experience: Option<IdOrName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_contains: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_tokens: BTreeMap<String, String>,
}

/// The fields of one `[[check]]` as written (shared by the reader and the recorder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckFields<E> {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mboxes: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mbox_parameters: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub page_load: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub profile_parameters: BTreeMap<String, String>,
    /// `context.geo` with the wire's names (`city`, `countryCode`, `latitude`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geo: Option<Geo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qa_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property_token: Option<String>,
    /// A fixed visitor (its A/B allocations stay put); default: a fresh visitor per run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tnt_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visitors: Option<i64>,
    /// The built-in emulator's clock for this check (ISO-8601 or ms since the epoch), for
    /// time-based audiences; the check runs on an emulator of its own with that clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notify: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub click: bool,
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<E>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    target: Option<Spanned<TargetSection>>,
    #[serde(default)]
    check: Vec<SpannedCheck>,
}

type SpannedCheck = Spanned<CheckFields<Spanned<ExpectFields>>>;

/// Parses `text` whole, or, when it is big, its [`pieces`](super::chunks::pieces) at once on
/// rayon's threads. The pieces' answer is used only when every piece parses and together they
/// mean what the whole text means; else the whole text is parsed, so errors are the same.
fn read_raw(text: &str) -> Result<RawFile, toml1::de::Error> {
    let threads = rayon::current_num_threads().max(1);
    let min_bytes = (text.len() / (threads * 4)).max(super::chunks::MIN_PIECE_BYTES);
    read_raw_in_pieces(text, min_bytes)
}

/// [`read_raw`] with pieces of at least `min_bytes`.
fn read_raw_in_pieces(text: &str, min_bytes: usize) -> Result<RawFile, toml1::de::Error> {
    use rayon::prelude::*;
    let pieces = super::chunks::pieces(text, min_bytes);
    if pieces.len() < 2 {
        return toml1::from_str(text);
    }
    let parsed: Result<Vec<(usize, bool, RawFile)>, toml1::de::Error> = pieces
        .into_par_iter()
        .map(|(offset, piece)| {
            let at_header = piece
                .lines()
                .next()
                .is_some_and(super::chunks::is_check_header);
            toml1::from_str(piece).map(|raw| (offset, at_header, raw))
        })
        .collect();
    match parsed.ok().and_then(merge) {
        Some(raw) => Ok(raw),
        None => toml1::from_str(text),
    }
}

/// The pieces of one file as one: their checks in order with spans into the whole text.
/// `None` when the pieces may not mean what the whole does: `[target]` in more than one piece
/// (the whole repeats a table), or checks in a piece that does not start at a `[[check]]` line
/// (only an inline `check = [...]` array or an unusually spelt header can put them there).
fn merge(pieces: Vec<(usize, bool, RawFile)>) -> Option<RawFile> {
    let mut target = None;
    let mut check = Vec::new();
    for (offset, at_header, raw) in pieces {
        if !at_header && !raw.check.is_empty() {
            return None;
        }
        if let Some(t) = raw.target {
            if target.is_some() {
                return None;
            }
            target = Some(shift(t, offset));
        }
        check.extend(raw.check.into_iter().map(|c| {
            let c = shift(c, offset);
            let span = c.span();
            let mut fields = c.into_inner();
            fields.expect = std::mem::take(&mut fields.expect)
                .into_iter()
                .map(|e| shift(e, offset))
                .collect();
            Spanned::new(span, fields)
        }));
    }
    Some(RawFile { target, check })
}

fn shift<T>(spanned: Spanned<T>, offset: usize) -> Spanned<T> {
    let span = spanned.span();
    Spanned::new(span.start + offset..span.end + offset, spanned.into_inner())
}

/// Where an expectation looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    PageLoad,
    Mbox(String),
    View(String),
}

impl Place {
    /// Parses `pageLoad`, `view NAME`, `mbox NAME` or a bare mbox name.
    pub fn parse(text: &str) -> Result<Place, String> {
        let text = text.trim();
        if text == "pageLoad" {
            return Ok(Place::PageLoad);
        }
        let (place, name): (fn(String) -> Place, &str) = match text.split_once(' ') {
            Some(("view", name)) => (Place::View, name.trim()),
            Some(("mbox", name)) => (Place::Mbox, name.trim()),
            _ => (Place::Mbox, text),
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(format!(
                "location {text:?}: \"pageLoad\", a mbox name, \"mbox NAME\" or \"view NAME\""
            ));
        }
        Ok(place(name.to_string()))
    }

    /// `pageLoad`, `mbox NAME`, `view NAME`.
    pub fn label(&self) -> String {
        match self {
            Place::PageLoad => "pageLoad".into(),
            Place::Mbox(name) => format!("mbox {name}"),
            Place::View(name) => format!("view {name}"),
        }
    }
}

/// One expectation, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub place: Place,
    pub activity: Option<IdOrName>,
    pub experience: Option<IdOrName>,
    pub content_contains: Option<String>,
    pub response_tokens: BTreeMap<String, String>,
}

/// One check, ready to run.
#[derive(Debug, Clone)]
pub struct Check {
    pub file: PathBuf,
    pub line: usize,
    pub name: String,
    /// The request's own parts (locations, context, QA); the target adds the rest.
    pub spec: RequestSpec,
    pub profile_parameters: BTreeMap<String, String>,
    pub geo: Option<Geo>,
    pub tnt_id: Option<String>,
    /// The emulator's clock (ms since the epoch) the check asks for.
    pub time_ms: Option<i64>,
    pub visitors: usize,
    pub notify: bool,
    pub click: bool,
    pub expectations: Vec<Expectation>,
}

impl Check {
    /// The prefetch request for one visitor: `base` (the target's parts) with this check's
    /// locations, context, QA link, property token and parameters.
    pub fn request(&self, base: &RequestSpec) -> DeliveryRequest {
        let spec = RequestSpec {
            mboxes: self.spec.mboxes.clone(),
            views: self.spec.views.clone(),
            page_load: self.spec.page_load,
            qa_mode: self.spec.qa_mode.clone().or_else(|| base.qa_mode.clone()),
            page_url: self.spec.page_url.clone().or_else(|| base.page_url.clone()),
            user_agent: self
                .spec
                .user_agent
                .clone()
                .or_else(|| base.user_agent.clone()),
            property_token: self
                .spec
                .property_token
                .clone()
                .or_else(|| base.property_token.clone()),
            ..base.clone()
        };
        let mut request = spec.build(crate::ids::uuid_string());
        if let Some(geo) = &self.geo {
            request.context.get_or_insert_with(Default::default).geo = Some(geo.clone());
        }
        if !self.profile_parameters.is_empty() {
            let parameters: crate::delivery::Parameters = self
                .profile_parameters
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            let prefetch = request.prefetch.get_or_insert_with(Default::default);
            let details = prefetch.mboxes.iter_mut().flatten().map(|m| &mut m.details);
            let details = details.chain(prefetch.page_load.iter_mut());
            for d in details {
                d.profile_parameters = Some(parameters.clone());
            }
        }
        request
    }
}

/// A scenario file, read.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub path: PathBuf,
    pub target: TargetSection,
    /// The line of `[target]` (1 when there is none).
    pub target_line: usize,
    pub checks: Vec<Check>,
}

/// The most fresh visitors one check may ask for.
pub const MAX_VISITORS: i64 = 100_000;

/// Where each line of a text starts, to turn byte offsets into line numbers (a file may hold
/// thousands of checks: one scan, then a binary search each).
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        LineIndex(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    /// The 1-based line of byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.0.partition_point(|newline| *newline < offset) + 1
    }
}

/// Reads and checks the scenario file at `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: path.to_path_buf(),
        line: 0,
        message: format!("cannot read it: {e}"),
    })?;
    parse(path, &text)
}

/// Parses scenario `text` (read from `path`, which errors name).
pub fn parse(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let lines = LineIndex::new(text);
    let line_of = |offset: usize| lines.line_of(offset);
    let at = |offset: usize, message: String| ScenarioError {
        file: path.to_path_buf(),
        line: line_of(offset),
        message,
    };
    let raw: RawFile = read_raw(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let message: Vec<&str> = e.message().lines().map(str::trim).collect();
        at(offset, message.join(": "))
    })?;
    let target_line = raw.target.as_ref().map_or(1, |t| line_of(t.span().start));
    let target = match raw.target {
        Some(t) => {
            let start = t.span().start;
            let section = t.into_inner();
            let named = [
                section.profile.is_some(),
                section.server.is_some() || section.client.is_some(),
                section.artifact.is_some(),
            ];
            if named.iter().filter(|n| **n).count() > 1 {
                return Err(at(
                    start,
                    "[target]: give a profile, a server/client, or an artifact (for the built-in emulator), not several".into(),
                ));
            }
            section
        }
        None => TargetSection::default(),
    };
    if raw.check.is_empty() {
        return Err(at(0, "no [[check]] in the file".into()));
    }
    let mut checks = Vec::with_capacity(raw.check.len());
    let mut names = std::collections::HashSet::new();
    for spanned in raw.check {
        let start = spanned.span().start;
        let fields = spanned.into_inner();
        let err = |message: String| at(start, format!("check {:?}: {message}", fields.name));
        if fields.name.trim().is_empty() {
            return Err(at(start, "a check needs a name".into()));
        }
        if !names.insert(fields.name.clone()) {
            return Err(err("another check has this name".into()));
        }
        let check = check_of(path, line_of(start), &fields).map_err(err)?;
        for (e, expectation) in fields.expect.iter().zip(&check.expectations) {
            let requested = match &expectation.place {
                Place::PageLoad => check.spec.page_load,
                Place::Mbox(name) => check.spec.mboxes.iter().any(|m| &m.name == name),
                Place::View(name) => check.spec.views.contains(name),
            };
            if !requested {
                return Err(at(
                    e.span().start,
                    format!(
                        "check {:?}: expects {} but does not ask for it (mboxes, views, page_load)",
                        fields.name,
                        expectation.place.label()
                    ),
                ));
            }
        }
        checks.push(check);
    }
    Ok(Scenario {
        path: path.to_path_buf(),
        target,
        target_line,
        checks,
    })
}

fn check_of(
    path: &Path,
    line: usize,
    fields: &CheckFields<Spanned<ExpectFields>>,
) -> Result<Check, String> {
    let mut mboxes = Vec::new();
    for m in &fields.mboxes {
        let mut spec: MboxSpec = m.parse().map_err(|e| format!("mboxes: {e}"))?;
        if let Some(params) = fields.mbox_parameters.get(&spec.name) {
            spec.parameters
                .extend(params.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        mboxes.push(spec);
    }
    if let Some(name) = fields
        .mbox_parameters
        .keys()
        .find(|n| !mboxes.iter().any(|m| &m.name == *n))
    {
        return Err(format!(
            "mbox_parameters names {name:?}, which is not in mboxes"
        ));
    }
    if mboxes.is_empty() && fields.views.is_empty() && !fields.page_load {
        return Err("asks for nothing: give mboxes, views or page_load = true".into());
    }
    if fields.expect.is_empty() {
        return Err("has no [[check.expect]]".into());
    }
    let qa_mode: Option<QaMode> = match &fields.qa_url {
        Some(url) => Some(qa_mode_from_url(url).map_err(|e| format!("qa_url: {e}"))?),
        None => None,
    };
    let visitors = fields.visitors.unwrap_or(1);
    if !(1..=MAX_VISITORS).contains(&visitors) {
        return Err(format!("visitors = {visitors}: 1 to {MAX_VISITORS}"));
    }
    if fields.tnt_id.is_some() && visitors > 1 {
        return Err("tnt_id fixes one visitor: it cannot go with visitors > 1".into());
    }
    if let Some(tnt) = &fields.tnt_id {
        if tnt.is_empty() || tnt.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(format!("tnt_id {tnt:?} is not a visitor id"));
        }
    }
    let time_ms = match &fields.time {
        Some(text) => Some(crate::clock::parse_instant(text).map_err(|e| format!("time: {e}"))?),
        None => None,
    };
    let mut expectations = Vec::new();
    for e in &fields.expect {
        let e = e.get_ref();
        if e.activity.is_none()
            && e.experience.is_none()
            && e.content_contains.is_none()
            && e.response_tokens.is_empty()
        {
            return Err(format!(
                "an expect on {:?} expects nothing: give activity, experience, content_contains or response_tokens",
                e.location
            ));
        }
        expectations.push(Expectation {
            place: Place::parse(&e.location)?,
            activity: e.activity.clone(),
            experience: e.experience.clone(),
            content_contains: e.content_contains.clone(),
            response_tokens: e.response_tokens.clone(),
        });
    }
    Ok(Check {
        file: path.to_path_buf(),
        line,
        name: fields.name.clone(),
        spec: RequestSpec {
            mboxes,
            views: fields.views.clone(),
            page_load: fields.page_load,
            qa_mode,
            page_url: fields.page_url.clone(),
            user_agent: fields.user_agent.clone(),
            property_token: fields.property_token.clone(),
            ..Default::default()
        },
        profile_parameters: fields.profile_parameters.clone(),
        geo: fields.geo.clone(),
        tnt_id: fields.tnt_id.clone(),
        time_ms,
        visitors: visitors as usize,
        notify: fields.notify,
        click: fields.click,
        expectations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[check]]
name = "recs"
mboxes = ["product-recs"]
mbox_parameters = { "product-recs" = { category = "shoes" } }
geo = { city = "Basel", countryCode = "CH" }

[[check.expect]]
location = "product-recs"
activity = 312350
experience = "Shoes"
"#;

    fn error(text: &str) -> ScenarioError {
        parse(Path::new("s.toml"), text).expect_err("an error")
    }

    #[test]
    fn a_check_reads_with_its_parameters_and_geo() {
        let s = parse(Path::new("s.toml"), GOOD).unwrap();
        let check = &s.checks[0];
        assert_eq!(check.line, 2);
        assert_eq!(
            check.spec.mboxes[0].parameters,
            vec![("category".to_string(), "shoes".to_string())]
        );
        let request = check.request(&RequestSpec::default());
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(
            json["prefetch"]["mboxes"][0]["parameters"]["category"],
            "shoes"
        );
        assert_eq!(json["context"]["geo"]["countryCode"], "CH");
        assert_eq!(
            check.expectations[0].place,
            Place::Mbox("product-recs".into())
        );
    }

    #[test]
    fn syntax_errors_name_their_line() {
        let e = error("[[check]]\nname = \"a\"\npage_load = maybe\n[[check.expect]]\n");
        assert_eq!(e.line, 3, "{e}");
        assert!(e.to_string().starts_with("s.toml:3: "), "{e}");
    }

    #[test]
    fn unknown_fields_name_their_line() {
        let e = error("\n[[check]]\nname = \"a\"\nmbox = [\"x\"]\n");
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("mbox"), "{e}");
    }

    #[test]
    fn an_expectation_on_a_location_not_asked_for_names_its_line() {
        let text = GOOD.replace("location = \"product-recs\"", "location = \"view home\"");
        let e = error(&text);
        assert_eq!(e.line, 8, "{e}");
        assert!(e.message.contains("view home"), "{e}");
    }

    #[test]
    fn checks_that_ask_for_nothing_or_expect_nothing_are_refused() {
        let e = error(
            "[[check]]\nname = \"a\"\n[[check.expect]]\nlocation = \"pageLoad\"\nactivity = 1\n",
        );
        assert!(e.message.contains("asks for nothing"), "{e}");
        let e = error("[[check]]\nname = \"a\"\npage_load = true\n[[check.expect]]\nlocation = \"pageLoad\"\n");
        assert!(e.message.contains("expects nothing"), "{e}");
        let e = error("[[check]]\nname = \"a\"\npage_load = true\ntnt_id = \"t\"\nvisitors = 2\n[[check.expect]]\nlocation = \"pageLoad\"\nactivity = 1\n");
        assert!(e.message.contains("tnt_id"), "{e}");
    }

    /// Every check's span and its expectations' spans.
    fn spans(raw: &RawFile) -> Vec<(std::ops::Range<usize>, Vec<std::ops::Range<usize>>)> {
        raw.check
            .iter()
            .map(|c| {
                (
                    c.span(),
                    c.get_ref().expect.iter().map(|e| e.span()).collect(),
                )
            })
            .collect()
    }

    fn many_checks(n: usize) -> String {
        let one = |i: usize| GOOD.replace("name = \"recs\"", &format!("name = \"recs {i}\""));
        let mut text = "# many checks\n[target]\nserver = \"http://127.0.0.1:1\"\n".to_string();
        text.extend((0..n).map(one));
        text
    }

    #[test]
    fn a_file_read_in_pieces_reads_as_it_does_whole() {
        let text = many_checks(40);
        let whole: RawFile = toml1::from_str(&text).unwrap();
        let pieces = read_raw_in_pieces(&text, 1).unwrap();
        assert_eq!(pieces.check.len(), 40);
        assert_eq!(spans(&pieces), spans(&whole));
        assert_eq!(pieces.check, whole.check);
        assert_eq!(
            pieces.target.map(|t| t.span()),
            whole.target.map(|t| t.span())
        );
    }

    #[test]
    fn a_big_file_names_the_line_of_a_bad_check() {
        let mut text = many_checks(3_000);
        assert!(text.len() > 4 * super::super::chunks::MIN_PIECE_BYTES);
        let s = parse(Path::new("s.toml"), &text).unwrap();
        assert_eq!(s.checks.len(), 3_000);
        assert_eq!(s.target.server.as_deref(), Some("http://127.0.0.1:1"));
        let lines: Vec<usize> = s.checks.iter().map(|c| c.line).collect();
        let headers: Vec<usize> = (text.lines().enumerate())
            .filter(|(_, l)| *l == "[[check]]")
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(lines, headers);
        let bad = "name = \"recs 2500\"\n";
        let at = text.find(bad).unwrap() + bad.len();
        text.insert_str(at, "page_load = maybe\n");
        let e = error(&text);
        assert_eq!(e.line, headers[2500] + 2, "{e}");
    }

    #[test]
    fn what_pieces_cannot_mean_alone_is_read_whole() {
        let in_a_string = "[[check]]\nname = \"a\"\nuser_agent = \"\"\"\n[[check]]\nUA\"\"\"\n\
            page_load = true\n[[check.expect]]\nlocation = \"pageLoad\"\nactivity = 1\n";
        let raw = read_raw_in_pieces(in_a_string, 1).unwrap();
        assert_eq!(raw.check.len(), 1);
        assert_eq!(
            raw.check[0].get_ref().user_agent.as_deref(),
            Some("[[check]]\nUA")
        );
        let check = "[[check]]\nname = \"a\"\npage_load = true\n";
        let two_targets = format!("[target]\nserver = \"s\"\n{check}[target]\nclient = \"c\"\n");
        assert!(toml1::from_str::<RawFile>(&two_targets).is_err());
        assert!(read_raw_in_pieces(&two_targets, 1).is_err());
        let inline = format!("check = [{{ name = \"b\" }}]\n{check}");
        assert!(toml1::from_str::<RawFile>(&inline).is_err());
        assert!(read_raw_in_pieces(&inline, 1).is_err());
    }

    #[test]
    fn activities_and_experiences_read_as_ids_or_names_and_nothing_else() {
        let s = parse(Path::new("s.toml"), GOOD).unwrap();
        let e = &s.checks[0].expectations[0];
        assert_eq!(e.activity, Some(IdOrName::Id(312350)));
        assert_eq!(e.experience, Some(IdOrName::Text("Shoes".into())));
        let e = error(&GOOD.replace("activity = 312350", "activity = 3.5"));
        assert_eq!(e.line, 10, "{e}");
        assert!(e.message.contains("an id (an integer) or a name"), "{e}");
    }

    #[test]
    fn places_parse() {
        assert_eq!(Place::parse("pageLoad"), Ok(Place::PageLoad));
        assert_eq!(
            Place::parse("view checkout"),
            Ok(Place::View("checkout".into()))
        );
        assert_eq!(Place::parse("mbox a"), Ok(Place::Mbox("a".into())));
        assert_eq!(Place::parse("a"), Ok(Place::Mbox("a".into())));
        assert!(Place::parse("view a b").is_err());
        assert!(Place::parse("a b c").is_err());
    }
}
