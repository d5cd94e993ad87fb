//! Conformance checks on the knowledge change log: batches read back in order with their
//! fields, paging, a reader following the log during concurrent appends misses nothing, and
//! invalid changes are refused without writing anything.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ponte::knowledge::DocKind;
use ponte::store::{KnowledgeChange, KnowledgeOp, MAX_PAGE, NewKnowledgeChange, Store};
use serde_json::json;

use super::*;

fn upsert(origin: &str, kind: DocKind, id: &str, title: &str) -> NewKnowledgeChange {
    NewKnowledgeChange {
        origin: origin.to_string(),
        kind,
        doc_id: id.to_string(),
        op: KnowledgeOp::Upsert,
        body: json!({"kind": kind.tag(), "id": id, "title": title}).to_string(),
    }
}

fn delete(origin: &str, kind: DocKind, id: &str) -> NewKnowledgeChange {
    NewKnowledgeChange {
        origin: origin.to_string(),
        kind,
        doc_id: id.to_string(),
        op: KnowledgeOp::Delete,
        body: String::new(),
    }
}

/// The greatest sequence number in the log (0 when it is empty).
async fn log_end(store: &Arc<dyn Store>) -> i64 {
    let mut end = 0;
    loop {
        let page = store.knowledge_changes_after(end, MAX_PAGE).await.unwrap();
        match page.last() {
            Some(last) => end = last.seq,
            None => return end,
        }
    }
}

fn same_change(stored: &KnowledgeChange, written: &NewKnowledgeChange) -> bool {
    stored.origin == written.origin
        && stored.kind == written.kind
        && stored.doc_id == written.doc_id
        && stored.op == written.op
        && stored.body == written.body
}

pub async fn knowledge_log_in_order_and_paged(store: &Arc<dyn Store>) {
    let start = log_end(store).await;
    let origin = unique_id("node");
    let article = unique_id("kb");
    let activity = unique_id("act");
    let batch = vec![
        upsert(&origin, DocKind::Article, &article, "Renew a certificate"),
        upsert(&origin, DocKind::Activity, &activity, "Printer request"),
        delete(&origin, DocKind::Article, &article),
    ];
    let last = store.append_knowledge_changes(batch.clone()).await.unwrap();
    let read = store.knowledge_changes_after(start, 10).await.unwrap();
    assert_eq!(read.len(), 3, "a batch reads back whole: {read:?}");
    assert_eq!(
        read[2].seq, last,
        "the append returns the last change's number"
    );
    assert!(
        read.windows(2).all(|pair| pair[0].seq < pair[1].seq),
        "changes read back in order: {read:?}"
    );
    for (stored, written) in read.iter().zip(&batch) {
        assert!(same_change(stored, written), "{stored:?} != {written:?}");
        assert!(stored.at_ms > 0, "the store stamps when it took a change");
    }

    let first_page = store.knowledge_changes_after(start, 2).await.unwrap();
    assert_eq!(
        first_page,
        read[..2].to_vec(),
        "a page holds at most `limit`"
    );
    let rest = store
        .knowledge_changes_after(first_page[1].seq, 2)
        .await
        .unwrap();
    assert_eq!(
        rest,
        read[2..].to_vec(),
        "the next page goes on after the last"
    );
    assert!(
        store
            .knowledge_changes_after(last, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing after the end"
    );

    let next = store
        .append_knowledge_changes(vec![upsert(&origin, DocKind::Article, &article, "Again")])
        .await
        .unwrap();
    assert!(next > last, "a later append gets a greater number");
}

pub async fn knowledge_log_followed_during_concurrent_appends(store: &Arc<dyn Store>) {
    const WRITERS: usize = 4;
    const EACH: usize = 15;
    let start = log_end(store).await;
    let origin = unique_id("node");
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let store = store.clone();
        let origin = origin.clone();
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..EACH {
                let id = format!("kb-{writer}-{n}");
                store
                    .append_knowledge_changes(vec![upsert(&origin, DocKind::Article, &id, "t")])
                    .await
                    .unwrap();
                ids.push(id);
            }
            ids
        }));
    }
    // A follower reading as the nodes do: after the last number it read, in small pages.
    let follower = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut position = start;
            let mut seen = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(60);
            while seen.len() < WRITERS * EACH && Instant::now() < deadline {
                let page = store.knowledge_changes_after(position, 7).await.unwrap();
                if page.is_empty() {
                    tokio::task::yield_now().await;
                    continue;
                }
                for change in page {
                    assert!(change.seq > position, "numbers only grow");
                    position = change.seq;
                    seen.push(change.doc_id);
                }
            }
            seen
        })
    };
    let mut written = BTreeSet::new();
    for writer in writers {
        written.extend(writer.await.unwrap());
    }
    let seen = follower.await.unwrap();
    assert_eq!(
        seen.len(),
        WRITERS * EACH,
        "the follower saw every change exactly once"
    );
    assert_eq!(
        seen.into_iter().collect::<BTreeSet<_>>(),
        written,
        "a follower going on from the last number it read missed no change"
    );
}

pub async fn knowledge_log_invalid_input_rejected(store: &Arc<dyn Store>) {
    let start = log_end(store).await;
    let origin = unique_id("node");
    expect_code(
        store.append_knowledge_changes(Vec::new()).await,
        "invalid_input",
        "an empty batch",
    );
    let mut not_json = upsert(&origin, DocKind::Article, "kb-x", "t");
    not_json.body = "not json".to_string();
    let mut not_object = upsert(&origin, DocKind::Article, "kb-x", "t");
    not_object.body = "[1, 2]".to_string();
    let blank_id = upsert(&origin, DocKind::Article, " ", "t");
    let blank_origin = upsert("", DocKind::Article, "kb-x", "t");
    for (change, what) in [
        (not_json, "an upsert whose body is not JSON"),
        (not_object, "an upsert whose body is not an object"),
        (blank_id, "a blank document id"),
        (blank_origin, "a blank origin"),
    ] {
        // With a good change before it: a refused batch writes nothing at all.
        let good = upsert(&origin, DocKind::Article, "kb-good", "t");
        expect_code(
            store.append_knowledge_changes(vec![good, change]).await,
            "invalid_input",
            what,
        );
    }
    expect_code(
        store.knowledge_changes_after(0, 0).await,
        "invalid_input",
        "a zero limit",
    );
    assert_eq!(log_end(store).await, start, "refused changes wrote nothing");
}
