//! Background work: the drop folder, placing and cutting packages, reminders, and the mail
//! outbox. One worker thread per process runs a pass every few seconds; work is claimed from
//! tables, so several `gradhub serve` processes on one PostgreSQL never do the same work twice.

pub mod drop_folder;
pub mod mail;

use crate::db::claims;
use crate::distribution::{AutoCut, Distribution};
use crate::domain::organisation::OrgLevel;
use crate::domain::routing::Router;
use crate::export::{self, TableFormat};
use crate::ingest::{self, Channel, IngestError, IngestRequest, Silent};
use crate::notify::Mailer;
use chrono::{NaiveDate, Utc};
use drop_folder::{escaped, DropFolder, DroppedFile, OpenRefused, Outcome};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// What one pass did (for logs and tests).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PassReport {
    pub files_ingested: usize,
    pub files_failed: usize,
    pub records_placed: usize,
    pub packages_cut: usize,
    pub reminded: usize,
    pub escalated: usize,
    /// Unemployment applications past their review target / limit whose mails were queued.
    pub reviews_late: usize,
    pub reviews_breached: usize,
    pub mails_sent: usize,
    /// Not sent this pass, due again later (server down, or a 4xx reply).
    pub mails_failed: usize,
    /// Never to be sent (bad address, or a 5xx refusal): kept in the outbox as failed.
    pub mails_dead: usize,
}

/// The background worker of one process.
pub struct Worker {
    pub dist: Arc<Distribution>,
    pub unemployment: Arc<crate::unemployment::Unemployment>,
    pub router: Arc<Router>,
    pub mailer: Option<Mailer>,
    pub retry_secs: u64,
    pub auto_cut: AutoCut,
    pub drop: Option<DropFolder>,
    pub node: String,
}

impl Worker {
    /// One pass over every kind of work, as of `today` (Beijing date) and `now` (wall clock).
    /// A failure in one kind is logged and does not stop the others.
    pub fn pass(&mut self, today: NaiveDate, now: SystemTime) -> PassReport {
        let mut report = PassReport::default();
        // Once a day while a calendar year is missing (from 1 November of the year before).
        self.dist.warn_calendar_coverage(today);
        if let Err(e) = self.drop_pass(now, &mut report) {
            tracing::error!(error = %e, "drop folder pass failed");
        }
        // With the ministry's cut on, new records go straight into its packages as they are
        // placed (one write per record instead of two); the cut then takes what is left.
        let placed = match self.auto_cut {
            AutoCut::None => self.dist.place_new().map(|n| (n, Vec::new())),
            AutoCut::Ministry | AutoCut::All => self.dist.place_and_deliver(today),
        };
        match placed {
            Ok((n, delivered)) => {
                report.records_placed = n;
                report.packages_cut = delivered.len();
            }
            Err(e) => tracing::error!(error = %e, "placing new records failed"),
        }
        match self.dist.cut_auto(self.auto_cut, today) {
            Ok(p) => report.packages_cut += p.len(),
            Err(e) => tracing::error!(error = %e, "cutting packages failed"),
        }
        match self.dist.run_reminders(today) {
            Ok(r) => {
                report.reminded = r.reminded;
                report.escalated = r.escalated;
            }
            Err(e) => tracing::error!(error = %e, "reminder pass failed"),
        }
        match self.unemployment.run_reminders(today) {
            Ok((late, breached)) => {
                report.reviews_late = late;
                report.reviews_breached = breached;
            }
            Err(e) => tracing::error!(error = %e, "review reminder pass failed"),
        }
        if let Some(mailer) = &self.mailer {
            match mail::send_due(&self.dist.db, mailer, self.retry_secs) {
                Ok(sent) => {
                    report.mails_sent = sent.sent;
                    report.mails_failed = sent.deferred;
                    report.mails_dead = sent.failed;
                }
                Err(e) => tracing::error!(error = %e, "outbox pass failed"),
            }
        }
        if report.files_ingested
            + report.packages_cut
            + report.mails_sent
            + report.mails_dead
            + report.reminded
            + report.reviews_late
            + report.reviews_breached
            > 0
        {
            tracing::info!(?report, "background pass");
        }
        report
    }

    fn drop_pass(&mut self, now: SystemTime, report: &mut PassReport) -> anyhow::Result<()> {
        let Some(folder) = self.drop.as_mut() else {
            return Ok(());
        };
        let files = folder.scan(now)?;
        self.take_files(files, report)
    }

    /// Claims, opens, ingests and files away the files a scan of the drop folder reported.
    pub fn take_files(
        &mut self,
        files: Vec<DroppedFile>,
        report: &mut PassReport,
    ) -> anyhow::Result<()> {
        for file in files {
            let key = format!("drop:{}", file.claim_key());
            // One connection for the claim, the ingest and the release: on PostgreSQL the claim
            // is a lock of this session.
            let mut conn = self.dist.db.conn()?;
            // The file is here, so a claim already marked done means it was dropped again with
            // the same name, size and time: take it again (the same content answers as a
            // duplicate of its first batch).
            let taken =
                claims::try_claim(&mut conn, &key, &self.node, Utc::now().naive_utc(), true)?;
            if !taken {
                // Another node has it (or had it and finished); look again in case it died.
                if let Some(folder) = self.drop.as_mut() {
                    folder.offer_again(&file);
                }
                continue;
            }
            match self.take_dropped(&mut conn, &file) {
                Ok(Some(Outcome::Processed)) => {
                    report.files_ingested += 1;
                    claims::finish(&mut conn, &key, Utc::now().naive_utc())?;
                }
                Ok(Some(Outcome::Failed)) => {
                    report.files_failed += 1;
                    claims::finish(&mut conn, &key, Utc::now().naive_utc())?;
                }
                Ok(None) => {
                    // Changed or gone since the scan: the next look decides what it is now.
                    claims::release(&mut conn, &key)?;
                    if let Some(folder) = self.drop.as_mut() {
                        folder.offer_again(&file);
                    }
                }
                Err(e) => {
                    // Not the file's fault (the database, the disk): give it back and retry.
                    tracing::error!(sender = %file.sender, file = %escaped(&file.file_name), error = %e, "dropped file not ingested; will retry");
                    claims::release(&mut conn, &key)?;
                    if let Some(folder) = self.drop.as_mut() {
                        folder.offer_again(&file);
                    }
                }
            }
        }
        Ok(())
    }

