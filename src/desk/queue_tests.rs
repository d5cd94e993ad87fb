//! Unit tests of the desk's queue and load rules, one rule per test where
//! possible: queue positions and updates, capture, ETA, transfer, capacity,
//! per-service-group modes, the state round trip and each project's own
//! line. The fixtures are those of the routing tests (`tests`).

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::tests::*;
use super::*;

fn queued_pos(r: &Routed) -> usize {
    match r.outcome {
        RoutingOutcome::Queued { position, .. } => position,
        ref other => panic!("{other:?}"),
    }
}

#[test]
fn queue_fifo_positions_and_updates_after_capture() {
    let mut d = desk(RoutingMode::Queue);
    add_online(&mut d, "att", &[], 10, 0);
    d.upsert_project(project("p", None, None, None)).unwrap();
    for i in 1..=5 {
        let r = d.enqueue(&format!("c{i}"), "p", WEB, i).unwrap();
        assert_eq!(queued_pos(&r), i as usize);
    }
    let updates = d.capture("c2", "att", 10).unwrap();
    let moved: Vec<(&str, usize)> = updates
        .iter()
        .map(|u| (u.chat_id.as_str(), u.position))
        .collect();
    assert_eq!(moved, vec![("c3", 2), ("c4", 3), ("c5", 4)]);
    assert_eq!(updates[0].eta_ms, d.eta_ms(&line_name("web_chat", "p"), 2));
    assert_eq!(d.position("c1").unwrap().position, 1);
    assert_eq!(d.position("c4").unwrap().position, 3);
    assert_eq!(d.position("c2").unwrap_err().code(), "not_queued");
    assert_eq!(
        d.capture("c2", "att", 11).unwrap_err().code(),
        "already_captured"
    );
    // Capturing the tail moves nobody.
    assert!(d.capture("c5", "att", 12).unwrap().is_empty());
    // The requester of c1 leaves: the others move up.
    let out = d.close("c1", 13).unwrap();
    assert_eq!(out.handle_ms, None);
    let moved: Vec<(&str, usize)> = out
        .updates
        .iter()
        .map(|u| (u.chat_id.as_str(), u.position))
        .collect();
    assert_eq!(moved, vec![("c3", 1), ("c4", 2)]);
    assert_eq!(d.queue_len(&line_name("web_chat", "p")), 2);
}

#[test]
fn capture_requires_online_and_room() {
    let mut d = desk(RoutingMode::Queue);
    add_online(&mut d, "att", &[], 1, 0);
    d.upsert_person(person("away", &[], &[WEB], 3), 0);
    d.upsert_project(project("p", None, None, None)).unwrap();
    d.enqueue("c1", "p", WEB, 1).unwrap();
    d.enqueue("c2", "p", WEB, 1).unwrap();
    assert_eq!(d.capture("c1", "away", 2).unwrap_err().code(), "not_online");
    assert_eq!(
        d.capture("c1", "ghost", 2).unwrap_err().code(),
        "unknown_person"
    );
    d.capture("c2", "att", 2).unwrap();
    assert_eq!(
        d.capture("c1", "att", 2).unwrap_err().code(),
        "attendant_full"
    );
    assert_eq!(
        d.capture("nope", "att", 2).unwrap_err().code(),
        "unknown_chat"
    );
}

#[test]
fn eta_formula() {
    assert_eq!(estimate_wait_ms(3, 60_000, 2), Some(90_000));
    assert_eq!(estimate_wait_ms(1, 1_000, 3), Some(334)); // rounded up
    assert_eq!(estimate_wait_ms(5, 1_000, 0), None);

    let mut avg = RollingAverage::default();
    for s in [100, 200, 300] {
        avg.record(s, 2);
    }
    assert_eq!(avg.average_ms(), Some(250));

    let mut d = desk(RoutingMode::Queue);
    add_online(&mut d, "a", &[], 10, 0);
    add_online(&mut d, "b", &[], 10, 0);
    d.upsert_project(project("p", None, None, None)).unwrap();
    d.enqueue("c1", "p", WEB, 0).unwrap();
    d.enqueue("c2", "p", WEB, 0).unwrap();
    // Default handle time (300 s), 2 online, position 2: 300 s.
    assert_eq!(d.position("c2").unwrap().eta_ms, Some(300_000));
    d.capture("c1", "a", 0).unwrap();
    d.close("c1", 100_000).unwrap();
    d.enqueue("c3", "p", WEB, 0).unwrap();
    d.capture("c3", "b", 0).unwrap();
    d.close("c3", 200_000).unwrap();
    assert_eq!(d.avg_handle_ms(&line_name("web_chat", "p")), 150_000);
    // c2 is now at position 1: 150 s / 2 online.
    assert_eq!(d.position("c2").unwrap().eta_ms, Some(75_000));
    // A paused attendant does not count.
    d.set_presence("b", WEB, paused("break"), 1).unwrap();
    assert_eq!(d.position("c2").unwrap().eta_ms, Some(150_000));
    d.set_presence("a", WEB, PresenceState::Offline, 1).unwrap();
    assert_eq!(d.position("c2").unwrap().eta_ms, None);
}

