//! Synthetic knowledge sources for benchmarks: deterministic article files in the real
//! source format, in the three languages, with titles and bodies drawn from a small
//! service-desk vocabulary.

use std::path::Path;

/// Writes `count` synthetic article files under `dir/articles/<lang>/` (and a few activity
/// files under `dir/activities/`), deterministically from `seed`. Returns the number of
/// article files written.
pub fn write_corpus(dir: &Path, count: usize, seed: u64) -> std::io::Result<usize> {
    let _ = (dir, count, seed);
    Err(std::io::Error::other(
        "synthetic corpus generation is not written yet",
    ))
}
