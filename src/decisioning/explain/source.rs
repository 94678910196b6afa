//! Where explain gets its rules when it is not handed a file: the `mboxscope serve` a session
//! talks to (`GET /rules.json`), or the on-device artifact Adobe publishes for a client.

use crate::decisioning::{Artifact, ArtifactError};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::time::Duration;
use thiserror::Error;

/// Adobe's artifact host, as the SDKs fetch from it.
const ARTIFACT_HOST: &str = "https://assets.adobetarget.com";

/// What a path segment keeps as it is: RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Why rules could not be fetched.
#[derive(Debug, Error)]
pub enum RulesFetchError {
    #[error("GET {url}: {message}")]
    Http { url: String, message: String },
    #[error("GET {url}: {source}")]
    Artifact {
        url: String,
        #[source]
        source: ArtifactError,
    },
}

/// The URL of the on-device artifact Adobe publishes for `client`:
/// `https://assets.adobetarget.com/{client}/{environment}/v1/[{propertyToken}/]rules.json`
/// (environment `production` when not given), each part URL-encoded.
pub fn published_artifact_url(
    client: &str,
    environment: Option<&str>,
    property_token: Option<&str>,
) -> String {
    let part = |s: &str| utf8_percent_encode(s, SEGMENT).to_string();
    let environment = environment
        .filter(|e| !e.is_empty())
        .unwrap_or("production");
    let property = property_token
        .filter(|t| !t.is_empty())
        .map(|t| format!("{}/", part(t)))
        .unwrap_or_default();
    format!(
        "{ARTIFACT_HOST}/{}/{}/v1/{property}rules.json",
        part(client),
        part(environment)
    )
}

/// Fetches and loads the artifact a `mboxscope serve` at `base` decides with
/// (`GET {base}/rules.json`), following no redirect.
pub async fn fetch_serve_rules(base: &str, timeout: Duration) -> Result<Artifact, RulesFetchError> {
    fetch_rules(
        &format!("{}/rules.json", base.trim_end_matches('/')),
        timeout,
    )
    .await
}

/// Fetches and loads the rules artifact at `url` (a serve's, or the one Adobe publishes),
/// following no redirect.
pub async fn fetch_rules(url: &str, timeout: Duration) -> Result<Artifact, RulesFetchError> {
    let url = url.to_string();
    let http = |message: String| RulesFetchError::Http {
        url: url.clone(),
        message,
    };
    let reply = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| http(e.to_string()))?
        .get(&url)
        .send()
        .await
        .map_err(|e| http(format!("no answer: {e}")))?;
    if !reply.status().is_success() {
        return Err(http(format!("HTTP {}", reply.status().as_u16())));
    }
    let bytes = reply.bytes().await.map_err(|e| http(e.to_string()))?;
    Artifact::from_json(&bytes).map_err(|source| RulesFetchError::Artifact {
        url: url.clone(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_artifact_url_is_the_one_the_sdks_fetch() {
        assert_eq!(
            published_artifact_url("targettesting", None, None),
            "https://assets.adobetarget.com/targettesting/production/v1/rules.json"
        );
        assert_eq!(
            published_artifact_url("acme", Some("staging"), Some("a1b2-c3")),
            "https://assets.adobetarget.com/acme/staging/v1/a1b2-c3/rules.json"
        );
        assert_eq!(
            published_artifact_url("a/b", Some(""), Some("")),
            "https://assets.adobetarget.com/a%2Fb/production/v1/rules.json"
        );
    }
}