#[test]
fn transfer_changes_responsible_and_counts() {
    let mut d = desk(RoutingMode::Queue);
    add_online(&mut d, "a", &[], 2, 0);
    add_online(&mut d, "b", &[], 1, 0);
    d.upsert_person(person("off", &[], &[WEB], 2), 0);
    d.upsert_project(project("p", None, None, None)).unwrap();
    d.enqueue("c1", "p", WEB, 0).unwrap();
    d.enqueue("c2", "p", WEB, 0).unwrap();
    d.capture("c1", "a", 0).unwrap();
    d.transfer("c1", "b", 5).unwrap();
    assert_eq!(d.responsible("c1").map(String::as_str), Some("b"));
    assert_eq!((d.active_chats("a"), d.active_chats("b")), (0, 1));
    assert!(d.is_full("b"));
    d.capture("c2", "a", 6).unwrap();
    assert_eq!(
        d.transfer("c2", "b", 7).unwrap_err().code(),
        "attendant_full"
    );
    assert_eq!(d.transfer("c2", "off", 7).unwrap_err().code(), "not_online");
    d.enqueue("c3", "p", WEB, 8).unwrap();
    assert_eq!(d.transfer("c3", "a", 8).unwrap_err().code(), "not_active");
    // Handle time runs from the first assignment, across the transfer.
    assert_eq!(d.close("c1", 100).unwrap().handle_ms, Some(100));
    assert_eq!(d.active_chats("b"), 0);
}

#[test]
fn capacity_freed_on_close() {
    let mut d = desk(RoutingMode::Automatic);
    add_online(&mut d, "a", &[], 1, 0);
    d.upsert_project(project("p", Some("a"), None, None))
        .unwrap();
    assert_eq!(assigned(&d.enqueue("c1", "p", WEB, 0).unwrap()).0, "a");
    assert!(d.is_full("a"));
    let r = d.enqueue("c2", "p", WEB, 1).unwrap();
    assert!(matches!(r.outcome, RoutingOutcome::NoOneAvailable { .. }));
    assert_eq!(d.close("c1", 60_000).unwrap().handle_ms, Some(60_000));
    assert_eq!(d.active_chats("a"), 0);
    assert!(!d.is_full("a"));
    assert_eq!(assigned(&d.reroute("c2", 61_000).unwrap()).0, "a");
    assert_eq!(d.queue_len(&line_name("web_chat", "p")), 0);
    assert_eq!(
        d.reroute("c2", 62_000).unwrap_err().code(),
        "already_captured"
    );
}

#[test]
fn mode_is_looked_up_per_service_group() {
    let mut config = DeskConfig::default();
    config.routing.default = RoutingMode::Automatic;
    config
        .routing
        .by_group
        .insert("q".into(), RoutingMode::Queue);
    let mut d = Desk::new(config);
    add_online(&mut d, "a", &["q"], 5, 0);
    d.upsert_project(project("auto", None, None, None)).unwrap();
    d.upsert_project(project("queued", None, None, Some("q")))
        .unwrap();
    assert_eq!(assigned(&d.enqueue("c1", "auto", WEB, 0).unwrap()).0, "a");
    let r = d.enqueue("c2", "queued", WEB, 0).unwrap();
    assert_eq!(queued_pos(&r), 1);
    assert_eq!(
        d.enqueue("c2", "auto", WEB, 0).unwrap_err().code(),
        "duplicate_chat"
    );
    assert_eq!(
        d.enqueue("c9", "none", WEB, 0).unwrap_err().code(),
        "unknown_project"
    );
}

