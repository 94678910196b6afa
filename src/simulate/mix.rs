//! The traffic mix simulated visitors are drawn from: user agents, page URLs, geos, mbox
//! parameters and hours of the week, each with a weight. From a TOML file and/or flags.

use indexmap::IndexMap;
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::Rng;
use serde::Deserialize;
use thiserror::Error;

/// A mix that cannot be read.
#[derive(Debug, Error)]
pub enum MixError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("{flag} {text:?}: {message}")]
    Flag {
        flag: &'static str,
        text: String,
        message: String,
    },
    #[error("{0}: weights must be finite, not negative, and not all zero")]
    Weights(&'static str),
}

/// One choice and how often it is drawn relative to the others.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Weighted<T> {
    #[serde(flatten)]
    pub value: T,
    #[serde(default = "one")]
    pub weight: f64,
}

fn one() -> f64 {
    1.0
}

/// A geo a visitor comes from.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct GeoChoice {
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
}

/// An hour of the week (UTC): day 1 = Monday … 7 = Sunday, hour 0–23.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct HourOfWeek {
    pub day: u8,
    pub hour: u8,
}

/// A user agent or a page URL.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Text {
    pub value: String,
}

/// Mbox parameters added to every mbox of a visitor.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ParameterSet {
    pub parameters: IndexMap<String, String>,
}

/// The whole mix. An empty list means the fixed request's value for everyone.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mix {
    #[serde(default)]
    pub user_agents: Vec<Weighted<Text>>,
    #[serde(default)]
    pub page_urls: Vec<Weighted<Text>>,
    #[serde(default)]
    pub geos: Vec<Weighted<GeoChoice>>,
    #[serde(default)]
    pub mbox_parameters: Vec<Weighted<ParameterSet>>,
    #[serde(default)]
    pub hours: Vec<Weighted<HourOfWeek>>,
}

impl Mix {
    /// Reads a TOML mix file.
    pub fn from_toml_file(path: &std::path::Path) -> Result<Mix, MixError> {
        let file_error = |message: String| MixError::File {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        let mix: Mix = toml::from_str(&text).map_err(|e| file_error(one_line(&e.to_string())))?;
        for hour in &mix.hours {
            check_hour(hour.value).map_err(file_error)?;
        }
        Ok(mix)
    }

    /// Adds `WEIGHT:USER-AGENT` (the weight is optional: `USER-AGENT` alone weighs 1).
    pub fn add_user_agent(&mut self, text: &str) -> Result<(), MixError> {
        let (weight, value) = weighted("--mix-user-agent", text)?;
        self.user_agents.push(Weighted {
            value: Text {
                value: value.to_string(),
            },
            weight,
        });
        Ok(())
    }

    /// Adds `WEIGHT:URL`.
    pub fn add_page_url(&mut self, text: &str) -> Result<(), MixError> {
        let (weight, value) = weighted("--mix-page-url", text)?;
        self.page_urls.push(Weighted {
            value: Text {
                value: value.to_string(),
            },
            weight,
        });
        Ok(())
    }

    /// Adds `WEIGHT:COUNTRY[/REGION[/CITY]]`.
    pub fn add_geo(&mut self, text: &str) -> Result<(), MixError> {
        let (weight, value) = weighted("--mix-geo", text)?;
        let mut parts = value.split('/').map(|p| Some(p.trim().to_string()));
        self.geos.push(Weighted {
            value: GeoChoice {
                country: parts.next().flatten().filter(|c| !c.is_empty()),
                region: parts.next().flatten(),
                city: parts.next().flatten(),
            },
            weight,
        });
        Ok(())
    }

    /// Adds `WEIGHT:k=v[,k=v…]`.
    pub fn add_parameters(&mut self, text: &str) -> Result<(), MixError> {
        let (weight, value) = weighted("--mix-param", text)?;
        let mut parameters = IndexMap::new();
        for pair in value.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| MixError::Flag {
                flag: "--mix-param",
                text: text.to_string(),
                message: format!("{pair:?} is not k=v"),
            })?;
            parameters.insert(k.to_string(), v.to_string());
        }
        self.mbox_parameters.push(Weighted {
            value: ParameterSet { parameters },
            weight,
        });
        Ok(())
    }

    /// Adds `WEIGHT:DAY/HOUR` (day 1 = Monday … 7 = Sunday, hour 0–23, UTC).
    pub fn add_hour(&mut self, text: &str) -> Result<(), MixError> {
        let (weight, value) = weighted("--mix-hour", text)?;
        let bad = |message: String| MixError::Flag {
            flag: "--mix-hour",
            text: text.to_string(),
            message,
        };
        let (day, hour) = value
            .split_once('/')
            .ok_or_else(|| bad("expected DAY/HOUR".into()))?;
        let hour = HourOfWeek {
            day: day.trim().parse().map_err(|_| bad("bad day".into()))?,
            hour: hour.trim().parse().map_err(|_| bad("bad hour".into()))?,
        };
        check_hour(hour).map_err(bad)?;
        self.hours.push(Weighted {
            value: hour,
            weight,
        });
        Ok(())
    }
}

