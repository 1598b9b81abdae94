//! Measuring the classifier: per-class precision, recall and F1, macro-F1, the confusion matrix,
//! and k-fold cross-validation on the training examples.
//!
//! 紧急 recall gets its own line in every report: a missed emergency is the worst error. Rows of
//! the confusion matrix are the expected class, columns the predicted one.

use std::fmt::Write;

use crate::domain::Category;

use super::model::{CLASSES, TrainOptions};
use super::{Classifier, Featurizer};

#[derive(Debug, Clone, PartialEq)]
pub struct ClassMetrics {
    pub category: Category,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Examples whose expected class this is.
    pub support: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// `confusion[expected][predicted]`, indexes in the order of [`Category::ALL`].
    pub confusion: [[usize; CLASSES]; CLASSES],
    pub classes: Vec<ClassMetrics>,
    pub macro_f1: f64,
    pub accuracy: f64,
}

fn index(category: Category) -> usize {
    Category::ALL
        .iter()
        .position(|c| *c == category)
        .unwrap_or_default()
}

/// Metrics of (expected, predicted) pairs. A ratio with a zero denominator counts as 0.
pub fn evaluate(pairs: &[(Category, Category)]) -> Metrics {
    let mut confusion = [[0usize; CLASSES]; CLASSES];
    for (expected, predicted) in pairs {
        confusion[index(*expected)][index(*predicted)] += 1;
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let classes: Vec<ClassMetrics> = Category::ALL
        .iter()
        .enumerate()
        .map(|(k, category)| {
            let hits = confusion[k][k];
            let predicted: usize = confusion.iter().map(|row| row[k]).sum();
            let support: usize = confusion[k].iter().sum();
            let (precision, recall) = (ratio(hits, predicted), ratio(hits, support));
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            ClassMetrics {
                category: *category,
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    // Averaged over the classes that occur, expected or predicted (as scikit-learn does).
    let present: Vec<&ClassMetrics> = classes
        .iter()
        .enumerate()
        .filter(|(k, c)| c.support > 0 || confusion.iter().any(|row| row[*k] > 0))
        .map(|(_, c)| c)
        .collect();
    let macro_f1 = present.iter().map(|c| c.f1).sum::<f64>() / present.len().max(1) as f64;
    let correct: usize = (0..CLASSES).map(|k| confusion[k][k]).sum();
    Metrics {
        confusion,
        classes,
        macro_f1,
        accuracy: ratio(correct, pairs.len()),
    }
}

impl Metrics {
    pub fn class(&self, category: Category) -> &ClassMetrics {
        &self.classes[index(category)]
    }

    /// The report `hotline classify --eval` prints.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "class   precision  recall     f1  support");
        for c in &self.classes {
            let _ = writeln!(
                out,
                "{}    {:>9.3}  {:>6.3}  {:>5.3}  {:>7}",
                c.category, c.precision, c.recall, c.f1, c.support
            );
        }
        let emergency = self.class(Category::Emergency);
        let _ = writeln!(
            out,
            "\nmacro-F1 {:.3}   accuracy {:.3}",
            self.macro_f1, self.accuracy
        );
        let _ = writeln!(
            out,
            "紧急 recall {:.3}   紧急 precision {:.3}",
            emergency.recall, emergency.precision
        );
        let _ = writeln!(out, "\nconfusion (rows = expected, columns = predicted)");
        let header: Vec<String> = Category::ALL.iter().map(|c| format!("{c:>4}")).collect();
        let _ = writeln!(out, "      {}", header.join(" "));
        for (k, row) in self.confusion.iter().enumerate() {
            let cells: Vec<String> = row.iter().map(|n| format!("{n:>6}")).collect();
            let _ = writeln!(out, "{}  {}", Category::ALL[k], cells.join(""));
        }
        out
    }
}

/// One held-out prediction of cross-validation.
#[derive(Debug, Clone)]
pub struct HeldOut {
    pub text: String,
    pub expected: Category,
    pub predicted: Category,
}

/// k-fold cross-validation: example `i` is held out in fold `i % folds`; each fold's model is
/// trained on the others. Deterministic, like training.
pub fn cross_validate(
    examples: &[(String, Category)],
    featurizer: &Featurizer,
    options: &TrainOptions,
    folds: usize,
) -> Vec<HeldOut> {
    let folds = folds.max(2);
    let mut held_out = Vec::with_capacity(examples.len());
    for fold in 0..folds {
        let (test, train): (Vec<_>, Vec<_>) = examples
            .iter()
            .enumerate()
            .partition(|(i, _)| i % folds == fold);
        let train: Vec<(String, Category)> = train.into_iter().map(|(_, e)| e.clone()).collect();
        let classifier = Classifier::train(&train, featurizer.clone(), options);
        held_out.extend(test.into_iter().map(|(_, (text, expected))| HeldOut {
            text: text.clone(),
            expected: *expected,
            predicted: classifier.classify(text).category,
        }));
    }
    held_out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Category::{Complaint as C, Consultation as Q, Emergency as E};

    #[test]
    fn metrics_match_a_hand_computed_example() {
        // Expected → predicted: Q→Q, Q→Q, Q→C, C→C, C→Q, E→E, E→E, C→E.
        let pairs = [
            (Q, Q),
            (Q, Q),
            (Q, C),
            (C, C),
            (C, Q),
            (E, E),
            (E, E),
            (C, E),
        ];
        let m = evaluate(&pairs);
        // 咨询: 2 right of 3 predicted, 2 of 3 expected.
        let q = m.class(Q);
        assert!((q.precision - 2.0 / 3.0).abs() < 1e-9);
        assert!((q.recall - 2.0 / 3.0).abs() < 1e-9);
        // 投诉: 1 right of 2 predicted, 1 of 3 expected; F1 = 2·(1/2·1/3)/(1/2+1/3) = 0.4.
        let c = m.class(C);
        assert!((c.precision - 0.5).abs() < 1e-9);
        assert!((c.recall - 1.0 / 3.0).abs() < 1e-9);
        assert!((c.f1 - 0.4).abs() < 1e-9);
        // 紧急: 2 of 3 predicted are right, both expected found.
        let e = m.class(E);
        assert!((e.precision - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(e.recall, 1.0);
        assert!((e.f1 - 0.8).abs() < 1e-9);
        // Classes that never occur are left out: macro-F1 = (2/3 + 0.4 + 0.8) / 3.
        assert!((m.macro_f1 - (2.0 / 3.0 + 0.4 + 0.8) / 3.0).abs() < 1e-9);
        assert_eq!(m.accuracy, 5.0 / 8.0);
        assert_eq!(m.confusion[index(C)][index(E)], 1);
        assert_eq!(m.class(E).support, 2);
    }

    #[test]
    fn the_report_names_emergency_recall_and_the_confusion_matrix() {
        let report = evaluate(&[(E, E), (Q, E)]).render();
        assert!(report.contains("紧急 recall 1.000   紧急 precision 0.500"));
        assert!(report.contains("rows = expected"));
    }
}
