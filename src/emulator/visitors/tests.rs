use super::*;
use crate::delivery::{CustomerId, DeliveryRequest};

fn ids(tnt: Option<&str>, mcid: Option<&str>, third: Option<&str>) -> VisitorId {
    VisitorId {
        tnt_id: tnt.map(str::to_string),
        marketing_cloud_visitor_id: mcid.map(str::to_string),
        third_party_id: third.map(str::to_string),
        ..VisitorId::default()
    }
}

fn tnt(id: &str) -> VisitorId {
    ids(Some(id), None, None)
}

fn mcid(id: &str) -> VisitorId {
    ids(None, Some(id), None)
}

fn customer(code: &str, id: &str) -> VisitorId {
    VisitorId {
        customer_ids: Some(vec![CustomerId {
            id: Some(id.to_string()),
            integration_code: Some(code.to_string()),
            authenticated_state: Some("authenticated".to_string()),
            ..CustomerId::default()
        }]),
        ..VisitorId::default()
    }
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// Every index entry points at a kept record that lists it, every record's keys are indexed
/// to it, and the recency order holds exactly the kept records.
fn assert_consistent(visitors: &Visitors) {
    let listed: usize = visitors.slots.values().map(|slot| slot.keys.len()).sum();
    assert_eq!(visitors.index.len(), listed, "index entries vs record keys");
    for (own, slot) in &visitors.slots {
        assert_eq!(&slot.record.tnt_id, own);
        assert_eq!(slot.keys.front(), Some(&IdKey::Tnt(own.clone())));
        assert!(slot.keys.len() <= MAX_IDS_PER_VISITOR);
        for key in &slot.keys {
            assert_eq!(
                visitors.index.get(key),
                Some(own),
                "{key:?} not indexed to {own}"
            );
        }
        assert_eq!(visitors.recency.get(&slot.generation), Some(own));
    }
    assert_eq!(visitors.recency.len(), visitors.slots.len());
    assert!(visitors.slots.len() <= visitors.cap);
}

fn is_minted_tnt(id: &str) -> bool {
    id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()) && !id.contains('.')
}

#[test]
fn mcid_only_third_party_only_and_customer_only_requests_get_a_minted_tnt_id() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    for id in [
        mcid("ecid-1"),
        ids(None, None, Some("crm-1")),
        customer("crm", "c-1"),
    ] {
        let (tnt_id, minted) = visitors.resolve(&id, 1_000);
        assert!(minted, "{id:?}");
        assert!(is_minted_tnt(&tnt_id), "{tnt_id}");
    }
    assert_eq!(visitors.len(), 3);
    assert_consistent(&visitors);
}

#[test]
fn a_known_tnt_id_is_kept_and_not_minted() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    assert_eq!(visitors.resolve(&tnt("abc"), 1), ("abc".to_string(), false));
    assert_eq!(visitors.resolve(&tnt("abc"), 2), ("abc".to_string(), false));
    assert_eq!(visitors.len(), 1);
}

#[test]
fn the_same_id_finds_the_same_tnt_id_on_every_later_call() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    let requests = [
        mcid("ecid-1"),
        ids(None, None, Some("crm-1")),
        customer("crm", "c-1"),
    ];
    let first: Vec<String> = requests
        .iter()
        .map(|id| visitors.resolve(id, 1_000).0)
        .collect();
    for round in 0..5 {
        for (id, expected) in requests.iter().zip(&first) {
            assert_eq!(
                visitors.resolve(id, 2_000 + round),
                (expected.clone(), false)
            );
        }
    }
    assert_eq!(visitors.len(), 3);
    let record = visitors.get(&first[0]).expect("record");
    assert_eq!((record.first_seen_ms, record.last_seen_ms), (1_000, 2_004));
}

#[test]
fn customer_ids_are_told_apart_by_integration_code() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    let (crm, _) = visitors.resolve(&customer("crm", "42"), 1);
    let (loyalty, _) = visitors.resolve(&customer("loyalty", "42"), 1);
    assert_ne!(crm, loyalty);
    assert_eq!(visitors.resolve(&customer("loyalty", "42"), 2).0, loyalty);
}

