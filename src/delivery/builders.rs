//! Builders for the requests and notifications mboxscope sends (the TUI and the commands
//! never build wire JSON by hand).

use super::common::*;
use super::items::decided_items;
use super::notification::*;
use super::request::*;
use super::response::*;
use serde_json::Value;

/// Whether a request decides now and counts (`execute`) or decides for later (`prefetch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Prefetch,
    Execute,
}

impl Mode {
    /// The wire name of the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Prefetch => "prefetch",
            Mode::Execute => "execute",
        }
    }
}

/// A mbox to ask for, with its parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MboxSpec {
    pub name: String,
    pub parameters: Vec<(String, String)>,
}

impl std::str::FromStr for MboxSpec {
    type Err = String;

    /// Parses `NAME[:k=v,k=v]`.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let (name, params) = match spec.split_once(':') {
            Some((name, params)) => (name, Some(params)),
            None => (spec, None),
        };
        if name.trim().is_empty() {
            return Err(format!("{spec:?}: a mbox needs a name (NAME[:k=v,...])"));
        }
        let mut parameters = Vec::new();
        for pair in params.unwrap_or("").split(',').filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("{spec:?}: parameter {pair:?} is not k=v"))?;
            parameters.push((k.to_string(), v.to_string()));
        }
        Ok(MboxSpec {
            name: name.trim().to_string(),
            parameters,
        })
    }
}

/// Everything a prefetch or execute request is made of.
#[derive(Debug, Clone, Default)]
pub struct RequestSpec {
    pub mode: Mode,
    pub mboxes: Vec<MboxSpec>,
    pub views: Vec<String>,
    pub all_views: bool,
    pub page_load: bool,
    pub visitor: VisitorId,
    pub property_token: Option<String>,
    pub environment_id: Option<i64>,
    pub trace_token: Option<String>,
    pub qa_mode: Option<QaMode>,
    /// `client_side` (payloads shown) or `server_side`.
    pub analytics_logging: Option<String>,
    pub page_url: Option<String>,
    pub user_agent: Option<String>,
    pub channel: Option<String>,
}

impl RequestSpec {
    /// Builds the DeliveryRequest (mbox indexes from 1, in the order given).
    pub fn build(&self, request_id: String) -> DeliveryRequest {
        let mboxes: Vec<MboxRequest> = self
            .mboxes
            .iter()
            .enumerate()
            .map(|(i, m)| MboxRequest {
                index: Some(i as i64 + 1),
                name: Some(m.name.clone()),
                details: RequestDetails {
                    parameters: (!m.parameters.is_empty()).then(|| {
                        m.parameters
                            .iter()
                            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                            .collect()
                    }),
                    ..Default::default()
                },
            })
            .collect();
        let mboxes = (!mboxes.is_empty()).then_some(mboxes);
        let page_load = self.page_load.then(RequestDetails::default);
        let mut request = DeliveryRequest {
            request_id: Some(request_id),
            id: Some(self.visitor.clone()).filter(|v| v != &VisitorId::default()),
            environment_id: self.environment_id,
            property: self.property_token.clone().map(|token| Property {
                token: Some(token),
                ..Default::default()
            }),
            trace: self.trace_token.clone().map(|token| TraceRequest {
                authorization_token: Some(token),
                ..Default::default()
            }),
            context: Some(Context {
                channel: Some(self.channel.clone().unwrap_or_else(|| "web".into())),
                address: self.page_url.clone().map(|url| Address {
                    url: Some(url),
                    ..Default::default()
                }),
                user_agent: self.user_agent.clone(),
                beacon: Some(false),
                ..Default::default()
            }),
            experience_cloud: self
                .analytics_logging
                .clone()
                .map(|logging| ExperienceCloud {
                    analytics: Some(AnalyticsRequest {
                        logging: Some(logging),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            qa_mode: self.qa_mode.clone(),
            ..Default::default()
        };
        match self.mode {
            Mode::Execute => {
                request.execute = Some(ExecuteRequest {
                    mboxes,
                    page_load,
                    ..Default::default()
                });
            }
            Mode::Prefetch => {
                let mut views: Vec<ViewRequest> = self
                    .views
                    .iter()
                    .map(|name| ViewRequest {
                        name: Some(name.clone()),
                        ..Default::default()
                    })
                    .collect();
                if self.all_views {
                    views = vec![ViewRequest::default()];
                }
                request.prefetch = Some(PrefetchRequest {
                    mboxes,
                    page_load,
                    views: (!views.is_empty()).then_some(views),
                    ..Default::default()
                });
            }
        }
        request
    }
}

/// What a notification is about: a mbox, a view, the page load, or the page (click metrics only).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Location {
    Mbox {
        name: String,
        state: Option<String>,
    },
    View {
        name: String,
        key: Option<String>,
        state: Option<String>,
    },
    PageLoad {
        state: Option<String>,
    },
    Page,
}

impl Location {
    /// A short label: `mbox home-hero`, `view checkout`, `pageLoad`, `page`.
    pub fn label(&self) -> String {
        match self {
            Location::Mbox { name, .. } => format!("mbox {name}"),
            Location::View { name, .. } => format!("view {name}"),
            Location::PageLoad { .. } => "pageLoad".into(),
            Location::Page => "page".into(),
        }
    }

    /// The location as a notification of `kind` names it: a click carries the location's name
    /// but no state (and a page-load click no page load), a display carries both.
    pub fn for_kind(&self, kind: NotificationType) -> Location {
        if kind == NotificationType::Display {
            return self.clone();
        }
        match self {
            Location::Mbox { name, .. } => Location::Mbox {
                name: name.clone(),
                state: None,
            },
            Location::View { name, key, .. } => Location::View {
                name: name.clone(),
                key: key.clone(),
                state: None,
            },
            Location::PageLoad { .. } => Location::PageLoad { state: None },
            Location::Page => Location::Page,
        }
    }

    /// The `state` a display notification must carry, if any.
    pub fn state(&self) -> Option<&str> {
        match self {
            Location::Mbox { state, .. }
            | Location::View { state, .. }
            | Location::PageLoad { state } => state.as_deref(),
            Location::Page => None,
        }
    }
}

/// The kind of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NotificationType {
    Display,
    Click,
}

impl NotificationType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationType::Display => "display",
            NotificationType::Click => "click",
        }
    }
}

