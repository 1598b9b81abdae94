//! Start-up and shutdown: build everything from settings, serve, stop in order.
//!
//! Shutdown order: stop accepting connections and let in-flight requests finish; stop the
//! background loops (outbox, deadline scheduler, callback worker, webhooks); stop the store's writer and flush. The store is
//! flushed last, after everything that could still write to it has stopped.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::bots::Bots;
use crate::calendar::{TimeLimits, WorkCalendar};
use crate::callback::worker::CallbackWorker;
use crate::channels::Gateway;
use crate::channels::api::IntegratorDeliverer;
use crate::channels::sms::deliver::SmsDeliverer;
use crate::channels::sms::provider::SmsSender;
use crate::channels::sms::twilio::TwilioSender;
use crate::channels::sms::{SmsChannel, SmsStores};
use crate::channels::telegram::Telegram;
use crate::classify::Classifier;
use crate::config::Settings;
use crate::domain::Channel;
use crate::domain::lifecycle::LifecycleRules;
use crate::engine::triage::RefusalRules;
use crate::engine::{Engine, EngineSettings, Stores};
use crate::http::{AppState, router};
use crate::kb::{AnswerPolicy, KnowledgeBase, Snapshot};
use crate::store::SledStore;
use crate::tickets::dispatch::DispatchRules;
use crate::tickets::outbox::{Deliverer, LiveHub, OutboxWorker, TranscriptDeliverer};
use crate::tickets::scheduler::Scheduler;
use crate::tickets::{TicketService, TicketServiceParts};
use crate::units::Units;
use crate::webhooks::worker::WebhookWorker;

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
    outbox: OutboxWorker,
    scheduler: Scheduler,
    callbacks: Arc<CallbackWorker>,
    webhooks: WebhookWorker,
    telegram: Option<Arc<Telegram>>,
    /// Set to true when shutdown starts: background loops and open event streams end.
    stopping: watch::Sender<bool>,
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

/// Opens the store with the page cache `[store]` sets.
pub fn open_store_with(data: &Path, settings: &Settings) -> anyhow::Result<SledStore> {
    let cache_bytes = settings.store.cache_mb.saturating_mul(1024 * 1024);
    SledStore::open_with_cache(data, cache_bytes).map_err(|e| anyhow::anyhow!("{e}"))
}

