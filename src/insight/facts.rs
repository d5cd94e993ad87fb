//! What the orchestrator and the desk tell the recorder, turned into report facts: a
//! conversation opened, a requester text and what the assistant made of it, articles shown,
//! opened and viewed, a hand-off, a ticket, the first attendant answer, and each desk
//! operation (queued, accepted, transferred, lost, closed, presence).

use crate::conversation::{Candidate, Expecting, Understanding};
use crate::desk::{Applied, DeskOp, PresenceState, RoutingOutcome};
use crate::store::{
    self, ArticleUse, GapReason, ReportArticle, ReportBatch, ReportPresence, ReportText,
    ReportUpdate,
};

fn update(conversation_id: &str) -> ReportUpdate {
    ReportUpdate {
        conversation_id: conversation_id.to_string(),
        ..ReportUpdate::default()
    }
}

fn one(update: ReportUpdate) -> ReportBatch {
    update.into()
}

/// A conversation was created (by the requester, or by an attendant when `outbound`).
pub fn opened(conversation: &store::Conversation, outbound: bool) -> ReportUpdate {
    ReportUpdate {
        opened_at: Some(conversation.created_at),
        channel: Some(conversation.channel.to_string()),
        language: Some(conversation.language.tag().to_string()),
        outbound,
        ..update(&conversation.id)
    }
}

