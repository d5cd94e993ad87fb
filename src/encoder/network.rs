//! The encoder's network: the multilingual Universal Sentence Encoder (v3, the CNN
//! variant). Each piece has a 512-float embedding (stored as one byte per value with a
//! scale and an offset per block of ids); three convolutional branches read windows of 2, 3
//! and 5 pieces; the piece vectors are normalised, summed over the sentence, projected and
//! passed through a small feed-forward network to a unit vector of 512 floats.

use std::collections::HashMap;

use super::EncoderError;
use super::npz::{Array, Data};

/// Size of a piece embedding and of the sentence vector.
pub const DIMENSIONS: usize = 512;
/// Width of one convolutional branch.
const BRANCH: usize = 256;
/// The branches: (window length, pieces to the left of the centre).
const WINDOWS: [(usize, usize); 3] = [(2, 0), (3, 1), (5, 2)];
/// A piece's features: its embedding and the output of every branch.
const FEATURES: usize = DIMENSIONS + WINDOWS.len() * BRANCH;

/// A dense layer: `input × output` weights in row-major order, and a bias (maybe empty).
struct Dense {
    weights: Vec<f32>,
    bias: Vec<f32>,
    input: usize,
    output: usize,
}

impl Dense {
    /// `out = input · weights + bias`, for `rows` rows of `input`.
    fn apply(&self, input: &[f32], rows: usize, out: &mut [f32]) {
        self.product(input, rows, out, true);
    }

    /// `out = input · weights`, plus the bias when `bias` is set.
    fn product(&self, input: &[f32], rows: usize, out: &mut [f32], bias: bool) {
        assert!(input.len() == rows * self.input && out.len() == rows * self.output);
        if self.bias.is_empty() || !bias {
            out.fill(0.0);
        } else {
            for row in out.chunks_exact_mut(self.output) {
                row.copy_from_slice(&self.bias);
            }
        }
        multiply_add(input, rows, self.input, &self.weights, self.output, out);
    }
}

/// Output columns one register block holds.
const BLOCK: usize = 32;

/// `out += input · weights` for a few rows (a sentence's pieces): the encoder's inner loop.
/// For each block of 32 output columns, two input rows at a time accumulate over the whole
/// inner dimension in registers, so each weight is loaded once per two rows and no GEMM
/// packing is repeated per call. Compiled also for AVX2 and AVX, the best the processor has
/// chosen at run time.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+avx"))]
fn multiply_add(
    input: &[f32],
    rows: usize,
    inner: usize,
    weights: &[f32],
    columns: usize,
    out: &mut [f32],
) {
    // Every layer's width is a multiple of the block (256, 320, 512, 768: fixed at load).
    debug_assert_eq!(columns % BLOCK, 0);
    let blocks = columns / BLOCK;
    for block in 0..blocks {
        let at = block * BLOCK;
        let mut row = 0;
        while row + 1 < rows {
            let (first, second) = (
                &input[row * inner..][..inner],
                &input[(row + 1) * inner..][..inner],
            );
            let mut sum_first = [0.0f32; BLOCK];
            let mut sum_second = [0.0f32; BLOCK];
            for k in 0..inner {
                let w: &[f32; BLOCK] = weights[k * columns + at..][..BLOCK]
                    .try_into()
                    .unwrap_or(&[0.0; BLOCK]);
                let (a, b) = (first[k], second[k]);
                for j in 0..BLOCK {
                    sum_first[j] += a * w[j];
                    sum_second[j] += b * w[j];
                }
            }
            for (slot, sum) in out[row * columns + at..][..BLOCK].iter_mut().zip(sum_first) {
                *slot += sum;
            }
            for (slot, sum) in out[(row + 1) * columns + at..][..BLOCK]
                .iter_mut()
                .zip(sum_second)
            {
                *slot += sum;
            }
            row += 2;
        }
        if row < rows {
            let only = &input[row * inner..][..inner];
            let mut sum = [0.0f32; BLOCK];
            for (k, &a) in only.iter().enumerate() {
                let w: &[f32; BLOCK] = weights[k * columns + at..][..BLOCK]
                    .try_into()
                    .unwrap_or(&[0.0; BLOCK]);
                for j in 0..BLOCK {
                    sum[j] += a * w[j];
                }
            }
            for (slot, value) in out[row * columns + at..][..BLOCK].iter_mut().zip(sum) {
                *slot += value;
            }
        }
    }
}

