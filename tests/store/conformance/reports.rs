//! The report tables: a conversation's partial rows merge by the documented rules (first
//! times kept, last places taken, counters added), texts, article uses and presence come
//! back in their period, a rating is stored once, and gap dismissals come and go.

use std::sync::Arc;

use ponte::store::{
    ArticleUse, GapReason, Rating, ReportArticle, ReportBatch, ReportPresence, ReportText,
    ReportUpdate, Store, StoreError,
};

use super::unique_id;

pub async fn report_rows_merge_and_ratings_are_once(store: &Arc<dyn Store>) {
    let id = unique_id("report");
    let update = |change: &dyn Fn(&mut ReportUpdate)| {
        let mut row = ReportUpdate {
            conversation_id: id.clone(),
            ..ReportUpdate::default()
        };
        change(&mut row);
        row
    };
    let first = ReportBatch {
        conversations: vec![
            update(&|row| {
                row.opened_at = Some(1_000);
                row.channel = Some("web".into());
                row.texts = 1;
            }),
            update(&|row| {
                row.handoff_at = Some(2_000);
                row.group = Some("infra".into());
                row.texts = 1;
                row.fallbacks = 1;
            }),
        ],
        texts: vec![ReportText {
            conversation_id: id.clone(),
            at_ms: 1_500,
            language: "pt-BR".into(),
            reason: GapReason::Fallback,
            score: None,
            text: "onde fica o bicicletário".into(),
        }],
        articles: vec![ReportArticle {
            article_id: "vpn".into(),
            conversation_id: id.clone(),
            at_ms: 1_600,
            kind: ArticleUse::Viewed,
        }],
        presence: vec![ReportPresence {
            attendant: "ana".into(),
            channel: "web".into(),
            at_ms: 1_700,
            state: "paused".into(),
            reason: Some("lunch".into()),
        }],
    };
    store.record_report(first).await.unwrap();
    let second = ReportBatch {
        conversations: vec![update(&|row| {
            row.opened_at = Some(9_999);
            row.handoff_at = Some(9_999);
            row.group = Some("desk".into());
            row.transfers = 1;
            row.closed_at = Some(5_000);
            row.close_reason = Some("resolved".into());
            row.bridged = true;
        })],
        ..ReportBatch::default()
    };
    store.record_report(second).await.unwrap();
    let row = store.report_conversation(&id).await.unwrap().unwrap();
    assert_eq!(row.row.opened_at, Some(1_000), "first opening kept");
    assert_eq!(row.row.handoff_at, Some(2_000), "first hand-off kept");
    assert_eq!(row.row.group.as_deref(), Some("desk"), "last group taken");
    assert_eq!(
        (row.row.texts, row.row.fallbacks, row.row.transfers),
        (2, 1, 1)
    );
    assert!(row.row.bridged && !row.row.outbound);
    assert_eq!(row.row.close_reason.as_deref(), Some("resolved"));
    let listed = store.report_conversations(1_000, 1_001).await.unwrap();
    assert!(listed.iter().any(|c| c.row.conversation_id == id));
    assert!(
        store
            .report_conversations(1_001, 2_000)
            .await
            .unwrap()
            .iter()
            .all(|c| c.row.conversation_id != id),
        "the period is by opening"
    );
    let texts = store.report_texts(1_500, 1_501).await.unwrap();
    let text = texts
        .iter()
        .find(|t| t.text.conversation_id == id && t.text.reason == GapReason::Fallback)
        .expect("the fallback text is read back");
    assert_eq!(
        (text.followed.handoff_at, text.followed.group.as_deref()),
        (Some(2_000), Some("desk")),
        "a text comes with what followed in its conversation"
    );
    let articles = store.report_articles(1_600, 1_601).await.unwrap();
    assert!(
        articles
            .iter()
            .any(|a| a.conversation_id == id && a.kind == ArticleUse::Viewed)
    );
    let presence = store.report_presence(1_701).await.unwrap();
    assert!(
        presence
            .iter()
            .any(|p| p.reason.as_deref() == Some("lunch"))
    );

    let rating = |value: i64| Rating {
        conversation_id: id.clone(),
        rating: value,
        comment: Some("bom".into()),
        at_ms: 6_000,
    };
    assert!(store.rate_conversation(rating(4)).await.unwrap());
    assert!(
        !store.rate_conversation(rating(5)).await.unwrap(),
        "rated once"
    );
    assert!(matches!(
        store.rate_conversation(rating(9)).await,
        Err(StoreError::InvalidInput(_))
    ));
    let row = store.report_conversation(&id).await.unwrap().unwrap();
    assert_eq!((row.rating, row.comment.as_deref()), (Some(4), Some("bom")));

    let key = unique_id("pt-BR:bicicl");
    store.dismiss_gap(&key, "kim", true).await.unwrap();
    store.dismiss_gap(&key, "kim", true).await.unwrap();
    assert!(store.dismissed_gaps().await.unwrap().contains(&key));
    store.dismiss_gap(&key, "kim", false).await.unwrap();
    assert!(!store.dismissed_gaps().await.unwrap().contains(&key));
}

