//! Scoring triage records against labels: accuracy per field, precision and recall per
//! category, the confusion matrix, and how each part of the pipeline (rules, learned
//! corrections, headers, the model) did on what it decided.

use bantam_core::tasks::triage::{DecidedBy, Priority4, TriageRecord};
use serde::{Deserialize, Serialize};

/// What a person says a message is (one line of a labels file).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Label {
    pub file: String,
    pub category: String,
    pub priority: Priority4,
    pub needs_reply: bool,
    /// `dev` (tune on it) or `test` (held out).
    #[serde(default)]
    pub split: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassScore {
    pub class: String,
    /// Labeled as this class.
    pub support: usize,
    /// Predicted as this class.
    pub predicted: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// One part of the pipeline: how many records it decided and how many of those were right.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PartScore {
    pub decided_by: DecidedBy,
    pub messages: usize,
    pub category_correct: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub messages: usize,
    pub category_accuracy: f64,
    pub priority_accuracy: f64,
    pub needs_reply_accuracy: f64,
    /// Per category, and `spam+promotion` (unwanted bulk mail, as one class).
    pub classes: Vec<ClassScore>,
    pub parts: Vec<PartScore>,
    pub categories: Vec<String>,
    /// `matrix[expected][predicted]`, in the order of `categories`.
    pub matrix: Vec<Vec<usize>>,
}

impl EvalReport {
    pub fn class(&self, name: &str) -> Option<&ClassScore> {
        self.classes.iter().find(|c| c.class == name)
    }
}

/// The merged class of unwanted bulk mail.
pub const UNWANTED: &str = "spam+promotion";

/// Scores records against labels (pairs of one message each).
pub fn score(pairs: &[(Label, TriageRecord)], categories: &[String]) -> EvalReport {
    let n = pairs.len().max(1) as f64;
    let share = |f: &dyn Fn(&(Label, TriageRecord)) -> bool| pairs.iter().filter(|p| f(p)).count() as f64 / n;
    let index = |c: &str| categories.iter().position(|x| x == c);
    let mut matrix = vec![vec![0; categories.len()]; categories.len()];
    for (label, record) in pairs {
        if let (Some(e), Some(p)) = (index(&label.category), index(&record.category)) {
            matrix[e][p] += 1;
        }
    }
    let mut classes: Vec<ClassScore> = categories.iter().map(|c| class_score(c, pairs, |x| x == c)).collect();
    classes.push(class_score(UNWANTED, pairs, |x| x == "spam" || x == "promotion"));
    let parts = [
        DecidedBy::Rule,
        DecidedBy::Learned,
        DecidedBy::Headers,
        DecidedBy::Filter,
        DecidedBy::Model,
    ]
    .into_iter()
    .map(|by| {
        let mine: Vec<_> = pairs.iter().filter(|(_, r)| r.decided_by == by).collect();
        PartScore {
            decided_by: by,
            messages: mine.len(),
            category_correct: mine.iter().filter(|(l, r)| l.category == r.category).count(),
        }
    })
    .filter(|p| p.messages > 0)
    .collect();
    EvalReport {
        messages: pairs.len(),
        category_accuracy: share(&|(l, r)| l.category == r.category),
        priority_accuracy: share(&|(l, r)| l.priority == r.priority),
        needs_reply_accuracy: share(&|(l, r)| l.needs_reply == r.needs_reply),
        classes,
        parts,
        categories: categories.to_vec(),
        matrix,
    }
}

fn class_score(name: &str, pairs: &[(Label, TriageRecord)], is: impl Fn(&str) -> bool) -> ClassScore {
    let support = pairs.iter().filter(|(l, _)| is(&l.category)).count();
    let predicted = pairs.iter().filter(|(_, r)| is(&r.category)).count();
    let hits = pairs.iter().filter(|(l, r)| is(&l.category) && is(&r.category)).count();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let (precision, recall) = (ratio(hits, predicted), ratio(hits, support));
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    ClassScore {
        class: name.to_string(),
        support,
        predicted,
        precision,
        recall,
        f1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bantam_core::tasks::triage::route;

    fn record(category: &str, priority: Priority4, needs_reply: bool, by: DecidedBy) -> TriageRecord {
        TriageRecord {
            category: category.into(),
            priority,
            needs_reply,
            action_items: Vec::new(),
            summary: "s".into(),
            route: route(category),
            reason: "r".into(),
            decided_by: by,
        }
    }

    fn label(category: &str, priority: Priority4, needs_reply: bool) -> Label {
        Label {
            file: "f".into(),
            category: category.into(),
            priority,
            needs_reply,
            split: None,
        }
    }

    #[test]
    fn each_field_class_and_part_is_counted() {
        use DecidedBy::{Headers, Model};
        use Priority4::{High, Low, Normal};
        let cats: Vec<String> = ["work", "spam", "promotion"].iter().map(|s| s.to_string()).collect();
        let pairs = vec![
            (label("work", High, true), record("work", High, false, Model)),
            (label("spam", Low, false), record("work", Low, false, Model)),
            (label("spam", Low, false), record("spam", Normal, false, Headers)),
            (label("promotion", Low, false), record("spam", Low, false, Model)),
        ];
        let r = score(&pairs, &cats);
        assert_eq!(r.messages, 4);
        assert!((r.category_accuracy - 0.5).abs() < 1e-9);
        assert!((r.priority_accuracy - 0.75).abs() < 1e-9);
        assert!((r.needs_reply_accuracy - 0.75).abs() < 1e-9);
        assert_eq!(r.matrix, vec![vec![1, 0, 0], vec![1, 1, 0], vec![0, 1, 0]]);
        let spam = r.class("spam").unwrap();
        assert_eq!((spam.support, spam.predicted), (2, 2));
        assert!((spam.precision - 0.5).abs() < 1e-9 && (spam.recall - 0.5).abs() < 1e-9);
        // As one class, spam+promotion: 3 labeled, 2 predicted, both right.
        let unwanted = r.class(UNWANTED).unwrap();
        assert!((unwanted.precision - 1.0).abs() < 1e-9);
        assert!((unwanted.recall - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(
            r.parts,
            vec![
                PartScore {
                    decided_by: Headers,
                    messages: 1,
                    category_correct: 1
                },
                PartScore {
                    decided_by: Model,
                    messages: 3,
                    category_correct: 1
                }
            ]
        );
        assert_eq!(r.class("promotion").unwrap().f1, 0.0);
    }
}
