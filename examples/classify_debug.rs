// TEMPORARY debugging aid (to be deleted).
use std::io::BufRead;
fn main() {
    let dir = std::path::Path::new("knowledge");
    let f = hotline::classify::Featurizer::load(dir).unwrap();
    let c = hotline::classify::Classifier::load(dir).unwrap();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let (a, _) = f.read(&line);
        let r = c.classify(&line);
        println!(
            "{} {:.2} {:?} | {}\n   {:?}",
            r.category,
            r.confidence,
            r.emergency_numbers,
            line,
            a.cues()
        );
    }
}
