//! The emulator's visitors: who a request's ids name, what profile they carry, which
//! activities they entered. Pure (no I/O, no clock: times are passed in) and bounded: at
//! most `cap` records, the least recently resolved evicted first.
//!
//! Target pins the ids it sees together (tntId, marketingCloudVisitorId, thirdPartyId,
//! customer ids) to one visitor: a later request carrying any one of them is the same visitor,
//! and two known visitors named together in one request become one.

use crate::delivery::{DeliveryRequest, RequestDetails, VisitorId};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, VecDeque};

/// How many visitors the emulator keeps unless told otherwise.
pub const DEFAULT_CAP: usize = 100_000;
/// How many ids one visitor keeps (its own tntId included); the oldest alias goes first.
/// An emulator limit, not Target's: it keeps a client that sends a fresh id with every
/// request from growing one record without end.
pub const MAX_IDS_PER_VISITOR: usize = 64;
/// How many profile attributes one visitor keeps; new names past it are ignored (an emulator
/// limit that bounds memory, not Target's).
pub const MAX_PROFILE_ATTRIBUTES: usize = 1_000;

/// The prefix of mbox parameters that are profile attributes, and of profile response tokens.
const PROFILE_PREFIX: &str = "profile.";

/// One visitor as the emulator knows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VisitorRecord {
    /// The tntId minted for the visitor (uuid, 32 hex, no location hint) or the first one seen.
    pub tnt_id: String,
    /// The id its experiences are allocated by, fixed when it was first seen (the first of
    /// MCID, tntId, thirdPartyId, as the SDKs allocate): ids learnt later do not move it.
    pub allocation_id: String,
    /// The first marketingCloudVisitorId seen with this visitor.
    pub marketing_cloud_visitor_id: Option<String>,
    /// The first thirdPartyId seen with this visitor.
    pub third_party_id: Option<String>,
    /// Customer ids seen with this visitor: (integrationCode, id).
    pub customer_ids: Vec<(String, String)>,
    /// Profile parameters kept (names without the `profile.` prefix); later values win.
    pub profile: BTreeMap<String, String>,
    /// When the visitor was first and last resolved (ms since the epoch).
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    /// A4T bookkeeping: activities entered and, per activity, the visit number last reported.
    pub activities: BTreeMap<String, u32>,
}

/// What A4T events a hit on an activity is, as Target reports them in `tnta` (0 entrance,
/// 1 visit; every hit is also an impression).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct A4tEvents {
    /// The visitor meets the activity for the first time.
    pub entrance: bool,
    /// The visitor meets the activity for the first time in this visit.
    pub visit: bool,
}

/// One id of a visitor, by kind (the same string may be a tntId of one visitor and a
/// thirdPartyId of another).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum IdKey {
    Tnt(String),
    MarketingCloud(String),
    ThirdParty(String),
    Customer {
        id: String,
        integration_code: String,
    },
}

/// A record with its place in the recency order and every index entry that points at it.
#[derive(Debug)]
struct Slot {
    record: VisitorRecord,
    generation: u64,
    /// Index keys of this record, oldest first; the first is always its own tntId.
    keys: VecDeque<IdKey>,
}

/// The visitors the emulator knows, indexed by every id they were seen with.
#[derive(Debug)]
pub struct Visitors {
    cap: usize,
    /// Records by their own tntId (looked up on every request: a fast hasher).
    slots: foldhash::HashMap<String, Slot>,
    /// Every known id → the own tntId of its record.
    index: BTreeMap<IdKey, String>,
    /// Recency: generation of the last resolve → own tntId; the first entry is evicted first.
    recency: BTreeMap<u64, String>,
    next_generation: u64,
}

impl Visitors {
    /// An empty set keeping at most `cap` visitors (at least one).
    pub fn new(cap: usize) -> Visitors {
        Visitors {
            cap: cap.max(1),
            slots: foldhash::HashMap::default(),
            index: BTreeMap::new(),
            recency: BTreeMap::new(),
            next_generation: 0,
        }
    }