#[test]
fn requests_without_any_id_are_a_new_visitor_each_time() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    let empty = ids(Some(""), Some(""), None);
    let (a, minted_a) = visitors.resolve(&VisitorId::default(), 1);
    let (b, minted_b) = visitors.resolve(&empty, 1);
    assert!(minted_a && minted_b);
    assert_ne!(a, b);
    assert_eq!(visitors.len(), 2);
}

#[test]
fn ids_seen_together_are_one_visitor_later() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    visitors.resolve(&tnt("t-1"), 1);
    assert_eq!(
        visitors.resolve(&ids(Some("t-1"), Some("ecid-1"), Some("crm-1")), 2),
        ("t-1".to_string(), false)
    );
    assert_eq!(visitors.resolve(&mcid("ecid-1"), 3).0, "t-1");
    assert_eq!(
        visitors.resolve(&ids(None, None, Some("crm-1")), 4).0,
        "t-1"
    );
    let record = visitors.get("ecid-1").expect("record");
    assert_eq!(record.tnt_id, "t-1");
    assert_eq!(record.marketing_cloud_visitor_id.as_deref(), Some("ecid-1"));
    assert_eq!(record.third_party_id.as_deref(), Some("crm-1"));
    assert_eq!(visitors.len(), 1);
    assert_consistent(&visitors);
}

#[test]
fn a_tnt_id_and_an_mcid_of_two_visitors_fold_into_the_tnt_ids_visitor() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    let (b, _) = visitors.resolve(&mcid("ecid-b"), 1);
    visitors.remember_profile(&b, params(&[("tier", "gold"), ("city", "Basel")]));
    visitors.a4t_hit(&b, "111", 3);
    visitors.resolve(&tnt("t-a"), 2);
    visitors.remember_profile("t-a", params(&[("city", "Aarau")]));
    visitors.a4t_hit("t-a", "111", 1);

    let merged = ids(Some("t-a.28_0"), Some("ecid-b"), None);
    assert_eq!(visitors.resolve(&merged, 5), ("t-a".to_string(), false));
    assert_eq!(visitors.len(), 1);
    for any in ["t-a", "ecid-b", b.as_str()] {
        assert_eq!(visitors.get(any).map(|r| r.tnt_id.as_str()), Some("t-a"));
    }
    // The folded visitor's own tntId names the kept visitor now.
    assert_eq!(visitors.resolve(&tnt(&b), 6), ("t-a".to_string(), false));
    assert_eq!(visitors.resolve(&mcid("ecid-b"), 7).0, "t-a");
    let record = visitors.get("t-a").expect("record");
    assert_eq!(record.marketing_cloud_visitor_id.as_deref(), Some("ecid-b"));
    assert_eq!(
        record.profile.get("city").map(String::as_str),
        Some("Aarau")
    );
    assert_eq!(record.profile.get("tier").map(String::as_str), Some("gold"));
    assert_eq!(record.activities.get("111"), Some(&3));
    assert_eq!(record.first_seen_ms, 1);
    assert_consistent(&visitors);
}

#[test]
fn without_a_tnt_id_the_mcids_visitor_is_kept() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    let (by_mcid, _) = visitors.resolve(&mcid("ecid-1"), 1);
    let (by_third, _) = visitors.resolve(&ids(None, None, Some("crm-1")), 1);
    assert_ne!(by_mcid, by_third);
    let both = ids(None, Some("ecid-1"), Some("crm-1"));
    assert_eq!(visitors.resolve(&both, 2), (by_mcid.clone(), false));
    assert_eq!(visitors.resolve(&tnt(&by_third), 3).0, by_mcid);
    assert_consistent(&visitors);
}

