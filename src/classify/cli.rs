//! `hotline classify`: classify JSON lines from stdin, measure on a labelled file, or retrain.
//!
//! - `hotline classify` reads `{"text"}` lines and writes `{"text","category","confidence"}`
//!   lines (plus `"emergency_numbers"` for 紧急).
//! - `hotline classify --eval FILE.jsonl` reads `{"text","category"}` lines and prints per-class
//!   precision, recall and F1, macro-F1, 紧急 recall and precision, and the confusion matrix.
//! - `hotline classify train` reads `knowledge/classifier/train.jsonl` and writes
//!   `knowledge/classifier/model.json`; `--folds 5` first reports cross-validation.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use serde::Deserialize;

use super::eval::{cross_validate, evaluate};
use super::{Classifier, Featurizer, MODEL_FILE, TRAIN_FILE, TrainOptions, data};

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ClassifyArgs {
    #[command(subcommand)]
    pub command: Option<ClassifyCommand>,
    /// Measure on labelled JSON lines {"text","category"} instead of classifying stdin.
    #[arg(long, value_name = "FILE.jsonl")]
    pub eval: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
pub enum ClassifyCommand {
    /// Train on classifier/train.jsonl and write classifier/model.json (deterministic).
    Train {
        /// First report k-fold cross-validation on the training examples.
        #[arg(long, value_name = "K")]
        folds: Option<usize>,
        /// With --folds: print every held-out example the model got wrong.
        #[arg(long, requires = "folds")]
        errors: bool,
    },
}

const STDOUT: &str = "failed to write stdout";

#[derive(Deserialize)]
struct Request {
    text: String,
}

pub fn run(args: ClassifyArgs, knowledge_dir: &Path) -> anyhow::Result<ExitCode> {
    match (args.command, args.eval) {
        (Some(ClassifyCommand::Train { folds, errors }), _) => train(knowledge_dir, folds, errors),
        (None, Some(file)) => eval(knowledge_dir, &file),
        (None, None) => classify_stdin(knowledge_dir),
    }
}

fn load(knowledge_dir: &Path) -> anyhow::Result<Classifier> {
    Classifier::load(knowledge_dir).with_context(|| {
        format!(
            "failed to load the classifier from {}",
            knowledge_dir.display()
        )
    })
}

fn classify_stdin(knowledge_dir: &Path) -> anyhow::Result<ExitCode> {
    let classifier = load(knowledge_dir)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (number, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.context("failed to read stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        let request: Request = serde_json::from_str(&line)
            .with_context(|| format!("stdin:{}: expected {{\"text\": …}}", number + 1))?;
        let c = classifier.classify(&request.text);
        let mut reply = serde_json::json!({
            "text": request.text,
            "category": c.category.label(),
            "confidence": (f64::from(c.confidence) * 1000.0).round() / 1000.0,
        });
        if !c.emergency_numbers.is_empty() {
            reply["emergency_numbers"] = serde_json::json!(c.emergency_numbers);
        }
        writeln!(out, "{reply}").context(STDOUT)?;
    }
    out.flush().context(STDOUT)?;
    Ok(ExitCode::SUCCESS)
}

fn eval(knowledge_dir: &Path, file: &Path) -> anyhow::Result<ExitCode> {
    let classifier = load(knowledge_dir)?;
    let examples = data::read_examples(file)?;
    let started = Instant::now();
    let pairs: Vec<_> = examples
        .iter()
        .map(|(text, expected)| (*expected, classifier.classify(text).category))
        .collect();
    let elapsed = started.elapsed();
    let mut out = std::io::stdout().lock();
    write!(out, "{}", evaluate(&pairs).render()).context(STDOUT)?;
    writeln!(
        out,
        "\n{} messages in {:.1} ms ({:.0} µs each)",
        pairs.len(),
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e6 / pairs.len().max(1) as f64
    )
    .context(STDOUT)?;
    Ok(ExitCode::SUCCESS)
}

fn train(knowledge_dir: &Path, folds: Option<usize>, errors: bool) -> anyhow::Result<ExitCode> {
    let examples = data::read_examples(&knowledge_dir.join(TRAIN_FILE))?;
    let featurizer = Featurizer::load(knowledge_dir)?;
    let options = TrainOptions::default();
    let mut out = std::io::stdout().lock();
    if let Some(folds) = folds {
        let held_out = cross_validate(&examples, &featurizer, &options, folds);
        if errors {
            for h in held_out.iter().filter(|h| h.expected != h.predicted) {
                writeln!(out, "{} → {}  {}", h.expected, h.predicted, h.text).context(STDOUT)?;
            }
        }
        let pairs: Vec<_> = held_out.iter().map(|h| (h.expected, h.predicted)).collect();
        let report = evaluate(&pairs).render();
        let count = examples.len();
        writeln!(
            out,
            "{folds}-fold cross-validation on {count} examples\n{report}"
        )
        .context(STDOUT)?;
    }
    let classifier = Classifier::train(&examples, featurizer, &options);
    let path = knowledge_dir.join(MODEL_FILE);
    classifier.save(&path)?;
    writeln!(
        out,
        "trained on {} examples: {} features → {}",
        examples.len(),
        classifier.feature_count(),
        path.display()
    )
    .context(STDOUT)?;
    Ok(ExitCode::SUCCESS)
}