    /// The visitor a request's ids name (any of tntId, MCID, thirdPartyId, customer ids), created
    /// when none is known (a tntId minted when the request has none), ids seen together merged into
    /// one record (a later request with only one of them finds the same record), touched for LRU.
    /// Returns the record's tntId (what the response's `id.tntId` must be) and whether it was minted.
    ///
    /// When the ids belong to different records, the record of the request's tntId is kept (else
    /// the one of its MCID, thirdPartyId, customer ids, in that order) and the others are folded
    /// into it. A tntId's location hint (`abc.28_0`) is ignored: it is visitor `abc`. A request
    /// with no id at all is a new visitor every time.
    pub fn resolve(&mut self, id: &VisitorId, now_ms: i64) -> (String, bool) {
        // Most requests name a known visitor by its own tntId alone: nothing to index or fold.
        if let Some(own) = sole_tnt_id(id).filter(|tnt| self.slots.contains_key(*tnt)) {
            let own = own.to_string();
            self.touch(&own, now_ms);
            return (own, false);
        }
        let keys = request_keys(id);
        let mut owners: Vec<String> = Vec::new();
        for key in &keys {
            if let Some(owner) = self.index.get(key) {
                if !owners.contains(owner) {
                    owners.push(owner.clone());
                }
            }
        }
        let (tnt, minted) = match owners.split_first() {
            Some((kept, others)) => {
                for other in others {
                    self.fold(other, kept);
                }
                (kept.clone(), false)
            }
            None => {
                let (tnt, minted) = match keys.first() {
                    Some(IdKey::Tnt(tnt)) => (tnt.clone(), false),
                    _ => (crate::ids::uuid_simple(), true),
                };
                self.insert_new(&tnt, now_ms);
                if let Some(slot) = self.slots.get_mut(&tnt) {
                    if let Some(mcid) = id
                        .marketing_cloud_visitor_id
                        .as_deref()
                        .filter(|m| !m.is_empty())
                    {
                        slot.record.allocation_id = mcid.to_string();
                    }
                }
                (tnt, minted)
            }
        };
        for key in keys {
            if !self.index.contains_key(&key) {
                self.attach(&tnt, key);
            }
        }
        self.touch(&tnt, now_ms);
        self.evict_over_cap();
        (tnt, minted)
    }

    /// Keeps profile parameters (request `profileParameters` of mboxes/views/pageLoad/notifications,
    /// and mbox parameters named `profile.X`, stored as X): later values win. An unknown tntId
    /// keeps nothing.
    pub fn remember_profile(
        &mut self,
        tnt_id: &str,
        params: impl IntoIterator<Item = (String, String)>,
    ) {
        let Some(slot) = self.slot_mut(tnt_id) else {
            return;
        };
        let profile = &mut slot.record.profile;
        for (name, value) in params {
            let name = name
                .strip_prefix(PROFILE_PREFIX)
                .map(str::to_string)
                .unwrap_or(name);
            if profile.len() < MAX_PROFILE_ATTRIBUTES || profile.contains_key(&name) {
                profile.insert(name, value);
            }
        }
    }

