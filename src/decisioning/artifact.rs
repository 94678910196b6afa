//! Rules artifacts: `rules.json`, or `rules.bin` decoded with the organization id; every
//! condition compiled once here.

use super::jsonlogic::{AllocationRange, Logic, LogicError, SharedConditions};
use crate::delivery::{Metric, Prepared, TargetOption};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Map, Value};
use thiserror::Error;

/// The artifact major version this engine reads.
pub const SUPPORTED_MAJOR_VERSION: u64 = 1;
const BIN_HEADER_LEN: usize = 40;
const BIN_PREFIX: &str = "ATOD";
const BIN_VERSION: u32 = 1;
/// Where `ATOD:001` ends and the key begins in a `rules.bin` header.
const BIN_VERSION_END: usize = 8;

/// Why an artifact could not be loaded.
#[derive(Debug, Error)]
pub enum ArtifactError {
    #[error("the artifact is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the artifact has no version")]
    MissingVersion,
    #[error("artifact version {0} is not supported (this engine reads major version {SUPPORTED_MAJOR_VERSION})")]
    UnsupportedVersion(String),
    #[error("rules.bin: {0}")]
    Binary(String),
    #[error("rules.bin could not be decoded with organization id {0:?}: wrong organization id?")]
    WrongOrganization(String),
    #[error("rules.bin needs the organization id (--org-id)")]
    MissingOrganization,
    #[error("rule {rule} ({location}): {source}")]
    Rule {
        rule: String,
        location: String,
        source: LogicError,
    },
    #[error("the artifact has an unexpected shape: {0}")]
    Shape(String),
}

/// Rules by mbox or view name, in artifact order; looked up for every location a request
/// names, so with a fast hasher.
pub type RulesByName = IndexMap<String, Vec<Rule>, foldhash::fast::RandomState>;

/// A loaded, compiled rules artifact.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub version: String,
    pub meta: Map<String, Value>,
    pub global_mbox: String,
    pub geo_targeting_enabled: bool,
    pub response_tokens: Vec<String>,
    pub remote_mboxes: Vec<String>,
    pub remote_views: Vec<String>,
    pub local_mboxes: Vec<String>,
    pub local_views: Vec<String>,
    pub mboxes: RulesByName,
    pub views: RulesByName,
    /// How many distinct activities the rules belong to.
    pub activity_count: usize,
    /// How many distinct rule keys the rules have.
    pub rule_key_count: usize,
    /// How many memo slots the rules' shared sub-conditions use.
    pub shared_conditions: usize,
}

/// The response tokens taken from a rule's meta when the artifact lists them.
const META_TOKENS: [&str; 12] = [
    "activity.id",
    "activity.name",
    "activity.type",
    "experience.id",
    "experience.name",
    "location.id",
    "location.name",
    "location.type",
    "offer.id",
    "offer.name",
    "option.id",
    "option.name",
];

/// One rule: its condition, compiled, and what it answers with.
#[derive(Debug, Clone)]
pub struct Rule {
    pub rule_key: String,
    /// `meta["activity.id"]` as JavaScript would print it (it goes into the allocation hash).
    pub activity_id: String,
    pub meta: Map<String, Value>,
    /// `meta["activity.id"]` and `meta["experience.id"]` (null when absent), as a match
    /// reports them: looked up once at load rather than for every match.
    pub meta_ids: (Value, Value),
    pub condition_json: Value,
    /// The allocation range the condition requires; `condition` holds the rest of it.
    pub allocation_range: Option<AllocationRange>,
    pub condition: Logic,
    /// Whether the condition reads the visitor's allocation (else it is not hashed for it).
    pub uses_allocation: bool,
    pub property_tokens: Option<Vec<String>>,
    pub consequence: Consequence,
    /// Whether an option's content still holds macros after those of the rule's meta were
    /// substituted at load (else deciding has none to look for).
    pub options_have_macros: bool,
    /// The meta values the artifact's `responseTokens` list, for every option of the rule.
    pub response_tokens: Prepared<Map<String, Value>>,
    /// The same tokens with `activity.decisioningMethod: on-device`, as the SDKs send them
    /// when the request adds no other token.
    pub on_device_response_tokens: Prepared<Map<String, Value>>,
    /// The same tokens as Target's edge sends them: every value a string.
    pub edge_response_tokens: Prepared<Map<String, Value>>,
    /// A dense number for the rule's activity (0..`Artifact::activity_count`).
    pub activity_index: usize,
    /// A dense number for the rule's key (0..`Artifact::rule_key_count`): rules with one key
    /// answer once per location, and a number is quicker to compare than the key.
    pub key_index: u32,
    /// `activity_id` as UTF-16LE code units, as the allocation hashes it.
    pub activity_id_units: Vec<u8>,
}