#[test]
fn an_unknown_tnt_id_sent_with_a_known_mcid_joins_the_mcids_visitor() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    let (known, _) = visitors.resolve(&mcid("ecid-1"), 1);
    let both = ids(Some("fresh"), Some("ecid-1"), None);
    assert_eq!(visitors.resolve(&both, 2), (known.clone(), false));
    assert_eq!(visitors.resolve(&tnt("fresh"), 3).0, known);
    assert_eq!(visitors.len(), 1);
}

#[test]
fn a_location_hint_is_the_same_visitor() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    assert_eq!(
        visitors.resolve(&tnt("abc.28_0"), 1),
        ("abc".to_string(), false)
    );
    assert_eq!(visitors.resolve(&tnt("abc"), 2).0, "abc");
    assert_eq!(visitors.resolve(&tnt("abc.35_0"), 3).0, "abc");
    assert_eq!(visitors.len(), 1);
    assert_eq!(
        visitors.get("abc.17_0").map(|r| r.tnt_id.as_str()),
        Some("abc")
    );
}

#[test]
fn profile_parameters_are_kept_and_later_values_win() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    let (id, _) = visitors.resolve(&mcid("ecid-1"), 1);
    visitors.remember_profile(&id, params(&[("tier", "silver"), ("profile.age", "30")]));
    visitors.remember_profile(&id, params(&[("tier", "gold"), ("tier", "platinum")]));
    let profile = &visitors.get(&id).expect("record").profile;
    assert_eq!(
        profile.iter().collect::<Vec<_>>(),
        [
            (&"age".to_string(), &"30".to_string()),
            (&"tier".to_string(), &"platinum".to_string())
        ]
    );
}

#[test]
fn the_profile_of_an_unknown_visitor_is_not_kept() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    visitors.remember_profile("nobody", params(&[("tier", "gold")]));
    assert!(visitors.is_empty());
    assert!(visitors.profile_tokens("nobody").is_empty());
}

#[test]
fn the_profile_grows_to_its_bound_and_known_names_still_change() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    visitors.resolve(&tnt("t"), 1);
    let many = (0..MAX_PROFILE_ATTRIBUTES + 10).map(|i| (format!("a{i:05}"), i.to_string()));
    visitors.remember_profile("t", many);
    visitors.remember_profile("t", params(&[("a00000", "changed")]));
    let profile = &visitors.get("t").expect("record").profile;
    assert_eq!(profile.len(), MAX_PROFILE_ATTRIBUTES);
    assert_eq!(profile.get("a00000").map(String::as_str), Some("changed"));
}

#[test]
fn profile_tokens_are_the_profile_with_the_profile_prefix() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    visitors.resolve(&tnt("t"), 1);
    visitors.remember_profile(
        "t.28_0",
        params(&[("tier", "gold"), ("profile.city", "Bern")]),
    );
    let tokens = visitors.profile_tokens("t");
    assert_eq!(
        Value::Object(tokens),
        serde_json::json!({"profile.city": "Bern", "profile.tier": "gold"})
    );
}

#[test]
fn a_requests_profile_parameters_are_collected_in_order() {
    let request: DeliveryRequest = serde_json::from_value(serde_json::json!({
        "id": {"tntId": "t"},
        "context": {"channel": "web"},
        "execute": {
            "pageLoad": {"profileParameters": {"tier": "silver"}},
            "mboxes": [{"index": 1, "name": "a", "parameters": {"profile.age": "30", "color": "red"}}]
        },
        "prefetch": {
            "views": [{"profileParameters": {"visits": 3}}],
            "mboxes": [{"index": 1, "name": "b", "profileParameters": {"tier": "gold", "gone": null}}]
        },
        "notifications": [{"id": "n", "type": "display", "timestamp": 1,
                           "profileParameters": {"tier": "platinum"}}]
    }))
    .expect("request");
    assert_eq!(
        profile_parameters(&request),
        params(&[
            ("tier", "silver"),
            ("profile.age", "30"),
            ("visits", "3"),
            ("tier", "gold"),
            ("tier", "platinum"),
        ])
    );
    let mut visitors = Visitors::new(DEFAULT_CAP);
    visitors.resolve(&tnt("t"), 1);
    visitors.remember_profile("t", profile_parameters(&request));
    assert_eq!(
        Value::Object(visitors.profile_tokens("t")),
        serde_json::json!({"profile.age": "30", "profile.tier": "platinum", "profile.visits": "3"})
    );
}

