//! Routing benchmark: builds a desk with `attendants` people spread over
//! groups and projects and `queued` waiting chats, then times, one call at a
//! time, the automatic routing decision (read-only), a full automatic
//! enqueue (decision plus assignment, closed again untimed), a queue
//! position lookup and a capture from the middle of the queue with its
//! fan-out list. This is the one place that reads a clock (`Instant`), only
//! to measure; the desk itself still gets `now_ms` from here.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{Channel, Desk, DeskConfig, Person, PersonKind, PresenceState, Project, RoutingMode};

/// Timings of each measured operation, one sample per call.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct BenchReport {
    pub decision: Vec<Duration>,
    pub enqueue_assign: Vec<Duration>,
    pub position: Vec<Duration>,
    pub capture_fanout: Vec<Duration>,
    pub queue_len: usize,
}

/// `p`-quantile (0..=1) of `samples` (nearest rank, from an HDR histogram of
/// nanoseconds), in microseconds.
pub fn percentile_us(samples: &[Duration], p: f64) -> f64 {
    let nanos: crate::latency::Latencies = samples
        .iter()
        .map(|sample| u64::try_from(sample.as_nanos()).unwrap_or(u64::MAX))
        .collect();
    nanos.quantile(p) as f64 / 1e3
}

/// Small deterministic generator (xorshift64*), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const GROUPS: usize = 10;

/// Builds the desk: groups `g0..g4` automatic, `g5..g9` queue mode; 10% of
/// people paused, 10% offline; projects with owner, assistant, and a group
/// (one in five without). The `queued` chats go to queue-mode projects.
fn build(attendants: usize, queued: usize, rng: &mut Rng) -> (Desk, Vec<String>, Vec<String>) {
    let mut config = DeskConfig::default();
    for g in 0..GROUPS {
        let mode = if g < GROUPS / 2 {
            RoutingMode::Automatic
        } else {
            RoutingMode::Queue
        };
        config.routing.by_group.insert(format!("g{g}"), mode);
    }
    let mut desk = Desk::new(config);
    for i in 0..attendants {
        let mut groups = vec![format!("g{}", i % GROUPS)];
        if i % 3 == 0 {
            groups.push(format!("g{}", (i / 3) % GROUPS));
        }
        let id = format!("att{i:04}");
        let person = Person {
            id: id.clone(),
            name: id.clone(),
            kind: PersonKind::Attendant,
            groups,
            channels: vec![Channel::Web, Channel::WhatsApp],
            max_chats: 3 + (i % 6) as u32,
        };
        desk.upsert_person(person, 0);
        let now = i as u64;
        match i % 10 {
            0 => {}
            1 => {
                desk.set_presence(&id, Channel::Web, PresenceState::Online, now)
                    .expect("online");
                desk.set_presence(
                    &id,
                    Channel::Web,
                    PresenceState::Paused {
                        reason: "lunch".into(),
                    },
                    now,
                )
                .expect("pause");
            }
            _ => {
                for ch in Channel::ALL {
                    desk.set_presence(&id, ch, PresenceState::Online, now)
                        .expect("online");
                }
            }
        }
    }
    let mut auto_projects = Vec::new();
    let mut queue_projects = Vec::new();
    for p in 0..attendants / 2 {
        let group = (p % 5 != 4).then(|| format!("g{}", rng.below(GROUPS)));
        let id = format!("prj{p:04}");
        let project = Project {
            id: id.clone(),
            name: id.clone(),
            owner: Some(format!("att{:04}", rng.below(attendants))),
            assistant: Some(format!("att{:04}", rng.below(attendants))),
            service_group: group.clone(),
        };
        desk.upsert_project(project).expect("project");
        let mode = desk.config().routing.mode_for(group.as_deref());
        match mode {
            RoutingMode::Queue => queue_projects.push(id),
            _ => auto_projects.push(id),
        }
    }
    // Some load so people differ: a few hundred active chats.
    for i in 0..attendants * 2 {
        let project = &auto_projects[rng.below(auto_projects.len())];
        let _ = desk.enqueue(&format!("warm{i}"), project, Channel::Web, 1_000);
    }
    let mut chat_ids = Vec::with_capacity(queued);
    for i in 0..queued {
        let id = format!("q{i:06}");
        let project = &queue_projects[rng.below(queue_projects.len())];
        let ch = Channel::ALL[i % 2];
        desk.enqueue(&id, project, ch, 2_000 + i as u64)
            .expect("enqueue");
        chat_ids.push(id);
    }
    (desk, auto_projects, chat_ids)
}

/// Runs the benchmark; `iterations` samples per operation (captures are
/// capped at half the queue so it stays near `queued` long).
pub fn bench_routing(attendants: usize, queued: usize, iterations: usize) -> BenchReport {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut desk, auto_projects, chat_ids) = build(attendants.max(2), queued.max(2), &mut rng);
    let mut report = BenchReport {
        queue_len: desk.waiting_len(),
        ..BenchReport::default()
    };
    for _ in 0..iterations {
        let project = &auto_projects[rng.below(auto_projects.len())];
        let t = Instant::now();
        let pick = desk.automatic_choice(project, Channel::Web, &[]);
        report.decision.push(t.elapsed());
        std::hint::black_box(pick.ok());
    }
    for i in 0..iterations {
        let project = &auto_projects[rng.below(auto_projects.len())];
        let id = format!("bench{i}");
        let t = Instant::now();
        let routed = desk.enqueue(&id, project, Channel::Web, 10_000 + i as u64);
        report.enqueue_assign.push(t.elapsed());
        std::hint::black_box(routed.ok());
        let _ = desk.close(&id, 10_001 + i as u64);
    }
    for _ in 0..iterations {
        let chat = &chat_ids[rng.below(chat_ids.len())];
        let t = Instant::now();
        let pos = desk.position(chat);
        report.position.push(t.elapsed());
        std::hint::black_box(pos.ok());
    }
    let captures = iterations.min(chat_ids.len() / 2);
    let mut taken = 0;
    let mut cursor = 0;
    while taken < captures && cursor < chat_ids.len() * 4 {
        cursor += 1;
        let chat = &chat_ids[rng.below(chat_ids.len())];
        let Some(c) = desk.chat(chat) else { continue };
        if c.responsible().is_some() {
            continue;
        }
        let channel = c.channel;
        // Someone with room on that channel: a fresh capturer, untimed.
        let who = format!("cap{taken}");
        desk.upsert_person(
            Person {
                id: who.clone(),
                name: who.clone(),
                kind: PersonKind::Attendant,
                groups: Vec::new(),
                channels: vec![channel],
                max_chats: 1,
            },
            20_000,
        );
        let _ = desk.set_presence(&who, channel, PresenceState::Online, 20_000);
        let t = Instant::now();
        let updates = desk.capture(chat, &who, 20_001);
        report.capture_fanout.push(t.elapsed());
        std::hint::black_box(updates.ok());
        let _ = desk.set_presence(&who, channel, PresenceState::Offline, 20_002);
        taken += 1;
    }
    report
}
