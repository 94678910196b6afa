//! A4T's `tnta`: comma-joined `activityId:experienceId:trafficType|event` entries.

/// One entry of a `tnta`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TntaEntry<'a> {
    pub activity: &'a str,
    pub experience: &'a str,
    pub traffic_type: &'a str,
    /// The event number (`0` entrance, `1` visit, `2` impression, `32767` conversion, …).
    pub event: &'a str,
}

impl TntaEntry<'_> {
    /// The event in words (its number when unknown).
    pub fn event_name(&self) -> &str {
        match self.event {
            "0" => "entrance",
            "1" => "visit",
            "2" => "impression",
            "32767" => "conversion",
            "-1" | "65535" => "release",
            other => other,
        }
    }
}

/// The entries of a `tnta` (missing parts read as `?`).
pub fn tnta_entries(tnta: &str) -> impl Iterator<Item = TntaEntry<'_>> {
    tnta.split(',').filter(|s| !s.is_empty()).map(|entry| {
        let (ids, event) = entry.split_once('|').unwrap_or((entry, ""));
        let mut parts = ids.split(':');
        TntaEntry {
            activity: parts.next().unwrap_or("?"),
            experience: parts.next().unwrap_or("?"),
            traffic_type: parts.next().unwrap_or("?"),
            event: event.split('|').next().unwrap_or(""),
        }
    })
}
