//! `ponte encoder TEXT...`: loads the configured sentence encoder (`--encoder-dir`), says
//! what it holds and how long it took, and shows each text's pieces and median vector time and the
//! texts' similarities: how an operator checks the files before serving with them.

use std::process::ExitCode;
use std::time::Instant;

use crate::config::Config;
use crate::encoder::{Encoder, cosine};

/// Runs per text; the median is shown.
const REPEATS: usize = 15;

pub(super) fn run(config: &Config, texts: &[String], json: bool) -> anyhow::Result<ExitCode> {
    let Some(dir) = &config.encoder_dir else {
        anyhow::bail!(
            "no sentence encoder configured: set --encoder-dir (or PONTE_ENCODER_DIR, or \
             encoder_dir in the config file) to the folder holding weights.npz and sp.model"
        );
    };
    let started = Instant::now();
    let encoder = Encoder::load(dir)?;
    let load_ms = started.elapsed().as_millis() as u64;
    let mut rows = Vec::new();
    let mut vectors = Vec::new();
    for text in texts {
        let pieces = encoder.pieces(text).len();
        // The median of a few runs: the first one also pays for paging the weights in.
        let mut times = Vec::new();
        let mut vector = Vec::new();
        for _ in 0..REPEATS {
            let started = Instant::now();
            vector = encoder.embed(text);
            times.push(started.elapsed().as_micros() as u64);
        }
        times.sort_unstable();
        let micros = times[REPEATS / 2];
        rows.push(serde_json::json!({ "text": text, "pieces": pieces, "embed_us": micros }));
        vectors.push(vector);
    }
    let similarities: Vec<Vec<f32>> = vectors
        .iter()
        .map(|a| vectors.iter().map(|b| cosine(a, b)).collect())
        .collect();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "dir": dir,
                "weights_bytes": encoder.weights_memory(),
                "load_ms": load_ms,
                "texts": rows,
                "similarities": similarities,
            })
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "encoder {}: {:.1} MiB of weights, loaded in {load_ms} ms",
        dir.display(),
        encoder.weights_memory() as f64 / f64::from(1 << 20)
    );
    for (index, row) in rows.iter().enumerate() {
        println!(
            "[{}] {} pieces, {} us: {}",
            index + 1,
            row["pieces"],
            row["embed_us"],
            row["text"].as_str().unwrap_or_default()
        );
    }
    if texts.len() > 1 {
        println!("cosine similarities:");
        for (index, line) in similarities.iter().enumerate() {
            let cells: Vec<String> = line.iter().map(|value| format!("{value:6.3}")).collect();
            println!("[{}] {}", index + 1, cells.join(" "));
        }
    }
    Ok(ExitCode::SUCCESS)
}
