//! Latency summaries for the evaluation and benchmark reports: samples go into an HDR
//! histogram (three significant digits, so a figure is exact below 2048 and within 0.1 %
//! above) and quantiles are read from it by nearest rank.

use hdrhistogram::Histogram;

/// Recorded samples, in whatever unit the caller chose.
pub struct Latencies {
    histogram: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies::new()
    }
}

impl Latencies {
    /// No samples yet; the histogram grows to the largest value recorded.
    pub fn new() -> Self {
        let mut histogram = Histogram::new(3).expect("three significant digits are supported");
        histogram.auto(true);
        Latencies { histogram }
    }

    /// Adds one sample.
    pub fn record(&mut self, value: u64) {
        // The histogram grows to fit; only a value beyond its largest possible range is
        // clamped.
        if self.histogram.record(value).is_err() {
            self.histogram.saturating_record(value);
        }
    }

    /// The value at quantile `q` (0..=1), nearest rank; 0 without samples.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.histogram.is_empty() {
            return 0;
        }
        self.histogram.value_at_quantile(q)
    }

    /// The largest sample; 0 without samples.
    pub fn max(&self) -> u64 {
        self.histogram.max()
    }

    /// How many samples were recorded.
    pub fn len(&self) -> u64 {
        self.histogram.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.histogram.is_empty()
    }
}

impl FromIterator<u64> for Latencies {
    fn from_iter<I: IntoIterator<Item = u64>>(samples: I) -> Self {
        let mut latencies = Latencies::new();
        for sample in samples {
            latencies.record(sample);
        }
        latencies
    }
}

/// The value at quantile `q` (0..=1) of `samples` in any order (nearest rank); 0 when empty.
pub fn quantile(samples: &[u64], q: f64) -> u64 {
    samples.iter().copied().collect::<Latencies>().quantile(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_are_exact_and_large_ones_close() {
        let samples: Vec<u64> = (1..=1000).rev().collect();
        assert_eq!(quantile(&samples, 0.5), 500);
        assert_eq!(quantile(&samples, 0.999), 999);
        let large: Latencies = [1_000_000u64, 2_000_000, 3_000_000].into_iter().collect();
        let median = large.quantile(0.5);
        assert!(median.abs_diff(2_000_000) <= 2_000, "{median}");
        assert_eq!(large.len(), 3);
        assert!(Latencies::new().is_empty());
        assert_eq!(Latencies::new().quantile(0.99), 0);
    }
}