    /// The profile as response tokens: `profile.X` → value.
    pub fn profile_tokens(&self, tnt_id: &str) -> Map<String, Value> {
        self.slot(tnt_id)
            .map(|slot| {
                slot.record
                    .profile
                    .iter()
                    .map(|(name, value)| (format!("{PROFILE_PREFIX}{name}"), value.clone().into()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Records an impression of `activity` in visit number `visit` (the lead passes it) and says
    /// which A4T events it is: `entrance` the first time the visitor meets the activity, `visit` the
    /// first time in a given visit. A visitor the emulator does not know (evicted) meets
    /// everything for the first time, and nothing is recorded.
    pub fn a4t_hit(&mut self, tnt_id: &str, activity: &str, visit: u32) -> A4tEvents {
        let Some(slot) = self.slot_mut(tnt_id) else {
            return A4tEvents {
                entrance: true,
                visit: true,
            };
        };
        let last_visit = slot.record.activities.insert(activity.to_string(), visit);
        A4tEvents {
            entrance: last_visit.is_none(),
            visit: last_visit != Some(visit),
        }
    }

    /// A record by any of its ids (for `GET /visitors/{id}`): a tntId (with or without location
    /// hint), an MCID, a thirdPartyId or a customer id (of any integration code).
    pub fn get(&self, any_id: &str) -> Option<&VisitorRecord> {
        if let Some(slot) = self.slot(any_id) {
            return Some(&slot.record);
        }
        let direct = [
            IdKey::MarketingCloud(any_id.to_string()),
            IdKey::ThirdParty(any_id.to_string()),
        ];
        let customer = || {
            let first = IdKey::Customer {
                id: any_id.to_string(),
                integration_code: String::new(),
            };
            self.index
                .range(first..)
                .next()
                .filter(|(key, _)| matches!(key, IdKey::Customer { id, .. } if id == any_id))
                .map(|(_, owner)| owner)
        };
        let owner = direct
            .iter()
            .find_map(|key| self.index.get(key))
            .or_else(customer)?;
        self.slots.get(owner).map(|slot| &slot.record)
    }

    /// How many visitors are kept.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no visitor is kept.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The slot a tntId (own or folded-in, with or without location hint) belongs to. A
    /// record's own tntId (what [`resolve`](Self::resolve) returns) finds it without the index.
    fn slot(&self, tnt_id: &str) -> Option<&Slot> {
        if let Some(own) = self.slots.get(tnt_id) {
            return Some(own);
        }
        let key = IdKey::Tnt(strip_location_hint(tnt_id).to_string());
        self.slots.get(self.index.get(&key)?)
    }

    fn slot_mut(&mut self, tnt_id: &str) -> Option<&mut Slot> {
        if self.slots.contains_key(tnt_id) {
            return self.slots.get_mut(tnt_id);
        }
        let key = IdKey::Tnt(strip_location_hint(tnt_id).to_string());
        self.slots.get_mut(self.index.get(&key)?)
    }

    /// Creates the record of a new visitor whose own tntId is `tnt`.
    fn insert_new(&mut self, tnt: &str, now_ms: i64) {
        let key = IdKey::Tnt(tnt.to_string());
        self.index.insert(key.clone(), tnt.to_string());
        let record = VisitorRecord {
            tnt_id: tnt.to_string(),
            allocation_id: tnt.to_string(),
            marketing_cloud_visitor_id: None,
            third_party_id: None,
            customer_ids: Vec::new(),
            profile: BTreeMap::new(),
            first_seen_ms: now_ms,
            last_seen_ms: now_ms,
            activities: BTreeMap::new(),
        };
        let generation = self.bump_generation();
        self.recency.insert(generation, tnt.to_string());
        self.slots.insert(
            tnt.to_string(),
            Slot {
                record,
                generation,
                keys: VecDeque::from([key]),
            },
        );
    }

    /// Points `key` at the record `tnt` and notes it there, dropping the record's oldest alias
    /// past `MAX_IDS_PER_VISITOR`.
    fn attach(&mut self, tnt: &str, key: IdKey) {
        let Some(slot) = self.slots.get_mut(tnt) else {
            return;
        };
        note_id(&mut slot.record, &key);
        self.index.insert(key.clone(), tnt.to_string());
        slot.keys.push_back(key);
        if slot.keys.len() > MAX_IDS_PER_VISITOR {
            if let Some(dropped) = slot.keys.remove(1) {
                forget_id(&mut slot.record, &dropped);
                self.index.remove(&dropped);
            }
        }
    }

    /// Folds record `other` into record `kept`: its ids now name `kept`; `kept`'s own values win
    /// where both have one; activities keep the later visit number.
    fn fold(&mut self, other: &str, kept: &str) {
        let Some(folded) = self.slots.remove(other) else {
            return;
        };
        self.recency.remove(&folded.generation);
        if let Some(slot) = self.slots.get_mut(kept) {
            let record = &mut slot.record;
            for (name, value) in folded.record.profile {
                if record.profile.len() < MAX_PROFILE_ATTRIBUTES {
                    record.profile.entry(name).or_insert(value);
                }
            }
            for (activity, visit) in folded.record.activities {
                let last = record.activities.entry(activity).or_insert(visit);
                *last = (*last).max(visit);
            }
            record.first_seen_ms = record.first_seen_ms.min(folded.record.first_seen_ms);
            record.last_seen_ms = record.last_seen_ms.max(folded.record.last_seen_ms);
        }
        for key in folded.keys {
            self.attach(kept, key);
        }
    }

    /// Marks `tnt` as the most recently used record.
    fn touch(&mut self, tnt: &str, now_ms: i64) {
        let generation = self.bump_generation();
        if let Some(slot) = self.slots.get_mut(tnt) {
            self.recency.remove(&slot.generation);
            self.recency.insert(generation, tnt.to_string());
            slot.generation = generation;
            slot.record.last_seen_ms = slot.record.last_seen_ms.max(now_ms);
        }
    }

    /// Evicts the least recently used records, with every index entry of theirs, down to `cap`.
    fn evict_over_cap(&mut self) {
        while self.slots.len() > self.cap {
            let Some((_, tnt)) = self.recency.pop_first() else {
                return;
            };
            if let Some(slot) = self.slots.remove(&tnt) {
                for key in &slot.keys {
                    self.index.remove(key);
                }
            }
        }
    }

    fn bump_generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }
}

/// The profile parameters a request carries, in request order (later values win): the
/// `profileParameters` of execute.pageLoad, execute.mboxes, prefetch.pageLoad, prefetch.views,
/// prefetch.mboxes and notifications, and their parameters named `profile.X` (kept with the
/// prefix, which [`Visitors::remember_profile`] strips). Non-string values are kept as JSON text.
pub fn profile_parameters(request: &DeliveryRequest) -> Vec<(String, String)> {
    let execute = request.execute.as_ref();
    let prefetch = request.prefetch.as_ref();
    let details = execute
        .and_then(|e| e.page_load.as_ref())
        .into_iter()
        .chain(
            execute
                .and_then(|e| e.mboxes.as_ref())
                .into_iter()
                .flatten()
                .map(|m| &m.details),
        )
        .chain(prefetch.and_then(|p| p.page_load.as_ref()))
        .chain(
            prefetch
                .and_then(|p| p.views.as_ref())
                .into_iter()
                .flatten()
                .map(|v| &v.details),
        )
        .chain(
            prefetch
                .and_then(|p| p.mboxes.as_ref())
                .into_iter()
                .flatten()
                .map(|m| &m.details),
        )
        .chain(request.notifications.iter().flatten().map(|n| &n.details));
    details.flat_map(profile_parameters_of).collect()
}

/// The profile parameters of one mbox, view, pageLoad or notification.
fn profile_parameters_of(details: &RequestDetails) -> Vec<(String, String)> {
    let prefixed = details
        .parameters
        .iter()
        .flatten()
        .filter(|(name, _)| name.starts_with(PROFILE_PREFIX));
    details
        .profile_parameters
        .iter()
        .flatten()
        .chain(prefixed)
        .filter(|(_, value)| !value.is_null())
        .map(|(name, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (name.clone(), text)
        })
        .collect()
}

/// The index keys of a request's ids, the tntId (without location hint) first, then the MCID,
/// the thirdPartyId and the customer ids; empty ids are no ids.
fn request_keys(id: &VisitorId) -> Vec<IdKey> {
    let present = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    let tnt = id
        .tnt_id
        .as_deref()
        .map(strip_location_hint)
        .filter(|s| !s.is_empty())
        .map(|s| IdKey::Tnt(s.to_string()));
    let customers = id.customer_ids.iter().flatten().filter_map(|c| {
        Some(IdKey::Customer {
            id: present(&c.id)?,
            integration_code: c.integration_code.clone().unwrap_or_default(),
        })
    });
    tnt.into_iter()
        .chain(present(&id.marketing_cloud_visitor_id).map(IdKey::MarketingCloud))
        .chain(present(&id.third_party_id).map(IdKey::ThirdParty))
        .chain(customers)
        .collect()
}

/// The tntId (without location hint) of ids that hold no other id, as [`request_keys`] reads
/// them (an empty id is no id).
fn sole_tnt_id(id: &VisitorId) -> Option<&str> {
    let absent = |s: &Option<String>| s.as_deref().is_none_or(str::is_empty);
    let no_customer = id.customer_ids.iter().flatten().all(|c| absent(&c.id));
    if !(absent(&id.marketing_cloud_visitor_id) && absent(&id.third_party_id) && no_customer) {
        return None;
    }
    id.tnt_id
        .as_deref()
        .map(strip_location_hint)
        .filter(|s| !s.is_empty())
}

/// `abc.28_0` → `abc`: the location hint is not part of the visitor.
fn strip_location_hint(tnt_id: &str) -> &str {
    tnt_id.split('.').next().unwrap_or(tnt_id)
}

/// Notes an id newly pinned to `record` in its fields (the first MCID and thirdPartyId win).
fn note_id(record: &mut VisitorRecord, key: &IdKey) {
    match key {
        IdKey::Tnt(_) => {}
        IdKey::MarketingCloud(mcid) => {
            record
                .marketing_cloud_visitor_id
                .get_or_insert_with(|| mcid.clone());
        }
        IdKey::ThirdParty(third) => {
            record.third_party_id.get_or_insert_with(|| third.clone());
        }
        IdKey::Customer {
            id,
            integration_code,
        } => record
            .customer_ids
            .push((integration_code.clone(), id.clone())),
    }
}

/// Removes an id dropped from the index from `record`'s fields, so a record never shows an id
/// that does not find it.
fn forget_id(record: &mut VisitorRecord, key: &IdKey) {
    match key {
        IdKey::Tnt(_) => {}
        IdKey::MarketingCloud(mcid) => {
            if record.marketing_cloud_visitor_id.as_ref() == Some(mcid) {
                record.marketing_cloud_visitor_id = None;
            }
        }
        IdKey::ThirdParty(third) => {
            if record.third_party_id.as_ref() == Some(third) {
                record.third_party_id = None;
            }
        }
        IdKey::Customer {
            id,
            integration_code,
        } => record
            .customer_ids
            .retain(|(code, known)| !(code == integration_code && known == id)),
    }
}

#[cfg(test)]
mod tests;
