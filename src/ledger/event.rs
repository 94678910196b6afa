//! The events a journal records.

use crate::delivery::{Context, Location, Mode, NotificationType, VisitorId};
use serde::{Deserialize, Serialize};

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum Event {
    /// A notification was queued; its ids are fixed from here on.
    #[serde(rename_all = "camelCase")]
    Queued {
        #[serde(flatten)]
        notification: Box<QueuedNotification>,
        /// The at_property token the page view was requested with (sent again, as SDKs do).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        property_token: Option<String>,
    },
    /// A request carrying the notification is about to go out.
    #[serde(rename_all = "camelCase")]
    Sent { id: String, attempt: u32, at: i64 },
    /// Target echoed the notification's id.
    #[serde(rename_all = "camelCase")]
    Acked { id: String, at: i64 },
    /// The request failed; `retryable` failures stay pending.
    #[serde(rename_all = "camelCase")]
    Failed {
        id: String,
        reason: String,
        retryable: bool,
        at: i64,
    },
    /// A prefetch or execute answer, kept for the linter and the expected counts.
    Response(Box<ResponseRecord>),
    /// Exchanges `mboxscope proxy` forwarded between `since` and `at` and did not journal
    /// (its writer fell behind the traffic, or the journal could not be written for too long).
    #[serde(rename_all = "camelCase")]
    LeftOut { count: u64, since: i64, at: i64 },
}

/// A queued notification as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedNotification {
    pub id: String,
    /// None sends the notification without one (as some integrations do): every accepted
    /// copy then counts.
    pub impression_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub timestamp: i64,
    pub visitor: VisitorId,
    pub session_id: String,
    pub location: Location,
    pub tokens: Vec<String>,
    /// When it was queued.
    pub at: i64,
    /// The request context of the page view it is about (user agent, page URL, geo…), sent
    /// with the notification as an SDK would.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// The requestId of the response its tokens came from (the page view).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// An application sent it through `mboxscope proxy`: observed, never sent by mboxscope.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub observed: bool,
}

/// A recorded prefetch or execute answer: one page view of one visitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseRecord {
    pub mode: Mode,
    pub visitor: VisitorId,
    pub session_id: String,
    pub at: i64,
    pub items: Vec<ResponseItem>,
    /// The request's `context.userAgent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The request's `context.beacon`.
    #[serde(default)]
    pub beacon: bool,
    /// The requestId (names the page view).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// The request's impressionId (an execute retried with it counts once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impression_id: Option<String>,
    /// The request was in Activity QA (its session's traffic is counted apart).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub qa: bool,
    /// An application asked for it through `mboxscope proxy`: a page render of its own, never
    /// replaced by the visitor's next one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub observed: bool,
}

/// One option (or click metric) of a recorded response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseItem {
    pub location: Location,
    /// The option's eventToken (display) or the metric's (click); none for execute.
    pub token: Option<String>,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub activity: Option<String>,
    pub activity_name: Option<String>,
    pub experience: Option<String>,
    pub experience_name: Option<String>,
}

/// Journal lines written straight into the append buffer, byte for byte what
/// `serde_json::to_writer` writes for them (field names are literals; strings without escapes
/// are copied as they are).
mod compact {
    use super::{Event, QueuedNotification, ResponseItem, ResponseRecord};
    use crate::delivery::wire::WriteJson;
    use crate::delivery::{Location, NotificationType};

    /// Writes `"name":` (a literal the caller gives with its quotes and colon).
    fn key(out: &mut Vec<u8>, name: &str) {
        out.extend_from_slice(name.as_bytes());
    }

    /// A string, or `null`.
    fn text(out: &mut Vec<u8>, value: Option<&str>) -> serde_json::Result<()> {
        match value {
            Some(s) => s.write_json(out),
            None => {
                out.extend_from_slice(b"null");
                Ok(())
            }
        }
    }

    fn kind(out: &mut Vec<u8>, kind: NotificationType) {
        out.push(b'"');
        out.extend_from_slice(kind.as_str().as_bytes());
        out.push(b'"');
    }

