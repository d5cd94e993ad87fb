//! The encoder's tokenizer: a SentencePiece unigram model read from its `.model` file (a
//! protobuf), with the model's own text normalisation (the precompiled character map, a
//! darts-clone double-array trie) and the unigram Viterbi segmentation, so that a text gets
//! the same piece ids as the reference implementation.

use std::collections::HashMap;
use std::path::Path;

use super::EncoderError;

const UNK: u32 = 0;
/// Begin and end of sentence, added around every text.
pub(super) const BOS: u32 = 1;
pub(super) const EOS: u32 = 2;
/// What a space becomes before segmentation (U+2581, "lower one eighth block").
const SPACE: &str = "\u{2581}";

/// A loaded SentencePiece model.
pub(super) struct Pieces {
    /// Every piece and every proper prefix of one: `Some(id)` for a piece, `None` for a
    /// prefix that only keeps a walk going (so the walk stops at the first unknown prefix).
    prefixes: HashMap<Box<str>, Option<u32>>,
    scores: Vec<f32>,
    /// The longest piece, in characters.
    longest: usize,
    /// Score of an unknown character: ten below the lowest piece.
    unknown_score: f64,
    normalizer: Normalizer,
}

impl Pieces {
    pub(super) fn load(path: &Path) -> Result<Pieces, EncoderError> {
        let bytes = std::fs::read(path).map_err(|source| EncoderError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Pieces::parse(&bytes).map_err(|reason| EncoderError::Weights {
            path: path.to_path_buf(),
            reason,
        })
    }

    fn parse(bytes: &[u8]) -> Result<Pieces, String> {
        let mut prefixes: HashMap<Box<str>, Option<u32>> = HashMap::new();
        let mut scores = Vec::new();
        let mut longest = 0;
        let mut normalizer = None;
        for (field, value) in fields(bytes)? {
            match (field, value) {
                (1, Value::Bytes(message)) => {
                    let mut piece = None;
                    let mut score = 0.0f32;
                    for (field, value) in fields(message)? {
                        match (field, value) {
                            (1, Value::Bytes(text)) => {
                                piece =
                                    Some(std::str::from_utf8(text).map_err(|_| {
                                        format!("piece {} is not UTF-8", scores.len())
                                    })?)
                            }
                            (2, Value::Fixed32(bits)) => score = f32::from_bits(bits),
                            _ => {}
                        }
                    }
                    let Some(piece) = piece else { continue };
                    let id = scores.len() as u32;
                    scores.push(score);
                    let boundaries: Vec<usize> = piece.char_indices().map(|(at, _)| at).collect();
                    longest = longest.max(boundaries.len());
                    for &end in boundaries.iter().skip(1) {
                        prefixes.entry(piece[..end].into()).or_insert(None);
                    }
                    prefixes.insert(piece.into(), Some(id));
                }
                (3, Value::Bytes(spec)) => normalizer = Some(Normalizer::parse(spec)?),
                _ => {}
            }
        }
        if scores.len() <= EOS as usize {
            return Err("the model has no pieces".into());
        }
        let lowest = scores.iter().copied().fold(f32::INFINITY, f32::min);
        Ok(Pieces {
            prefixes,
            scores,
            longest,
            unknown_score: f64::from(lowest) - 10.0,
            normalizer: normalizer.unwrap_or_else(Normalizer::identity),
        })
    }

    /// Number of pieces (the largest id plus one).
    pub(super) fn len(&self) -> usize {
        self.scores.len()
    }

    /// The piece ids of `text`, between [`BOS`] and [`EOS`].
    pub(super) fn encode(&self, text: &str) -> Vec<u32> {
        let normalized = self.normalizer.normalize(text);
        let mut ids = vec![BOS];
        if normalized.is_empty() {
            ids.push(UNK);
        } else {
            ids.extend(self.segment(&normalized));
        }
        ids.push(EOS);
        ids
    }

    /// The best-scoring segmentation of `text` into pieces (unigram Viterbi). Every piece
    /// that starts at a position shares that position's best predecessor, so one pass over
    /// positions suffices; ties keep the earliest candidate, as the reference does.
    fn segment(&self, text: &str) -> Vec<u32> {
        let mut starts: Vec<usize> = text.char_indices().map(|(at, _)| at).collect();
        let length = starts.len();
        starts.push(text.len());
        let mut best = vec![f64::NEG_INFINITY; length + 1];
        best[0] = 0.0;
        let mut from = vec![0usize; length + 1];
        let mut piece = vec![UNK; length + 1];
        for i in 0..length {
            let base = best[i];
            let mut single = false;
            for j in i + 1..=(i + self.longest).min(length) {
                let Some(entry) = self.prefixes.get(&text[starts[i]..starts[j]]) else {
                    break;
                };
                let Some(id) = *entry else { continue };
                let score = base + f64::from(self.scores[id as usize]);
                if score > best[j] {
                    best[j] = score;
                    from[j] = i;
                    piece[j] = id;
                }
                single |= j == i + 1;
            }
            if !single {
                let score = base + self.unknown_score;
                if score > best[i + 1] {
                    best[i + 1] = score;
                    from[i + 1] = i;
                    piece[i + 1] = UNK;
                }
            }
        }
        let mut ids = Vec::new();
        let mut at = length;
        while at > 0 {
            ids.push(piece[at]);
            at = from[at];
        }
        ids.reverse();
        ids
    }
}

/// The model's normalisation: the precompiled character map and the whitespace rules.
struct Normalizer {
    /// The double array's units (empty: no character map).
    units: Vec<u32>,
    /// NUL-terminated replacements, addressed by the trie's values.
    replacements: Vec<u8>,
    dummy_prefix: bool,
    squeeze_spaces: bool,
    escape_spaces: bool,
}

impl Normalizer {
    fn identity() -> Normalizer {
        Normalizer {
            units: Vec::new(),
            replacements: Vec::new(),
            dummy_prefix: true,
            squeeze_spaces: true,
            escape_spaces: true,
        }
    }