#[test]
fn a4t_entrance_once_and_visit_once_per_visit_number() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    visitors.resolve(&tnt("t"), 1);
    let hit = |entrance, visit| A4tEvents { entrance, visit };
    assert_eq!(visitors.a4t_hit("t", "111", 1), hit(true, true));
    assert_eq!(visitors.a4t_hit("t", "111", 1), hit(false, false));
    assert_eq!(visitors.a4t_hit("t", "222", 1), hit(true, true));
    assert_eq!(visitors.a4t_hit("t", "111", 2), hit(false, true));
    assert_eq!(visitors.a4t_hit("t.28_0", "111", 2), hit(false, false));
    assert_eq!(visitors.a4t_hit("t", "222", 2), hit(false, true));
    let activities = &visitors.get("t").expect("record").activities;
    assert_eq!(
        (activities.get("111"), activities.get("222")),
        (Some(&2), Some(&2))
    );
}

#[test]
fn a4t_hits_of_an_unknown_visitor_are_first_and_not_kept() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    let first = A4tEvents {
        entrance: true,
        visit: true,
    };
    assert_eq!(visitors.a4t_hit("nobody", "111", 1), first);
    assert_eq!(visitors.a4t_hit("nobody", "111", 1), first);
    assert!(visitors.is_empty());
}

#[test]
fn eviction_at_the_cap_removes_every_id_and_keeps_the_most_recently_used() {
    let mut visitors = Visitors::new(3);
    let all_ids = |n: u32| {
        let mut id = ids(
            Some(&format!("t{n}")),
            Some(&format!("m{n}")),
            Some(&format!("p{n}")),
        );
        id.customer_ids = customer("crm", &format!("c{n}")).customer_ids;
        id
    };
    for n in 1..=3 {
        visitors.resolve(&all_ids(n), i64::from(n));
    }
    // t1 is used again, so t2 is now the least recently used.
    visitors.resolve(&mcid("m1"), 4);
    visitors.resolve(&all_ids(4), 5);
    assert_eq!(visitors.len(), 3);
    assert_consistent(&visitors);
    for gone in ["t2", "m2", "p2", "c2"] {
        assert!(visitors.get(gone).is_none(), "{gone} still found");
    }
    for kept in [1, 3, 4] {
        for any in ["t", "m", "p", "c"] {
            let found = visitors
                .get(&format!("{any}{kept}"))
                .map(|r| r.tnt_id.clone());
            assert_eq!(found, Some(format!("t{kept}")));
        }
    }
    // The evicted MCID is unknown now: a new visitor gets a new tntId.
    let (again, minted) = visitors.resolve(&mcid("m2"), 6);
    assert!(minted && again != "t2");
    assert!(visitors.get("t1").is_some(), "t1 was used after t3");
    assert!(
        visitors.get("t3").is_none(),
        "t3 was the least recently used"
    );
    assert_consistent(&visitors);
}

#[test]
fn get_and_the_other_calls_do_not_count_as_use() {
    let mut visitors = Visitors::new(2);
    visitors.resolve(&tnt("old"), 1);
    visitors.resolve(&tnt("new"), 2);
    assert!(visitors.get("old").is_some());
    visitors.remember_profile("old", params(&[("a", "b")]));
    visitors.a4t_hit("old", "111", 1);
    visitors.resolve(&tnt("newest"), 3);
    assert!(visitors.get("old").is_none());
    assert!(visitors.get("new").is_some());
}

