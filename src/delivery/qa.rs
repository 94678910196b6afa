//! QA links (`at_preview_*` query parameters) turned into `qaMode`.

use super::request::{PreviewIndex, QaMode};
use thiserror::Error;

/// Why a QA link could not be used.
#[derive(Debug, Error, PartialEq)]
pub enum QaUrlError {
    #[error("not a URL: {0}")]
    NotAUrl(String),
    #[error("the QA link has no at_preview_token parameter")]
    MissingToken,
    #[error("{param}: {value:?} is not a list of audience ids joined by '_'")]
    BadAudienceIds { param: &'static str, value: String },
    #[error(
        "at_preview_index: {0:?} is not ACTIVITY_EXPERIENCE (two numbers from 1, joined by '_')"
    )]
    BadPreviewIndex(String),
}

/// Parses a QA link into `qaMode` (query parameters are URL-decoded once).
pub fn qa_mode_from_url(link: &str) -> Result<QaMode, QaUrlError> {
    let parsed =
        url::Url::parse(link.trim()).map_err(|e| QaUrlError::NotAUrl(format!("{link}: {e}")))?;
    let mut qa = QaMode::default();
    for (name, value) in parsed.query_pairs() {
        match name.as_ref() {
            "at_preview_token" if !value.is_empty() => qa.token = Some(value.into_owned()),
            "at_preview_listed_activities_only" => {
                qa.listed_activities_only = Some(value.eq_ignore_ascii_case("true"))
            }
            "at_preview_evaluate_as_true_audience_ids" => {
                qa.evaluate_as_true_audience_ids = Some(audience_ids(
                    "at_preview_evaluate_as_true_audience_ids",
                    &value,
                )?)
            }
            "at_preview_evaluate_as_false_audience_ids" => {
                qa.evaluate_as_false_audience_ids = Some(audience_ids(
                    "at_preview_evaluate_as_false_audience_ids",
                    &value,
                )?)
            }
            "at_preview_index" => qa
                .preview_indexes
                .get_or_insert_with(Vec::new)
                .push(preview_index(&value)?),
            _ => {}
        }
    }
    if qa.token.is_none() {
        return Err(QaUrlError::MissingToken);
    }
    Ok(qa)
}

fn audience_ids(param: &'static str, value: &str) -> Result<Vec<i64>, QaUrlError> {
    value
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| part.trim().parse::<i64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| QaUrlError::BadAudienceIds {
            param,
            value: value.to_string(),
        })
}

fn preview_index(value: &str) -> Result<PreviewIndex, QaUrlError> {
    let bad = || QaUrlError::BadPreviewIndex(value.to_string());
    let (activity, experience) = value.split_once('_').ok_or_else(bad)?;
    let activity: i64 = activity.trim().parse().map_err(|_| bad())?;
    let experience: i64 = experience.trim().parse().map_err(|_| bad())?;
    if activity < 1 || experience < 1 {
        return Err(bad());
    }
    Ok(PreviewIndex {
        activity_index: Some(activity),
        experience_index: Some(experience),
        ..Default::default()
    })
}

/// A QA link for one experience, as `mboxscope serve`'s `GET /qa` lists them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QaLink {
    pub activity: serde_json::Value,
    pub activity_name: serde_json::Value,
    pub experience: serde_json::Value,
    pub experience_name: serde_json::Value,
    pub url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_preview_parameter() {
        let qa = qa_mode_from_url(
            "https://shop.example.com/?at_preview_token=abc%2Bdef%3D%3D&at_preview_index=1_1&at_preview_index=2_3\
             &at_preview_listed_activities_only=true&at_preview_evaluate_as_true_audience_ids=1_2\
             &at_preview_evaluate_as_false_audience_ids=3",
        )
        .unwrap();
        assert_eq!(qa.token.as_deref(), Some("abc+def=="));
        assert_eq!(qa.listed_activities_only, Some(true));
        assert_eq!(qa.evaluate_as_true_audience_ids, Some(vec![1, 2]));
        assert_eq!(qa.evaluate_as_false_audience_ids, Some(vec![3]));
        let idx = qa.preview_indexes.unwrap();
        assert_eq!(
            (idx[0].activity_index, idx[0].experience_index),
            (Some(1), Some(1))
        );
        assert_eq!(
            (idx[1].activity_index, idx[1].experience_index),
            (Some(2), Some(3))
        );
    }

    #[test]
    fn a_link_without_token_is_an_error() {
        assert_eq!(
            qa_mode_from_url("https://shop.example.com/?at_preview_index=1_1"),
            Err(QaUrlError::MissingToken)
        );
        assert!(matches!(
            qa_mode_from_url("not a url"),
            Err(QaUrlError::NotAUrl(_))
        ));
        assert!(matches!(
            qa_mode_from_url("https://x/?at_preview_token=t&at_preview_index=1"),
            Err(QaUrlError::BadPreviewIndex(_))
        ));
    }
}