struct LayerNorm {
    gain: Vec<f32>,
    bias: Vec<f32>,
}

impl LayerNorm {
    fn apply(&self, row: &mut [f32], epsilon: f32) {
        let count = row.len() as f32;
        let mean = row.iter().sum::<f32>() / count;
        let mut variance = 0.0;
        for value in row.iter_mut() {
            *value -= mean;
            variance += *value * *value;
        }
        let scale = 1.0 / (variance / count + epsilon).sqrt();
        for ((value, gain), bias) in row.iter_mut().zip(&self.gain).zip(&self.bias) {
            *value = *value * scale * gain + bias;
        }
    }
}

/// One convolutional branch: two window layers, each with a residual connection.
struct Branch {
    window: usize,
    left: usize,
    first: Dense,
    second: Dense,
}

pub(super) struct Network {
    /// `blocks` tables of `rows × DIMENSIONS` bytes: id `i` is row `i / blocks` of block
    /// `i % blocks`.
    table: Vec<Vec<u8>>,
    blocks: usize,
    rows: usize,
    scale: Vec<f32>,
    low: Vec<f32>,
    /// The three branches' input projections side by side (512 → 768).
    projection: Dense,
    projection_norm: LayerNorm,
    branches: Vec<Branch>,
    feature_norm: LayerNorm,
    output: Dense,
    d0: Dense,
    d1: Dense,
    p1: Dense,
    d2: Dense,
    p3: Dense,
    d3: Dense,
    epsilon: f32,
}

/// Takes the named arrays out of the archive, checking their shapes.
struct Arrays(HashMap<String, Array>);

impl Arrays {
    /// The array `name` with exactly `shape`, taken out of the archive.
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Data, EncoderError> {
        match self.0.remove(name) {
            Some(array) if array.shape == shape => Ok(array.data),
            Some(array) => Err(EncoderError::Shape(format!(
                "{name} is {:?}, expected {shape:?}",
                array.shape
            ))),
            None => Err(EncoderError::Shape(format!("{name} is missing"))),
        }
    }

