//! Unit tests of the desk rules, one rule per test where possible: tiers,
//! load order, availability, service-group exclusivity, presence rules and
//! time accounting, manual mode. Queue positions, ETA, transfer and capacity
//! are in `queue_tests`, which shares this file's fixtures.

use std::collections::BTreeMap;

use super::*;

pub(super) const WEB: Channel = Channel::Web;
pub(super) const WA: Channel = Channel::WhatsApp;

pub(super) fn person(id: &str, groups: &[&str], channels: &[Channel], max_chats: u32) -> Person {
    Person {
        id: id.into(),
        name: id.to_uppercase(),
        kind: PersonKind::Attendant,
        groups: groups.iter().map(|g| g.to_string()).collect(),
        channels: channels.to_vec(),
        max_chats,
    }
}

pub(super) fn project(
    id: &str,
    owner: Option<&str>,
    assistant: Option<&str>,
    group: Option<&str>,
) -> Project {
    Project {
        id: id.into(),
        name: id.into(),
        owner: owner.map(Into::into),
        assistant: assistant.map(Into::into),
        service_group: group.map(Into::into),
    }
}

pub(super) fn desk(mode: RoutingMode) -> Desk {
    let mut config = DeskConfig::default();
    config.routing.default = mode;
    Desk::new(config)
}

/// Adds a person online on web chat at `now`.
pub(super) fn add_online(d: &mut Desk, id: &str, groups: &[&str], max: u32, now: u64) {
    d.upsert_person(person(id, groups, &[WEB, WA], max), now);
    d.set_presence(id, WEB, PresenceState::Online, now).unwrap();
}

pub(super) fn paused(reason: &str) -> PresenceState {
    PresenceState::Paused {
        reason: reason.into(),
    }
}

pub(super) fn assigned(r: &Routed) -> (&str, Tier) {
    match &r.outcome {
        RoutingOutcome::Assigned { person, tier } => (person.as_str(), *tier),
        other => panic!("expected assigned, got {other:?}"),
    }
}

#[test]
fn tiers_order_owner_assistant_everyone() {
    let mut d = desk(RoutingMode::Automatic);
    add_online(&mut d, "x", &[], 5, 0);
    add_online(&mut d, "a", &[], 1, 0);
    add_online(&mut d, "o", &[], 1, 0);
    d.upsert_project(project("p", Some("o"), Some("a"), None))
        .unwrap();
    assert_eq!(
        assigned(&d.enqueue("c1", "p", WEB, 1).unwrap()),
        ("o", Tier::Owner)
    );
    assert_eq!(
        assigned(&d.enqueue("c2", "p", WEB, 2).unwrap()),
        ("a", Tier::Assistant)
    );
    assert_eq!(
        assigned(&d.enqueue("c3", "p", WEB, 3).unwrap()),
        ("x", Tier::Everyone)
    );
}

#[test]
fn service_group_tier_comes_after_owner_and_assistant() {
    let mut d = desk(RoutingMode::Automatic);
    for id in ["o", "a", "m"] {
        add_online(&mut d, id, &["g"], 1, 0);
    }
    d.upsert_project(project("p", Some("o"), Some("a"), Some("g")))
        .unwrap();
    assert_eq!(
        assigned(&d.enqueue("c1", "p", WEB, 1).unwrap()).1,
        Tier::Owner
    );
    assert_eq!(
        assigned(&d.enqueue("c2", "p", WEB, 1).unwrap()).1,
        Tier::Assistant
    );
    assert_eq!(
        assigned(&d.enqueue("c3", "p", WEB, 1).unwrap()),
        ("m", Tier::ServiceGroup)
    );
}

