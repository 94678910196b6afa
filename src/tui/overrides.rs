//! Context overrides without an editor: user agent (with presets), page and referring URL, geo,
//! the emulator's clock, mbox and profile parameters, property token. They apply on top of
//! whatever request `p` sends, an edited one included.

use crate::delivery::{Address, DeliveryRequest, Geo, Property, RequestDetails};
use crossterm::event::{KeyCode, KeyEvent};
use serde_json::Value;

/// User agents to pick from: (name, user agent).
pub const PRESETS: &[(&str, &str)] = &[
    ("Chrome", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"),
    ("Firefox", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"),
    ("Safari", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15"),
    ("iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"),
    ("Android", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"),
    ("a bot (Googlebot)", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
];

/// A field of the form, in the order shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    UserAgent,
    PageUrl,
    ReferringUrl,
    Country,
    Region,
    City,
    Latitude,
    Longitude,
    Clock,
    MboxParameters,
    ProfileParameters,
    PropertyToken,
}

impl Field {
    /// Every field, in order.
    pub const ALL: [Field; 12] = [
        Field::UserAgent,
        Field::PageUrl,
        Field::ReferringUrl,
        Field::Country,
        Field::Region,
        Field::City,
        Field::Latitude,
        Field::Longitude,
        Field::Clock,
        Field::MboxParameters,
        Field::ProfileParameters,
        Field::PropertyToken,
    ];

    /// Its label on the form.
    pub fn label(self) -> &'static str {
        match self {
            Field::UserAgent => "user agent (←/→ presets)",
            Field::PageUrl => "page URL",
            Field::ReferringUrl => "referring URL",
            Field::Country => "geo country code",
            Field::Region => "geo region (state) code",
            Field::City => "geo city",
            Field::Latitude => "geo latitude",
            Field::Longitude => "geo longitude",
            Field::Clock => "clock (ISO-8601 or ms)",
            Field::MboxParameters => "mbox parameters k=v,…",
            Field::ProfileParameters => "profile parameters k=v,…",
            Field::PropertyToken => "property token",
        }
    }
}

/// What the form set (empty fields are not overridden).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub user_agent: Option<String>,
    pub page_url: Option<String>,
    pub referring_url: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The built-in emulator's clock (ms since the epoch).
    pub clock: Option<i64>,
    pub mbox_parameters: Vec<(String, String)>,
    pub profile_parameters: Vec<(String, String)>,
    pub property_token: Option<String>,
}

impl Overrides {
    /// Sets what is overridden on `request` (its context, every mbox and the page load).
    pub fn apply(&self, request: &mut DeliveryRequest) {
        let context = request.context.get_or_insert_with(Default::default);
        if let Some(ua) = &self.user_agent {
            context.user_agent = Some(ua.clone());
        }
        if self.page_url.is_some() || self.referring_url.is_some() {
            let address = context.address.get_or_insert_with(Address::default);
            if let Some(url) = &self.page_url {
                address.url = Some(url.clone());
            }
            if let Some(url) = &self.referring_url {
                address.referring_url = Some(url.clone());
            }
        }
        let coordinate = |v: Option<f64>| v.and_then(serde_json::Number::from_f64);
        if self.has_geo() {
            let geo = context.geo.get_or_insert_with(Geo::default);
            geo.country_code = self.country.clone().or(geo.country_code.take());
            geo.state_code = self.region.clone().or(geo.state_code.take());
            geo.city = self.city.clone().or(geo.city.take());
            geo.latitude = coordinate(self.latitude).or(geo.latitude.take());
            geo.longitude = coordinate(self.longitude).or(geo.longitude.take());
        }
        if let Some(token) = &self.property_token {
            request.property = Some(Property {
                token: Some(token.clone()),
                ..Default::default()
            });
        }
        if self.mbox_parameters.is_empty() && self.profile_parameters.is_empty() {
            return;
        }
        let mut details: Vec<&mut RequestDetails> = Vec::new();
        if let Some(p) = request.prefetch.as_mut() {
            details.extend(p.mboxes.iter_mut().flatten().map(|m| &mut m.details));
            details.extend(p.page_load.as_mut());
        }
        if let Some(e) = request.execute.as_mut() {
            details.extend(e.mboxes.iter_mut().flatten().map(|m| &mut m.details));
            details.extend(e.page_load.as_mut());
        }
        for d in details {
            merge(&mut d.parameters, &self.mbox_parameters);
            merge(&mut d.profile_parameters, &self.profile_parameters);
        }
    }

    fn has_geo(&self) -> bool {
        self.country.is_some()
            || self.region.is_some()
            || self.city.is_some()
            || self.latitude.is_some()
            || self.longitude.is_some()
    }

    /// The overrides, short (`UA Firefox · geo US/CA · url /sale`).
    pub fn summary(&self) -> String {
        self.summary_over(None, None)
    }

    /// What is in effect, short, for the header: the overrides, and the user agent and page
    /// URL the session started with (`--user-agent`, `--page-url`, the profile) where no
    /// override replaces them.
    pub fn summary_over(&self, user_agent: Option<&str>, page_url: Option<&str>) -> String {
        let mut parts = Vec::new();
        if let Some(ua) = self.user_agent.as_deref().or(user_agent) {
            match PRESETS.iter().find(|(_, p)| *p == ua) {
                Some((name, _)) => parts.push(format!("UA {name}")),
                None => {
                    let family = crate::decisioning::browser::browser(ua, None).name;
                    parts.push(format!("UA {family} (custom)"));
                }
            }
        }
        if let Some(url) = self.page_url.as_deref().or(page_url) {
            let path = url::Url::parse(url)
                .map(|u| u.path().to_string())
                .unwrap_or_else(|_| url.to_string());
            parts.push(format!("url {path}"));
        }
        if self.referring_url.is_some() {
            parts.push("referrer".into());
        }
        if self.has_geo() {
            let place: Vec<String> = [&self.country, &self.region, &self.city]
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            parts.push(if place.is_empty() {
                "geo lat/lon".to_string()
            } else {
                format!("geo {}", place.join("/"))
            });
        }
        if let Some(ms) = self.clock {
            parts.push(format!("clock {}", crate::clock::iso8601(ms)));
        }
        if !self.mbox_parameters.is_empty() {
            parts.push(format!("{} mbox params", self.mbox_parameters.len()));
        }
        if !self.profile_parameters.is_empty() {
            parts.push(format!("{} profile params", self.profile_parameters.len()));
        }
        if self.property_token.is_some() {
            parts.push("property".into());
        }
        parts.join(" · ")
    }
}

fn merge(into: &mut Option<serde_json::Map<String, Value>>, pairs: &[(String, String)]) {
    if pairs.is_empty() {
        return;
    }
    let map = into.get_or_insert_with(Default::default);
    for (k, v) in pairs {
        map.insert(k.clone(), Value::String(v.clone()));
    }
}

/// The form on screen: one text per field, the field being typed into.
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub texts: Vec<String>,
    pub at: usize,
    /// Why the last Enter did not apply (the field stays as typed).
    pub error: Option<String>,
}

/// What a key did to the form.
#[derive(Debug, Clone, PartialEq)]
pub enum FormKey {
    Editing,
    Cancel,
    Apply(Box<Overrides>),
}

impl Form {
    /// The form showing `current`.
    pub fn of(current: &Overrides) -> Form {
        let pairs = |p: &[(String, String)]| {
            p.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let texts = Field::ALL
            .iter()
            .map(|field| match field {
                Field::UserAgent => current.user_agent.clone().unwrap_or_default(),
                Field::PageUrl => current.page_url.clone().unwrap_or_default(),
                Field::ReferringUrl => current.referring_url.clone().unwrap_or_default(),
                Field::Country => current.country.clone().unwrap_or_default(),
                Field::Region => current.region.clone().unwrap_or_default(),
                Field::City => current.city.clone().unwrap_or_default(),
                Field::Latitude => current.latitude.map(|v| v.to_string()).unwrap_or_default(),
                Field::Longitude => current.longitude.map(|v| v.to_string()).unwrap_or_default(),
                Field::Clock => current.clock.map(crate::clock::iso8601).unwrap_or_default(),
                Field::MboxParameters => pairs(&current.mbox_parameters),
                Field::ProfileParameters => pairs(&current.profile_parameters),
                Field::PropertyToken => current.property_token.clone().unwrap_or_default(),
            })
            .collect();
        Form {
            texts,
            at: 0,
            error: None,
        }
    }

    /// The field being typed into.
    pub fn field(&self) -> Field {
        Field::ALL[self.at.min(Field::ALL.len() - 1)]
    }

    /// Types, moves, cycles presets; Enter checks every field and applies them, Esc cancels.
    pub fn key(&mut self, key: &KeyEvent) -> FormKey {
        let on_user_agent = self.field() == Field::UserAgent;
        let text = &mut self.texts[self.at];
        match key.code {
            KeyCode::Esc => return FormKey::Cancel,
            KeyCode::Enter => match self.parse() {
                Ok(overrides) => return FormKey::Apply(Box::new(overrides)),
                Err((at, why)) => {
                    self.at = at;
                    self.error = Some(why);
                }
            },
            KeyCode::Up | KeyCode::BackTab => self.at = self.at.saturating_sub(1),
            KeyCode::Down | KeyCode::Tab => self.at = (self.at + 1).min(Field::ALL.len() - 1),
            KeyCode::Left | KeyCode::Right if on_user_agent => {
                let now = PRESETS.iter().position(|(_, ua)| ua == text);
                let n = PRESETS.len();
                let next = match (now, key.code) {
                    (None, KeyCode::Left) => n - 1,
                    (None, _) => 0,
                    (Some(i), KeyCode::Left) => (i + n - 1) % n,
                    (Some(i), _) => (i + 1) % n,
                };
                *text = PRESETS[next].1.to_string();
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) => text.push(c),
            _ => {}
        }
        FormKey::Editing
    }

    /// Pasted text goes to the field being typed into.
    pub fn paste(&mut self, text: &str) {
        self.texts[self.at].push_str(text.trim());
    }

    /// The overrides the fields say, or the first field that is wrong and why.
    pub fn parse(&self) -> Result<Overrides, (usize, String)> {
        let text = |f: Field| {
            let t = self.texts[f as usize].trim();
            (!t.is_empty()).then(|| t.to_string())
        };
        let number = |f: Field, range: f64| -> Result<Option<f64>, (usize, String)> {
            match text(f) {
                None => Ok(None),
                Some(t) => match t.parse::<f64>() {
                    Ok(v) if v.abs() <= range => Ok(Some(v)),
                    _ => Err((
                        f as usize,
                        format!("{}: {t:?} is not a number within ±{range}", f.label()),
                    )),
                },
            }
        };
        let pairs = |f: Field| -> Result<Vec<(String, String)>, (usize, String)> {
            let mut out = Vec::new();
            for pair in text(f)
                .unwrap_or_default()
                .split(',')
                .filter(|p| !p.trim().is_empty())
            {
                match pair.split_once('=') {
                    Some((k, v)) if !k.trim().is_empty() => {
                        out.push((k.trim().to_string(), v.trim().to_string()))
                    }
                    _ => return Err((f as usize, format!("{}: {pair:?} is not k=v", f.label()))),
                }
            }
            Ok(out)
        };
        let url = |f: Field| -> Result<Option<String>, (usize, String)> {
            match text(f) {
                Some(t) if url::Url::parse(&t).is_err() => Err((
                    f as usize,
                    format!("{}: {t:?} is not a URL (https://…)", f.label()),
                )),
                other => Ok(other),
            }
        };
        let clock = match text(Field::Clock) {
            None => None,
            Some(t) => {
                Some(crate::clock::parse_instant(&t).map_err(|e| (Field::Clock as usize, e))?)
            }
        };
        Ok(Overrides {
            user_agent: text(Field::UserAgent),
            page_url: url(Field::PageUrl)?,
            referring_url: url(Field::ReferringUrl)?,
            country: text(Field::Country),
            region: text(Field::Region),
            city: text(Field::City),
            latitude: number(Field::Latitude, 90.0)?,
            longitude: number(Field::Longitude, 180.0)?,
            clock,
            mbox_parameters: pairs(Field::MboxParameters)?,
            profile_parameters: pairs(Field::ProfileParameters)?,
            property_token: text(Field::PropertyToken),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn press(form: &mut Form, code: KeyCode) -> FormKey {
        form.key(&KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn presets_cycle_and_fields_apply_to_the_request() {
        let mut form = Form::of(&Overrides::default());
        press(&mut form, KeyCode::Right);
        press(&mut form, KeyCode::Right);
        assert_eq!(form.texts[0], PRESETS[1].1);
        press(&mut form, KeyCode::Down);
        form.paste("https://shop.example/sale");
        for _ in 0..2 {
            press(&mut form, KeyCode::Down);
        }
        form.paste("US");
        let FormKey::Apply(o) = press(&mut form, KeyCode::Enter) else {
            panic!("applies")
        };
        assert_eq!(o.summary(), "UA Firefox · url /sale · geo US");
        let firefox_115 = "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0";
        assert_eq!(
            Overrides::default().summary_over(Some(firefox_115), Some("https://shop.example/sale")),
            "UA Firefox (custom) · url /sale"
        );
        assert_eq!(
            o.summary_over(Some(firefox_115), Some("https://shop.example/cart")),
            "UA Firefox · url /sale · geo US",
            "overrides replace what the session started with"
        );
        let mut request: DeliveryRequest = serde_json::from_value(serde_json::json!({
            "context": {"channel": "web", "geo": {"city": "Basel"}},
            "prefetch": {"mboxes": [{"index": 1, "name": "home-hero"}]}
        }))
        .unwrap();
        o.apply(&mut request);
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["context"]["userAgent"], PRESETS[1].1);
        assert_eq!(
            json["context"]["address"]["url"],
            "https://shop.example/sale"
        );
        assert_eq!(json["context"]["geo"]["countryCode"], "US");
        assert_eq!(json["context"]["geo"]["city"], "Basel");
    }

    #[test]
    fn a_wrong_field_keeps_the_form_open_on_it() {
        let mut form = Form::of(&Overrides::default());
        form.at = Field::Latitude as usize;
        form.paste("north");
        form.at = 0;
        assert_eq!(press(&mut form, KeyCode::Enter), FormKey::Editing);
        assert_eq!(form.field(), Field::Latitude);
        assert!(form.error.as_deref().unwrap().contains("not a number"));
        assert_eq!(form.texts[Field::Latitude as usize], "north");
    }
}
