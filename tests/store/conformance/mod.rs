//! The backend-agnostic conformance suite: what every [`Store`] must do, checked through the
//! trait only. It lives with the tests (no release build carries it); a backend's test file
//! runs it with one macro call.
//!
//! Each check is a public async function taking a store; [`run_all`] runs them in order on one
//! store, and `store_conformance_tests!` turns each into its own
//! `#[tokio::test]` on a fresh store, so a backend's test file is one macro call. The checks use
//! fresh ids and compare only what they wrote, so they can share a store; the ticket-number
//! checks assume no one else creates tickets while they run. Assertion messages say which
//! guarantee broke.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;

use ponte::store::{
    Channel, ConversationStatus, NewConversation, NewMessage, NewTicket, SenderKind, Store,
    StoreError, TicketStatus,
};

mod accounts;
mod bridge;
mod conversations;
mod knowledge;
mod last_messages;
mod leases;
mod messages;
mod nodes;
mod read_marks;
mod records;
mod reports;

pub use accounts::*;
pub use bridge::*;
pub use conversations::*;
pub use knowledge::*;
pub use last_messages::*;
pub use leases::*;
pub use messages::*;
pub use nodes::*;
pub use read_marks::*;
pub use records::*;
pub use reports::*;

/// Runs every check, in order, on one store, then closes it (the last check is about closing).
pub async fn run_all(store: Arc<dyn Store>) {
    conversation_roundtrip(&store).await;
    conversation_update_and_conflict(&store).await;
    conversation_concurrent_updates(&store).await;
    list_conversations_filters(&store).await;
    messages_sequence_and_paging(&store).await;
    idempotent_append_sequential(&store).await;
    idempotent_append_concurrent(&store).await;
    message_found_by_client_id(&store).await;
    concurrent_inputs_read_their_own_conversation(&store).await;
    last_messages_of_many_conversations(&store).await;
    step_commits_all_or_nothing(&store).await;
    ordering_across_concurrent_conversations(&store).await;
    concurrent_appends_to_one_conversation(&store).await;
    concurrent_steps_to_one_conversation(&store).await;
    tickets_lifecycle(&store).await;
    ticket_request_key_is_idempotent(&store).await;
    ticket_numbers_concurrent(&store).await;
    parameters_roundtrip(&store).await;
    tokens_roundtrip(&store).await;
    token_found_by_hash(&store).await;
    accounts_and_sessions(&store).await;
    sign_in_failures_counted_and_forgotten(&store).await;
    bridges_put_list_enable_delete(&store).await;
    outbox_written_with_step(&store).await;
    outbox_lane_order_and_retry(&store).await;
    outbox_hasten_brings_a_bridges_retries_forward(&store).await;
    outbox_attempts_replay_and_health(&store).await;
    inbound_receipts_dedup_and_forget(&store).await;
    deadlines_due_and_cleared(&store).await;
    bridge_files_kept_once(&store).await;
    bridge_invalid_input_rejected(&store).await;
    leases_exclusive_renewed_and_taken_over(&store).await;
    leases_release_frees_at_once(&store).await;
    knowledge_log_in_order_and_paged(&store).await;
    knowledge_log_followed_during_concurrent_appends(&store).await;
    knowledge_log_invalid_input_rejected(&store).await;
    report_rows_merge_and_ratings_are_once(&store).await;
    merged_report_rows_write_as_in_turn(&store).await;
    read_marks_move_forward_only(&store).await;
    invalid_input_rejected(&store).await;
    closed_store_rejects_calls(&store).await;
}