#[test]
fn fewest_active_within_tier_then_longest_idle_then_id() {
    let mut d = desk(RoutingMode::Queue);
    add_online(&mut d, "m1", &["g"], 5, 0);
    add_online(&mut d, "m2", &["g"], 5, 0);
    add_online(&mut d, "m3", &["g"], 5, 0);
    d.upsert_project(project("p", None, None, Some("g")))
        .unwrap();
    for (chat, who) in [("c1", "m1"), ("c2", "m1"), ("c3", "m2")] {
        d.enqueue(chat, "p", WEB, 1).unwrap();
        d.capture(chat, who, 1).unwrap();
    }
    let pick = d.automatic_choice("p", WEB, &[]).unwrap().unwrap();
    assert_eq!(pick, ("m3".to_string(), Tier::ServiceGroup));

    // Ties on load: the longest idle wins, then the smallest id.
    let mut d = desk(RoutingMode::Automatic);
    add_online(&mut d, "b", &["g"], 5, 5);
    add_online(&mut d, "c", &["g"], 5, 10);
    d.upsert_project(project("p", None, None, Some("g")))
        .unwrap();
    assert_eq!(assigned(&d.enqueue("c1", "p", WEB, 20).unwrap()).0, "b");
    d.close("c1", 30).unwrap(); // b idle since 30 now, c since 10
    assert_eq!(assigned(&d.enqueue("c2", "p", WEB, 40).unwrap()).0, "c");
    add_online(&mut d, "a", &["g"], 5, 10); // online since 10, while c is busy
    d.close("c2", 50).unwrap(); // c idle since 50; a since 10; b since 30
    assert_eq!(assigned(&d.enqueue("c3", "p", WEB, 60).unwrap()).0, "a");
    let mut d = desk(RoutingMode::Automatic);
    add_online(&mut d, "z", &["g"], 5, 7);
    add_online(&mut d, "y", &["g"], 5, 7);
    d.upsert_project(project("p", None, None, Some("g")))
        .unwrap();
    assert_eq!(assigned(&d.enqueue("c1", "p", WEB, 8).unwrap()).0, "y");
}

#[test]
fn skips_offline_paused_and_full() {
    let mut d = desk(RoutingMode::Automatic);
    d.upsert_person(person("off", &["g"], &[WEB], 5), 0);
    add_online(&mut d, "pau", &["g"], 5, 0);
    d.set_presence("pau", WEB, paused("lunch"), 0).unwrap();
    add_online(&mut d, "full", &["g"], 0, 0);
    add_online(&mut d, "ok", &["g"], 1, 0);
    d.upsert_project(project("p", Some("off"), Some("pau"), Some("g")))
        .unwrap();
    assert_eq!(
        assigned(&d.enqueue("c1", "p", WEB, 1).unwrap()),
        ("ok", Tier::ServiceGroup)
    );
    // ok is now full: nobody left.
    let r = d.enqueue("c2", "p", WEB, 2).unwrap();
    assert!(matches!(
        r.outcome,
        RoutingOutcome::NoOneAvailable { position: 1, .. }
    ));
    // Online on web chat only: a whatsapp chat finds nobody either.
    d.close("c1", 3).unwrap();
    let r = d.enqueue("c3", "p", WA, 4).unwrap();
    assert!(matches!(r.outcome, RoutingOutcome::NoOneAvailable { .. }));
}

#[test]
fn service_group_is_exclusive() {
    let mut d = desk(RoutingMode::Automatic);
    add_online(&mut d, "owner", &["other"], 5, 0);
    add_online(&mut d, "asst", &["g"], 1, 0);
    add_online(&mut d, "member", &["g"], 1, 0);
    add_online(&mut d, "outsider", &[], 5, 0);
    d.upsert_project(project("p", Some("owner"), Some("asst"), Some("g")))
        .unwrap();
    // The owner is not a member: skipped; the assistant is: tier 2.
    assert_eq!(
        assigned(&d.enqueue("c1", "p", WEB, 1).unwrap()),
        ("asst", Tier::Assistant)
    );
    assert_eq!(
        assigned(&d.enqueue("c2", "p", WEB, 1).unwrap()),
        ("member", Tier::ServiceGroup)
    );
    // Members full: owner and outsider are online but never used.
    let r = d.enqueue("c3", "p", WEB, 1).unwrap();
    assert!(matches!(r.outcome, RoutingOutcome::NoOneAvailable { .. }));
    // Same rule for manual candidates.
    d.close("c1", 2).unwrap();
    assert_eq!(d.manual_candidates("p", WEB, &[]).unwrap(), vec!["asst"]);
}