/// What the recorder merges before writing (`ReportUpdate::merge`) gives the very row that
/// writing each partial row in turn gives.
pub async fn merged_report_rows_write_as_in_turn(store: &Arc<dyn Store>) {
    let in_turn = unique_id("report-turn");
    let merged = unique_id("report-merged");
    let updates = |id: &str| {
        let row = |change: &dyn Fn(&mut ReportUpdate)| {
            let mut row = ReportUpdate {
                conversation_id: id.to_string(),
                ..ReportUpdate::default()
            };
            change(&mut row);
            row
        };
        vec![
            row(&|r| {
                r.opened_at = Some(1_000);
                r.channel = Some("web".into());
                r.language = Some("es".into());
                r.texts = 1;
            }),
            row(&|r| {
                r.texts = 2;
                r.fallbacks = 1;
                r.handoff_at = Some(2_000);
                r.queued_at = Some(2_000);
                r.group = Some("infra".into());
                r.project = Some("p1".into());
            }),
            row(&|r| {
                r.accepted_at = Some(3_000);
                r.attendant = Some("ana".into());
                r.transfers = 1;
                r.group = Some("desk".into());
                r.channel = Some("whatsapp".into());
                r.bridged = true;
            }),
            row(&|r| {
                r.first_response_at = Some(4_000);
                r.accepted_at = Some(3_500);
                r.attendant = Some("bia".into());
                r.transfers = 1;
                r.closed_at = Some(5_000);
                r.close_reason = Some("resolved".into());
                r.handle_ms = Some(2_000);
                r.ticket_at = Some(4_500);
                r.activity_id = Some("vpn".into());
            }),
            row(&|r| {
                r.closed_at = Some(6_000);
                r.close_reason = Some("no_response".into());
                r.lost_at = Some(5_500);
                r.outbound = true;
            }),
        ]
    };
    for update in updates(&in_turn) {
        store
            .record_report(ReportBatch::from(update))
            .await
            .unwrap();
    }
    let mut all = updates(&merged).into_iter();
    let mut one = all.next().unwrap();
    for later in all {
        one.merge(later);
    }
    store.record_report(ReportBatch::from(one)).await.unwrap();
    let mut expected = store.report_conversation(&in_turn).await.unwrap().unwrap();
    let got = store.report_conversation(&merged).await.unwrap().unwrap();
    expected.row.conversation_id = merged.clone();
    assert_eq!(got, expected);
    assert_eq!(
        (
            got.row.texts,
            got.row.transfers,
            got.row.accepted_at,
            got.row.attendant.as_deref(),
            got.row.close_reason.as_deref()
        ),
        (3, 2, Some(3_000), Some("bia"), Some("no_response")),
        "first times kept, last places taken, counters added"
    );
}
