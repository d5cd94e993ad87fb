//! The evaluation commands' engines (`ponte eval retrieval`, `ponte eval intents`,
//! `ponte eval understanding`): they read labelled data, run Ponte's own matching code on it
//! and compute the metrics that DESIGN.md fixes, independent of how the CLI prints them;
//! `llm` runs them with the language model in the loop (`--llm`).

pub mod llm;
pub mod retrieval;
pub mod understanding;

/// The value at quantile `q` (0..=1) of the samples (nearest rank, read from an HDR
/// histogram).
pub fn quantile(samples: &[u64], q: f64) -> u64 {
    crate::latency::quantile(samples, q)
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn nearest_rank_quantiles() {
        let samples: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&samples, 0.5), 50);
        assert_eq!(quantile(&samples, 0.99), 99);
        assert_eq!(quantile(&samples, 1.0), 100);
        assert_eq!(quantile(&[], 0.5), 0);
    }
}