impl std::str::FromStr for NotificationType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "display" => Ok(NotificationType::Display),
            "click" => Ok(NotificationType::Click),
            other => Err(format!("{other:?}: the type is display or click")),
        }
    }
}

/// Builds one notification with fixed ids (they must not change across retries).
pub fn build_notification(
    id: &str,
    impression_id: Option<&str>,
    kind: NotificationType,
    timestamp_ms: i64,
    location: &Location,
    tokens: &[String],
) -> Notification {
    let mut n = Notification {
        id: Some(id.to_string()),
        impression_id: impression_id.map(str::to_string),
        notification_type: Some(kind.as_str().to_string()),
        timestamp: Some(timestamp_ms),
        tokens: Some(tokens.to_vec()),
        ..Default::default()
    };
    match location.for_kind(kind) {
        Location::Mbox { name, state } => {
            n.mbox = Some(NotificationMbox {
                name: Some(name),
                state,
                ..Default::default()
            })
        }
        Location::View { name, key, state } => {
            n.view = Some(NotificationView {
                name: Some(name),
                key,
                state,
                ..Default::default()
            })
        }
        Location::PageLoad { state } if kind == NotificationType::Display => {
            n.page_load = Some(NotificationPageLoad {
                state,
                ..Default::default()
            })
        }
        Location::PageLoad { .. } | Location::Page => {}
    }
    n
}

/// One notifiable thing of a prefetch response: where, which tokens, of which kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Notifiable {
    pub kind: NotificationType,
    pub location: Location,
    pub tokens: Vec<String>,
}

/// Every display notification an SDK user should send for a prefetch response: one per
/// mbox, view and pageLoad with the eventTokens of its options.
pub fn displays_for(response: &DeliveryResponse) -> Vec<Notifiable> {
    decided_items(response)
        .into_iter()
        .filter(|item| item.mode() == Mode::Prefetch)
        .filter_map(|item| {
            let tokens: Vec<String> = item
                .parts(response)
                .options
                .into_iter()
                .flatten()
                .filter_map(|o| o.event_token.clone())
                .collect();
            (!tokens.is_empty()).then(|| Notifiable {
                kind: NotificationType::Display,
                location: item.location(response),
                tokens,
            })
        })
        .collect()
}

/// Every click metric of a prefetch response, one notifiable each.
pub fn clicks_for(response: &DeliveryResponse) -> Vec<Notifiable> {
    let mut out = Vec::new();
    for item in decided_items(response)
        .into_iter()
        .filter(|item| item.mode() == Mode::Prefetch)
    {
        let location = item.location(response).for_kind(NotificationType::Click);
        for m in item.parts(response).metrics.into_iter().flatten() {
            if let (Some("click"), Some(token)) = (m.metric_type.as_deref(), &m.event_token) {
                out.push(Notifiable {
                    kind: NotificationType::Click,
                    location: location.clone(),
                    tokens: vec![token.clone()],
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_spec_parses_parameters() {
        let m: MboxSpec = "product-recs:category=shoes,size=42".parse().unwrap();
        assert_eq!(m.name, "product-recs");
        assert_eq!(
            m.parameters,
            vec![
                ("category".into(), "shoes".into()),
                ("size".into(), "42".into())
            ]
        );
        assert!("product-recs:oops".parse::<MboxSpec>().is_err());
        assert!(":a=b".parse::<MboxSpec>().is_err());
    }

    #[test]
    fn prefetch_request_has_indexes_views_and_beacon_false() {
        let spec = RequestSpec {
            mboxes: vec!["a".parse().unwrap(), "b:x=1".parse().unwrap()],
            views: vec!["home".into()],
            page_load: true,
            analytics_logging: Some("client_side".into()),
            ..Default::default()
        };
        let json = serde_json::to_value(spec.build("r1".into())).unwrap();
        assert_eq!(json["prefetch"]["mboxes"][1]["index"], 2);
        assert_eq!(json["prefetch"]["mboxes"][1]["parameters"]["x"], "1");
        assert_eq!(json["prefetch"]["views"][0]["name"], "home");
        assert_eq!(json["prefetch"]["pageLoad"], serde_json::json!({}));
        assert_eq!(json["context"]["beacon"], false);
        assert_eq!(json["context"]["channel"], "web");
        assert_eq!(
            json["experienceCloud"]["analytics"]["logging"],
            "client_side"
        );
        assert!(json.get("execute").is_none());
    }

    #[test]
    fn click_notifications_carry_no_state() {
        let loc = Location::Mbox {
            name: "m".into(),
            state: Some("S".into()),
        };
        let d = build_notification(
            "i",
            Some("imp"),
            NotificationType::Display,
            5,
            &loc,
            &["t".into()],
        );
        let c = build_notification(
            "i",
            Some("imp"),
            NotificationType::Click,
            5,
            &loc,
            &["t".into()],
        );
        assert_eq!(d.mbox.unwrap().state.as_deref(), Some("S"));
        assert_eq!(c.mbox.unwrap().state, None);
    }
}
