//! Article effectiveness: per article, in how many conversations it was shown, opened in the
//! chat and viewed on the portal, and how many of those conversations went on to a ticket or
//! a hand-off after it was first shown (the article did not settle the question).

use crate::store::{ArticleUse, ReportArticle, ReportConversation};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One article's figures; counts are of conversations, each counted once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ArticleFigures {
    pub article_id: String,
    pub title: String,
    pub shown: u64,
    pub opened: u64,
    pub viewed: u64,
    pub followed_by_ticket: u64,
    pub followed_by_handoff: u64,
    /// Share of the conversations it was shown in that needed neither a ticket nor a person
    /// afterwards.
    pub settled: f64,
}

/// The figures of every article used in the period, most shown first. `title` names an
/// article (its id when unknown).
pub fn effectiveness(
    uses: &[ReportArticle],
    conversations: &HashMap<String, ReportConversation>,
    title: impl Fn(&str) -> Option<String>,
) -> Vec<ArticleFigures> {
    // (article, conversation) -> first time of each use.
    let mut firsts: BTreeMap<(&str, &str), [Option<i64>; 3]> = BTreeMap::new();
    for used in uses {
        let slot = match used.kind {
            ArticleUse::Shown => 0,
            ArticleUse::Opened => 1,
            ArticleUse::Viewed => 2,
        };
        let times = firsts
            .entry((&used.article_id, &used.conversation_id))
            .or_default();
        times[slot] = Some(times[slot].map_or(used.at_ms, |at| at.min(used.at_ms)));
    }
    let mut figures: BTreeMap<&str, ArticleFigures> = BTreeMap::new();
    for ((article, conversation_id), times) in firsts {
        let entry = figures.entry(article).or_insert_with(|| ArticleFigures {
            article_id: article.to_string(),
            title: title(article).unwrap_or_else(|| article.to_string()),
            ..ArticleFigures::default()
        });
        // An article opened or viewed was shown, even if its listing predates the records.
        let first = times.iter().flatten().min().copied().unwrap_or_default();
        entry.shown += 1;
        entry.opened += u64::from(times[1].is_some());
        entry.viewed += u64::from(times[2].is_some());
        if let Some(conversation) = conversations.get(conversation_id) {
            let after = |at: Option<i64>| at.is_some_and(|at| at >= first);
            entry.followed_by_ticket += u64::from(after(conversation.row.ticket_at));
            entry.followed_by_handoff += u64::from(after(conversation.row.handoff_at));
        }
    }
    let mut all: Vec<ArticleFigures> = figures
        .into_values()
        .map(|mut entry| {
            let unsettled = entry.followed_by_ticket.max(entry.followed_by_handoff);
            entry.settled = if entry.shown == 0 {
                0.0
            } else {
                entry.shown.saturating_sub(unsettled) as f64 / entry.shown as f64
            };
            entry
        })
        .collect();
    all.sort_by(|a, b| b.shown.cmp(&a.shown).then(a.article_id.cmp(&b.article_id)));
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ReportUpdate;

    #[test]
    fn counts_conversations_once_and_what_followed() {
        let used = |article: &str, conversation: &str, at_ms, kind| ReportArticle {
            article_id: article.into(),
            conversation_id: conversation.into(),
            at_ms,
            kind,
        };
        let uses = vec![
            used("vpn", "c1", 10, ArticleUse::Shown),
            used("vpn", "c1", 11, ArticleUse::Shown),
            used("vpn", "c1", 12, ArticleUse::Opened),
            used("vpn", "c2", 10, ArticleUse::Shown),
            used("vpn", "c2", 15, ArticleUse::Viewed),
            used("mail", "c2", 10, ArticleUse::Shown),
        ];
        let c2 = ReportConversation {
            row: ReportUpdate {
                conversation_id: "c2".into(),
                handoff_at: Some(20),
                ..ReportUpdate::default()
            },
            ..ReportConversation::default()
        };
        let conversations = HashMap::from([("c2".to_string(), c2)]);
        let figures = effectiveness(&uses, &conversations, |id| {
            (id == "vpn").then(|| "VPN".to_string())
        });
        assert_eq!(figures[0].article_id, "vpn");
        assert_eq!(figures[0].title, "VPN");
        assert_eq!(
            (figures[0].shown, figures[0].opened, figures[0].viewed),
            (2, 1, 1)
        );
        assert_eq!(figures[0].followed_by_handoff, 1);
        assert_eq!(figures[0].settled, 0.5);
        assert_eq!(figures[1].title, "mail");
    }
}