/// A requester text the assistant read (`expecting` what it expected then): counted, kept
/// for the knowledge gaps when it is one, and the articles it answered with recorded as
/// shown. A text written to a person is none of the assistant's business.
pub fn understood(
    conversation_id: &str,
    at_ms: i64,
    language: &str,
    text: &str,
    understanding: &Understanding,
    expecting: Expecting,
) -> ReportBatch {
    if matches!(expecting, Expecting::HumanChat | Expecting::Nothing) {
        return ReportBatch::default();
    }
    let mut batch = one(ReportUpdate {
        texts: 1,
        fallbacks: i64::from(matches!(understanding, Understanding::Fallback)),
        ..update(conversation_id)
    });
    let searching = matches!(expecting, Expecting::ArticleTitle | Expecting::ActivityName);
    let (reason, score) = match understanding {
        Understanding::Fallback if searching => (Some(GapReason::NoHit), None),
        Understanding::Fallback => (Some(GapReason::Fallback), None),
        Understanding::Ambiguous { .. } => (Some(GapReason::Ambiguous), None),
        Understanding::Articles { hits } if hits.is_empty() => (Some(GapReason::NoHit), None),
        Understanding::Articles { hits } => {
            (Some(GapReason::Answered), Some(f64::from(hits[0].score)))
        }
        Understanding::Activities { hits } if hits.is_empty() && searching => {
            (Some(GapReason::NoHit), None)
        }
        Understanding::Activities { .. } | Understanding::Control { .. } => (None, None),
    };
    // Free text typed where a choice or a yes/no was expected is no question.
    let asks = matches!(
        expecting,
        Expecting::FreeText | Expecting::ArticleTitle | Expecting::ActivityName | Expecting::Choice
    );
    if let Some(reason) = reason.filter(|_| asks && !text.trim().is_empty()) {
        batch.texts.push(ReportText {
            conversation_id: conversation_id.to_string(),
            at_ms,
            language: language.to_string(),
            reason,
            score,
            text: store::clip_text(text.trim()),
        });
    }
    let shown: Vec<&str> = match understanding {
        Understanding::Articles { hits } => hits.iter().map(|hit| hit.id.as_str()).collect(),
        Understanding::Ambiguous { candidates } => candidates
            .iter()
            .filter_map(|candidate| match candidate {
                Candidate::Article { article } => Some(article.id.as_str()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    for article_id in shown {
        batch.articles.push(article(
            conversation_id,
            at_ms,
            article_id,
            ArticleUse::Shown,
        ));
    }
    batch
}

/// One use of an article.
pub fn article(
    conversation_id: &str,
    at_ms: i64,
    article_id: &str,
    kind: ArticleUse,
) -> ReportArticle {
    ReportArticle {
        article_id: article_id.to_string(),
        conversation_id: conversation_id.to_string(),
        at_ms,
        kind,
    }
}

/// The assistant handed the chat over, to Ponte's desk or (`bridged`) an external service.
pub fn handoff(conversation_id: &str, at_ms: i64, group: &str, bridged: bool) -> ReportUpdate {
    ReportUpdate {
        handoff_at: Some(at_ms),
        group: Some(group.to_string()),
        bridged,
        ..update(conversation_id)
    }
}

/// A ticket was opened from the chat.
pub fn ticket(conversation_id: &str, at_ms: i64, activity_id: &str) -> ReportUpdate {
    ReportUpdate {
        ticket_at: Some(at_ms),
        activity_id: Some(activity_id.to_string()),
        ..update(conversation_id)
    }
}

/// An attendant wrote in the chat (only the first time counts), maybe sending an article.
pub fn attendant_message(
    conversation_id: &str,
    at_ms: i64,
    article_sent: Option<String>,
) -> ReportUpdate {
    ReportUpdate {
        first_response_at: Some(at_ms),
        article_sent,
        ..update(conversation_id)
    }
}

/// What a desk operation, durable and applied, tells the reports.
pub fn desk(op: &DeskOp, applied: &Applied) -> ReportBatch {
    let at = |now_ms: &u64| Some(*now_ms as i64);
    let assigned = |conversation_id: &str, now_ms: &u64| match &applied.routing {
        Some(RoutingOutcome::Assigned { person, .. }) => one(ReportUpdate {
            accepted_at: at(now_ms),
            attendant: Some(person.clone()),
            ..update(conversation_id)
        }),
        _ => ReportBatch::default(),
    };
    match op {
        DeskOp::Enqueue {
            conversation_id,
            project_id,
            now_ms,
            ..
        } => {
            let mut batch = assigned(conversation_id, now_ms);
            batch.conversations.insert(
                0,
                ReportUpdate {
                    queued_at: at(now_ms),
                    project: Some(project_id.clone()),
                    ..update(conversation_id)
                },
            );
            batch
        }
        DeskOp::Reroute {
            conversation_id,
            now_ms,
        }
        | DeskOp::Decline {
            conversation_id,
            now_ms,
            ..
        }
        | DeskOp::Reopen {
            conversation_id,
            now_ms,
            ..
        } => assigned(conversation_id, now_ms),
        DeskOp::Choose {
            conversation_id,
            person,
            now_ms,
        }
        | DeskOp::Capture {
            conversation_id,
            person,
            now_ms,
        } => one(ReportUpdate {
            accepted_at: at(now_ms),
            attendant: Some(person.clone()),
            ..update(conversation_id)
        }),
        DeskOp::StartOutbound {
            conversation_id,
            person,
            project_id,
            now_ms,
            ..
        } => one(ReportUpdate {
            accepted_at: at(now_ms),
            attendant: Some(person.clone()),
            project: Some(project_id.clone()),
            outbound: true,
            ..update(conversation_id)
        }),
        DeskOp::Transfer {
            conversation_id,
            to,
            ..
        } => one(ReportUpdate {
            transfers: 1,
            attendant: Some(to.clone()),
            ..update(conversation_id)
        }),
        DeskOp::MarkLost {
            conversation_id,
            now_ms,
        } => one(ReportUpdate {
            lost_at: at(now_ms),
            ..update(conversation_id)
        }),
        DeskOp::Close {
            conversation_id,
            reason,
            now_ms,
            ..
        } => one(ReportUpdate {
            closed_at: at(now_ms),
            close_reason: Some(reason.clone()),
            handle_ms: applied.handle_ms.map(|ms| ms as i64),
            ..update(conversation_id)
        }),
        DeskOp::SetPresence {
            person,
            channel,
            state,
            now_ms,
        } => {
            let (state, reason) = match state {
                PresenceState::Online => ("online", None),
                PresenceState::Offline => ("offline", None),
                PresenceState::Paused { reason } => ("paused", Some(reason.clone())),
            };
            ReportBatch {
                presence: vec![ReportPresence {
                    attendant: person.clone(),
                    channel: channel.to_string(),
                    at_ms: *now_ms as i64,
                    state: state.to_string(),
                    reason,
                }],
                ..ReportBatch::default()
            }
        }
        _ => ReportBatch::default(),
    }
}
