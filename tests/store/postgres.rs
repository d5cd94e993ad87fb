//! The PostgreSQL backend: the conformance suite against the server named by
//! `PONTE_TEST_POSTGRES_URL`, each test in a fresh schema dropped afterwards, plus what only a
//! shared server can show (two stores, as two processes would, writing one conversation).
//! Without the variable every test prints why it skipped and passes.

use std::sync::Arc;

use super::conformance::{sample_conversation, sample_ticket, text_message};
use ponte::store::{self as storage, Store, StoreOptions};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

const URL_VARIABLE: &str = "PONTE_TEST_POSTGRES_URL";

/// A schema of its own for one test; dropped (best effort) when the guard goes.
pub struct Schema {
    url: String,
    name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        let url = self.url.clone();
        let statement = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        // Drop cannot await, and the test's runtime cannot be blocked on: a short-lived
        // thread with its own runtime does it.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut connection = PgConnection::connect(&url).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(statement))
                    .execute(&mut connection)
                    .await
                    .ok()?;
                connection.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop test schema {}", self.name);
        }
    }
}

/// The server's URL, or `None` (with the reason printed) when the variable is unset.
fn server_url() -> Option<String> {
    match std::env::var(URL_VARIABLE) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            println!("skipped: {URL_VARIABLE} is not set");
            None
        }
    }
}

/// A fresh schema on the server and the URL of a connection that works in it.
pub async fn fresh_schema(url: &str) -> (String, Schema) {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).expect("random bytes");
    let name = format!("t_{}", u64::from_le_bytes(random));
    let mut connection = PgConnection::connect(url)
        .await
        .expect("connect to postgres");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
        .execute(&mut connection)
        .await
        .expect("create the test schema");
    connection.close().await.ok();
    let separator = if url.contains('?') { '&' } else { '?' };
    let store_url = format!("{url}{separator}options=-c%20search_path%3D{name}");
    let guard = Schema {
        url: url.to_owned(),
        name,
    };
    (store_url, guard)
}

async fn schema_store() -> Option<(Arc<dyn Store>, Schema)> {
    let url = server_url()?;
    let (store_url, guard) = fresh_schema(&url).await;
    let store = storage::open(&store_url, StoreOptions::default())
        .await
        .expect("open the postgres store");
    Some((store, guard))
}

mod conformance {
    use super::schema_store;
    crate::store::conformance::store_conformance_tests!(schema_store());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_share_sequences_and_ticket_numbers() {
    let Some(url) = server_url() else {
        return;
    };
    let (store_url, _guard) = fresh_schema(&url).await;
    // Two pools on one schema, as two Ponte processes would have; the second open finds the
    // schema migrated.
    let first = storage::open(&store_url, StoreOptions::default())
        .await
        .unwrap();
    let second = storage::open(&store_url, StoreOptions::default())
        .await
        .unwrap();
    let conversation = first
        .create_conversation(sample_conversation("ana"))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for index in 0..40 {
        let store = if index % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let id = conversation.id.clone();
        tasks.push(tokio::spawn(async move {
            // Every message is sent twice, once through each store: one copy is stored.
            let client_id = format!("c{}", index / 2);
            let message = store
                .append_message(text_message(&id, "oi", Some(&client_id)))
                .await
                .unwrap();
            let ticket = store
                .create_ticket(sample_ticket("ana", None))
                .await
                .unwrap();
            (message, ticket.number)
        }));
    }
    let mut stored = Vec::new();
    let mut numbers = Vec::new();
    for task in tasks {
        let (appended, number) = task.await.unwrap();
        if !appended.duplicate {
            stored.push(appended.message.seq);
        }
        numbers.push(number);
    }
    stored.sort();
    assert_eq!(
        stored,
        (1..=20).collect::<Vec<i64>>(),
        "one copy each, no gaps"
    );
    numbers.sort();
    let expected: Vec<String> = (1..=40).map(storage::ticket_number).collect();
    assert_eq!(numbers, expected, "ticket numbers unique and gap-free");
    let messages = second
        .messages_after(&conversation.id, 0, 100)
        .await
        .unwrap();
    assert_eq!(messages.len(), 20);
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn a_bad_postgres_url_fails_without_echoing_the_password() {
    // Nothing listens on port 1: the connection is refused at once.
    let url = "postgres://ponte:s3cret@127.0.0.1:1/ponte";
    let error = match storage::open(url, StoreOptions::default()).await {
        Ok(_) => panic!("{url} must fail"),
        Err(error) => error,
    };
    assert!(!error.to_string().contains("s3cret"), "{error}");
}