#[test]
fn a_visitor_keeps_a_bounded_number_of_ids_and_drops_the_oldest_alias() {
    let mut visitors = Visitors::new(DEFAULT_CAP);
    let total = MAX_IDS_PER_VISITOR + 5;
    for n in 0..total {
        visitors.resolve(&ids(Some("t"), None, Some(&format!("p{n}"))), 1);
    }
    assert_consistent(&visitors);
    assert!(visitors.get("p0").is_none(), "the oldest alias is dropped");
    let newest = format!("p{}", total - 1);
    assert_eq!(visitors.get(&newest).map(|r| r.tnt_id.as_str()), Some("t"));
    assert_eq!(visitors.resolve(&tnt("t"), 2), ("t".to_string(), false));
    // The record never shows a thirdPartyId that does not find it.
    let shown = visitors.get("t").expect("record").third_party_id.clone();
    let shown = shown.expect("a kept thirdPartyId");
    assert_ne!(shown, "p0");
    assert_eq!(visitors.get(&shown).map(|r| r.tnt_id.as_str()), Some("t"));
}

#[test]
fn two_hundred_thousand_resolves_with_cap_1000_keep_1000_records() {
    let mut visitors = Visitors::new(1_000);
    for n in 0..200_000i64 {
        let id = match n % 4 {
            0 => mcid(&format!("m{n}")),
            1 => tnt(&format!("t{}", n % 5_000)),
            2 => ids(
                Some(&format!("t{}", n % 3_000)),
                Some(&format!("m{n}")),
                None,
            ),
            _ => VisitorId::default(),
        };
        visitors.resolve(&id, n);
        assert!(visitors.len() <= 1_000);
    }
    assert_eq!(visitors.len(), 1_000);
    assert_consistent(&visitors);
}

#[test]
fn own_folded_and_hinted_tnt_ids_reach_the_same_record_for_every_call() {
    let mut visitors = Visitors::new(10);
    let (kept, _) = visitors.resolve(&tnt("kept"), 1);
    let (folded, _) = visitors.resolve(&mcid("m-1"), 2);
    visitors.resolve(&ids(Some("kept"), Some("m-1"), None), 3);
    assert_ne!(kept, folded);
    for id in [kept.as_str(), folded.as_str(), "kept.28_0"] {
        visitors.remember_profile(id, params(&[(id, "1")]));
        assert_eq!(visitors.get(id).map(|r| r.tnt_id.as_str()), Some("kept"));
        assert_eq!(
            visitors.profile_tokens(id).len(),
            visitors.get(id).unwrap().profile.len()
        );
    }
    assert_eq!(visitors.get("kept").unwrap().profile.len(), 3);
    // An own tntId that is also another visitor's MCID names its own visitor first.
    visitors.resolve(&ids(Some("other"), Some("kept"), None), 4);
    assert_eq!(
        visitors.get("kept").map(|r| r.tnt_id.as_str()),
        Some("kept")
    );
    assert!(visitors.a4t_hit(&folded, "a1", 1).visit);
    assert!(!visitors.a4t_hit("kept", "a1", 1).visit);
    assert_consistent(&visitors);
}

#[test]
fn a_known_tnt_id_alone_counts_as_use_and_moves_last_seen() {
    let mut visitors = Visitors::new(2);
    visitors.resolve(&tnt("old"), 1);
    visitors.resolve(&tnt("new"), 2);
    // Empty other ids are no ids: the own tntId (its location hint ignored) alone.
    let mut hinted = ids(Some("old.28_0"), Some(""), Some(""));
    hinted.customer_ids = customer("crm", "").customer_ids;
    assert_eq!(visitors.resolve(&hinted, 7), ("old".to_string(), false));
    assert_eq!(visitors.get("old").map(|r| r.last_seen_ms), Some(7));
    visitors.resolve(&tnt("newest"), 8);
    assert!(visitors.get("old").is_some(), "old was used after new");
    assert!(
        visitors.get("new").is_none(),
        "new was the least recently used"
    );
    assert_consistent(&visitors);
}
