//! `ponte bench reports`: fills a store with a generated history (conversations with their
//! messages, their report rows spread over 30 days, gap texts drawn from a few hundred
//! topics, article uses and presence changes), then times the desk report over 30 days and
//! the gap clustering, several rounds each, and prints the medians.

use crate::insight::{self, Period};
use crate::store::{
    ArticleUse, ConversationStatus, GapReason, NewConversation, NewMessage, ReportArticle,
    ReportBatch, ReportPresence, ReportText, ReportUpdate, SenderKind, Step, StepTarget, Store,
};
use anyhow::Context;
use std::sync::Arc;
use std::time::Instant;

/// What to generate and how often to time.
#[derive(Debug, clap::Args)]
pub struct ReportBenchArgs {
    /// Conversations to generate (0: time what the store holds).
    #[arg(long, default_value_t = 100_000)]
    pub conversations: usize,
    /// Messages in all, spread evenly over the conversations.
    #[arg(long, default_value_t = 1_000_000)]
    pub messages: usize,
    /// Gap texts (the assistant's fallbacks) to cluster.
    #[arg(long, default_value_t = 50_000)]
    pub gap_texts: usize,
    /// Timed rounds of each report.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 19)]
    pub seed: u64,
}

const DAY_MS: i64 = 86_400_000;
const WORDS: [&str; 48] = [
    "impressora",
    "vpn",
    "senha",
    "email",
    "crachá",
    "monitor",
    "teclado",
    "licença",
    "acesso",
    "pasta",
    "servidor",
    "wifi",
    "notebook",
    "celular",
    "token",
    "certificado",
    "sistema",
    "relatório",
    "planilha",
    "reembolso",
    "férias",
    "ponto",
    "folha",
    "contrato",
    "compra",
    "estoque",
    "fornecedor",
    "nota",
    "fiscal",
    "cadastro",
    "projeto",
    "reunião",
    "sala",
    "agenda",
    "backup",
    "arquivo",
    "impressão",
    "scanner",
    "telefone",
    "ramal",
    "câmera",
    "microfone",
    "fone",
    "cabo",
    "tomada",
    "cadeira",
    "mesa",
    "janela",
];
const FILLER: [&str; 16] = [
    "como",
    "faço",
    "para",
    "meu",
    "minha",
    "não",
    "está",
    "funcionando",
    "preciso",
    "de",
    "ajuda",
    "com",
    "o",
    "a",
    "hoje",
    "urgente",
];

pub(super) async fn run(store: Arc<dyn Store>, args: &ReportBenchArgs) -> anyhow::Result<()> {
    let now = crate::store::now_millis();
    if args.conversations > 0 {
        let started = Instant::now();
        generate(store.clone(), args, now).await?;
        eprintln!(
            "generated {} conversations, {} messages, {} gap texts in {:.1} s",
            args.conversations,
            args.messages,
            args.gap_texts,
            started.elapsed().as_secs_f64()
        );
    }
    let period = Period::parse(Some("30d"), None, Some("America/Sao_Paulo"), now)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let mut desk = Vec::new();
    let mut gaps = Vec::new();
    // The reads alone, to tell the store's share from the computing.
    let mut rows_read = Vec::new();
    let mut texts_read = Vec::new();
    let mut figures = (0, 0, 0);
    for _ in 0..args.rounds.max(1) {
        let started = Instant::now();
        let report = insight::desk_report(store.as_ref(), &period).await?;
        desk.push(started.elapsed().as_secs_f64() * 1_000.0);
        let started = Instant::now();
        let found = insight::gap_report(store.as_ref(), &period, true).await?;
        gaps.push(started.elapsed().as_secs_f64() * 1_000.0);
        let started = Instant::now();
        store
            .report_conversations(period.since_ms, period.until_ms)
            .await?;
        rows_read.push(started.elapsed().as_secs_f64() * 1_000.0);
        let started = Instant::now();
        store.report_texts(period.since_ms, period.until_ms).await?;
        texts_read.push(started.elapsed().as_secs_f64() * 1_000.0);
        figures = (
            report.totals.conversations,
            found.texts,
            found.clusters.len(),
        );
    }
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    println!(
        "desk report, 30 days, {} conversations: median {:.0} ms (min {:.0}, max {:.0}) over {} rounds",
        figures.0,
        median(&mut desk),
        desk[0],
        desk[desk.len() - 1],
        desk.len()
    );
    println!(
        "gap clustering, {} texts into {} clusters: median {:.0} ms (min {:.0}, max {:.0})",
        figures.1,
        figures.2,
        median(&mut gaps),
        gaps[0],
        gaps[gaps.len() - 1]
    );
    println!(
        "of which reading: conversation rows median {:.0} ms, gap texts median {:.0} ms",
        median(&mut rows_read),
        median(&mut texts_read)
    );
    Ok(())
}