fn check_hour(hour: HourOfWeek) -> Result<(), String> {
    if !(1..=7).contains(&hour.day) || hour.hour > 23 {
        return Err(format!(
            "day {} hour {}: days are 1 (Monday) to 7, hours 0 to 23",
            hour.day, hour.hour
        ));
    }
    Ok(())
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits an optional `WEIGHT:` prefix off a flag's value.
fn weighted<'t>(flag: &'static str, text: &'t str) -> Result<(f64, &'t str), MixError> {
    let (weight, value) = match text.split_once(':') {
        Some((w, rest)) => match w.trim().parse::<f64>() {
            Ok(w) => (w, rest),
            Err(_) => (1.0, text),
        },
        None => (1.0, text),
    };
    if !weight.is_finite() || weight < 0.0 {
        return Err(MixError::Flag {
            flag,
            text: text.to_string(),
            message: "the weight must be a number ≥ 0".into(),
        });
    }
    Ok((weight, value))
}

/// Draws an index from a weighted list; an empty list always gives `None`.
#[derive(Debug, Clone)]
pub struct Picker(Option<WeightedIndex<f64>>);

impl Picker {
    /// A picker over `items`' weights (`what` names the list in errors).
    pub fn new<T>(what: &'static str, items: &[Weighted<T>]) -> Result<Picker, MixError> {
        if items.is_empty() {
            return Ok(Picker(None));
        }
        WeightedIndex::new(items.iter().map(|i| i.weight))
            .map(|w| Picker(Some(w)))
            .map_err(|_| MixError::Weights(what))
    }

    /// One draw.
    pub fn pick(&self, rng: &mut impl Rng) -> Option<usize> {
        self.0.as_ref().map(|w| w.sample(rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_take_an_optional_weight_and_urls_keep_their_colons() {
        let mut mix = Mix::default();
        mix.add_page_url("3:https://shop.example/sale").unwrap();
        mix.add_page_url("https://shop.example/").unwrap();
        mix.add_geo("2:US/CA/San Francisco").unwrap();
        mix.add_parameters("category=shoes,size=42").unwrap();
        mix.add_hour("6/10").unwrap();
        assert_eq!(mix.page_urls[0].weight, 3.0);
        assert_eq!(mix.page_urls[0].value.value, "https://shop.example/sale");
        assert_eq!(mix.page_urls[1].value.value, "https://shop.example/");
        assert_eq!(mix.geos[0].value.city.as_deref(), Some("San Francisco"));
        assert_eq!(mix.mbox_parameters[0].value.parameters["size"], "42");
        assert_eq!(mix.hours[0].value, HourOfWeek { day: 6, hour: 10 });
        assert!(mix.add_hour("8/10").is_err());
        assert!(mix.add_parameters("1:nonsense").is_err());
        assert!(mix.add_user_agent("-1:x").is_err());
    }

    #[test]
    fn a_toml_mix_reads_and_a_bad_one_is_a_one_line_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mix.toml");
        std::fs::write(
            &path,
            r#"
[[user_agents]]
value = "Mozilla/5.0 Firefox/128.0"
weight = 3
[[mbox_parameters]]
parameters = { category = "bags" }
[[hours]]
day = 7
hour = 23
"#,
        )
        .unwrap();
        let mix = Mix::from_toml_file(&path).unwrap();
        assert_eq!(mix.user_agents[0].weight, 3.0);
        assert_eq!(mix.mbox_parameters[0].weight, 1.0);
        std::fs::write(&path, "[[hours]]\nday = 9\nhour = 1\n").unwrap();
        let err = Mix::from_toml_file(&path).unwrap_err().to_string();
        assert!(err.contains("day 9") && !err.contains('\n'), "{err}");
        std::fs::write(&path, "colours = 3\n").unwrap();
        assert!(Mix::from_toml_file(&path).is_err());
    }
}