/// What a matching rule answers with.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct Consequence {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub options: Vec<TargetOption>,
    #[serde(default)]
    pub metrics: Vec<Metric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawArtifact {
    version: Option<Value>,
    #[serde(default)]
    meta: Map<String, Value>,
    global_mbox: Option<String>,
    geo_targeting_enabled: Option<bool>,
    has_geo_targeting: Option<bool>,
    #[serde(default)]
    response_tokens: Vec<String>,
    #[serde(default)]
    remote_mboxes: Vec<String>,
    #[serde(default)]
    remote_views: Vec<String>,
    #[serde(default)]
    local_mboxes: Vec<String>,
    #[serde(default)]
    local_views: Vec<String>,
    #[serde(default)]
    rules: RawRules,
}

#[derive(Deserialize, Default)]
struct RawRules {
    #[serde(default)]
    mboxes: IndexMap<String, Vec<RawRule>>,
    #[serde(default)]
    views: IndexMap<String, Vec<RawRule>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRule {
    rule_key: Option<Value>,
    activity_id: Option<Value>,
    #[serde(default)]
    meta: Map<String, Value>,
    condition: Option<Value>,
    property_tokens: Option<Vec<String>>,
    #[serde(default)]
    consequence: Consequence,
}

impl Artifact {
    /// Loads `rules.json` bytes, or `rules.bin` bytes when they start with the `ATOD:` header.
    pub fn load(bytes: &[u8], organization_id: Option<&str>) -> Result<Artifact, ArtifactError> {
        if bytes.starts_with(BIN_PREFIX.as_bytes()) {
            let org = organization_id.ok_or(ArtifactError::MissingOrganization)?;
            let json = deobfuscate(bytes, org)?;
            return Artifact::from_json(&json).map_err(|e| match e {
                ArtifactError::Json(_) => ArtifactError::WrongOrganization(org.to_string()),
                other => other,
            });
        }
        Artifact::from_json(bytes)
    }

    /// Loads `rules.json` bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Artifact, ArtifactError> {
        let raw: RawArtifact = serde_json::from_slice(bytes)?;
        let version = match raw.version {
            Some(Value::String(v)) => v,
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(ArtifactError::MissingVersion),
        };
        let major = version
            .split('.')
            .next()
            .and_then(|m| m.trim().parse::<u64>().ok());
        if major != Some(SUPPORTED_MAJOR_VERSION) {
            return Err(ArtifactError::UnsupportedVersion(version));
        }
        let response_tokens = raw.response_tokens.clone();
        let mut shared = SharedConditions::default();
        let mut compile_all = |rules: IndexMap<String, Vec<RawRule>>, kind: &str| {
            rules
                .into_iter()
                .map(|(name, list)| {
                    let compiled = list
                        .into_iter()
                        .map(|r| compile_rule(r, kind, &name, &response_tokens, &mut shared))
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok((name, compiled))
                })
                .collect::<Result<RulesByName, ArtifactError>>()
        };
        let mut mboxes = compile_all(raw.rules.mboxes, "mbox")?;
        let mut views = compile_all(raw.rules.views, "view")?;
        let mut activities: Vec<String> = Vec::new();
        let mut keys: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        for rule in mboxes.values_mut().chain(views.values_mut()).flatten() {
            rule.activity_index = match activities.iter().position(|a| *a == rule.activity_id) {
                Some(i) => i,
                None => {
                    activities.push(rule.activity_id.clone());
                    activities.len() - 1
                }
            };
            let next = keys.len() as u32;
            rule.key_index = *keys.entry(rule.rule_key.clone()).or_insert(next);
        }
        Ok(Artifact {
            activity_count: activities.len(),
            rule_key_count: keys.len(),
            shared_conditions: shared.slots(),
            version,
            meta: raw.meta,
            global_mbox: raw
                .global_mbox
                .unwrap_or_else(|| "target-global-mbox".into()),
            geo_targeting_enabled: raw
                .geo_targeting_enabled
                .or(raw.has_geo_targeting)
                .unwrap_or(false),
            response_tokens: raw.response_tokens,
            remote_mboxes: raw.remote_mboxes,
            remote_views: raw.remote_views,
            local_mboxes: raw.local_mboxes,
            local_views: raw.local_views,
            mboxes,
            views,
        })
    }