    /// Ingests one claimed file as its sender folder's organisation and files it away with its
    /// summary (and reject report). A refused file goes to `failed/` with the refusal; a name
    /// that no longer leads to a regular file is moved aside unread. `None`: the file changed or
    /// went since the scan, so it was not taken.
    fn take_dropped(
        &self,
        conn: &mut crate::db::AnyConnection,
        file: &DroppedFile,
    ) -> anyhow::Result<Option<Outcome>> {
        let Some(folder) = self.drop.as_ref() else {
            anyhow::bail!("no drop folder");
        };
        let name = escaped(&file.file_name);
        let opened = match folder.open_dropped(file) {
            Ok(opened) => opened,
            Err(OpenRefused::Changed) => return Ok(None),
            Err(OpenRefused::Io(e)) => return Err(e.into()),
            Err(OpenRefused::NotRegular(kind)) => {
                // Swapped for a link, a pipe or a folder after the scan: never read it.
                let (_, reason_en) = kind.reason(&file.file_name);
                if kind.moved_aside() {
                    match folder.set_aside(&file.sender, &file.path, &file.file_name, kind) {
                        Ok(to) => {
                            tracing::warn!(sender = %file.sender, file = %name, to = %escaped(&to.display().to_string()), reason = %reason_en, "drop folder entry moved to failed/, not read")
                        }
                        Err(e) => {
                            tracing::warn!(sender = %file.sender, file = %name, reason = %reason_en, error = %e, "drop folder entry cannot be moved aside; left in place, not read")
                        }
                    }
                } else {
                    tracing::warn!(sender = %file.sender, file = %name, reason = %reason_en, "drop folder entry left in place, not read");
                }
                return Ok(Some(Outcome::Failed));
            }
        };
        tracing::info!(sender = %file.sender, file = %name, size = file.size, "dropped file taken");
        let tree = self.dist.tree_knowing(&file.sender)?;
        let sender_ok = tree
            .by_code(&file.sender)
            .is_some_and(|n| matches!(n.level, OrgLevel::Sender | OrgLevel::Ministry));
        let result = if sender_ok {
            let sha256 = opened.sha256()?;
            tracing::info!(sender = %file.sender, file = %name, size = file.size, sha256 = %&sha256[..sha256.len().min(12)], "ingest of dropped file starts");
            // The readers take a path: this one reaches the descriptor just hashed, not the name.
            let read_path = opened.path();
            let request = IngestRequest {
                path: &read_path,
                file_name: &file.file_name,
                source: &file.sender,
                channel: Channel::Education,
                dry_run: false,
            };
            ingest::ingest(conn, &self.router, &request, &Silent)
        } else {
            Err(IngestError::Refused(ingest::Refusal::unknown_sender(
                &file.sender,
            )))
        };
        let (outcome, summary, rejects) = match result {
            Ok(outcome) => {
                let mut rejects = Vec::new();
                if let Some(batch) = outcome.summary.batch_id {
                    export::write_rejects(conn, batch, TableFormat::Csv, false, &mut rejects)?;
                }
                (
                    Outcome::Processed,
                    serde_json::to_string_pretty(&outcome.summary)?,
                    Some(rejects),
                )
            }
            Err(IngestError::Refused(r)) => {
                let summary = serde_json::to_string_pretty(&serde_json::json!({
                    "file_name": file.file_name, "sender": file.sender, "refused": r,
                }))?;
                (Outcome::Failed, summary, None)
            }
            Err(e) => return Err(e.into()),
        };
        drop(opened);
        match folder.file_away(file, outcome, &summary, rejects.as_deref()) {
            Ok(to) => {
                tracing::info!(sender = %file.sender, file = %name, to = %escaped(&to.display().to_string()), "dropped file filed away")
            }
            // Gone already: another node filed it after ingesting the same content (one batch).
            Err(e) => {
                tracing::warn!(sender = %file.sender, file = %name, error = %e, "cannot file the dropped file away")
            }
        }
        Ok(Some(outcome))
    }

    /// Runs passes every `interval` on a thread until `stop` is set.
    pub fn spawn(
        mut self,
        interval: Duration,
        stop: Arc<AtomicBool>,
    ) -> std::thread::JoinHandle<()> {
        std::thread::Builder::new()
            .name("gradhub-jobs".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    self.pass(ingest::china_today(), SystemTime::now());
                    // Sleep in short steps so that a stop is noticed quickly.
                    let mut slept = Duration::ZERO;
                    while slept < interval && !stop.load(Ordering::Relaxed) {
                        let step = Duration::from_millis(200).min(interval - slept);
                        std::thread::sleep(step);
                        slept += step;
                    }
                }
            })
            .unwrap_or_else(|e| panic!("cannot start the jobs thread: {e}"))
    }
}