    impl WriteJson for Location {
        fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
            match self {
                Location::Mbox { name, state } => {
                    key(out, r#"{"kind":"mbox","name":"#);
                    name.write_json(out)?;
                    key(out, r#","state":"#);
                    text(out, state.as_deref())?;
                }
                Location::View {
                    name,
                    key: view,
                    state,
                } => {
                    key(out, r#"{"kind":"view","name":"#);
                    name.write_json(out)?;
                    key(out, r#","key":"#);
                    text(out, view.as_deref())?;
                    key(out, r#","state":"#);
                    text(out, state.as_deref())?;
                }
                Location::PageLoad { state } => {
                    key(out, r#"{"kind":"pageLoad","state":"#);
                    text(out, state.as_deref())?;
                }
                Location::Page => key(out, r#"{"kind":"page""#),
            }
            out.push(b'}');
            Ok(())
        }
    }

    impl WriteJson for ResponseItem {
        fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
            key(out, r#"{"location":"#);
            self.location.write_json(out)?;
            key(out, r#","token":"#);
            text(out, self.token.as_deref())?;
            key(out, r#","type":"#);
            kind(out, self.kind);
            key(out, r#","activity":"#);
            text(out, self.activity.as_deref())?;
            key(out, r#","activityName":"#);
            text(out, self.activity_name.as_deref())?;
            key(out, r#","experience":"#);
            text(out, self.experience.as_deref())?;
            key(out, r#","experienceName":"#);
            text(out, self.experience_name.as_deref())?;
            out.push(b'}');
            Ok(())
        }
    }

    impl ResponseRecord {
        /// Its fields after the event's tag: `,"mode":…` to the last.
        fn write_fields(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
            key(out, r#","mode":""#);
            out.extend_from_slice(self.mode.as_str().as_bytes());
            key(out, r#"","visitor":"#);
            self.visitor.write_json(out)?;
            key(out, r#","sessionId":"#);
            self.session_id.write_json(out)?;
            key(out, r#","at":"#);
            self.at.write_json(out)?;
            key(out, r#","items":"#);
            self.items.write_json(out)?;
            if let Some(agent) = &self.user_agent {
                key(out, r#","userAgent":"#);
                agent.write_json(out)?;
            }
            key(out, r#","beacon":"#);
            self.beacon.write_json(out)?;
            if let Some(response) = &self.response {
                key(out, r#","response":"#);
                response.write_json(out)?;
            }
            if let Some(impression) = &self.impression_id {
                key(out, r#","impressionId":"#);
                impression.write_json(out)?;
            }
            if self.qa {
                key(out, r#","qa":true"#);
            }
            if self.observed {
                key(out, r#","observed":true"#);
            }
            Ok(())
        }
    }

    impl QueuedNotification {
        /// Its fields after the event's tag: `,"id":…` to the last.
        fn write_fields(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
            key(out, r#","id":"#);
            self.id.write_json(out)?;
            key(out, r#","impressionId":"#);
            text(out, self.impression_id.as_deref())?;
            key(out, r#","type":"#);
            kind(out, self.kind);
            key(out, r#","timestamp":"#);
            self.timestamp.write_json(out)?;
            key(out, r#","visitor":"#);
            self.visitor.write_json(out)?;
            key(out, r#","sessionId":"#);
            self.session_id.write_json(out)?;
            key(out, r#","location":"#);
            self.location.write_json(out)?;
            key(out, r#","tokens":"#);
            self.tokens.write_json(out)?;
            key(out, r#","at":"#);
            self.at.write_json(out)?;
            if let Some(context) = &self.context {
                key(out, r#","context":"#);
                context.write_json(out)?;
            }
            if let Some(response) = &self.response {
                key(out, r#","response":"#);
                response.write_json(out)?;
            }
            if self.observed {
                key(out, r#","observed":true"#);
            }
            Ok(())
        }
    }

    impl WriteJson for Event {
        fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
            match self {
                Event::Queued {
                    notification,
                    property_token,
                } => {
                    key(out, r#"{"event":"queued""#);
                    notification.write_fields(out)?;
                    if let Some(token) = property_token {
                        key(out, r#","propertyToken":"#);
                        token.write_json(out)?;
                    }
                }
                Event::Sent { id, attempt, at } => {
                    key(out, r#"{"event":"sent","id":"#);
                    id.write_json(out)?;
                    key(out, r#","attempt":"#);
                    out.extend_from_slice(itoa::Buffer::new().format(*attempt).as_bytes());
                    key(out, r#","at":"#);
                    at.write_json(out)?;
                }
                Event::Acked { id, at } => {
                    key(out, r#"{"event":"acked","id":"#);
                    id.write_json(out)?;
                    key(out, r#","at":"#);
                    at.write_json(out)?;
                }
                Event::Failed {
                    id,
                    reason,
                    retryable,
                    at,
                } => {
                    key(out, r#"{"event":"failed","id":"#);
                    id.write_json(out)?;
                    key(out, r#","reason":"#);
                    reason.write_json(out)?;
                    key(out, r#","retryable":"#);
                    retryable.write_json(out)?;
                    key(out, r#","at":"#);
                    at.write_json(out)?;
                }
                Event::Response(record) => {
                    key(out, r#"{"event":"response""#);
                    record.write_fields(out)?;
                }
                Event::LeftOut { count, since, at } => {
                    key(out, r#"{"event":"leftOut","count":"#);
                    out.extend_from_slice(itoa::Buffer::new().format(*count).as_bytes());
                    key(out, r#","since":"#);
                    since.write_json(out)?;
                    key(out, r#","at":"#);
                    at.write_json(out)?;
                }
            }
            out.push(b'}');
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::wire::WriteJson;
    use crate::delivery::{DeliveryRequest, DeliveryResponse};
    use proptest::prelude::*;

    /// Asserts that the journal writer writes `event` as serde does, and that it reads back.
    fn written_as_serde_writes(event: &Event) {
        let mut ours = Vec::new();
        event.write_json(&mut ours).expect("written");
        let theirs = serde_json::to_vec(event).expect("written");
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
        let read: Event = serde_json::from_slice(&ours).expect("read back");
        assert_eq!(&read, event);
    }

    /// Every JSON object of the fixtures read as a request and as a response.
    fn fixture_objects() -> Vec<serde_json::Value> {
        fn objects(value: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
            match value {
                serde_json::Value::Object(map) => {
                    out.push(value.clone());
                    map.values().for_each(|v| objects(v, out));
                }
                serde_json::Value::Array(list) => list.iter().for_each(|v| objects(v, out)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        let mut stack = vec![std::path::PathBuf::from("../shared/fixtures")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("fixtures") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let text = std::fs::read(&path).expect("read");
                    if let Ok(value) = serde_json::from_slice(&text) {
                        objects(&value, &mut found);
                    }
                }
            }
        }
        found
    }

    #[test]
    fn every_line_type_made_of_the_fixtures_is_written_as_serde_writes_it() {
        let (mut responses, mut queued) = (0, 0);
        for (n, object) in fixture_objects().into_iter().enumerate() {
            let at = n as i64 * 7919 - 1;
            if let Ok(response) = serde_json::from_value::<DeliveryResponse>(object.clone()) {
                let items = crate::ledger::record::response_items(&response);
                responses += usize::from(!items.is_empty());
                let record = ResponseRecord {
                    mode: if n % 2 == 0 {
                        Mode::Prefetch
                    } else {
                        Mode::Execute
                    },
                    visitor: response.id.clone().unwrap_or_default(),
                    session_id: format!("s{n}"),
                    at,
                    items,
                    user_agent: (n % 3 > 0).then(|| "Mozilla/5.0 \"é\"\t".into()),
                    beacon: n % 5 == 0,
                    response: response.request_id.clone(),
                    impression_id: (n % 4 == 0).then(|| format!("i{n}")),
                    qa: n % 6 == 0,
                    observed: n % 7 == 0,
                };
                written_as_serde_writes(&Event::Response(Box::new(record)));
            }
            if let Ok(request) = serde_json::from_value::<DeliveryRequest>(object) {
                for note in request.notifications.iter().flatten() {
                    queued += 1;
                    let event = Event::Queued {
                        notification: Box::new(QueuedNotification {
                            id: note.id.clone().unwrap_or_default(),
                            impression_id: note.impression_id.clone(),
                            kind: NotificationType::Click,
                            timestamp: note.timestamp.unwrap_or(at),
                            visitor: request.id.clone().unwrap_or_default(),
                            session_id: "s".into(),
                            location: Location::View {
                                name: "v\\".into(),
                                key: None,
                                state: note.mbox.as_ref().and_then(|m| m.state.clone()),
                            },
                            tokens: note.tokens.clone().unwrap_or_default(),
                            at,
                            context: request.context.clone(),
                            response: request.request_id.clone(),
                            observed: queued % 2 == 0,
                        }),
                        property_token: (queued % 3 == 0).then(|| "p\u{1}".into()),
                    };
                    written_as_serde_writes(&event);
                }
            }
        }
        assert!(responses > 10 && queued > 5, "{responses} {queued}");
    }

    fn text() -> BoxedStrategy<String> {
        prop_oneof![any::<String>(), "[a-z\"\\\\\u{0}-\u{1f}é😀]{0,12}"].boxed()
    }

    fn location() -> BoxedStrategy<Location> {
        let state = proptest::option::of(text());
        prop_oneof![
            (text(), state.clone()).prop_map(|(name, state)| Location::Mbox { name, state }),
            (text(), proptest::option::of(text()), state.clone())
                .prop_map(|(name, key, state)| Location::View { name, key, state }),
            state.prop_map(|state| Location::PageLoad { state }),
            Just(Location::Page),
        ]
        .boxed()
    }

    fn item() -> impl Strategy<Value = ResponseItem> {
        let some = || proptest::option::of(text());
        (
            location(),
            some(),
            any::<bool>(),
            some(),
            some(),
            some(),
            some(),
        )
            .prop_map(
                |(location, token, click, activity, activity_name, experience, experience_name)| {
                    ResponseItem {
                        location,
                        token,
                        kind: if click {
                            NotificationType::Click
                        } else {
                            NotificationType::Display
                        },
                        activity,
                        activity_name,
                        experience,
                        experience_name,
                    }
                },
            )
    }

    fn event() -> impl Strategy<Value = Event> {
        let some = || proptest::option::of(text());
        let visitor = some()
            .prop_map(|tnt| VisitorId {
                tnt_id: tnt,
                ..VisitorId::default()
            })
            .boxed();
        let response = (
            visitor.clone(),
            text(),
            any::<i64>(),
            proptest::collection::vec(item(), 0..4),
            (some(), any::<bool>(), some(), some(), any::<bool>()),
        )
            .prop_map(
                |(
                    visitor,
                    session_id,
                    at,
                    items,
                    (user_agent, beacon, response, impression_id, qa),
                )| {
                    Event::Response(Box::new(ResponseRecord {
                        mode: if beacon {
                            Mode::Execute
                        } else {
                            Mode::Prefetch
                        },
                        visitor,
                        session_id,
                        at,
                        items,
                        user_agent,
                        beacon,
                        response,
                        impression_id,
                        qa,
                        observed: qa && beacon,
                    }))
                },
            );
        let queued = (
            (text(), some(), any::<bool>(), any::<i64>(), visitor),
            (
                text(),
                location(),
                proptest::collection::vec(text(), 0..3),
                any::<i64>(),
            ),
            (some(), any::<bool>(), some(), some()),
        )
            .prop_map(
                |(
                    (id, impression_id, click, timestamp, visitor),
                    (session_id, location, tokens, at),
                    (response, observed, property_token, agent),
                )| Event::Queued {
                    notification: Box::new(QueuedNotification {
                        id,
                        impression_id,
                        kind: if click {
                            NotificationType::Click
                        } else {
                            NotificationType::Display
                        },
                        timestamp,
                        visitor,
                        session_id,
                        location,
                        tokens,
                        at,
                        context: agent.map(|a| crate::delivery::Context {
                            user_agent: Some(a),
                            ..Default::default()
                        }),
                        response,
                        observed,
                    }),
                    property_token,
                },
            );
        prop_oneof![
            response,
            queued,
            (text(), any::<u32>(), any::<i64>()).prop_map(|(id, attempt, at)| Event::Sent {
                id,
                attempt,
                at
            }),
            (text(), any::<i64>()).prop_map(|(id, at)| Event::Acked { id, at }),
            (text(), text(), any::<bool>(), any::<i64>()).prop_map(
                |(id, reason, retryable, at)| Event::Failed {
                    id,
                    reason,
                    retryable,
                    at
                }
            ),
            (any::<u64>(), any::<i64>(), any::<i64>())
                .prop_map(|(count, since, at)| Event::LeftOut { count, since, at }),
        ]
    }

    proptest! {
        #[test]
        fn any_event_is_written_as_serde_writes_it(event in event()) {
            written_as_serde_writes(&event);
        }
    }
}
