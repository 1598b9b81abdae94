//! The message classifier: 咨询, 求助, 投诉, 举报, 建议, 表扬 or 紧急, and for 紧急 the numbers to call.
//!
//! Two layers. The emergency rules ([`emergency`]; hazard words in [`lexicon`], the words around
//! them in [`context`], typos in [`homophone`]) look for live danger — fire, gas, crime in
//! progress, a medical emergency, an injury accident, a trapped person, a suicide — and, when
//! nothing in the message calms it, make it 紧急 whatever the model thinks: a missed emergency is
//! the worst error. A logistic regression ([`model`]) over character n-grams, jieba words and the
//! rules' cues ([`features`]) decides everything else, trained from
//! `knowledge/classifier/train.jsonl` ([`data`]) and saved to `knowledge/classifier/model.json`.
//! When the model says 紧急 but the message thanks someone, blames someone for what is over or
//! asks about emergencies in general, its second choice stands; when the model gives 紧急 a fair
//! chance and the rules saw signs of danger, 紧急 wins (see [`EMERGENCY_THRESHOLD`]). The verdict
//! of the rules is an [`Assessment`]. [`eval`] measures; [`cli`] is `hotline classify`.

mod assessment;
pub mod cli;
mod context;
pub mod data;
mod emergency;
pub mod eval;
mod features;
mod homophone;
mod lexicon;
mod model;

use std::path::Path;

use crate::domain::Category;
use crate::kb::KbError;

pub use assessment::{Assessment, Hazard};
pub use features::Featurizer;
pub use model::TrainOptions;
use model::{CLASSES, Model};

/// The training examples, relative to the knowledge folder.
pub const TRAIN_FILE: &str = "classifier/train.jsonl";
/// The trained model, relative to the knowledge folder.
pub const MODEL_FILE: &str = "classifier/model.json";
/// The confidence reported at least when the rules alone make a message 紧急.
const RULE_CONFIDENCE: f32 = 0.9;
/// A missed emergency costs far more than a false alarm: 紧急 wins at this probability, below
/// the model's first choice, when the rules saw a hazard word, urgency or an injury and nothing
/// calming. Chosen by 5-fold cross-validation on the training examples (`classify train
/// --folds 5`): 紧急 recall rises from 0.984 to 0.991 while 紧急 precision stays at 0.98.
const EMERGENCY_THRESHOLD: f32 = 0.25;

#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Model { path: String, message: String },
    #[error("emergency rules: {0}")]
    Rules(String),
    #[error(transparent)]
    Analyzer(#[from] KbError),
}

/// The verdict on one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub category: Category,
    /// The probability of `category`, between 0 and 1.
    pub confidence: f32,
    /// For 紧急 only: 110, 119, 120 or 122, the one to call first leading.
    pub emergency_numbers: Vec<&'static str>,
}

/// A trained classifier: `Send + Sync`, share it in an `Arc`.
#[derive(Clone)]
pub struct Classifier {
    featurizer: Featurizer,
    model: Model,
}

impl Classifier {
    /// Reads `knowledge_dir/classifier/model.json`; without one, trains from `train.jsonl`.
    pub fn load(knowledge_dir: &Path) -> Result<Classifier, ClassifyError> {
        Classifier::load_with(Featurizer::load(knowledge_dir)?, knowledge_dir)
    }

    /// Like [`Classifier::load`], reusing a featurizer (and so its jieba dictionary).
    pub fn load_with(
        featurizer: Featurizer,
        knowledge_dir: &Path,
    ) -> Result<Classifier, ClassifyError> {
        let path = knowledge_dir.join(MODEL_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let model = Model::from_json(&text).map_err(|message| ClassifyError::Model {
                    path: path.display().to_string(),
                    message,
                })?;
                Ok(Classifier { featurizer, model })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let examples = data::read_examples(&knowledge_dir.join(TRAIN_FILE))?;
                Ok(Classifier::train(
                    &examples,
                    featurizer,
                    &TrainOptions::default(),
                ))
            }
            Err(e) => Err(ClassifyError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
        }
    }

    /// Trains on labelled examples; the same examples and options always give the same model.
    pub fn train(
        examples: &[(String, Category)],
        featurizer: Featurizer,
        options: &TrainOptions,
    ) -> Classifier {
        let rows: Vec<(Vec<String>, usize)> = examples
            .iter()
            .map(|(text, category)| (featurizer.read(text).1, class_index(*category)))
            .collect();
        Classifier {
            model: Model::train(&rows, options),
            featurizer,
        }
    }

    pub fn classify(&self, text: &str) -> Classification {
        self.classify_analysis(&self.featurizer.analyse(text))
    }

    /// Analyses a message once; the classifier and the knowledge base both read the result.
    pub fn analyse(&self, text: &str) -> crate::kb::Analysis {
        self.featurizer.analyse(text)
    }

    /// [`Classifier::analyse`] of a text whose [`crate::text::normalize`] is `normalized`.
    pub fn analyse_normalized(&self, text: &str, normalized: String) -> crate::kb::Analysis {
        self.featurizer.analyse_normalized(text, normalized)
    }

    /// [`Classifier::classify`] of a message already analysed.
    pub fn classify_analysis(&self, analysis: &crate::kb::Analysis) -> Classification {
        let (assessment, features) = self.featurizer.read_analysis(analysis);
        let p = self.model.probabilities(&features);
        decide(&p, &assessment)
    }

    /// Writes the model as `model.json` (sorted keys, byte-identical for the same model).
    pub fn save(&self, path: &Path) -> Result<(), ClassifyError> {
        let io = |e: std::io::Error| ClassifyError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(path, self.model.to_json()).map_err(io)
    }

    /// How many features carry weight.
    pub fn feature_count(&self) -> usize {
        self.model.feature_count()
    }
}

fn class_index(category: Category) -> usize {
    Category::ALL
        .iter()
        .position(|c| *c == category)
        .unwrap_or_default()
}

/// Rules first, then the model; see the module documentation.
fn decide(p: &[f32; CLASSES], assessment: &Assessment) -> Classification {
    let emergency = class_index(Category::Emergency);
    let mut ranked: Vec<usize> = (0..CLASSES).collect();
    ranked.sort_by(|a, b| p[*b].total_cmp(&p[*a]).then(a.cmp(b)));
    let (class, confidence) = if assessment.forces_emergency() {
        (emergency, p[emergency].max(RULE_CONFIDENCE))
    } else if p[emergency] >= EMERGENCY_THRESHOLD && assessment.hints_emergency() {
        (emergency, p[emergency])
    } else if ranked[0] == emergency && assessment.settled() {
        let second = ranked[1];
        (second, p[second] / (1.0 - p[emergency]).max(f32::EPSILON))
    } else {
        (ranked[0], p[ranked[0]])
    };
    let category = Category::ALL[class];
    Classification {
        category,
        confidence: confidence.clamp(0.0, 1.0),
        emergency_numbers: if category == Category::Emergency {
            assessment.numbers()
        } else {
            Vec::new()
        },
    }
}

#[cfg(test)]
mod tests;