/// One `#[tokio::test]` per conformance check, each on a fresh store.
///
/// `$make_store` is an expression evaluating to a future of `(Arc<dyn Store>, guard)`, or of
/// `Option<(Arc<dyn Store>, guard)>` for a backend that may be unavailable (`None` ends the test
/// at once: the store said why it skipped); the guard (a temp dir, a schema name, ...) is kept
/// alive until the test ends.
macro_rules! store_conformance_tests {
    ($make_store:expr) => {
        $crate::store::conformance::store_conformance_tests!(@each $make_store;
            conversation_roundtrip,
            conversation_update_and_conflict,
            conversation_concurrent_updates,
            list_conversations_filters,
            messages_sequence_and_paging,
            idempotent_append_sequential,
            idempotent_append_concurrent,
            message_found_by_client_id,
            concurrent_inputs_read_their_own_conversation,
            last_messages_of_many_conversations,
            step_commits_all_or_nothing,
            ordering_across_concurrent_conversations,
            concurrent_appends_to_one_conversation,
            concurrent_steps_to_one_conversation,
            tickets_lifecycle,
            ticket_request_key_is_idempotent,
            ticket_numbers_concurrent,
            parameters_roundtrip,
            desk_log_roundtrip,
            desk_tail_and_snapshots_of_several_writers,
            tokens_roundtrip,
            token_found_by_hash,
            accounts_and_sessions,
            sign_in_failures_counted_and_forgotten,
            bridges_put_list_enable_delete,
            outbox_written_with_step,
            outbox_lane_order_and_retry,
            outbox_hasten_brings_a_bridges_retries_forward,
            outbox_attempts_replay_and_health,
            inbound_receipts_dedup_and_forget,
            deadlines_due_and_cleared,
            bridge_files_kept_once,
            bridge_invalid_input_rejected,
            leases_exclusive_renewed_and_taken_over,
            leases_release_frees_at_once,
            knowledge_log_in_order_and_paged,
            knowledge_log_followed_during_concurrent_appends,
            knowledge_log_invalid_input_rejected,
            report_rows_merge_and_ratings_are_once,
            merged_report_rows_write_as_in_turn,
            read_marks_move_forward_only,
            invalid_input_rejected,
            closed_store_rejects_calls,
        );
    };
    (@each $make_store:expr; $($check:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some((store, _guard)) =
                    $crate::store::conformance::Fixture::into_fixture($make_store.await)
                else {
                    return;
                };
                $crate::store::conformance::$check(&store).await;
                store.close().await;
            }
        )+
    };
}

pub(crate) use store_conformance_tests;

/// What a backend's `$make_store` gives `store_conformance_tests!`: a store and its guard, or
/// maybe one (see the macro).
pub trait Fixture {
    type Guard;
    fn into_fixture(self) -> Option<(Arc<dyn Store>, Self::Guard)>;
}

impl<G> Fixture for (Arc<dyn Store>, G) {
    type Guard = G;
    fn into_fixture(self) -> Option<(Arc<dyn Store>, G)> {
        Some(self)
    }
}

impl<G> Fixture for Option<(Arc<dyn Store>, G)> {
    type Guard = G;
    fn into_fixture(self) -> Option<(Arc<dyn Store>, G)> {
        self
    }
}

/// A fresh id: unique within the process and across runs on the same database.
pub fn unique_id(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static RUN: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    let run = RUN.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or(0)
    });
    // Zero-padded so ids sort in creation order.
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{run:x}-{count:08}")
}

pub fn sample_conversation(requester_id: &str) -> NewConversation {
    NewConversation {
        id: unique_id("conv"),
        channel: Channel::Web,
        requester_id: requester_id.to_owned(),
        language: ponte::lang::Language::PtBr,
        status: ConversationStatus::Bot,
        queue_group: None,
        machine_state: json!({"state": "greeting", "slots": {"name": "Ana"}, "turns": [1, 2]}),
    }
}

pub fn text_message(conversation_id: &str, body: &str, client_id: Option<&str>) -> NewMessage {
    NewMessage {
        conversation_id: conversation_id.to_owned(),
        sender_kind: SenderKind::Requester,
        sender_id: Some("requester-1".into()),
        body: body.to_owned(),
        payload: None,
        client_message_id: client_id.map(str::to_owned),
    }
}

pub fn sample_ticket(requester_id: &str, conversation_id: Option<&str>) -> NewTicket {
    NewTicket {
        requester_id: requester_id.to_owned(),
        activity_id: "general-request".into(),
        contract: "default".into(),
        group: "service-desk".into(),
        description: "A impressora do 3º andar não imprime".into(),
        status: TicketStatus::Open,
        tags: vec!["origem-chat".into()],
        conversation_id: conversation_id.map(str::to_owned),
        request_key: None,
    }
}

fn expect_code<T: std::fmt::Debug>(result: Result<T, StoreError>, code: &str, what: &str) {
    match result {
        Ok(value) => panic!("{what}: expected error {code}, got Ok({value:?})"),
        Err(error) => assert_eq!(error.code(), code, "{what}: wrong error {error}"),
    }
}