    /// A `NormalizerSpec` message: 2 the character map, 3 add_dummy_prefix, 4
    /// remove_extra_whitespaces, 5 escape_whitespaces (each true when absent).
    fn parse(spec: &[u8]) -> Result<Normalizer, String> {
        let mut normalizer = Normalizer::identity();
        for (field, value) in fields(spec)? {
            match (field, value) {
                (2, Value::Bytes(map)) if map.len() >= 4 => {
                    let size = u32::from_le_bytes([map[0], map[1], map[2], map[3]]) as usize;
                    let trie = map
                        .get(4..4 + size)
                        .filter(|trie| trie.len() % 4 == 0)
                        .ok_or("the character map's trie is truncated")?;
                    normalizer.units = trie
                        .chunks_exact(4)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect();
                    normalizer.replacements = map[4 + size..].to_vec();
                }
                (3, Value::Varint(flag)) => normalizer.dummy_prefix = flag != 0,
                (4, Value::Varint(flag)) => normalizer.squeeze_spaces = flag != 0,
                (5, Value::Varint(flag)) => normalizer.escape_spaces = flag != 0,
                _ => {}
            }
        }
        Ok(normalizer)
    }

    fn offset(unit: u32) -> usize {
        ((unit >> 10) << ((unit & 0x200) >> 6)) as usize
    }

    /// What the bytes at `at` normalise to, and how many input bytes that consumes: the
    /// longest key of the character map, or else one UTF-8 character unchanged.
    fn prefix<'a>(&'a self, bytes: &'a [u8], at: usize) -> (&'a [u8], usize) {
        let mut matched = None;
        if let Some(&root) = self.units.first() {
            let mut node = Normalizer::offset(root);
            for (i, &byte) in bytes[at..].iter().enumerate() {
                node ^= usize::from(byte);
                let Some(&unit) = self.units.get(node) else {
                    break;
                };
                if unit & 0x8000_00FF != u32::from(byte) {
                    break;
                }
                node ^= Normalizer::offset(unit);
                if unit & 0x100 != 0 {
                    let value = self.units.get(node).map_or(u32::MAX, |v| v & 0x7FFF_FFFF);
                    matched = Some((i + 1, value as usize));
                }
            }
        }
        if let Some((consumed, value)) = matched
            && value < self.replacements.len()
        {
            let rest = &self.replacements[value..];
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            return (&rest[..end], consumed);
        }
        let length = utf8_length(&bytes[at..]);
        (&bytes[at..at + length], length)
    }

    fn normalize(&self, text: &str) -> String {
        let bytes = text.as_bytes();
        let space: &[u8] = if self.escape_spaces {
            SPACE.as_bytes()
        } else {
            b" "
        };
        let mut at = 0;
        if self.squeeze_spaces {
            while at < bytes.len() {
                let (piece, consumed) = self.prefix(bytes, at);
                if piece != b" " {
                    break;
                }
                at += consumed;
            }
        }
        if at >= bytes.len() {
            return String::new();
        }
        let mut out: Vec<u8> = Vec::with_capacity(bytes.len() + 8);
        if self.dummy_prefix {
            out.extend_from_slice(space);
        }
        let mut after_space = self.squeeze_spaces;
        while at < bytes.len() {
            let (mut piece, consumed) = self.prefix(bytes, at);
            at += consumed;
            if self.squeeze_spaces && after_space {
                while let [b' ', rest @ ..] = piece {
                    piece = rest;
                }
            }
            let Some(&last) = piece.last() else { continue };
            if piece.contains(&b' ') {
                for &byte in piece {
                    if byte == b' ' {
                        out.extend_from_slice(space);
                    } else {
                        out.push(byte);
                    }
                }
                after_space = last == b' ';
            } else {
                out.extend_from_slice(piece);
                after_space = false;
            }
        }
        if self.squeeze_spaces {
            while out.ends_with(space) {
                out.truncate(out.len() - space.len());
            }
        }
        // Replacements are whole UTF-8 sequences and the rest is copied by character.
        String::from_utf8(out)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
    }
}

