use super::*;

fn d(activity: &str, experience: &str) -> Decision {
    Decision {
        activity: activity.into(),
        experience: experience.into(),
    }
}

const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

fn hit<'a>(
    kind: HitKind,
    at_ms: i64,
    visitor: &'a str,
    session_id: &'a str,
    impression_id: Option<&'a str>,
    decisions: &'a [Decision],
) -> Hit<'a> {
    Hit {
        kind,
        at_ms,
        visitor: Some(visitor),
        session_id,
        user_agent: Some(CHROME),
        impression_id,
        decisions,
    }
}

#[test]
fn an_impression_id_counts_once_per_visitor_and_activity() {
    let mut c = Counter::default();
    let both = [d("1", "0"), d("2", "5")];
    let first = c.observe(&hit(HitKind::Display, 0, "v1", "s1", Some("imp"), &both));
    assert!(first.verdicts.iter().all(|(_, v)| *v == Verdict::Counted));
    let retry = c.observe(&hit(HitKind::Display, 1, "v1", "s1", Some("imp"), &both));
    assert!(retry.all_duplicates());
    assert_eq!(retry.verdicts[0].1, Verdict::Duplicate { of: first.seq });
    // Another visitor reusing the same impressionId is another impression.
    let other = c.observe(&hit(
        HitKind::Display,
        2,
        "v2",
        "s2",
        Some("imp"),
        &both[..1],
    ));
    assert_eq!(other.verdicts[0].1, Verdict::Counted);
    assert_eq!(
        c.counts("1", "0"),
        Counts {
            impressions: 2,
            visits: 2,
            visitors: 2,
            clicks: 0
        }
    );
    assert_eq!(c.counts("2", "5").impressions, 1);
}

#[test]
fn without_an_impression_id_every_accepted_event_counts() {
    let mut c = Counter::default();
    let one = [d("1", "0")];
    for i in 0..3 {
        c.observe(&hit(HitKind::Display, i, "v1", "s1", None, &one));
    }
    assert_eq!(c.counts("1", "0").impressions, 3);
    assert_eq!(c.counts("1", "0").visits, 1);
}

#[test]
fn an_execute_and_a_notification_sharing_an_impression_id_count_once() {
    let mut c = Counter::default();
    let one = [d("1", "0")];
    c.observe(&hit(HitKind::Execute, 0, "v1", "s1", Some("imp"), &one));
    let again = c.observe(&hit(HitKind::Display, 5, "v1", "s1", Some("imp"), &one));
    assert!(again.all_duplicates());
    assert_eq!(c.counts("1", "0").impressions, 1);
}

#[test]
fn clicks_are_counted_apart_from_impressions() {
    let mut c = Counter::default();
    let one = [d("1", "0")];
    c.observe(&hit(HitKind::Display, 0, "v1", "s1", Some("imp"), &one));
    let click = c.observe(&hit(HitKind::Click, 1, "v1", "s1", Some("imp"), &one));
    assert_eq!(click.verdicts[0].1, Verdict::Counted);
    assert!(c
        .observe(&hit(HitKind::Click, 2, "v1", "s1", Some("imp"), &one))
        .all_duplicates());
    assert_eq!(
        c.counts("1", "0"),
        Counts {
            impressions: 1,
            visits: 1,
            visitors: 1,
            clicks: 1
        }
    );
}

#[test]
fn a_visit_closes_after_thirty_idle_minutes_and_with_a_new_session() {
    let mut c = Counter::default();
    let one = [d("1", "0")];
    c.observe(&hit(HitKind::Display, 0, "v1", "s1", None, &one));
    c.observe(&hit(HitKind::Click, VISIT_IDLE_MS, "v1", "s1", None, &one));
    // Within 30 minutes of the click: the same visit.
    c.observe(&hit(
        HitKind::Display,
        2 * VISIT_IDLE_MS,
        "v1",
        "s1",
        None,
        &one,
    ));
    assert_eq!(c.counts("1", "0").visits, 1);
    c.observe(&hit(
        HitKind::Display,
        3 * VISIT_IDLE_MS + 1,
        "v1",
        "s1",
        None,
        &one,
    ));
    assert_eq!(c.counts("1", "0").visits, 2);
    c.observe(&hit(
        HitKind::Display,
        3 * VISIT_IDLE_MS + 2,
        "v1",
        "s2",
        None,
        &one,
    ));
    assert_eq!(c.counts("1", "0").visits, 3);
    assert_eq!(c.counts("1", "0").visitors, 1);
}

#[test]
fn bots_count_nothing_unless_the_filter_is_off() {
    let one = [d("1", "0")];
    let bot = Hit {
        user_agent: Some("Mozilla/5.0 (compatible; Googlebot/2.1)"),
        ..hit(HitKind::Execute, 0, "v1", "s1", None, &one)
    };
    let mut on = Counter::new(true);
    assert_eq!(
        on.observe(&bot).verdicts[0].1,
        Verdict::NotCounted(Reason::Bot)
    );
    assert_eq!(on.counts("1", "0"), Counts::default());
    let mut off = Counter::new(false);
    off.observe(&bot);
    assert_eq!(off.counts("1", "0").impressions, 1);
}

#[test]
fn visitor_keys_fall_back_from_tnt_id_to_customer_ids() {
    let mut id = VisitorId {
        tnt_id: Some("abc.28_0".into()),
        marketing_cloud_visitor_id: Some("mc".into()),
        ..Default::default()
    };
    assert_eq!(visitor_key(&id).as_deref(), Some("abc"));
    id.tnt_id = None;
    assert_eq!(visitor_key(&id).as_deref(), Some("mc"));
    let only_customer = VisitorId {
        customer_ids: Some(vec![crate::delivery::CustomerId {
            id: Some("42".into()),
            integration_code: Some("crm".into()),
            ..Default::default()
        }]),
        ..Default::default()
    };
    assert_eq!(visitor_key(&only_customer).as_deref(), Some("crm=42"));
    assert_eq!(visitor_key(&VisitorId::default()), None);
}
