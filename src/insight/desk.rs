//! The desk report: for a period, the conversations opened in it, per day and per channel,
//! service group, project and attendant: how many, how many the assistant resolved alone
//! (containment: neither handed to a person nor to an external service), hand-offs, time
//! in queue and to the first human answer (p50, p90), handling time, lost chats, transfers,
//! tickets, close reasons and satisfaction; and each attendant's time online and paused by
//! reason. Everything is computed from the report rows the recorder wrote.

use super::Period;
use crate::store::{ReportConversation, ReportPresence, ReportUpdate};
use serde::Serialize;
use std::collections::BTreeMap;

/// The figures of one set of conversations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    pub conversations: u64,
    /// Resolved by the assistant alone.
    pub contained: u64,
    /// `contained / conversations` (0 when there are none).
    pub containment: f64,
    pub handoffs: u64,
    pub handoff_rate: f64,
    /// Handed to an external chat service.
    pub bridged: u64,
    pub tickets: u64,
    /// Served by a person of Ponte's desk.
    pub served: u64,
    pub lost: u64,
    pub transfers: u64,
    pub queue_p50_ms: Option<i64>,
    pub queue_p90_ms: Option<i64>,
    /// From the hand-off to the first attendant message.
    pub first_response_p50_ms: Option<i64>,
    pub first_response_p90_ms: Option<i64>,
    pub handling_p50_ms: Option<i64>,
    pub handling_p90_ms: Option<i64>,
    pub ratings: u64,
    pub satisfaction: Option<f64>,
    /// How many ratings of 1, 2, 3, 4 and 5.
    pub rating_counts: [u64; 5],
}

/// Figures under one value of a dimension (a day, a channel, a group...).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Row {
    pub key: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// An attendant's time on the desk within the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AttendantTime {
    pub attendant: String,
    pub online_ms: i64,
    pub paused_ms: i64,
    pub paused_by_reason: BTreeMap<String, i64>,
}

/// The whole desk report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeskReport {
    pub since: String,
    pub until: String,
    pub time_zone: String,
    pub totals: Figures,
    pub by_day: Vec<Row>,
    pub by_channel: Vec<Row>,
    pub by_group: Vec<Row>,
    pub by_project: Vec<Row>,
    pub by_attendant: Vec<Row>,
    pub close_reasons: BTreeMap<String, u64>,
    pub attendants_time: Vec<AttendantTime>,
}

/// Whether the assistant resolved `conversation` alone.
pub fn contained(conversation: &ReportConversation) -> bool {
    !conversation.row.outbound && conversation.row.handoff_at.is_none() && !conversation.row.bridged
}

/// How long the requester waited in the queue (to a person taking the chat) and for the
/// first human answer, both from the moment the chat was queued (or handed off).
pub fn waits(row: &ReportUpdate) -> (Option<i64>, Option<i64>) {
    let from = row.queued_at.or(row.handoff_at);
    let span = |to: Option<i64>| Some((to? - from?).max(0));
    (span(row.accepted_at), span(row.first_response_at))
}

/// Accumulates figures; `finish` computes the rates and quantiles.
#[derive(Default)]
struct Tally {
    figures: Figures,
    queue: Vec<i64>,
    first_response: Vec<i64>,
    handling: Vec<i64>,
    rating_sum: i64,
}

impl Tally {
    fn add(&mut self, conversation: &ReportConversation) {
        let row = &conversation.row;
        let figures = &mut self.figures;
        figures.conversations += 1;
        if contained(conversation) {
            figures.contained += 1;
        }
        if row.handoff_at.is_some() {
            figures.handoffs += 1;
        }
        if row.bridged {
            figures.bridged += 1;
        }
        if row.ticket_at.is_some() {
            figures.tickets += 1;
        }
        if row.accepted_at.is_some() {
            figures.served += 1;
        }
        if row.lost_at.is_some() {
            figures.lost += 1;
        }
        figures.transfers += row.transfers.max(0) as u64;
        let (queue, first_response) = waits(row);
        self.queue.extend(queue);
        self.first_response.extend(first_response);
        let handled = row
            .handle_ms
            .or_else(|| Some(row.closed_at? - row.accepted_at?));
        if let Some(handled) = handled.filter(|_| row.accepted_at.is_some()) {
            self.handling.push(handled.max(0));
        }
        if let Some(rating) = conversation.rating.filter(|r| (1..=5).contains(r)) {
            figures.ratings += 1;
            figures.rating_counts[(rating - 1) as usize] += 1;
            self.rating_sum += rating;
        }
    }