/// The length of the UTF-8 character at the start of `bytes` (1 for a malformed one).
fn utf8_length(bytes: &[u8]) -> usize {
    let length = match bytes[0] {
        0x00..=0x7F => 1,
        b if b >> 5 == 0b110 => 2,
        b if b >> 4 == 0b1110 => 3,
        b if b >> 3 == 0b11110 => 4,
        _ => 1,
    };
    let whole = bytes.len() >= length && bytes[1..length].iter().all(|&b| b & 0xC0 == 0x80);
    if whole { length } else { 1 }
}

/// A protobuf field's value, as far as this reader needs.
enum Value<'a> {
    Varint(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
}

/// The fields of one protobuf message, in order (64-bit values are skipped).
fn fields(mut bytes: &[u8]) -> Result<Vec<(u64, Value<'_>)>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let tag = varint(&mut bytes)?;
        let value = match tag & 7 {
            0 => Value::Varint(varint(&mut bytes)?),
            1 => {
                bytes = bytes.get(8..).ok_or("truncated 64-bit field")?;
                continue;
            }
            2 => {
                let length = varint(&mut bytes)? as usize;
                let value = bytes.get(..length).ok_or("truncated field")?;
                bytes = &bytes[length..];
                Value::Bytes(value)
            }
            5 => {
                let value = bytes.get(..4).ok_or("truncated 32-bit field")?;
                bytes = &bytes[4..];
                Value::Fixed32(u32::from_le_bytes([value[0], value[1], value[2], value[3]]))
            }
            wire => return Err(format!("unsupported protobuf wire type {wire}")),
        };
        out.push((tag >> 3, value));
    }
    Ok(out)
}

fn varint(bytes: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first().ok_or("truncated varint")?;
        *bytes = rest;
        value |= u64::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("varint too long".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message of `(field, piece, score)` entries, as a `.model` file lays them out.
    fn model(pieces: &[(&str, f32)]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for (piece, score) in pieces {
            let mut message = vec![0x0A, piece.len() as u8];
            message.extend_from_slice(piece.as_bytes());
            message.push(0x15);
            message.extend_from_slice(&score.to_le_bytes());
            bytes.push(0x0A);
            bytes.push(message.len() as u8);
            bytes.extend_from_slice(&message);
        }
        bytes
    }

    fn tiny() -> Pieces {
        Pieces::parse(&model(&[
            ("<unk>", 0.0),
            ("<s>", 0.0),
            ("</s>", 0.0),
            ("\u{2581}", -1.0),
            ("\u{2581}senha", -2.0),
            ("\u{2581}sen", -1.5),
            ("ha", -1.5),
            ("a", -3.0),
            ("s", -3.0),
            ("e", -3.0),
            ("n", -3.0),
            ("h", -3.0),
        ]))
        .unwrap()
    }

    #[test]
    fn segments_by_the_best_total_score() {
        let pieces = tiny();
        assert_eq!(pieces.len(), 12);
        // "▁senha" alone (-2) beats "▁sen" + "ha" (-3).
        assert_eq!(pieces.encode("senha"), [BOS, 4, EOS]);
        // Spaces are squeezed and trimmed; "x" is unknown.
        assert_eq!(pieces.encode("  senha   x "), [BOS, 4, 3, UNK, EOS]);
        assert_eq!(pieces.encode("   "), [BOS, UNK, EOS]);
        assert_eq!(pieces.encode("hasen"), [BOS, 3, 6, 8, 9, 10, EOS]);
    }

    #[test]
    fn refuses_a_broken_model() {
        assert!(Pieces::parse(&[0x0A, 0x20, 0x01]).is_err());
        assert!(Pieces::parse(&[0x0F]).is_err());
        assert!(Pieces::parse(&model(&[("<unk>", 0.0)])).is_err());
    }

    #[test]
    fn reads_utf8_lengths() {
        assert_eq!(utf8_length("ção".as_bytes()), 2);
        assert_eq!(utf8_length("€".as_bytes()), 3);
        assert_eq!(utf8_length(&[0xE2, 0x28]), 1);
    }
}
