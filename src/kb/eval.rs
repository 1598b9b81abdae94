//! Retrieval and answering metrics over labelled queries (`{"text", "topic": id | null}`).

use serde::Serialize;

/// One labelled query and what the knowledge base did with it.
pub struct Outcome<'a> {
    /// The expected article id; `None` when the knowledge base cannot answer it.
    pub expected: Option<&'a str>,
    /// Hit ids, best first.
    pub hits: Vec<&'a str>,
    /// The automatic answer, if any.
    pub answer: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub queries: usize,
    pub in_scope: usize,
    pub out_of_scope: usize,
    pub hit_at_1: f64,
    pub hit_at_3: f64,
    pub mrr_at_5: f64,
    /// In-scope queries answered automatically with the right article.
    pub coverage: f64,
    /// Automatic answers that were right (an answer to an out-of-scope query is wrong).
    pub precision: f64,
    /// Out-of-scope queries not answered automatically.
    pub out_of_scope_rejection: f64,
}

pub fn metrics(outcomes: &[Outcome<'_>]) -> Metrics {
    let ratio = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    let (mut in_scope, mut at1, mut at3, mut rr, mut covered) = (0, 0, 0, 0.0, 0);
    let (mut answered, mut right, mut oos, mut rejected) = (0, 0, 0, 0);
    for o in outcomes {
        if o.answer.is_some() {
            answered += 1;
            if o.answer == o.expected {
                right += 1;
            }
        }
        match o.expected {
            Some(expected) => {
                in_scope += 1;
                let rank = o.hits.iter().take(5).position(|h| *h == expected);
                at1 += usize::from(rank == Some(0));
                at3 += usize::from(rank.is_some_and(|r| r < 3));
                rr += rank.map(|r| 1.0 / (r + 1) as f64).unwrap_or(0.0);
                covered += usize::from(o.answer == Some(expected));
            }
            None => {
                oos += 1;
                rejected += usize::from(o.answer.is_none());
            }
        }
    }
    Metrics {
        queries: outcomes.len(),
        in_scope,
        out_of_scope: oos,
        hit_at_1: ratio(at1, in_scope),
        hit_at_3: ratio(at3, in_scope),
        mrr_at_5: if in_scope == 0 {
            0.0
        } else {
            rr / in_scope as f64
        },
        coverage: ratio(covered, in_scope),
        precision: ratio(right, answered),
        out_of_scope_rejection: ratio(rejected, oos),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_match_a_hand_computed_example() {
        let outcomes = [
            Outcome {
                expected: Some("a"),
                hits: vec!["a", "b"],
                answer: Some("a"),
            },
            Outcome {
                expected: Some("b"),
                hits: vec!["a", "b"],
                answer: Some("a"),
            },
            Outcome {
                expected: Some("c"),
                hits: vec!["x"],
                answer: None,
            },
            Outcome {
                expected: None,
                hits: vec!["a"],
                answer: Some("a"),
            },
            Outcome {
                expected: None,
                hits: vec![],
                answer: None,
            },
        ];
        let m = metrics(&outcomes);
        assert_eq!(m.in_scope, 3);
        assert!((m.hit_at_1 - 1.0 / 3.0).abs() < 1e-9);
        assert!((m.hit_at_3 - 2.0 / 3.0).abs() < 1e-9);
        assert!((m.mrr_at_5 - 0.5).abs() < 1e-9);
        assert!((m.coverage - 1.0 / 3.0).abs() < 1e-9);
        assert!((m.precision - 1.0 / 3.0).abs() < 1e-9);
        assert!((m.out_of_scope_rejection - 0.5).abs() < 1e-9);
    }
}