#[test]
fn state_round_trip_rebuilds_the_index() {
    fn assert_serde<T: Serialize + DeserializeOwned + Clone + std::fmt::Debug>() {}
    assert_serde::<Desk>();
    assert_serde::<DeskState>();
    assert_serde::<DeskError>();
    assert_serde::<Routed>();
    assert_serde::<CloseOutcome>();
    assert_serde::<QueueStatus>();

    let mut d = desk(RoutingMode::Automatic);
    add_online(&mut d, "a", &["g"], 1, 0);
    add_online(&mut d, "b", &["g"], 3, 0);
    d.upsert_project(project("p", None, None, Some("g")))
        .unwrap();
    d.enqueue("c1", "p", WEB, 0).unwrap();
    let copy = Desk::from_state(d.state().clone());
    assert_eq!(
        copy.automatic_choice("p", WEB, &[]).unwrap(),
        d.automatic_choice("p", WEB, &[]).unwrap()
    );
    assert_eq!(
        copy.eta_ms(&line_name("web_chat", "p"), 1),
        d.eta_ms(&line_name("web_chat", "p"), 1)
    );
}

#[test]
fn upsert_person_drops_disabled_channels_offline() {
    let mut d = desk(RoutingMode::Automatic);
    add_online(&mut d, "a", &[], 1, 0);
    d.upsert_project(project("p", None, None, None)).unwrap();
    d.upsert_person(person("a", &[], &[WA], 1), 10);
    assert!(d.presence("a").unwrap().state(WEB).is_offline());
    assert_eq!(d.automatic_choice("p", WEB, &[]).unwrap(), None);
    assert_eq!(d.channel_counts("a").unwrap(), (0, 1));
    assert_eq!(
        d.upsert_project(project("q", Some("ghost"), None, None))
            .unwrap_err()
            .code(),
        "unknown_person"
    );
}

#[test]
fn each_project_waits_in_its_own_line() {
    let mut d = desk(RoutingMode::Queue);
    add_online(&mut d, "a", &["g"], 10, 0);
    add_online(&mut d, "b", &[], 10, 0);
    d.upsert_project(project("p", None, None, None)).unwrap();
    d.upsert_project(project("q", None, None, Some("g")))
        .unwrap();
    assert_eq!(queued_pos(&d.enqueue("c1", "p", WEB, 1).unwrap()), 1);
    assert_eq!(queued_pos(&d.enqueue("c2", "q", WEB, 2).unwrap()), 1);
    assert_eq!(queued_pos(&d.enqueue("c3", "p", WEB, 3).unwrap()), 2);
    assert_eq!(d.waiting_len(), 3);
    let moved: Vec<(String, usize)> = d
        .capture("c1", "a", 4)
        .unwrap()
        .into_iter()
        .map(|u| (u.chat_id, u.position))
        .collect();
    assert_eq!(moved, vec![("c3".to_string(), 1)]);
    assert_eq!(d.position("c2").unwrap().position, 1);
    // The line of a project with a service group counts only its members
    // online: `a` (now with one chat) but not `b`.
    let default_ms = d.config().default_handle_ms;
    assert_eq!(d.position("c2").unwrap().eta_ms, Some(default_ms));
    assert_eq!(d.position("c3").unwrap().eta_ms, Some(default_ms / 2));
}

#[test]
fn who_comes_online_is_offered_first_the_chats_they_rank_best_for() {
    let mut config = DeskConfig::default();
    config.routing.default = RoutingMode::Automatic;
    config
        .routing
        .by_group
        .insert("q".into(), RoutingMode::Queue);
    config
        .routing
        .by_group
        .insert("m".into(), RoutingMode::Manual);
    config
        .routing
        .by_group
        .insert("x".into(), RoutingMode::Automatic);
    let mut d = Desk::new(config);
    d.upsert_person(person("a", &["m", "q"], &[WEB], 5), 0);
    d.upsert_person(person("b", &[], &[WEB], 5), 0);
    d.upsert_project(project("anyone", None, None, None))
        .unwrap();
    d.upsert_project(project("owned", Some("a"), None, None))
        .unwrap();
    d.upsert_project(project("queued", None, None, Some("q")))
        .unwrap();
    d.upsert_project(project("manual", None, None, Some("m")))
        .unwrap();
    d.upsert_project(project("closed", None, None, Some("x")))
        .unwrap();
    for (chat, project) in [
        ("c1", "anyone"),
        ("c2", "queued"),
        ("c3", "manual"),
        ("c4", "closed"),
        ("c5", "owned"),
        ("c6", "anyone"),
    ] {
        d.enqueue(chat, project, WEB, 1).unwrap();
    }
    assert!(d.waiting_for("a").is_empty(), "offline");
    d.set_presence("a", WEB, PresenceState::Online, 2).unwrap();
    // Owned first, then the everyone tier in arrival order, then the manual
    // chat that now lists `a`; never the queue-mode chat nor a project
    // whose service group `a` is not in.
    assert_eq!(d.waiting_for("a"), vec!["c5", "c1", "c6", "c3"]);
}