    /// The client code the artifact was built for (`meta.clientCode`).
    pub fn client_code(&self) -> Option<&str> {
        self.meta.get("clientCode").and_then(Value::as_str)
    }

    /// The environment (`meta.environment`).
    pub fn environment(&self) -> Option<&str> {
        self.meta.get("environment").and_then(Value::as_str)
    }

    /// Every rule of every mbox and view.
    pub fn all_rules(&self) -> impl Iterator<Item = &Rule> {
        self.mboxes.values().chain(self.views.values()).flatten()
    }
}

fn js_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => super::jsonlogic::to_js_string(other),
    }
}

fn compile_rule(
    raw: RawRule,
    kind: &str,
    location: &str,
    listed: &[String],
    shared: &mut SharedConditions,
) -> Result<Rule, ArtifactError> {
    let activity = raw
        .meta
        .get("activity.id")
        .or(raw.activity_id.as_ref())
        .cloned()
        .unwrap_or(Value::Null);
    let rule_key = raw
        .rule_key
        .as_ref()
        .map(js_string)
        .unwrap_or_else(|| js_string(&activity));
    let condition_json = raw.condition.unwrap_or(Value::Bool(true));
    let (allocation_range, condition) =
        shared
            .compile_rule(&condition_json)
            .map_err(|source| ArtifactError::Rule {
                rule: rule_key.clone(),
                location: format!("{kind} {location}"),
                source,
            })?;
    if activity.is_null() {
        return Err(ArtifactError::Shape(format!(
            "rule {rule_key} of {kind} {location} has no activity id"
        )));
    }
    let response_tokens: Map<String, Value> = META_TOKENS
        .iter()
        .filter(|k| listed.iter().any(|t| t == *k))
        .filter_map(|k| {
            raw.meta
                .get(*k)
                .filter(|v| !v.is_null())
                .map(|v| ((*k).to_string(), v.clone()))
        })
        .collect();
    let edge_response_tokens = edge_tokens(&response_tokens);
    let mut on_device_response_tokens = response_tokens.clone();
    on_device_response_tokens.extend(on_device_token());
    let mut consequence = raw.consequence;
    for option in &mut consequence.options {
        super::macros::replace_meta_macros(option, &raw.meta);
        option.content = option
            .content
            .take()
            .map(|content| Prepared::serialized(Value::clone(&content)));
    }
    let activity_id = js_string(&activity);
    Ok(Rule {
        activity_index: 0,
        key_index: 0,
        activity_id_units: super::allocation::utf16_units(&activity_id),
        response_tokens: Prepared::serialized(response_tokens),
        on_device_response_tokens: Prepared::serialized(on_device_response_tokens),
        edge_response_tokens: Prepared::serialized(edge_response_tokens),
        activity_id,
        rule_key,
        meta_ids: (
            raw.meta.get("activity.id").cloned().unwrap_or(Value::Null),
            raw.meta
                .get("experience.id")
                .cloned()
                .unwrap_or(Value::Null),
        ),
        meta: raw.meta,
        condition_json,
        uses_allocation: allocation_range.is_some() || condition.depends_on_allocation(),
        allocation_range,
        condition,
        property_tokens: raw.property_tokens,
        options_have_macros: consequence.options.iter().any(super::macros::has_macros),
        consequence,
    })
}