    fn finish(mut self) -> Figures {
        let figures = &mut self.figures;
        let share = |part: u64, whole: u64| {
            if whole == 0 {
                0.0
            } else {
                part as f64 / whole as f64
            }
        };
        figures.containment = share(figures.contained, figures.conversations);
        figures.handoff_rate = share(figures.handoffs, figures.conversations);
        (figures.queue_p50_ms, figures.queue_p90_ms) = quantiles(&mut self.queue);
        (figures.first_response_p50_ms, figures.first_response_p90_ms) =
            quantiles(&mut self.first_response);
        (figures.handling_p50_ms, figures.handling_p90_ms) = quantiles(&mut self.handling);
        if figures.ratings > 0 {
            figures.satisfaction = Some(self.rating_sum as f64 / figures.ratings as f64);
        }
        self.figures
    }
}

/// The nearest-rank p50 and p90 of `values`.
pub fn quantiles(values: &mut [i64]) -> (Option<i64>, Option<i64>) {
    if values.is_empty() {
        return (None, None);
    }
    values.sort_unstable();
    let rank = |q: f64| {
        let index = (q * values.len() as f64).ceil() as usize;
        values[index.clamp(1, values.len()) - 1]
    };
    (Some(rank(0.5)), Some(rank(0.9)))
}

fn grouped<'a>(
    conversations: &'a [ReportConversation],
    key: impl Fn(&'a ReportConversation) -> Option<String>,
) -> Vec<Row> {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for conversation in conversations {
        if let Some(key) = key(conversation) {
            tallies.entry(key).or_default().add(conversation);
        }
    }
    tallies
        .into_iter()
        .map(|(key, tally)| Row {
            key,
            figures: tally.finish(),
        })
        .collect()
}

/// Each attendant's time online and paused within the period, from the presence changes
/// (all changes before the period's end, oldest first). Time on several channels at once
/// counts once: an attendant is online while online on any channel, paused while paused on
/// one and online on none.
pub fn attendants_time(presence: &[ReportPresence], period: &Period) -> Vec<AttendantTime> {
    let mut by_attendant: BTreeMap<&str, Vec<&ReportPresence>> = BTreeMap::new();
    for change in presence {
        by_attendant
            .entry(&change.attendant)
            .or_default()
            .push(change);
    }
    let mut times = Vec::new();
    for (attendant, changes) in by_attendant {
        let mut time = AttendantTime {
            attendant: attendant.to_string(),
            ..AttendantTime::default()
        };
        let mut channels: BTreeMap<&str, (&str, Option<&str>)> = BTreeMap::new();
        let mut since = period.since_ms;
        // Time after now has not been spent yet, whatever the period's end.
        let end = period.until_ms.min(period.now_ms);
        let account = |channels: &BTreeMap<&str, (&str, Option<&str>)>,
                       from: i64,
                       to: i64,
                       time: &mut AttendantTime| {
            let (from, to) = (from.max(period.since_ms), to.min(end));
            if to <= from {
                return;
            }
            if channels.values().any(|(state, _)| *state == "online") {
                time.online_ms += to - from;
            } else if let Some((_, reason)) =
                channels.values().find(|(state, _)| *state == "paused")
            {
                time.paused_ms += to - from;
                *time
                    .paused_by_reason
                    .entry(reason.unwrap_or("").to_string())
                    .or_default() += to - from;
            }
        };
        for change in changes {
            account(&channels, since, change.at_ms, &mut time);
            since = since.max(change.at_ms);
            channels.insert(
                &change.channel,
                (change.state.as_str(), change.reason.as_deref()),
            );
        }
        account(&channels, since, end, &mut time);
        if time.online_ms > 0 || time.paused_ms > 0 {
            times.push(time);
        }
    }
    times
}