#[test]
fn pause_propagates_over_shared_queue_and_resume_too() {
    let config = DeskConfig {
        queues: QueueMap(BTreeMap::from([
            (WEB, "chat".to_string()),
            (WA, "chat".to_string()),
        ])),
        ..DeskConfig::default()
    };
    let mut d = Desk::new(config);
    d.upsert_person(person("p", &[], &[WEB, WA], 3), 0);
    d.set_presence("p", WEB, PresenceState::Online, 0).unwrap();
    d.set_presence("p", WA, PresenceState::Online, 0).unwrap();
    d.set_presence("p", WEB, paused("lunch"), 10).unwrap();
    let pr = d.presence("p").unwrap();
    assert_eq!(pr.state(WA), &paused("lunch"));
    assert_eq!(d.channel_counts("p").unwrap(), (0, 2));
    // Resuming one resumes the other.
    d.set_presence("p", WA, PresenceState::Online, 20).unwrap();
    assert!(d.presence("p").unwrap().is_online(WEB));
    assert_eq!(d.channel_counts("p").unwrap(), (2, 2));
    // An offline sibling stays offline on pause and on resume.
    d.set_presence("p", WA, PresenceState::Offline, 30).unwrap();
    d.set_presence("p", WEB, paused("break"), 40).unwrap();
    assert!(d.presence("p").unwrap().state(WA).is_offline());
    d.set_presence("p", WEB, PresenceState::Online, 50).unwrap();
    assert!(d.presence("p").unwrap().state(WA).is_offline());

    // Separate queues (the default): no propagation.
    let mut d = desk(RoutingMode::Automatic);
    d.upsert_person(person("p", &[], &[WEB, WA], 3), 0);
    d.set_presence("p", WEB, PresenceState::Online, 0).unwrap();
    d.set_presence("p", WA, PresenceState::Online, 0).unwrap();
    d.set_presence("p", WEB, paused("lunch"), 10).unwrap();
    assert!(d.presence("p").unwrap().is_online(WA));
    assert_eq!(d.channel_counts("p").unwrap(), (1, 2));
}

#[test]
fn presence_errors() {
    let mut d = desk(RoutingMode::Automatic);
    d.upsert_person(person("p", &[], &[WEB], 3), 0);
    let err = |r: Result<(), DeskError>| r.unwrap_err().code();
    assert_eq!(
        err(d.set_presence("p", WEB, paused("lunch"), 0)),
        "not_online"
    );
    d.set_presence("p", WEB, PresenceState::Online, 0).unwrap();
    assert_eq!(
        err(d.set_presence("p", WEB, paused(""), 0)),
        "pause_reason_required"
    );
    assert_eq!(
        err(d.set_presence("p", WEB, paused("nap"), 0)),
        "unknown_pause_reason"
    );
    assert_eq!(
        err(d.set_presence("p", WA, PresenceState::Online, 0)),
        "channel_not_enabled"
    );
    assert_eq!(
        err(d.set_presence("nobody", WEB, PresenceState::Online, 0)),
        "unknown_person"
    );
    // Offline on a channel not enabled is a harmless no-op.
    d.set_presence("p", WA, PresenceState::Offline, 0).unwrap();
    d.set_presence("p", WEB, paused("lunch"), 0).unwrap();
    assert!(d.presence("p").unwrap().state(WEB).is_paused());
}