fn config_error(e: crate::config::ConfigError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// The ticket service from config/: units, dispatch rules, the holiday calendar, time limits.
pub fn build_ticket_service(
    settings: &Settings,
    paths: &Paths,
    store: Arc<SledStore>,
    bots: Arc<Bots>,
    outbox_ready: Arc<Notify>,
) -> anyhow::Result<TicketService> {
    let units = Units::load(&paths.config).map_err(config_error)?;
    let rules = DispatchRules::load(&paths.config, &units).map_err(config_error)?;
    let calendar = WorkCalendar::load(&paths.config).map_err(config_error)?;
    for year in calendar.provisional_years() {
        tracing::warn!(
            year,
            "holiday table for this year is provisional: check the State Council notice"
        );
    }
    Ok(TicketService::new(
        TicketServiceParts {
            tickets: store.clone(),
            units,
            rules,
            calendar,
            limits: TimeLimits::from_settings(settings),
            lifecycle: LifecycleRules {
                max_extensions: settings.deadlines.max_extensions,
                ..LifecycleRules::default()
            },
            bots,
            callbacks: store,
            callback: settings.callback.clone(),
            rates: settings.rates.clone(),
        },
        outbox_ready,
    ))
}

/// The interoperability parts built from config/: unit webhooks (a hook on ticket changes),
/// integrators with their callbacks, the Open311 catalog, and the webhook worker.
struct Interop {
    hooks: crate::tickets::Hooks,
    with_callback: std::collections::BTreeSet<String>,
    webhook_ready: Arc<Notify>,
    worker: WebhookWorker,
    state: Arc<crate::http::interop::InteropState>,
}

fn load_interop(
    settings: &Settings,
    paths: &Paths,
    store: Arc<SledStore>,
) -> anyhow::Result<Interop> {
    let secret = |var: &str| crate::config::Secret::from_env(var);
    let units = Units::load(&paths.config).map_err(config_error)?;
    let unit_webhooks =
        crate::webhooks::UnitWebhooks::load(&paths.config, &units, secret).map_err(config_error)?;
    let integrators =
        crate::integrators::Integrators::load(&paths.config, secret).map_err(config_error)?;
    let catalog = crate::open311::Catalog::load(&paths.config).map_err(config_error)?;
    let mut endpoints = unit_webhooks.endpoints().clone();
    endpoints.extend(integrators.callbacks().clone());
    let with_callback = integrators
        .iter()
        .filter(|i| i.callback_url.is_some())
        .map(|i| i.id.clone())
        .collect();
    let webhook_ready = Arc::new(Notify::new());
    let worker = WebhookWorker::new(store.clone(), endpoints, webhook_ready.clone())
        .context("failed to build the webhook client")?;
    Ok(Interop {
        hooks: crate::tickets::Hooks {
            hook: Arc::new(unit_webhooks),
            store: store.clone(),
            ready: webhook_ready.clone(),
        },
        with_callback,
        webhook_ready,
        worker,
        state: Arc::new(crate::http::interop::InteropState::new(
            integrators,
            catalog,
            settings.city.districts.clone(),
            store,
        )),
    })
}

/// Everything but the listener: what `serve` runs and what `hotline chat` talks to.
pub struct Core {
    pub store: Arc<SledStore>,
    pub kb: Arc<KnowledgeBase>,
    pub engine: Arc<Engine>,
    /// The engine as the platform channels (Telegram, SMS, integrators) reach it.
    pub gateway: Arc<Gateway>,
    pub service: Arc<TicketService>,
    pub hub: LiveHub,
    pub outbox: OutboxWorker,
    pub scheduler: Scheduler,
    /// 回访: sends due surveys and reminders, records 未联系上.
    pub callbacks: Arc<CallbackWorker>,
    /// Signed webhooks to units' case systems and integrators' callbacks.
    pub webhooks: WebhookWorker,
    /// Open311 catalog, integrators and their rate limits, webhook logs.
    pub interop: Arc<crate::http::interop::InteropState>,
    /// The Telegram channel, when `[telegram] enabled`.
    pub telegram: Option<Arc<Telegram>>,
    /// The SMS channel (webhooks in; its deliverer is in `outbox` when sending is configured).
    pub sms: Arc<SmsChannel>,
}

impl Core {
    /// Opens the store and loads content, rules and templates.
    pub fn build(settings: &Settings, paths: &Paths) -> anyhow::Result<Core> {
        let store = Arc::new(open_store_with(&paths.data, settings)?);
        let kb = Arc::new(load_knowledge(settings)?);
        let bots = Arc::new(
            Bots::load(&settings.bots.dir)
                .with_context(|| format!("failed to load {}", settings.bots.dir.display()))?,
        );
        let knowledge_dir = &settings.knowledge.dir;
        // The classifier reads with the knowledge base's analyzer (the same dictionary and
        // synonyms from the same folder): one jieba dictionary in memory, not two.
        let featurizer = crate::classify::Featurizer::new(kb.snapshot().analyzer().clone())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let classifier = Classifier::load_with(featurizer, knowledge_dir).with_context(|| {
            format!(
                "failed to load the classifier from {}",
                knowledge_dir.display()
            )
        })?;
        let refusals = RefusalRules::load(knowledge_dir).map_err(config_error)?;
        if let Some(missing) = refusals.templates().find(|t| !bots.has(t)) {
            anyhow::bail!(
                "{}: a rule names template `{missing}`, which bots/messages.toml does not define",
                knowledge_dir
                    .join(crate::engine::triage::REFUSALS_FILE)
                    .display()
            );
        }
        let outbox_ready = Arc::new(Notify::new());
        let interop = load_interop(settings, paths, store.clone())?;
        let service = Arc::new(
            build_ticket_service(
                settings,
                paths,
                store.clone(),
                bots.clone(),
                outbox_ready.clone(),
            )?
            .with_hooks(interop.hooks),
        );
        let engine = Arc::new(Engine::new(
            service.clone(),
            kb.clone(),
            Arc::new(classifier),
            refusals,
            Stores {
                tickets: store.clone(),
                conversations: store.clone(),
                records: store.clone(),
            },
            bots.clone(),
            EngineSettings {
                max_text_chars: settings.chat.max_text_chars,
                city: settings.city.clone(),
                intake: settings.intake.clone(),
                time_limits: settings.time_limits.clone(),
            },
        ));
        let gateway = Arc::new(Gateway::new(engine.clone(), store.clone()));
        let hub = LiveHub::new();
        let web: Arc<dyn Deliverer> = Arc::new(TranscriptDeliverer {
            conversations: store.clone(),
            hub: hub.clone(),
            locks: engine.conversation_locks(),
        });
        let relaying = interop.with_callback.clone();
        let api: Arc<dyn Deliverer> = Arc::new(IntegratorDeliverer {
            transcript: web.clone(),
            conversations: store.clone(),
            webhooks: store.clone(),
            with_callback: interop.with_callback,
            ready: interop.webhook_ready,
        });
        let mut deliverers = HashMap::from([(Channel::Web, web), (Channel::Api, api)]);
        let telegram = if settings.telegram.enabled {
            let telegram = Arc::new(Telegram::new(
                &settings.telegram,
                gateway.clone(),
                store.clone(),
                outbox_ready.clone(),
            )?);
            deliverers.insert(Channel::Telegram, telegram.clone() as Arc<dyn Deliverer>);
            Some(telegram)
        } else {
            None
        };
        let sender = sms_sender(settings)?;
        let sms_country = sender.is_some().then(|| settings.sms.country_code.clone());
        if let Some(sender) = &sender {
            let deliverer: Arc<dyn Deliverer> = Arc::new(SmsDeliverer {
                conversations: store.clone(),
                sms: store.clone(),
                sender: sender.clone(),
                bots: bots.clone(),
                link: settings.sms.link().map(str::to_string),
                locks: engine.conversation_locks(),
            });
            deliverers.insert(Channel::Sms, deliverer);
        }
        let sms = Arc::new(SmsChannel::build(
            &settings.sms,
            gateway.clone(),
            SmsStores {
                sms: store.clone(),
                outbox: store.clone(),
                records: store.clone(),
            },
            outbox_ready.clone(),
            sender,
        )?);
        let outbox = OutboxWorker {
            store: store.clone(),
            deliverers,
            ready: outbox_ready,
        };
        let scheduler = Scheduler {
            service: service.clone(),
            bots,
            every: Duration::from_secs(settings.server.scheduler_interval_secs),
        };
        let callbacks = Arc::new(CallbackWorker {
            service: service.clone(),
            conversations: store.clone(),
            locks: engine.conversation_locks(),
            reach: Some(Arc::new(crate::open311::reach::Open311Reach {
                open311: store.clone(),
                gateway: gateway.clone(),
                sms: store.clone(),
                sms_country,
                relaying,
            })),
            every: Duration::from_secs(settings.callback.interval_secs),
        });
        Ok(Core {
            store,
            kb,
            engine,
            gateway,
            service,
            hub,
            outbox,
            scheduler,
            callbacks,
            webhooks: interop.worker,
            interop: interop.state,
            telegram,
            sms,
        })
    }
}

/// Twilio's Messages API as the SMS sender, when its credentials and sender are configured.
fn sms_sender(settings: &Settings) -> anyhow::Result<Option<Arc<dyn SmsSender>>> {
    let sms = &settings.sms;
    let (Some(sid), Some(token)) = (
        &sms.secrets.twilio_account_sid,
        &sms.secrets.twilio_auth_token,
    ) else {
        return Ok(None);
    };
    if sms.from.is_empty() {
        anyhow::bail!(
            "Twilio credentials are set but sms.from is empty: set the number (E.164) or \
             Messaging Service SID replies are sent from"
        );
    }
    let mut sender = TwilioSender::new(
        &sms.api_base,
        sid.clone(),
        token.clone(),
        sms.from.clone(),
        Duration::from_secs(sms.send_timeout_secs),
    )
    .context("failed to build the HTTP client for SMS")?;
    sender.retries = sms.send_retries;
    sender.retry_delay = Duration::from_millis(sms.send_retry_delay_ms);
    Ok(Some(Arc::new(sender)))
}

impl Application {
    /// Opens the store, loads content and binds the listener (port 0 picks a free port).
    pub async fn build(settings: Settings, paths: &Paths) -> anyhow::Result<Application> {
        let core = Core::build(&settings, paths)?;
        let mut analysis =
            crate::governance::Analysis::load(&settings, &paths.config).map_err(config_error)?;
        // The reports' key terms cut with the knowledge base's jieba: one dictionary in memory.
        analysis.terms =
            crate::governance::gaps::KeyTerms::sharing(core.kb.snapshot().analyzer().jieba());
        let mut monitor =
            crate::governance::live::HotspotMonitor::new(core.store.clone(), Arc::new(analysis));
        if core
            .webhooks
            .endpoints
            .contains_key(crate::webhooks::OPERATORS_TARGET)
        {
            monitor = monitor.with_alert_webhooks(core.webhooks.ready.clone());
        }
        let governance = Arc::new(monitor);
        let (stopping, stopping_rx) = watch::channel(false);
        let listener = TcpListener::bind(settings.server.listen)
            .await
            .with_context(|| format!("failed to listen on {}", settings.server.listen))?;
        Ok(Application {
            listener,
            state: AppState {
                engine: core.engine,
                gateway: core.gateway,
                kb: core.kb,
                tokens: core.store.clone(),
                service: core.service,
                hub: core.hub,
                sms: core.sms,
                stopping: stopping_rx,
                interop: core.interop,
                telegram: core.telegram.clone(),
                governance,
                telemetry: Arc::new(crate::telemetry::Telemetry::new(core.store.clone())),
                store: core.store.clone(),
            },
            store: core.store,
            settings,
            outbox: core.outbox,
            scheduler: core.scheduler,
            callbacks: core.callbacks,
            webhooks: core.webhooks,
            telegram: core.telegram,
            stopping,
        })
    }

    /// The callback worker, so a test can run it at a moment of its choosing.
    pub fn callbacks(&self) -> Arc<CallbackWorker> {
        self.callbacks.clone()
    }

    /// A handle on the outbox worker, so a test can deliver what is due at a moment of its
    /// choosing (a survey the callback worker queued at that moment).
    pub fn outbox(&self) -> OutboxWorker {
        self.outbox.clone()
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then stops in order (see the module docs).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let app = router(self.state.clone(), &self.settings);
        let addr = self.local_addr()?;
        tracing::info!(%addr, "serving");
        // One machine-readable line on stdout, for scripts and tests that start us on port 0.
        println!("hotline listening on http://{addr}");
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let outbox = tokio::spawn(
            self.outbox
                .run_until_stopped(stopped(self.stopping.subscribe())),
        );
        let scheduler = tokio::spawn(
            self.scheduler
                .run_until_stopped(stopped(self.stopping.subscribe())),
        );
        let callbacks = tokio::spawn({
            let worker = self.callbacks.clone();
            let stop = stopped(self.stopping.subscribe());
            async move { worker.run_until_stopped(stop).await }
        });
        let webhooks = tokio::spawn(
            self.webhooks
                .run_until_stopped(stopped(self.stopping.subscribe())),
        );
        let telegram = self.telegram.map(|telegram| {
            let stop = stopped(self.stopping.subscribe());
            tokio::spawn(async move { telegram.run_until_stopped(stop).await })
        });
        let hotspots = tokio::spawn(
            self.state
                .governance
                .clone()
                .run_until_stopped(stopped(self.stopping.subscribe())),
        );
        let stopping = self.stopping.clone();
        // hyper's HTTP/1 with a header-read timeout; client addresses reach the per-IP rate limit.
        crate::http::serve::serve(
            self.listener,
            app,
            self.settings.http.header_read_timeout(),
            async move {
                shutdown.await;
                // Open event streams end now, so draining does not wait for them.
                let _ = stopping.send(true);
            },
        )
        .await;
        tracing::info!("requests drained; stopping background work");
        let _ = self.stopping.send(true);
        let _ = outbox.await;
        let _ = scheduler.await;
        let _ = callbacks.await;
        let _ = webhooks.await;
        if let Some(telegram) = telegram {
            let _ = telegram.await;
        }
        let _ = hotspots.await;
        drop(self.state);
        tracing::info!("flushing the store");
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