async fn generate(store: Arc<dyn Store>, args: &ReportBenchArgs, now: i64) -> anyhow::Result<()> {
    let per_conversation = (args.messages / args.conversations.max(1)).max(1);
    // Conversations and messages, written by a few concurrent writers (group commit).
    let writers = 16;
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let store = store.clone();
        let count = args.conversations;
        let seed = args.seed;
        tasks.push(tokio::spawn(async move {
            for index in (writer..count).step_by(writers) {
                let id = format!("bench-{seed}-{index:07}");
                let messages = (0..per_conversation)
                    .map(|seq| NewMessage {
                        conversation_id: id.clone(),
                        sender_kind: if seq % 2 == 0 {
                            SenderKind::Requester
                        } else {
                            SenderKind::Assistant
                        },
                        sender_id: None,
                        body: format!("message {seq} of a generated conversation"),
                        payload: None,
                        client_message_id: None,
                    })
                    .collect();
                store
                    .commit_step(Step {
                        target: StepTarget::Create(NewConversation {
                            id: id.clone(),
                            channel: crate::channel::Channel::Web,
                            requester_id: format!("requester-{}", index % 5_000),
                            language: crate::lang::Language::PtBr,
                            status: ConversationStatus::Finished,
                            queue_group: None,
                            machine_state: serde_json::json!({}),
                        }),
                        messages,
                        outbox: Vec::new(),
                        deadline: None,
                    })
                    .await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await.context("a writer task")??;
    }
    // Report rows, gap texts, article uses and presence, in batches.
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let mut batch = ReportBatch::default();
    let channels = ["web", "whatsapp", "teams"];
    let groups = ["service-desk", "infra", "rh", "financeiro"];
    let attendants: Vec<String> = (0..40).map(|i| format!("attendant-{i:02}")).collect();
    let reasons = ["solved", "no_answer", "duplicate", "escalated"];
    for index in 0..args.conversations {
        let id = format!("bench-{}-{index:07}", args.seed);
        let opened = now - rng.i64(0..30 * DAY_MS);
        let mut row = ReportUpdate {
            conversation_id: id.clone(),
            opened_at: Some(opened),
            channel: Some(channels[rng.usize(0..3)].into()),
            language: Some(["pt-BR", "es", "en"][rng.usize(0..3)].into()),
            texts: 3,
            ..ReportUpdate::default()
        };
        if rng.f32() < 0.4 {
            let queued = opened + rng.i64(5_000..120_000);
            row.handoff_at = Some(queued);
            row.queued_at = Some(queued);
            row.group = Some(groups[rng.usize(0..4)].into());
            row.project = Some("default".into());
            if rng.f32() < 0.9 {
                let accepted = queued + rng.i64(1_000..900_000);
                row.accepted_at = Some(accepted);
                row.attendant = Some(attendants[rng.usize(0..40)].clone());
                row.first_response_at = Some(accepted + rng.i64(2_000..60_000));
                row.transfers = i64::from(rng.f32() < 0.1);
                let handled = rng.i64(60_000..1_800_000);
                row.closed_at = Some(accepted + handled);
                row.handle_ms = Some(handled);
                row.close_reason = Some(reasons[rng.usize(0..4)].into());
            } else {
                row.lost_at = Some(queued + 900_000);
            }
        } else if rng.f32() < 0.3 {
            row.ticket_at = Some(opened + 60_000);
            row.activity_id = Some("account-unlock".into());
        }
        batch.conversations.push(row);
        if rng.f32() < 0.5 {
            batch.articles.push(ReportArticle {
                article_id: format!("article-{}", rng.usize(0..300)),
                conversation_id: id.clone(),
                at_ms: opened + 2_000,
                kind: ArticleUse::Shown,
            });
        }
        if index < args.gap_texts {
            batch.texts.push(ReportText {
                conversation_id: id,
                at_ms: opened + 1_000,
                language: "pt-BR".into(),
                reason: GapReason::Fallback,
                score: None,
                text: gap_text(&mut rng),
            });
        }
        if batch.len() >= 5_000 {
            store.record_report(std::mem::take(&mut batch)).await?;
        }
    }
    for attendant in &attendants {
        let mut at = now - 30 * DAY_MS;
        while at < now {
            for (state, reason) in [
                ("online", None),
                ("paused", Some("lunch")),
                ("offline", None),
            ] {
                batch.presence.push(ReportPresence {
                    attendant: attendant.clone(),
                    channel: "web".into(),
                    at_ms: at,
                    state: state.into(),
                    reason: reason.map(String::from),
                });
                at += rng.i64(3_600_000..14_400_000);
            }
        }
    }
    store.record_report(batch).await?;
    Ok(())
}

/// A text about one of a few hundred topics (pairs of words), in a few shapes.
fn gap_text(rng: &mut fastrand::Rng) -> String {
    let topic = rng.usize(0..WORDS.len() * 8);
    let (first, second) = (
        WORDS[topic % WORDS.len()],
        WORDS[(topic / 8 + 7) % WORDS.len()],
    );
    let mut words: Vec<&str> = Vec::new();
    for _ in 0..rng.usize(1..4) {
        words.push(FILLER[rng.usize(0..FILLER.len())]);
    }
    words.push(first);
    words.push(FILLER[rng.usize(0..FILLER.len())]);
    words.push(second);
    if rng.bool() {
        words.push(FILLER[rng.usize(0..FILLER.len())]);
    }
    words.join(" ")
}