#[test]
fn time_online_and_paused_accumulate() {
    let mut d = desk(RoutingMode::Automatic);
    d.upsert_person(person("p", &[], &[WEB, WA], 3), 0);
    d.set_presence("p", WEB, PresenceState::Online, 1_000)
        .unwrap();
    d.set_presence("p", WEB, paused("lunch"), 2_000).unwrap();
    d.set_presence("p", WEB, PresenceState::Online, 2_500)
        .unwrap();
    d.set_presence("p", WA, PresenceState::Online, 3_000)
        .unwrap();
    let pr = d.presence("p").unwrap();
    // Open interval counted up to "now".
    assert_eq!(pr.time_online_ms(3_500), 1_000 + 1_000);
    assert_eq!(pr.time_paused_ms(3_500), 500);
    d.set_presence("p", WEB, PresenceState::Offline, 4_000)
        .unwrap();
    d.set_presence("p", WA, PresenceState::Offline, 5_000)
        .unwrap();
    let pr = d.presence("p").unwrap();
    // Person: online 1000..2000 and 2500..5000 (two channels don't count twice).
    assert_eq!(pr.time_online_ms(9_000), 1_000 + 2_500);
    assert_eq!(pr.time_paused_ms(9_000), 500);
    assert_eq!(pr.channel_time_online_ms(WEB, 9_000), 1_000 + 1_500);
    assert_eq!(pr.channel_time_paused_ms(WEB, 9_000), 500);
    assert_eq!(pr.channel_time_online_ms(WA, 9_000), 2_000);
    assert_eq!(pr.channel_time_paused_ms(WA, 9_000), 0);
    assert_eq!(d.channel_counts("p").unwrap(), (0, 2));
}

#[test]
fn manual_candidates_and_decline_then_another() {
    let mut d = desk(RoutingMode::Manual);
    add_online(&mut d, "o", &["g"], 2, 0);
    add_online(&mut d, "a", &["g"], 2, 0);
    add_online(&mut d, "m", &["g"], 2, 0);
    add_online(&mut d, "stranger", &[], 2, 0);
    d.upsert_person(person("sleepy", &["g"], &[WEB], 2), 0);
    d.upsert_project(project("p", Some("o"), Some("a"), Some("g")))
        .unwrap();
    let r = d.enqueue("c1", "p", WEB, 1).unwrap();
    match &r.outcome {
        RoutingOutcome::Candidates {
            candidates,
            position,
            ..
        } => {
            assert_eq!(candidates, &["o", "a", "m"]);
            assert_eq!(*position, 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        d.choose("c1", "stranger", 2).unwrap_err().code(),
        "not_eligible"
    );
    assert_eq!(
        d.choose("c1", "sleepy", 2).unwrap_err().code(),
        "not_online"
    );
    d.choose("c1", "m", 2).unwrap();
    assert_eq!(d.responsible("c1").map(String::as_str), Some("m"));
    assert_eq!(
        d.choose("c1", "o", 2).unwrap_err().code(),
        "already_captured"
    );
    // m declines: seat freed, back in the queue, m no longer listed.
    let r = d.decline("c1", "m", 3).unwrap();
    assert_eq!(d.active_chats("m"), 0);
    match &r.outcome {
        RoutingOutcome::Candidates { candidates, .. } => assert_eq!(candidates, &["o", "a"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(d.candidates("c1").unwrap(), vec!["o", "a"]);
    assert_eq!(d.choose("c1", "m", 4).unwrap_err().code(), "not_eligible");
    d.choose("c1", "a", 4).unwrap();
    assert_eq!(d.responsible("c1").map(String::as_str), Some("a"));
    assert_eq!(
        d.decline("c1", "o", 5).unwrap_err().code(),
        "not_responsible"
    );
}

#[test]
fn decline_in_automatic_mode_goes_to_the_next() {
    let mut d = desk(RoutingMode::Automatic);
    add_online(&mut d, "o", &[], 2, 0);
    add_online(&mut d, "x", &[], 2, 0);
    d.upsert_project(project("p", Some("o"), None, None))
        .unwrap();
    assert_eq!(assigned(&d.enqueue("c1", "p", WEB, 1).unwrap()).0, "o");
    assert_eq!(assigned(&d.decline("c1", "o", 2).unwrap()).0, "x");
    let r = d.decline("c1", "x", 3).unwrap();
    assert!(matches!(
        r.outcome,
        RoutingOutcome::NoOneAvailable { position: 1, .. }
    ));
}