/// The desk report of `conversations` (those opened in `period`) and the presence changes.
pub fn report(
    conversations: &[ReportConversation],
    presence: &[ReportPresence],
    period: &Period,
) -> DeskReport {
    let mut totals = Tally::default();
    let mut close_reasons: BTreeMap<String, u64> = BTreeMap::new();
    for conversation in conversations {
        totals.add(conversation);
        if conversation.row.closed_at.is_some()
            && let Some(reason) = &conversation.row.close_reason
        {
            *close_reasons.entry(reason.clone()).or_default() += 1;
        }
    }
    // Every day of the period has a row, empty ones too, so charts show the gaps.
    let mut by_day: BTreeMap<String, Tally> = period
        .days()
        .into_iter()
        .map(|day| (day, Tally::default()))
        .collect();
    for conversation in conversations {
        if let Some(opened) = conversation.row.opened_at {
            by_day
                .entry(period.day_of(opened))
                .or_default()
                .add(conversation);
        }
    }
    let (since, until) = period.bounds();
    DeskReport {
        since,
        until,
        time_zone: period.zone_name.clone(),
        totals: totals.finish(),
        by_day: by_day
            .into_iter()
            .map(|(key, tally)| Row {
                key,
                figures: tally.finish(),
            })
            .collect(),
        by_channel: grouped(conversations, |c| c.row.channel.clone()),
        by_group: grouped(conversations, |c| c.row.group.clone()),
        by_project: grouped(conversations, |c| c.row.project.clone()),
        by_attendant: grouped(conversations, |c| c.row.attendant.clone()),
        close_reasons,
        attendants_time: attendants_time(presence, period),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first day of 1970, asked for once it was over.
    fn period() -> Period {
        Period::parse(Some("1970-01-01"), Some("1970-01-01"), None, 86_400_000).unwrap()
    }

    fn conversation(id: &str, update: impl FnOnce(&mut ReportUpdate)) -> ReportConversation {
        let mut row = ReportUpdate {
            conversation_id: id.to_string(),
            opened_at: Some(1_000),
            channel: Some("web".into()),
            ..ReportUpdate::default()
        };
        update(&mut row);
        ReportConversation {
            row,
            ..ReportConversation::default()
        }
    }

    #[test]
    fn figures_of_a_small_desk_by_hand() {
        let mut rated = conversation("c3", |row| {
            row.handoff_at = Some(2_000);
            row.queued_at = Some(2_000);
            row.accepted_at = Some(5_000);
            row.first_response_at = Some(8_000);
            row.attendant = Some("ana".into());
            row.closed_at = Some(65_000);
            row.close_reason = Some("solved".into());
            row.handle_ms = Some(60_000);
        });
        rated.rating = Some(4);
        let rows = vec![
            conversation("c1", |_| {}),
            conversation("c2", |row| row.ticket_at = Some(3_000)),
            rated,
            conversation("c4", |row| {
                row.handoff_at = Some(2_000);
                row.queued_at = Some(2_000);
                row.lost_at = Some(600_000);
            }),
        ];
        let report = report(&rows, &[], &period());
        let totals = &report.totals;
        assert_eq!(totals.conversations, 4);
        assert_eq!(totals.contained, 2);
        assert_eq!(totals.containment, 0.5);
        assert_eq!(totals.handoffs, 2);
        assert_eq!(totals.lost, 1);
        assert_eq!(totals.queue_p50_ms, Some(3_000));
        assert_eq!(totals.first_response_p90_ms, Some(6_000));
        assert_eq!(totals.handling_p50_ms, Some(60_000));
        assert_eq!(totals.satisfaction, Some(4.0));
        assert_eq!(totals.rating_counts, [0, 0, 0, 1, 0]);
        assert_eq!(report.close_reasons.get("solved"), Some(&1));
        assert_eq!(report.by_attendant.len(), 1);
        assert_eq!(report.by_day.len(), 1);
        assert_eq!(report.by_day[0].figures.conversations, 4);
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let mut values: Vec<i64> = (1..=10).collect();
        assert_eq!(quantiles(&mut values), (Some(5), Some(9)));
        assert_eq!(quantiles(&mut []), (None, None));
    }

    #[test]
    fn presence_time_is_counted_once_across_channels() {
        let change = |at_ms, channel: &str, state: &str, reason: Option<&str>| ReportPresence {
            attendant: "ana".into(),
            channel: channel.into(),
            at_ms,
            state: state.into(),
            reason: reason.map(String::from),
        };
        let presence = vec![
            change(10_000, "web", "online", None),
            change(20_000, "whatsapp", "online", None),
            change(30_000, "web", "paused", Some("lunch")),
            change(40_000, "whatsapp", "paused", Some("lunch")),
            change(70_000, "web", "offline", None),
            change(70_000, "whatsapp", "offline", None),
        ];
        let times = attendants_time(&presence, &period());
        assert_eq!(times[0].online_ms, 30_000);
        assert_eq!(times[0].paused_ms, 30_000);
        assert_eq!(times[0].paused_by_reason.get("lunch"), Some(&30_000));
    }

    #[test]
    fn presence_is_counted_up_to_now_in_a_period_that_ends_later() {
        // Today's report asked for at 10:00: Ana, online since 08:00 and still online, has
        // been online two hours, not the sixteen until midnight.
        let hour = 3_600_000;
        let today = Period::parse(Some("1970-01-01"), Some("1970-01-01"), None, 10 * hour).unwrap();
        let presence = vec![ReportPresence {
            attendant: "ana".into(),
            channel: "web".into(),
            at_ms: 8 * hour,
            state: "online".into(),
            reason: None,
        }];
        let times = attendants_time(&presence, &today);
        assert_eq!(times[0].online_ms, 2 * hour);
    }
}