    fn floats(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, EncoderError> {
        match self.take(name, shape)? {
            Data::F32(values) => Ok(values),
            Data::U8(_) => Err(EncoderError::Shape(format!(
                "{name} holds bytes, not floats"
            ))),
        }
    }

    fn bytes(&mut self, name: &str, shape: &[usize]) -> Result<Vec<u8>, EncoderError> {
        match self.take(name, shape)? {
            Data::U8(values) => Ok(values),
            Data::F32(_) => Err(EncoderError::Shape(format!(
                "{name} holds floats, not bytes"
            ))),
        }
    }

    fn dense(
        &mut self,
        weights: &str,
        bias: Option<&str>,
        shape: [usize; 2],
    ) -> Result<Dense, EncoderError> {
        Ok(Dense {
            weights: self.floats(weights, &shape)?,
            bias: match bias {
                Some(bias) => self.floats(bias, &[shape[1]])?,
                None => Vec::new(),
            },
            input: shape[0],
            output: shape[1],
        })
    }

    fn norm(&mut self, gain: &str, bias: &str, width: usize) -> Result<LayerNorm, EncoderError> {
        Ok(LayerNorm {
            gain: self.floats(gain, &[width])?,
            bias: self.floats(bias, &[width])?,
        })
    }
}

impl Network {
    pub(super) fn from_arrays(
        arrays: HashMap<String, Array>,
        pieces: usize,
    ) -> Result<Network, EncoderError> {
        let mut arrays = Arrays(arrays);
        let scale = arrays
            .0
            .get("scale")
            .map(|array| array.shape.clone())
            .unwrap_or_default();
        let blocks = scale.first().copied().unwrap_or(0);
        if blocks == 0 {
            return Err(EncoderError::Shape("scale is missing or empty".into()));
        }
        let rows = pieces.div_ceil(blocks);
        let table = (0..blocks)
            .map(|block| arrays.bytes(&format!("q{}", block + 1), &[rows, DIMENSIONS]))
            .collect::<Result<Vec<_>, _>>()?;
        let scale = arrays.floats("scale", &[blocks])?;
        let low = arrays.floats("lo", &[blocks])?;
        let mut projections = Vec::new();
        let mut gains = Vec::new();
        let mut biases = Vec::new();
        let mut branches = Vec::new();
        for (window, left) in WINDOWS {
            projections.push(arrays.dense(
                &format!("proj{window}"),
                Some(&format!("proj_b{window}")),
                [DIMENSIONS, BRANCH],
            )?);
            let norm = arrays.norm(&format!("ln_g{window}"), &format!("ln_b{window}"), BRANCH)?;
            gains.extend(norm.gain);
            biases.extend(norm.bias);
            branches.push(Branch {
                window,
                left,
                first: arrays.dense(
                    &format!("w1_{window}"),
                    Some(&format!("b1_{window}")),
                    [window * BRANCH, BRANCH],
                )?,
                second: arrays.dense(
                    &format!("w2_{window}"),
                    Some(&format!("b2_{window}")),
                    [window * BRANCH, BRANCH],
                )?,
            });
        }
        // Side by side: row r of the joint matrix is row r of each branch's projection.
        let width = WINDOWS.len() * BRANCH;
        let mut joint = vec![0.0; DIMENSIONS * width];
        for (index, projection) in projections.iter().enumerate() {
            for row in 0..DIMENSIONS {
                joint[row * width + index * BRANCH..row * width + (index + 1) * BRANCH]
                    .copy_from_slice(&projection.weights[row * BRANCH..(row + 1) * BRANCH]);
            }
        }
        let projection = Dense {
            weights: joint,
            bias: projections
                .iter()
                .flat_map(|p| p.bias.iter().copied())
                .collect(),
            input: DIMENSIONS,
            output: width,
        };
        Ok(Network {
            table,
            blocks,
            rows,
            scale,
            low,
            projection,
            projection_norm: LayerNorm {
                gain: gains,
                bias: biases,
            },
            branches,
            feature_norm: arrays.norm("ln_g", "ln_b", FEATURES)?,
            output: arrays.dense("cnn_W", Some("cnn_b"), [FEATURES, DIMENSIONS])?,
            d0: arrays.dense("d0", None, [DIMENSIONS, 320])?,
            d1: arrays.dense("d1", None, [320, 320])?,
            p1: arrays.dense("p1", None, [DIMENSIONS, 320])?,
            d2: arrays.dense("d2", None, [320, DIMENSIONS])?,
            p3: arrays.dense("p3", None, [320, DIMENSIONS])?,
            d3: arrays.dense("d3", None, [DIMENSIONS, DIMENSIONS])?,
            epsilon: arrays.floats("eps", &[])?.first().copied().unwrap_or(1e-6),
        })
    }

    /// Bytes held by the weights.
    pub(super) fn memory(&self) -> usize {
        let layers = [
            &self.projection,
            &self.output,
            &self.d0,
            &self.d1,
            &self.p1,
            &self.d2,
            &self.p3,
            &self.d3,
        ];
        let branches = self.branches.iter().flat_map(|b| [&b.first, &b.second]);
        let dense: usize = layers
            .into_iter()
            .chain(branches)
            .map(|layer| (layer.weights.len() + layer.bias.len()) * 4)
            .sum();
        self.table.iter().map(Vec::len).sum::<usize>()
            + dense
            + (self.projection_norm.gain.len() + FEATURES) * 8
    }

