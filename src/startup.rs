//! The one composition root: the database, the router, the distribution service, the mailer and
//! the background worker are assembled here and nowhere else, for `gradhub serve`, `gradhub demo`,
//! `gradhub jobs run` and the tests' `spawn_app` alike.
//!
//! [`Hub`] is what every process needs (storage and services); [`Application`] adds the bound
//! listener, the HTTP server and the worker thread it owns.

use crate::config::Config;
use crate::db::{orgs, Db};
use crate::distribution::{AutoCut, Distribution};
use crate::domain::organisation::OrgLevel;
use crate::domain::routing::Router;
use crate::followup::Followup;
use crate::jobs::drop_folder::DropFolder;
use crate::jobs::Worker;
use crate::notify::Mailer;
use crate::report::Reports;
use crate::web::{self, AppState};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Storage and the services over it, as one configuration asks for them.
pub struct Hub {
    pub config: Config,
    pub db: Db,
    pub router: Arc<Router>,
    pub dist: Arc<Distribution>,
    pub followup: Arc<Followup>,
    pub reports: Arc<Reports>,
    pub unemployment: Arc<crate::unemployment::Unemployment>,
}

impl Hub {
    /// Opens (and migrates) the configured database, then assembles the services over it.
    pub fn open(config: Config) -> anyhow::Result<Hub> {
        let db = Db::open(
            config.database_url.expose(),
            config.pool_size,
            config.busy_timeout(),
        )?;
        Hub::with_db(config, db)
    }

    /// The services over a database already open (tests share theirs with the app).
    pub fn with_db(config: Config, db: Db) -> anyhow::Result<Hub> {
        let table = {
            let mut conn = db.conn()?;
            crate::db::reference::load_table(&mut conn)?
        };
        let router = Arc::new(Router::new(table));
        let dist = Arc::new(Distribution::new(db.clone(), &config)?);
        let codes = Arc::new(crate::followup::load_codes(&config.followup_codes_dir)?);
        let followup = Arc::new(Followup::new(dist.clone(), codes.clone()));
        let reports = Arc::new(Reports::new(
            dist.clone(),
            codes,
            config.contact_deadline_days,
        ));
        let unemployment = Arc::new(crate::unemployment::Unemployment {
            db: db.clone(),
            dist: dist.clone(),
            router: router.clone(),
            overrides: config.review_overrides()?,
            hub_url: config.hub_url.clone(),
        });
        Ok(Hub {
            config,
            db,
            router,
            dist,
            followup,
            reports,
            unemployment,
        })
    }

    /// The background worker this configuration asks for: the mailer (none without an SMTP
    /// host), the drop folder with one sub-folder per sender, the cut policy and the node name.
    pub fn worker(&self) -> anyhow::Result<Worker> {
        let config = &self.config;
        let mailer = Mailer::new(&config.mail)?;
        let drop = if config.drop_dir.is_empty() {
            None
        } else {
            let folder = DropFolder::open(
                &config.drop_dir,
                Duration::from_secs(config.drop_settle_secs),
            )?;
            // One sub-folder per sender organisation, so bureaus find theirs ready.
            let tree = self.dist.tree()?;
            let mut conn = self.db.conn()?;
            for org in orgs::load_all(&mut conn)? {
                if org.level == OrgLevel::Sender.as_str() && tree.get(org.id).is_some() {
                    folder.ensure_sender(&org.code)?;
                }
            }
            Some(folder)
        };
        Ok(Worker {
            dist: self.dist.clone(),
            unemployment: self.unemployment.clone(),
            router: self.router.clone(),
            mailer,
            retry_secs: config.mail.retry_secs,
            auto_cut: AutoCut::parse(&config.auto_cut),
            drop,
            node: config.node(),
        })
    }
}

/// The worker thread of a serving process, stopped (and waited for) when dropped.
struct JobsThread {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for JobsThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// A serving hub: the listener bound (port 0 picks a free one), the HTTP server built on it,
/// the worker thread running unless `jobs_interval_secs = 0`.
pub struct Application {
    address: SocketAddr,
    server: actix_web::dev::Server,
    dist: Arc<Distribution>,
    unemployment: Arc<crate::unemployment::Unemployment>,
    jobs: Option<JobsThread>,
}

impl Application {
    /// Everything `gradhub serve` runs, from the configuration alone.
    pub fn build(config: Config) -> anyhow::Result<Application> {
        Application::from_hub(Hub::open(config)?)
    }

    /// Binds `config.bind`, builds the server and starts the worker over an assembled hub.
    pub fn from_hub(hub: Hub) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(&hub.config.bind).map_err(|e| {
            anyhow::anyhow!(
                "无法在 {0} 监听 / cannot listen on {0}: {e}",
                hub.config.bind
            )
        })?;
        let address = listener.local_addr()?;
        // At start, whether jobs run here or not: this node's deadlines use the calendar too.
        hub.dist
            .warn_calendar_coverage(crate::ingest::china_today());
        let jobs = if hub.config.jobs_interval_secs > 0 {
            let stop = Arc::new(AtomicBool::new(false));
            let handle = hub.worker()?.spawn(
                Duration::from_secs(hub.config.jobs_interval_secs),
                stop.clone(),
            );
            Some(JobsThread {
                stop,
                handle: Some(handle),
            })
        } else {
            None
        };
        let dist = hub.dist.clone();
        let unemployment = hub.unemployment.clone();
        let backend = hub.db.backend().as_str();
        let state = AppState {
            db: hub.db,
            router: hub.router,
            config: hub.config,
            dist: dist.clone(),
            followup: hub.followup,
            reports: hub.reports,
            unemployment: unemployment.clone(),
            identities: Default::default(),
            pages: Default::default(),
        };
        let server = web::server(listener, state)?;
        tracing::info!(%address, backend, "gradhub serving");
        Ok(Application {
            address,
            server,
            dist,
            unemployment,
            jobs,
        })
    }

    /// The address the server listens on (the port chosen when `bind` asked for port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The distribution service the server and the worker share.
    pub fn dist(&self) -> Arc<Distribution> {
        self.dist.clone()
    }

    /// The unemployment-registration service the server and the worker share.
    pub fn unemployment(&self) -> Arc<crate::unemployment::Unemployment> {
        self.unemployment.clone()
    }

    /// Serves until the server stops (Ctrl-C or SIGTERM), then stops the worker and waits for
    /// its pass to end. Blocks the calling thread.
    pub fn run_until_stopped(self) -> std::io::Result<()> {
        let Application { server, jobs, .. } = self;
        // The HTTP workers run on their own threads; this runtime only drives the server's
        // accept loop and signals.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let served = runtime.block_on(server);
        drop(jobs);
        served
    }
}
