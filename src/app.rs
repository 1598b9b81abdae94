//! Start-up and shutdown: build everything from settings, serve, stop in order.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::bots::Bots;
use crate::classify::Classifier;
use crate::config::Settings;
use crate::engine::triage::RefusalRules;
use crate::engine::{Engine, EngineSettings, Stores};
use crate::http::{AppState, router};
use crate::kb::{AnswerPolicy, KnowledgeBase, Snapshot};
use crate::store::SledStore;

/// Where the process finds its files.
#[derive(Debug, Clone)]
pub struct Paths {
    pub data: PathBuf,
    pub config: PathBuf,
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    store: Arc<SledStore>,
    settings: Settings,
}

/// Loads the knowledge base folder named in settings, logging rejected articles.
pub fn load_knowledge(settings: &Settings) -> anyhow::Result<KnowledgeBase> {
    let k = &settings.knowledge;
    let snapshot = Snapshot::load(&k.dir, &k.region, |_, _| {})
        .with_context(|| format!("failed to load the knowledge base from {}", k.dir.display()))?;
    for rejected in snapshot.rejected() {
        tracing::warn!(%rejected, "article rejected");
    }
    tracing::info!(
        articles = snapshot.articles().len(),
        "knowledge base loaded"
    );
    Ok(KnowledgeBase::new(
        snapshot,
        k.dir.clone(),
        AnswerPolicy {
            answer_threshold: k.answer_threshold,
            suggest_threshold: k.suggest_threshold,
            region: k.region.clone(),
        },
    ))
}

/// Opens the store, saying clearly when another process holds it.
pub fn open_store(data: &Path) -> anyhow::Result<SledStore> {
    SledStore::open(data).map_err(|e| anyhow::anyhow!("{e}"))
}

impl Application {
    /// Opens the store, loads content and binds the listener (port 0 picks a free port).
    pub async fn build(settings: Settings, paths: &Paths) -> anyhow::Result<Application> {
        let store = Arc::new(open_store(&paths.data)?);
        let kb = Arc::new(load_knowledge(&settings)?);
        let bots = Bots::load(&settings.bots.dir)
            .with_context(|| format!("failed to load {}", settings.bots.dir.display()))?;
        let knowledge_dir = &settings.knowledge.dir;
        let classifier = Classifier::load(knowledge_dir).with_context(|| {
            format!(
                "failed to load the classifier from {}",
                knowledge_dir.display()
            )
        })?;
        let refusals = RefusalRules::load(knowledge_dir).map_err(|e| anyhow::anyhow!("{e}"))?;
        if let Some(missing) = refusals.templates().find(|t| !bots.has(t)) {
            anyhow::bail!(
                "{}: a rule names template `{missing}`, which bots/messages.toml does not define",
                knowledge_dir
                    .join(crate::engine::triage::REFUSALS_FILE)
                    .display()
            );
        }
        let engine = Engine::new(
            kb.clone(),
            Arc::new(classifier),
            refusals,
            Stores {
                tickets: store.clone(),
                conversations: store.clone(),
                records: store.clone(),
            },
            Arc::new(bots),
            EngineSettings {
                max_text_chars: settings.chat.max_text_chars,
                city: settings.city.clone(),
                intake: settings.intake.clone(),
                time_limits: settings.time_limits.clone(),
            },
        );
        let listener = TcpListener::bind(settings.server.listen)
            .await
            .with_context(|| format!("failed to listen on {}", settings.server.listen))?;
        Ok(Application {
            listener,
            state: AppState {
                engine: Arc::new(engine),
                kb,
                tokens: store.clone(),
            },
            store,
            settings,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, lets in-flight requests finish, then flushes the store.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let app = router(self.state.clone(), &self.settings);
        let addr = self.local_addr()?;
        tracing::info!(%addr, "serving");
        // One machine-readable line on stdout, for scripts and tests that start us on port 0.
        println!("hotline listening on http://{addr}");
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .context("server failed")?;
        tracing::info!("requests drained; flushing the store");
        drop(self.state);
        self.store.close().map_err(|e| anyhow::anyhow!("{e}"))?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C received"),
        _ = terminate => tracing::info!("SIGTERM received"),
    }
}