    /// The unit sentence vector of `ids` (at least one id; unknown ids count as id 0).
    pub(super) fn embed(&self, ids: &[u32]) -> Vec<f32> {
        let count = ids.len();
        // Each piece's features: [embedding | branch 2 | branch 3 | branch 5].
        let mut features = vec![0.0f32; count * FEATURES];
        for (row, &id) in features.chunks_exact_mut(FEATURES).zip(ids) {
            let id = id as usize;
            let (block, index) = if id < self.blocks * self.rows {
                (id % self.blocks, id / self.blocks)
            } else {
                (0, 0)
            };
            let start = index * DIMENSIONS;
            let (scale, low) = (self.scale[block], self.low[block]);
            for (value, &byte) in row[..DIMENSIONS]
                .iter_mut()
                .zip(&self.table[block][start..start + DIMENSIONS])
            {
                *value = f32::from(byte) * scale + low;
            }
        }
        let mut embeddings = Vec::with_capacity(count * DIMENSIONS);
        for row in features.chunks_exact(FEATURES) {
            embeddings.extend_from_slice(&row[..DIMENSIONS]);
        }
        let width = self.projection.output;
        let mut projected = vec![0.0f32; count * width];
        self.projection.apply(&embeddings, count, &mut projected);
        for row in projected.chunks_exact_mut(width) {
            self.projection_norm.apply(row, self.epsilon);
        }

        let mut window = Vec::new();
        let mut hidden = vec![0.0f32; count * BRANCH];
        let mut convolved = vec![0.0f32; count * BRANCH];
        for (index, branch) in self.branches.iter().enumerate() {
            let input: Vec<f32> = projected
                .chunks_exact(width)
                .flat_map(|row| row[index * BRANCH..(index + 1) * BRANCH].iter().copied())
                .collect();
            branch.gather(&input, count, &mut window);
            branch.first.apply(&window, count, &mut hidden);
            for (value, residual) in hidden.iter_mut().zip(&input) {
                *value = value.max(0.0) + residual;
            }
            branch.gather(&hidden, count, &mut window);
            branch.second.apply(&window, count, &mut convolved);
            let offset = DIMENSIONS + index * BRANCH;
            for ((row, out), residual) in features
                .chunks_exact_mut(FEATURES)
                .zip(convolved.chunks_exact(BRANCH))
                .zip(hidden.chunks_exact(BRANCH))
            {
                for ((slot, value), residual) in row[offset..offset + BRANCH]
                    .iter_mut()
                    .zip(out)
                    .zip(residual)
                {
                    *slot = value.max(0.0) + residual;
                }
            }
        }

        // Normalise each piece, sum over the sentence, then project: the sum commutes with
        // the linear output layer, whose bias is then counted once per piece.
        let mut sum = vec![0.0f32; FEATURES];
        for row in features.chunks_exact_mut(FEATURES) {
            self.feature_norm.apply(row, self.epsilon);
            for (total, value) in sum.iter_mut().zip(row.iter()) {
                *total += value;
            }
        }
        let mut mean = vec![0.0f32; DIMENSIONS];
        self.output.product(&sum, 1, &mut mean, false);
        let root = (count as f32).sqrt();
        for (value, bias) in mean.iter_mut().zip(&self.output.bias) {
            *value = (*value + count as f32 * bias) / root;
        }

        let relu = |values: &mut [f32]| values.iter_mut().for_each(|v| *v = v.max(0.0));
        let mut y0 = vec![0.0; 320];
        self.d0.apply(&mean, 1, &mut y0);
        relu(&mut y0);
        let mut y1 = vec![0.0; 320];
        self.p1.apply(&mean, 1, &mut y1);
        let mut part = vec![0.0; 320];
        self.d1.apply(&y0, 1, &mut part);
        y1.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
        relu(&mut y1);
        let mut y2 = vec![0.0; DIMENSIONS];
        self.d2.apply(&y1, 1, &mut y2);
        relu(&mut y2);
        let mut z = vec![0.0; DIMENSIONS];
        self.p3.apply(&y1, 1, &mut z);
        let mut part = vec![0.0; DIMENSIONS];
        self.d3.apply(&y2, 1, &mut part);
        z.iter_mut()
            .zip(&part)
            .for_each(|(a, b)| *a = (*a + b).tanh());
        let norm = z
            .iter()
            .map(|v| v * v)
            .sum::<f32>()
            .max(self.epsilon)
            .sqrt();
        z.iter_mut().for_each(|v| *v /= norm);
        z
    }
}

impl Branch {
    /// Row `t` of `window`: the rows `t - left .. t - left + window` of `input` side by
    /// side, zeros where the window reaches outside the sentence.
    fn gather(&self, input: &[f32], count: usize, window: &mut Vec<f32>) {
        window.clear();
        window.resize(count * self.window * BRANCH, 0.0);
        for t in 0..count {
            for slot in 0..self.window {
                let Some(source) = (t + slot).checked_sub(self.left).filter(|&s| s < count) else {
                    continue;
                };
                let at = (t * self.window + slot) * BRANCH;
                window[at..at + BRANCH]
                    .copy_from_slice(&input[source * BRANCH..(source + 1) * BRANCH]);
            }
        }
    }
}