/// Decodes `rules.bin`: a 40-byte header (`ATOD:001` + 32-char key), then the JSON XOR-ed
/// byte by byte with the UTF-8 of organization id + key.
pub fn deobfuscate(bytes: &[u8], organization_id: &str) -> Result<Vec<u8>, ArtifactError> {
    if bytes.len() < BIN_HEADER_LEN {
        return Err(ArtifactError::Binary(format!(
            "{} bytes is shorter than the 40-byte header",
            bytes.len()
        )));
    }
    let header = std::str::from_utf8(&bytes[..BIN_HEADER_LEN])
        .map_err(|_| ArtifactError::Binary("the header is not text".into()))?;
    // Byte 8 may fall inside a multi-byte character: then the header is not `ATOD:001`.
    let unsupported = || {
        ArtifactError::Binary(format!(
            "unsupported header {:?}",
            String::from_utf8_lossy(&bytes[..BIN_VERSION_END])
        ))
    };
    let (tag, key) = match (header.get(..BIN_VERSION_END), header.get(BIN_VERSION_END..)) {
        (Some(tag), Some(key)) => (tag, key),
        _ => return Err(unsupported()),
    };
    let (prefix, version) = tag.split_once(':').unwrap_or((tag, ""));
    if prefix != BIN_PREFIX || version.parse::<u32>().ok() != Some(BIN_VERSION) {
        return Err(unsupported());
    }
    let key: Vec<u8> = format!("{organization_id}{key}").into_bytes();
    Ok(bytes[BIN_HEADER_LEN..]
        .iter()
        .zip(key.iter().cycle())
        .map(|(b, k)| b ^ k)
        .collect())
}

/// The response token the SDKs add to every option they decide on device.
pub fn on_device_token() -> Map<String, Value> {
    Map::from_iter([(
        "activity.decisioningMethod".to_string(),
        Value::String("on-device".into()),
    )])
}

/// Response tokens as Target's edge sends them (the Delivery API types their values as
/// strings; the SDKs keep the artifact's numbers).
pub fn edge_tokens(tokens: &Map<String, Value>) -> Map<String, Value> {
    tokens
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => js_string(other),
            };
            (k.clone(), Value::String(text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../shared/fixtures/{path}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn rules_bin_decodes_to_the_same_artifact_as_rules_json() {
        let org = "74F652E95F1B16FE0A495C92@AdobeOrg";
        let decoded = deobfuscate(&fixture("artifacts/obfuscated-rules.bin"), org).unwrap();
        let want: Value =
            serde_json::from_slice(&fixture("artifacts/obfuscated-rules.json")).unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&decoded).unwrap(), want);
        let artifact =
            Artifact::load(&fixture("artifacts/obfuscated-rules.bin"), Some(org)).unwrap();
        assert!(!artifact.mboxes.is_empty());
    }

    #[test]
    fn a_multi_byte_character_across_the_header_version_is_an_error_not_a_panic() {
        // "ATOD:00" then "é" (bytes 7 and 8): byte 8 is inside the character.
        let mut bin = "ATOD:00é".to_string();
        bin.push_str(&"k".repeat(BIN_HEADER_LEN - bin.len()));
        let mut bytes = bin.into_bytes();
        bytes.extend_from_slice(b"{}");
        let err = Artifact::load(&bytes, Some("org@AdobeOrg")).unwrap_err();
        assert!(matches!(err, ArtifactError::Binary(_)), "{err}");
        assert!(err.to_string().contains("unsupported header"), "{err}");
    }

    #[test]
    fn wrong_org_and_bad_artifacts_are_clear_errors() {
        let bin = fixture("artifacts/obfuscated-rules.bin");
        assert!(matches!(
            Artifact::load(&bin, Some("someone-else@AdobeOrg")),
            Err(ArtifactError::WrongOrganization(_))
        ));
        assert!(matches!(
            Artifact::load(&bin, None),
            Err(ArtifactError::MissingOrganization)
        ));
        assert!(matches!(
            Artifact::load(b"{not json", None),
            Err(ArtifactError::Json(_))
        ));
        let unsupported = fixture("target-sdk-testing/artifacts/TEST_ARTIFACT_UNSUPPORTED.json");
        assert!(
            matches!(Artifact::load(&unsupported, None), Err(ArtifactError::UnsupportedVersion(v)) if v == "99.0.0")
        );
        let unknown_op = br#"{"version":"1.0.0","rules":{"mboxes":{"m":[{"ruleKey":"1","activityId":1,"meta":{"activity.id":1},"condition":{"regex":["a","b"]},"consequence":{}}]}}}"#;
        let err = Artifact::load(unknown_op, None).unwrap_err().to_string();
        assert!(err.contains("regex") && err.contains("mbox m"), "{err}");
    }
}
