//! Multinomial logistic regression over sparse binary features, trained by plain SGD.
//!
//! Small on purpose: a few thousand labelled messages and a few tens of thousands of features
//! need no ML crate. Training is deterministic (the vocabulary is sorted, the example order comes
//! from a fixed-seed generator, arithmetic is in `f64`), so the same examples always give the same
//! weights. Saved weights are rounded to four decimals and written one feature per line with
//! sorted keys, which keeps `model.json` byte-identical across runs and readable in a diff.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::domain::Category;

/// The number of classes: one per [`Category`], in the order of [`Category::ALL`].
pub const CLASSES: usize = Category::ALL.len();
/// Bumped whenever the features or the file layout change: an old file is then refused.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOptions {
    /// Passes over the examples.
    pub epochs: usize,
    /// Step size of the first pass; it decays as 1 / (1 + decay · epoch).
    pub learning_rate: f64,
    pub decay: f64,
    /// L2 penalty per example seen.
    pub l2: f64,
    /// A feature must occur in this many examples to enter the vocabulary.
    pub min_count: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 30,
            learning_rate: 1.0,
            decay: 0.05,
            l2: 1e-5,
            min_count: 3,
        }
    }
}

/// Trained weights: one row of [`CLASSES`] scores per feature, plus a bias row.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    bias: [f32; CLASSES],
    /// Looked up for every feature of every message; built from the model file only, so hashed
    /// with rustc-hash's Fx (no user text is inserted, so no collision flooding to guard against).
    weights: rustc_hash::FxHashMap<String, [f32; CLASSES]>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    bias: Vec<f32>,
    classes: Vec<String>,
    format: u32,
    weights: HashMap<String, Vec<f32>>,
}

impl Model {
    /// Learns from feature lists (as from [`super::features::extract`]) and class indexes.
    pub fn train(examples: &[(Vec<String>, usize)], options: &TrainOptions) -> Model {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (features, _) in examples {
            for f in features {
                *counts.entry(f.as_str()).or_default() += 1;
            }
        }
        let vocabulary: Vec<&str> = counts
            .into_iter()
            .filter(|&(_, n)| n >= options.min_count)
            .map(|(f, _)| f)
            .collect();
        let ids: HashMap<&str, usize> = vocabulary
            .iter()
            .enumerate()
            .map(|(i, f)| (*f, i))
            .collect();
        // Scaled by all of an example's features, known or not, exactly as in prediction.
        let rows: Vec<(Vec<usize>, f64, usize)> = examples
            .iter()
            .map(|(features, class)| {
                let row = features.iter().filter_map(|f| ids.get(f.as_str()).copied());
                (row.collect(), scale(features.len()), *class)
            })
            .collect();
        let mut weights = vec![[0f64; CLASSES]; vocabulary.len()];
        let mut bias = [0f64; CLASSES];
        let mut order: Vec<usize> = (0..rows.len()).collect();
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for epoch in 0..options.epochs {
            rng.shuffle(&mut order);
            let rate = options.learning_rate / (1.0 + options.decay * epoch as f64);
            for &i in &order {
                let (row, scale, class) = &rows[i];
                let mut scores = bias;
                for &id in row {
                    for (s, w) in scores.iter_mut().zip(&weights[id]) {
                        *s += w * scale;
                    }
                }
                let p = softmax(&scores);
                for k in 0..CLASSES {
                    let gradient = p[k] - if k == *class { 1.0 } else { 0.0 };
                    bias[k] -= rate * gradient;
                    for &id in row {
                        weights[id][k] -= rate * gradient * scale;
                    }
                }
            }
            let shrink = (1.0 - rate * options.l2).powi(rows.len() as i32);
            weights.iter_mut().flatten().for_each(|w| *w *= shrink);
        }
        let weights = vocabulary
            .iter()
            .zip(&weights)
            .map(|(f, w)| (f.to_string(), w.map(round)))
            .filter(|(_, w)| w.iter().any(|x| *x != 0.0))
            .collect();
        Model {
            bias: bias.map(round),
            weights,
        }
    }

    /// Class probabilities, in the order of [`Category::ALL`].
    pub fn probabilities(&self, features: &[String]) -> [f32; CLASSES] {
        let known: Vec<&[f32; CLASSES]> = features
            .iter()
            .filter_map(|f| self.weights.get(f))
            .collect();
        let mut scores = self.bias.map(f64::from);
        let scale = scale(features.len());
        for w in known {
            for (s, w) in scores.iter_mut().zip(w) {
                *s += f64::from(*w) * scale;
            }
        }
        softmax(&scores).map(|p| p as f32)
    }

    pub fn feature_count(&self) -> usize {
        self.weights.len()
    }

    /// The saved form: sorted keys, one feature per line.
    pub fn to_json(&self) -> String {
        let row = |w: &[f32]| {
            let cells: Vec<String> = w.iter().map(|x| x.to_string()).collect();
            format!("[{}]", cells.join(","))
        };
        let labels: Vec<String> = Category::ALL
            .iter()
            .map(|c| format!("\"{}\"", c.label()))
            .collect();
        let mut out = String::with_capacity(self.weights.len() * 64);
        out.push_str(&format!("{{\n\"bias\":{},\n", row(&self.bias)));
        out.push_str(&format!("\"classes\":[{}],\n", labels.join(",")));
        out.push_str(&format!("\"format\":{FORMAT},\n\"weights\":{{\n"));
        let sorted: BTreeMap<&String, &[f32; CLASSES]> = self.weights.iter().collect();
        let lines: Vec<String> = sorted
            .into_iter()
            .map(|(f, w)| format!("{}:{}", serde_json::Value::from(f.as_str()), row(w)))
            .collect();
        out.push_str(&lines.join(",\n"));
        out.push_str("\n}\n}\n");
        out
    }

    pub fn from_json(text: &str) -> Result<Model, String> {
        let file: ModelFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if file.format != FORMAT {
            return Err(format!(
                "format {} (this build reads {FORMAT}): retrain",
                file.format
            ));
        }
        let labels: Vec<&str> = Category::ALL.iter().map(|c| c.label()).collect();
        if file.classes != labels {
            return Err(format!("classes {:?}, expected {labels:?}", file.classes));
        }
        let row = |name: &str, w: Vec<f32>| {
            <[f32; CLASSES]>::try_from(w)
                .map_err(|w| format!("{name}: {} scores, expected {CLASSES}", w.len()))
        };
        let bias = row("bias", file.bias)?;
        let weights = file
            .weights
            .into_iter()
            .map(|(f, w)| row(&f, w).map(|w| (f, w)))
            .collect::<Result<_, _>>()?;
        Ok(Model { bias, weights })
    }
}

/// Each example weighs the same however long: its features share a unit of length.
fn scale(feature_count: usize) -> f64 {
    1.0 / (feature_count.max(1) as f64).sqrt()
}

/// Four decimals, as saved; no negative zero.
fn round(x: f64) -> f32 {
    let r = ((x * 10_000.0).round() / 10_000.0) as f32;
    if r == 0.0 { 0.0 } else { r }
}

fn softmax(scores: &[f64; CLASSES]) -> [f64; CLASSES] {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp = scores.map(|s| (s - max).exp());
    let sum: f64 = exp.iter().sum();
    exp.map(|e| e / sum)
}

/// A tiny fixed-seed generator: shuffling must not depend on the platform or a crate version.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn shuffle(&mut self, items: &mut [usize]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}
