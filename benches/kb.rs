//! Knowledge-base speed: query latency on the bundled and on a generated 10,000-article
//! knowledge base, indexing those 10,000 articles, and server start-up to ready.
//!
//! Run: `cargo bench --bench kb` (figures in README.md).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use hotline::kb::{AnswerPolicy, Snapshot};
use jiff::civil::date;

/// Questions written for the benchmark (not from the evaluation sets).
const QUESTIONS: &[&str] = &[
    "身份证掉了去哪补",
    "公积金租房提取要什么材料",
    "孩子上小学怎么报名",
    "异地就医备案在手机上能办吗",
    "电动车上牌需要带什么",
    "结婚登记要预约吗",
    "二手房过户交哪些税",
    "暖气不热找谁",
    "社保卡坏了能补吗",
    "个体户营业执照怎么申请",
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn policy() -> AnswerPolicy {
    AnswerPolicy {
        answer_threshold: 0.4,
        suggest_threshold: 0.2,
        region: "示例市".into(),
    }
}

/// A knowledge base of `n` articles made from the bundled ones: each bundled article is
/// rewritten for districts and variants, with its own id, so the index holds `n` documents.
fn generate(n: usize) -> tempfile::TempDir {
    let bundled = Snapshot::load(&repo().join("knowledge"), "示例市", |_, _| {}).expect("bundled");
    let dir = tempfile::tempdir().expect("tempdir");
    let articles = dir.path().join("articles");
    std::fs::create_dir_all(&articles).expect("mkdir");
    for name in ["dict.txt", "synonyms.toml"] {
        std::fs::copy(repo().join("knowledge").join(name), dir.path().join(name)).expect("copy");
    }
    let districts = ["东城区", "西城区", "南山区", "北湖区", "高新区", "滨江县"];
    let base = bundled.articles();
    for i in 0..n {
        let a = &base[i % base.len()];
        let district = districts[i % districts.len()];
        let quoted = |items: &[String]| {
            items
                .iter()
                .map(|q| format!("\"{district}{}\"", q.replace('"', "")))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let text = format!(
            "+++\nid = \"gen-{i}\"\ntitle = \"{district}{title}（第{i}号）\"\ndomain = \"{domain}\"\nquestions = [{questions}]\nkeywords = [{keywords}]\nunit = \"{unit}\"\nregion = \"示例市\"\neffective = 2025-01-01\nexpires = 2028-12-31\nupdated = 2026-10-15\nsummary = \"{summary}\"\n+++\n{district}：{body}\n",
            title = a.title.replace('"', ""),
            domain = a.domain,
            questions = quoted(&a.questions),
            keywords = quoted(&a.keywords),
            unit = a.unit,
            summary = a.summary.replace('"', ""),
            body = a.body,
        );
        std::fs::write(articles.join(format!("gen-{i}.md")), text).expect("write");
    }
    dir
}

fn queries(c: &mut Criterion) {
    let bundled = Snapshot::load(&repo().join("knowledge"), "示例市", |_, _| {}).expect("bundled");
    let today = date(2026, 11, 22);
    let mut i = 0;
    c.bench_function("query bundled knowledge base", |b| {
        b.iter(|| {
            i = (i + 1) % QUESTIONS.len();
            bundled
                .lookup(QUESTIONS[i], &policy(), today)
                .expect("lookup")
        })
    });
    let generated = generate(10_000);
    let big = Snapshot::load(generated.path(), "示例市", |_, _| {}).expect("generated");
    assert_eq!(big.articles().len(), 10_000);
    c.bench_function("query 10,000-article knowledge base", |b| {
        b.iter(|| {
            i = (i + 1) % QUESTIONS.len();
            big.lookup(QUESTIONS[i], &policy(), today).expect("lookup")
        })
    });
    let mut group = c.benchmark_group("indexing");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(60));
    group.bench_function("index 10,000 articles", |b| {
        b.iter(|| Snapshot::load(generated.path(), "示例市", |_, _| {}).expect("index"))
    });
    group.finish();
}

/// Spawns the release binary and waits until /healthz answers.
fn start_to_ready(data: &Path) -> Duration {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .current_dir(repo())
        .arg("--data")
        .arg(data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    use std::io::BufRead;
    let stdout = child.stdout.take().expect("stdout");
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read");
    let base = line
        .trim()
        .trim_start_matches("hotline listening on ")
        .to_string();
    let client = reqwest::blocking::Client::new();
    while client.get(format!("{base}/healthz")).send().is_err() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let elapsed = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}

fn startup(c: &mut Criterion) {
    let mut group = c.benchmark_group("start-up");
    group.sample_size(10);
    group.bench_function("serve to ready (bundled knowledge base)", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| start_to_ready(tempfile::tempdir().expect("tempdir").path()))
                .sum()
        })
    });
    group.finish();
}

criterion_group!(benches, queries, startup);
criterion_main!(benches);
