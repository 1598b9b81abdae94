//! Subcommands other than `serve`: knowledge base and store tools.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

pub mod report;

use hotline::app::{Paths, open_store};
use hotline::auth::{Role, TokenRecord, generate_token, token_hash, token_id};
use hotline::clock;
use hotline::config::Settings;
use hotline::domain::TicketNumber;
use hotline::kb::{AnswerPolicy, Snapshot, eval};
use hotline::store::{TicketStore, TokenStore};
use hotline::units::Units;

#[derive(Subcommand)]
pub enum KbCommand {
    /// Validate every article; exits non-zero with file:line messages on any problem.
    Check,
    /// Build the index and report how long it took (progress bar on large knowledge bases).
    Index,
    /// Search the knowledge base and show the top hits with scores.
    Search {
        /// The question, as a citizen would type it.
        query: String,
    },
    /// Read JSON lines {"text"} on stdin; write {"text","answer","hits"} per line.
    Ask,
    /// Measure retrieval and answering on labelled JSON lines {"text","topic": id|null}.
    Eval {
        file: std::path::PathBuf,
        /// Print the metrics as JSON.
        #[arg(long)]
        json: bool,
        /// Print each query that was answered wrongly or missed.
        #[arg(long)]
        errors: bool,
    },
}

#[derive(Subcommand)]
pub enum TicketsCommand {
    /// The most recent tickets.
    List {
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// One ticket with its audit trail.
    Show { number: String },
}

#[derive(Subcommand)]
pub enum UnitsCommand {
    /// The handling units in config/units.toml.
    List,
    /// Access tokens of a unit.
    #[command(subcommand)]
    Token(UnitTokenCommand),
}

#[derive(Subcommand)]
pub enum UnitTokenCommand {
    /// Create a token for UNIT; it is printed once and only its hash is kept.
    Create {
        unit: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Revoke a token by the id shown when it was created (or by `hotline tokens list`).
    Revoke { id: String },
}

#[derive(Subcommand)]
pub enum TokensCommand {
    /// Create an admin, operator or integrator token (an integrator's API key); it is printed
    /// once.
    Create {
        #[arg(long, value_parser = ["admin", "operator", "integrator"])]
        role: String,
        #[arg(long, default_value = "")]
        label: String,
        /// With `--role integrator`: the integrator's id in config/integrators.toml.
        #[arg(long, required_if_eq("role", "integrator"))]
        integrator: Option<String>,
    },
    /// Every token: id, role, label, created, revoked (never the token itself).
    List,
    /// Revoke a token by id.
    Revoke { id: String },
}

fn policy(settings: &Settings) -> AnswerPolicy {
    let k = &settings.knowledge;
    AnswerPolicy {
        answer_threshold: k.answer_threshold,
        suggest_threshold: k.suggest_threshold,
        region: k.region.clone(),
    }
}

fn load_snapshot(settings: &Settings) -> anyhow::Result<Snapshot> {
    let k = &settings.knowledge;
    let snapshot = Snapshot::load(&k.dir, &k.region, |_, _| {})
        .with_context(|| format!("failed to load {}", k.dir.display()))?;
    for rejected in snapshot.rejected() {
        eprintln!("warning: {rejected}");
    }
    Ok(snapshot)
}

pub fn kb(command: KbCommand, settings: &Settings, paths: &Paths) -> anyhow::Result<ExitCode> {
    match command {
        KbCommand::Check => return kb_check(settings, paths),
        KbCommand::Index => return kb_index(settings),
        _ => {}
    }
    let snapshot = load_snapshot(settings)?;
    let policy = policy(settings);
    let today = clock::today();
    match command {
        KbCommand::Search { query } => {
            let lookup = snapshot.lookup(&query, &policy, today)?;
            println!("confidence {:.3}", lookup.confidence);
            for (rank, hit) in lookup.hits.iter().enumerate() {
                println!(
                    "{}. {:>7.3}  {}  {}",
                    rank + 1,
                    hit.score,
                    hit.article.id,
                    hit.article.title
                );
            }
            match lookup.answer() {
                Some(a) => println!("→ answers automatically with {}", a.id),
                None => println!("→ no automatic answer"),
            }
        }
        KbCommand::Ask => {
            let stdin = std::io::stdin();
            let mut out = std::io::stdout().lock();
            for (n, line) in stdin.lock().lines().enumerate() {
                let line = line.context("failed to read stdin")?;
                if line.trim().is_empty() {
                    continue;
                }
                #[derive(serde::Deserialize)]
                struct In {
                    text: String,
                }
                let input: In = serde_json::from_str(&line).with_context(|| {
                    format!("stdin:{}: expected a JSON object with \"text\"", n + 1)
                })?;
                let lookup = snapshot.lookup(&input.text, &policy, today)?;
                let hits: Vec<_> = lookup
                    .hits
                    .iter()
                    .map(|h| serde_json::json!({"id": h.article.id, "score": h.score}))
                    .collect();
                let row = serde_json::json!({
                    "text": input.text,
                    "answer": lookup.answer().map(|a| a.id.clone()),
                    "confidence": lookup.confidence,
                    "hits": hits,
                });
                writeln!(out, "{row}")?;
            }
        }
        KbCommand::Check | KbCommand::Index => {}
        KbCommand::Eval { file, json, errors } => {
            return kb_eval(&snapshot, &policy, today, &file, json, errors);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn kb_check(settings: &Settings, paths: &Paths) -> anyhow::Result<ExitCode> {
    let k = &settings.knowledge;
    let snapshot = Snapshot::load(&k.dir, &k.region, |_, _| {})
        .with_context(|| format!("failed to load {}", k.dir.display()))?;
    let units = Units::load(&paths.config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut regions = settings.city.districts.clone();
    regions.push(k.region.clone());
    let problems = snapshot.check(|u| units.contains(u), &regions, clock::today());
    for p in &problems {
        println!("{p}");
    }
    let checked = snapshot.articles().len() + snapshot.rejected().len();
    if problems.is_empty() {
        println!("{checked} articles checked, no problems");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{checked} articles checked, {} problems", problems.len());
        Ok(ExitCode::FAILURE)
    }
}

fn kb_index(settings: &Settings) -> anyhow::Result<ExitCode> {
    let k = &settings.knowledge;
    let started = std::time::Instant::now();
    let bar = indicatif::ProgressBar::hidden();
    let snapshot = Snapshot::load(&k.dir, &k.region, |done, total| {
        if done == 1 && total >= 500 {
            bar.set_length(total as u64);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        bar.set_position(done as u64);
    })
    .with_context(|| format!("failed to load {}", k.dir.display()))?;
    bar.finish_and_clear();
    for rejected in snapshot.rejected() {
        eprintln!("rejected: {rejected}");
    }
    println!(
        "indexed {} articles in {:.2} s ({} rejected)",
        snapshot.articles().len(),
        started.elapsed().as_secs_f64(),
        snapshot.rejected().len()
    );
    Ok(ExitCode::SUCCESS)
}

fn kb_eval(
    snapshot: &Snapshot,
    policy: &AnswerPolicy,
    today: jiff::civil::Date,
    file: &std::path::Path,
    json: bool,
    show_errors: bool,
) -> anyhow::Result<ExitCode> {
    #[derive(serde::Deserialize)]
    struct Labelled {
        text: String,
        topic: Option<String>,
    }
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("failed to read {}", file.display()))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: Labelled = serde_json::from_str(line).with_context(|| {
            format!(
                "{}:{}: expected {{\"text\", \"topic\"}}",
                file.display(),
                n + 1
            )
        })?;
        let lookup = snapshot.lookup(&row.text, policy, today)?;
        rows.push((row, lookup));
    }
    let outcomes: Vec<eval::Outcome> = rows
        .iter()
        .map(|(row, lookup)| eval::Outcome {
            expected: row.topic.as_deref(),
            hits: lookup.hits.iter().map(|h| h.article.id.as_str()).collect(),
            answer: lookup.answer().map(|a| a.id.as_str()),
        })
        .collect();
    if show_errors {
        for ((row, lookup), o) in rows.iter().zip(&outcomes) {
            let top = o.hits.first().copied().unwrap_or("-");
            if o.answer != o.expected {
                println!(
                    "{:.3}  expected {:<40} top {:<40} answer {:<10} {}",
                    lookup.confidence,
                    o.expected.unwrap_or("null"),
                    top,
                    o.answer.unwrap_or("-"),
                    row.text
                );
            }
        }
    }
    let m = eval::metrics(&outcomes);
    if json {
        println!("{}", serde_json::to_string_pretty(&m)?);
    } else {
        println!(
            "queries {}  (in scope {}, out of scope {})",
            m.queries, m.in_scope, m.out_of_scope
        );
        println!("hit@1     {:.3}", m.hit_at_1);
        println!("hit@3     {:.3}", m.hit_at_3);
        println!("MRR@5     {:.3}", m.mrr_at_5);
        println!(
            "coverage  {:.3}  (in-scope answered automatically and correctly)",
            m.coverage
        );
        println!(
            "precision {:.3}  (automatic answers that are right)",
            m.precision
        );
        println!(
            "rejection {:.3}  (out-of-scope not answered)",
            m.out_of_scope_rejection
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn tickets(command: TicketsCommand, paths: &Paths) -> anyhow::Result<ExitCode> {
    let store = open_store(&paths.data)?;
    match command {
        TicketsCommand::List { limit } => {
            for t in store.recent(limit)? {
                println!(
                    "{}  {}  {}  {}  {}",
                    t.number,
                    clock::display(t.details.created_at),
                    t.status.label(),
                    t.details.category.label(),
                    t.details.content.chars().take(40).collect::<String>()
                );
            }
        }
        TicketsCommand::Show { number } => {
            let n = TicketNumber::parse(&number)
                .with_context(|| format!("`{number}` is not a valid ticket number"))?;
            let Some(t) = store.get(n)? else {
                anyhow::bail!("no ticket {number} in {}", paths.data.display());
            };
            println!("{}", serde_json::to_string_pretty(&t)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn units(command: UnitsCommand, paths: &Paths) -> anyhow::Result<ExitCode> {
    let units = Units::load(&paths.config).map_err(|e| anyhow::anyhow!("{e}"))?;
    match command {
        UnitsCommand::List => {
            for u in units.iter() {
                let districts = if u.districts.is_empty() {
                    "全市".to_string()
                } else {
                    u.districts.join("、")
                };
                println!("{:<32} {:<20} {:?}  {}", u.id, u.name, u.kind, districts);
            }
            Ok(ExitCode::SUCCESS)
        }
        UnitsCommand::Token(UnitTokenCommand::Create { unit, label }) => {
            if !units.contains(&unit) {
                anyhow::bail!(
                    "unknown unit `{unit}`: see `hotline units list` ({})",
                    paths.config.join(hotline::units::UNITS_FILE).display()
                );
            }
            create_token(paths, Role::Unit(unit), label)
        }
        UnitsCommand::Token(UnitTokenCommand::Revoke { id }) => revoke_token(paths, &id),
    }
}

pub fn tokens(command: TokensCommand, paths: &Paths) -> anyhow::Result<ExitCode> {
    match command {
        TokensCommand::Create {
            role,
            label,
            integrator,
        } => {
            let role = match (role.as_str(), integrator) {
                ("admin", _) => Role::Admin,
                ("integrator", Some(id)) => {
                    let known = hotline::integrators::Integrators::load(&paths.config, |_| {
                        Some(hotline::config::Secret::new(String::new()))
                    })
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                    if known.get(&id).is_none() {
                        anyhow::bail!(
                            "unknown integrator `{id}`: add it to {} first",
                            paths
                                .config
                                .join(hotline::integrators::INTEGRATORS_FILE)
                                .display()
                        );
                    }
                    Role::Integrator(id)
                }
                ("integrator", None) => anyhow::bail!("--role integrator needs --integrator ID"),
                _ => Role::Operator,
            };
            create_token(paths, role, label)
        }
        TokensCommand::List => {
            let store = open_store(&paths.data)?;
            for (_, t) in store.tokens()? {
                println!(
                    "{}  {:<32} {:<16} {}{}",
                    t.id,
                    t.role.label(),
                    t.label,
                    clock::display(t.created_at),
                    if t.revoked { "  (revoked)" } else { "" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TokensCommand::Revoke { id } => revoke_token(paths, &id),
    }
}

fn create_token(paths: &Paths, role: Role, label: String) -> anyhow::Result<ExitCode> {
    let store = open_store(&paths.data)?;
    let token = generate_token();
    let hash = token_hash(&token);
    let record = TokenRecord {
        id: token_id(&hash),
        role,
        label,
        created_at: clock::now(),
        revoked: false,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    runtime.block_on(store.put_token(hash, record.clone()))?;
    store.close()?;
    eprintln!(
        "token {} for {} (shown once; keep it secret):",
        record.id,
        record.role.label()
    );
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

fn revoke_token(paths: &Paths, id: &str) -> anyhow::Result<ExitCode> {
    let store = open_store(&paths.data)?;
    let Some((hash, mut record)) = store.tokens()?.into_iter().find(|(_, t)| t.id == id) else {
        anyhow::bail!("no token with id `{id}` (see `hotline tokens list`)");
    };
    record.revoked = true;
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    runtime.block_on(store.put_token(hash, record))?;
    store.close()?;
    println!("revoked {id}");
    Ok(ExitCode::SUCCESS)
}

/// `hotline chat`: a conversation with the engine in the terminal. Buttons are shown as numbered
/// options; typing the number sends the button. `/quit` or end of input leaves.
pub fn chat(settings: &Settings, paths: &Paths) -> anyhow::Result<ExitCode> {
    use hotline::domain::{Button, Channel, InboundMessage};
    let runtime = tokio::runtime::Runtime::new().context("failed to start the runtime")?;
    let core = hotline::app::Core::build(settings, paths)?;
    let engine = core.engine.clone();
    let result: anyhow::Result<()> = runtime.block_on(async {
        let conversation = engine.start(Channel::Web).await?;
        let show = |text: &str, buttons: &[Button]| {
            println!("热线> {text}");
            for (i, b) in buttons.iter().enumerate() {
                println!("      [{}] {}", i + 1, b.label);
            }
        };
        for entry in &conversation.transcript {
            show(&entry.text, &entry.buttons);
        }
        let mut last_buttons: Vec<Button> = Vec::new();
        let stdin = std::io::stdin();
        loop {
            print!("市民> ");
            std::io::stdout().flush()?;
            let mut line = String::new();
            if stdin.lock().read_line(&mut line)? == 0 || line.trim() == "/quit" {
                break;
            }
            let mut text = line.trim().to_string();
            if let Ok(n) = text.parse::<usize>()
                && (1..=last_buttons.len()).contains(&n)
            {
                text = last_buttons[n - 1].payload.clone();
            }
            let output = engine
                .handle(InboundMessage::new(Channel::Web, conversation.id, text))
                .await;
            match output {
                Ok(output) => {
                    last_buttons.clear();
                    for reply in &output.replies {
                        show(&reply.text, &reply.buttons);
                        last_buttons.clone_from(&reply.buttons);
                    }
                }
                Err(e) => println!("热线> （{e}）"),
            }
        }
        Ok(())
    });
    drop(engine);
    core.store.close()?;
    result?;
    Ok(ExitCode::SUCCESS)
}
