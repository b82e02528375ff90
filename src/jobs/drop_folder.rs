//! The drop folder on disk: finding complete files per sender, and filing them away afterwards.
//!
//! Layout: `<root>/<sender>/<file>` for incoming files, `<root>/<sender>/processed/` and
//! `<root>/<sender>/failed/` for files the hub is done with. Bureaus copy over network shares
//! that give no "copy finished" signal, so completeness is inferred from a file that stopped
//! changing across two scans and has been quiet for the settle time.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const PROCESSED: &str = "processed";
const FAILED: &str = "failed";
const MAX_SENDER_LEN: usize = 64;
/// Names copy tools give a file while it is still being written.
const PARTIAL_SUFFIXES: &[&str] = &[".part", ".tmp", ".crdownload", ".filepart", ".partial"];
/// Bounds the collision search so a pathological folder cannot spin forever.
const MAX_COLLISION_SUFFIX: u32 = 10_000;

pub struct DropFolder {
    root: PathBuf,
    settle: Duration,
    seen: HashMap<PathBuf, Seen>,
}

impl std::fmt::Debug for DropFolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DropFolder")
            .field("root", &self.root)
            .field("settle", &self.settle)
            .field("tracked_files", &self.seen.len())
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct DroppedFile {
    pub sender: String,
    pub path: PathBuf,
    pub file_name: String,
    pub size: u64,
    pub modified: SystemTime,
}

impl DroppedFile {
    /// Stable key `sender/file_name/size/mtime-nanos`, identical on every node that sees the file,
    /// so that exactly one node wins the claim in the database.
    pub fn claim_key(&self) -> String {
        let nanos = match self.modified.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_nanos().to_string(),
            Err(e) => format!("-{}", e.duration().as_nanos()),
        };
        format!("{}/{}/{}/{}", self.sender, self.file_name, self.size, nanos)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Processed,
    Failed,
}

impl Outcome {
    fn folder(self) -> &'static str {
        match self {
            Outcome::Processed => PROCESSED,
            Outcome::Failed => FAILED,
        }
    }
}

/// What tells one appearance of a file from the next. The inode is included because a bureau
/// re-copying the same file (Windows copies keep the source mtime) is a new appearance even when
/// size and mtime are identical.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Identity {
    size: u64,
    modified: SystemTime,
    inode: u64,
}

impl Identity {
    fn of(meta: &fs::Metadata) -> io::Result<Identity> {
        Ok(Identity {
            size: meta.len(),
            modified: meta.modified()?,
            inode: inode(meta),
        })
    }
}

#[cfg(unix)]
fn inode(meta: &fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.ino()
}

#[cfg(not(unix))]
fn inode(_meta: &fs::Metadata) -> u64 {
    0
}

#[derive(Debug)]
struct Seen {
    identity: Identity,
    reported: bool,
}

impl DropFolder {
    pub fn open(root: impl Into<PathBuf>, settle: Duration) -> io::Result<DropFolder> {
        let root = root.into();
        fs::create_dir_all(&root)?;
        if !fs::metadata(&root)?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("drop folder root {} is not a directory", root.display()),
            ));
        }
        Ok(DropFolder {
            root,
            settle,
            seen: HashMap::new(),
        })
    }

    /// Reports the file again at the next scan (it was not taken this time: another node holds
    /// it, or taking it failed in a way worth retrying).
    pub fn offer_again(&mut self, file: &DroppedFile) {
        if let Some(seen) = self.seen.get_mut(&file.path) {
            seen.reported = false;
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn ensure_sender(&self, sender: &str) -> io::Result<PathBuf> {
        check_sender(sender)?;
        let dir = self.root.join(sender);
        fs::create_dir_all(&dir)?;
        // Checked before creating the sub-folders, otherwise a symlinked sender folder would make
        // us create them wherever it points.
        ensure_plain_dir(&dir)?;
        for sub in [PROCESSED, FAILED] {
            let sub = dir.join(sub);
            match fs::create_dir(&sub) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            ensure_plain_dir(&sub)?;
        }
        Ok(dir)
    }

    /// Files that are complete now: seen at the previous scan with the same size and mtime, AND
    /// mtime at least `settle` before `now`. Skips directories, symlinks (never follow links out
    /// of the root), hidden files (leading '.'), Office lock files (`~$*`), and partial-copy names
    /// (`*.part`, `*.tmp`, `*.crdownload`, `*.filepart`, `*.partial`). Only looks one level down
    /// (`<root>/<sender>/<file>`), ignores `processed/` and `failed/`. Sender folders with unsafe
    /// names are skipped. Files of size 0 are still reported once stable (the ingest refuses them
    /// with a message, which is what a clerk needs to see).
    ///
    /// Each appearance of a file is reported once; it is reported again only after it changes or
    /// is replaced by a new copy.
    pub fn scan(&mut self, now: SystemTime) -> io::Result<Vec<DroppedFile>> {
        let mut next: HashMap<PathBuf, Seen> = HashMap::new();
        let mut ready = Vec::new();
        for sender_entry in fs::read_dir(&self.root)? {
            let sender_entry = sender_entry?;
            let Ok(sender) = sender_entry.file_name().into_string() else {
                continue;
            };
            if !is_safe_sender(&sender) {
                continue;
            }
            // DirEntry::file_type does not follow symlinks, so a linked sender folder is skipped
            // rather than leading the scan outside the root.
            match sender_entry.file_type() {
                Ok(ft) if ft.is_dir() => {}
                _ => continue,
            }
            let entries = match fs::read_dir(sender_entry.path()) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => {
                    // One unreadable sender must not stall every other bureau.
                    tracing::warn!(sender = %sender, error = %e, "cannot read drop folder");
                    continue;
                }
            };
            for entry in entries {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(e) => {
                        tracing::warn!(sender = %sender, error = %e, "cannot list drop folder");
                        break;
                    }
                };
                let Ok(file_name) = entry.file_name().into_string() else {
                    tracing::debug!(sender = %sender, name = ?entry.file_name(), "skipping non-UTF-8 file name");
                    continue;
                };
                if is_ignored_name(&file_name) {
                    continue;
                }
                // processed/ and failed/ are directories, so this also keeps them out.
                match entry.file_type() {
                    Ok(ft) if ft.is_file() => {}
                    _ => continue,
                }
                // On Unix DirEntry::metadata is an lstat, so a file swapped for a symlink since
                // the file_type check is still not followed.
                let Ok(meta) = entry.metadata() else { continue };
                if !meta.is_file() {
                    continue;
                }
                let Ok(identity) = Identity::of(&meta) else {
                    continue;
                };
                let path = entry.path();
                let (was_stable, already_reported) = match self.seen.get(&path) {
                    Some(prev) if prev.identity == identity => (true, prev.reported),
                    _ => (false, false),
                };
                // A future mtime (clock skew on the bureau's side) counts as not settled yet.
                let settled = now
                    .duration_since(identity.modified)
                    .is_ok_and(|age| age >= self.settle);
                let report = was_stable && settled && !already_reported;
                if report {
                    ready.push(DroppedFile {
                        sender: sender.clone(),
                        path: path.clone(),
                        file_name,
                        size: identity.size,
                        modified: identity.modified,
                    });
                }
                next.insert(
                    path,
                    Seen {
                        identity,
                        reported: already_reported || report,
                    },
                );
            }
        }
        // Rebuilt from scratch so files that vanished are forgotten and count as new if they return.
        self.seen = next;
        ready.sort_by(|a, b| {
            (&a.sender, a.modified, &a.file_name).cmp(&(&b.sender, b.modified, &b.file_name))
        });
        Ok(ready)
    }

    /// Moves the file into processed/ or failed/ as `<YYYYMMDD-HHMMSS>-<file_name>` (local time;
    /// add `-2`, `-3`… if taken) and writes `<that name>.summary.json` (the given text) and, when
    /// given, `<that name>.rejects.csv` (the given bytes) beside it. Returns the new path. If the
    /// source no longer exists (another node moved it), returns an io::Error of kind NotFound and
    /// writes nothing.
    ///
    /// A source that was overwritten since the scan (different size or mtime) also counts as
    /// NotFound: the version that was ingested is gone, and the new one will be picked up by a
    /// later scan under a new claim key.
    pub fn file_away(
        &self,
        file: &DroppedFile,
        outcome: Outcome,
        summary_json: &str,
        rejects_csv: Option<&[u8]>,
    ) -> io::Result<PathBuf> {
        let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
        self.file_away_stamped(file, outcome, summary_json, rejects_csv, &stamp)
    }

    fn file_away_stamped(
        &self,
        file: &DroppedFile,
        outcome: Outcome,
        summary_json: &str,
        rejects_csv: Option<&[u8]>,
        stamp: &str,
    ) -> io::Result<PathBuf> {
        check_sender(&file.sender)?;
        let file_name = plain_file_name(&file.file_name)?;
        let sender_dir = self.root.join(&file.sender);
        let source = sender_dir.join(file_name);
        // DroppedFile's fields are public; refusing a path that scan could not have produced keeps
        // this from moving arbitrary files.
        if file.path != source {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} is not {}/{} inside the drop folder",
                    file.path.display(),
                    file.sender,
                    file_name
                ),
            ));
        }
        let meta = fs::symlink_metadata(&source)?;
        let unchanged = meta.is_file()
            && meta.len() == file.size
            && meta.modified().is_ok_and(|m| m == file.modified);
        if !unchanged {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} changed since it was scanned", source.display()),
            ));
        }

        ensure_plain_dir(&sender_dir)?;
        let dir = sender_dir.join(outcome.folder());
        match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        // The bureau can write in its folder; a processed/ swapped for a symlink must not let us
        // write outside the root.
        ensure_plain_dir(&dir)?;

        let dest_name = free_name(&dir, stamp, file_name)?;
        let dest = dir.join(&dest_name);
        // Moving first means a lost race (NotFound here) leaves no stray summary behind.
        fs::rename(&source, &dest)?;
        write_atomically(
            &dir,
            &format!("{dest_name}.summary.json"),
            summary_json.as_bytes(),
        )?;
        if let Some(rejects) = rejects_csv {
            write_atomically(&dir, &format!("{dest_name}.rejects.csv"), rejects)?;
        }
        Ok(dest)
    }
}

fn is_safe_sender(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_SENDER_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check_sender(sender: &str) -> io::Result<()> {
    if is_safe_sender(sender) {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "sender folder name {sender:?} must be 1-{MAX_SENDER_LEN} ASCII letters, digits, '-' or '_'"
            ),
        ))
    }
}

fn is_ignored_name(name: &str) -> bool {
    if name.starts_with('.') || name.starts_with("~$") {
        return true;
    }
    // Windows tools write these suffixes in any case.
    let lower = name.to_ascii_lowercase();
    PARTIAL_SUFFIXES
        .iter()
        .any(|suffix| lower.ends_with(suffix))
}

/// Only the last component of `name` may reach a destination path, and only if it is the whole
/// name: anything with separators or `..` is refused rather than silently reinterpreted.
fn plain_file_name(name: &str) -> io::Result<&str> {
    let component = Path::new(name).file_name().and_then(|c| c.to_str());
    match component {
        Some(c) if c == name && !name.contains(['/', '\\']) => Ok(c),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} is not a plain file name"),
        )),
    }
}

fn ensure_plain_dir(path: &Path) -> io::Result<()> {
    if fs::symlink_metadata(path)?.file_type().is_dir() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            format!("{} is not a plain directory", path.display()),
        ))
    }
}

fn exists(path: &Path) -> io::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// `<stamp>-<name>`, or `<stamp>-<stem>-<n>.<ext>` when taken; the suffix goes before the
/// extension so the clerk can still open the file by double-clicking it. A name counts as taken
/// when any of its sidecars exist too, so an old summary is never overwritten.
fn free_name(dir: &Path, stamp: &str, file_name: &str) -> io::Result<String> {
    for n in 1..=MAX_COLLISION_SUFFIX {
        let candidate = if n == 1 {
            format!("{stamp}-{file_name}")
        } else {
            match file_name.rfind('.') {
                Some(dot) if dot > 0 => {
                    let (stem, ext) = file_name.split_at(dot);
                    format!("{stamp}-{stem}-{n}{ext}")
                }
                _ => format!("{stamp}-{file_name}-{n}"),
            }
        };
        let taken = exists(&dir.join(&candidate))?
            || exists(&dir.join(format!("{candidate}.summary.json")))?
            || exists(&dir.join(format!("{candidate}.rejects.csv")))?;
        if !taken {
            return Ok(candidate);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "no free name for {file_name} in {} after {MAX_COLLISION_SUFFIX} tries",
            dir.display()
        ),
    ))
}

/// Readers (clerks, other nodes) must never see a half-written summary, so it appears under its
/// final name only by rename.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, dir.join(name))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    const SETTLE: Duration = Duration::from_secs(30);

    fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn put(dir: &Path, name: &str, bytes: &[u8], mtime: SystemTime) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap();
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        path
    }

    fn setup() -> (tempfile::TempDir, DropFolder, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let folder = DropFolder::open(tmp.path().join("drop"), SETTLE).unwrap();
        let sender = folder.ensure_sender("edu-110000").unwrap();
        (tmp, folder, sender)
    }

    fn names(files: &[DroppedFile]) -> Vec<&str> {
        files.iter().map(|f| f.file_name.as_str()).collect()
    }

    #[test]
    fn growing_file_is_not_returned() {
        let (_tmp, mut folder, sender) = setup();
        let path = put(&sender, "a.csv", b"1,2\n", t(0));
        assert!(folder.scan(t(100)).unwrap().is_empty());

        // Still being copied: more bytes, yet the copy tool kept the source's mtime.
        let mut f = File::options().append(true).open(&path).unwrap();
        f.write_all(b"3,4\n").unwrap();
        f.set_modified(t(0)).unwrap();
        drop(f);
        assert!(folder.scan(t(110)).unwrap().is_empty());

        let found = folder.scan(t(120)).unwrap();
        assert_eq!(names(&found), ["a.csv"]);
        assert_eq!(found[0].size, 8);
    }

    #[test]
    fn file_within_settle_is_not_returned() {
        let (_tmp, mut folder, sender) = setup();
        put(&sender, "a.csv", b"x", t(100));
        assert!(folder.scan(t(110)).unwrap().is_empty());
        assert!(folder.scan(t(129)).unwrap().is_empty());
        assert_eq!(names(&folder.scan(t(130)).unwrap()), ["a.csv"]);
    }

    #[test]
    fn future_mtime_is_not_settled() {
        let (_tmp, mut folder, sender) = setup();
        put(&sender, "a.csv", b"x", t(1000));
        assert!(folder.scan(t(0)).unwrap().is_empty());
        assert!(folder.scan(t(10)).unwrap().is_empty());
    }

    #[test]
    fn stable_file_is_returned_once_per_appearance() {
        let (_tmp, mut folder, sender) = setup();
        let path = put(&sender, "a.csv", b"x", t(0));
        assert!(folder.scan(t(100)).unwrap().is_empty());
        let found = folder.scan(t(110)).unwrap();
        assert_eq!(
            found,
            vec![DroppedFile {
                sender: "edu-110000".into(),
                path: path.clone(),
                file_name: "a.csv".into(),
                size: 1,
                modified: t(0),
            }]
        );
        assert!(folder.scan(t(120)).unwrap().is_empty());

        folder
            .file_away(&found[0], Outcome::Processed, "{}", None)
            .unwrap();
        assert!(folder.scan(t(130)).unwrap().is_empty());
        assert!(folder.scan(t(140)).unwrap().is_empty());

        // The bureau drops an identical copy again: that is a new appearance.
        put(&sender, "a.csv", b"x", t(0));
        assert!(folder.scan(t(150)).unwrap().is_empty());
        assert_eq!(names(&folder.scan(t(160)).unwrap()), ["a.csv"]);
    }

    #[test]
    fn changed_file_is_reported_again() {
        let (_tmp, mut folder, sender) = setup();
        put(&sender, "a.csv", b"x", t(0));
        folder.scan(t(100)).unwrap();
        assert_eq!(folder.scan(t(110)).unwrap().len(), 1);
        put(&sender, "a.csv", b"xy", t(105));
        assert!(folder.scan(t(200)).unwrap().is_empty());
        let found = folder.scan(t(210)).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].size, 2);
    }

    #[test]
    fn empty_file_is_reported() {
        let (_tmp, mut folder, sender) = setup();
        put(&sender, "empty.csv", b"", t(0));
        folder.scan(t(100)).unwrap();
        let found = folder.scan(t(110)).unwrap();
        assert_eq!(names(&found), ["empty.csv"]);
        assert_eq!(found[0].size, 0);
    }

    #[test]
    fn hidden_lock_and_partial_names_are_ignored() {
        let (_tmp, mut folder, sender) = setup();
        for name in [
            ".hidden.csv",
            "~$book.xlsx",
            "a.csv.part",
            "a.csv.tmp",
            "a.csv.TMP",
            "a.xlsx.crdownload",
            "a.csv.filepart",
            "a.csv.partial",
        ] {
            put(&sender, name, b"x", t(0));
        }
        fs::create_dir(sender.join("subdir")).unwrap();
        put(&sender.join("subdir"), "deep.csv", b"x", t(0));
        put(&sender, "real.xlsx", b"x", t(0));
        folder.scan(t(100)).unwrap();
        assert_eq!(names(&folder.scan(t(110)).unwrap()), ["real.xlsx"]);
    }

    #[test]
    fn processed_and_failed_are_not_scanned() {
        let (_tmp, mut folder, sender) = setup();
        put(&sender.join(PROCESSED), "done.csv", b"x", t(0));
        put(&sender.join(FAILED), "bad.csv", b"x", t(0));
        put(folder.root(), "loose-at-root.csv", b"x", t(0));
        folder.scan(t(100)).unwrap();
        assert!(folder.scan(t(110)).unwrap().is_empty());
    }

    #[test]
    fn results_cover_all_senders_in_order() {
        let (_tmp, mut folder, sender) = setup();
        let other = folder.ensure_sender("120000").unwrap();
        put(&sender, "b.csv", b"x", t(5));
        put(&sender, "a.csv", b"x", t(1));
        put(&other, "z.csv", b"x", t(0));
        folder.scan(t(100)).unwrap();
        let found = folder.scan(t(110)).unwrap();
        let got: Vec<_> = found
            .iter()
            .map(|f| (f.sender.as_str(), f.file_name.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("120000", "z.csv"),
                ("edu-110000", "a.csv"),
                ("edu-110000", "b.csv")
            ]
        );
    }

    #[test]
    fn file_away_writes_sidecars_and_resolves_collisions() {
        let (_tmp, mut folder, sender) = setup();
        put(&sender, "a.csv", b"one", t(0));
        folder.scan(t(100)).unwrap();
        let first = folder.scan(t(110)).unwrap().remove(0);
        let dest = folder
            .file_away_stamped(
                &first,
                Outcome::Processed,
                r#"{"ok":1}"#,
                Some(b"row,reason\n"),
                "20240102-030405",
            )
            .unwrap();
        let processed = sender.join(PROCESSED);
        assert_eq!(dest, processed.join("20240102-030405-a.csv"));
        assert!(!first.path.exists());
        assert_eq!(fs::read(&dest).unwrap(), b"one");
        assert_eq!(
            fs::read_to_string(processed.join("20240102-030405-a.csv.summary.json")).unwrap(),
            r#"{"ok":1}"#
        );
        assert_eq!(
            fs::read(processed.join("20240102-030405-a.csv.rejects.csv")).unwrap(),
            b"row,reason\n"
        );

        for (i, expected) in ["20240102-030405-a-2.csv", "20240102-030405-a-3.csv"]
            .into_iter()
            .enumerate()
        {
            put(&sender, "a.csv", b"again", t(10 + i as u64));
            folder.scan(t(200 + 20 * i as u64)).unwrap();
            let again = folder.scan(t(210 + 20 * i as u64)).unwrap().remove(0);
            let dest = folder
                .file_away_stamped(&again, Outcome::Processed, "{}", None, "20240102-030405")
                .unwrap();
            assert_eq!(dest, processed.join(expected));
            assert!(processed.join(format!("{expected}.summary.json")).exists());
            assert!(!processed.join(format!("{expected}.rejects.csv")).exists());
        }

        // No stray temp files left next to the results.
        let mut listing: Vec<_> = fs::read_dir(&processed)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        listing.sort();
        assert_eq!(
            listing,
            [
                "20240102-030405-a-2.csv",
                "20240102-030405-a-2.csv.summary.json",
                "20240102-030405-a-3.csv",
                "20240102-030405-a-3.csv.summary.json",
                "20240102-030405-a.csv",
                "20240102-030405-a.csv.rejects.csv",
                "20240102-030405-a.csv.summary.json",
            ]
        );
    }

    #[test]
    fn collision_suffix_without_extension_and_in_failed() {
        let (_tmp, mut folder, sender) = setup();
        let failed = sender.join(FAILED);
        // A leftover summary alone is enough to make the name taken.
        fs::write(failed.join("20240102-030405-README.summary.json"), "old").unwrap();
        put(&sender, "README", b"x", t(0));
        folder.scan(t(100)).unwrap();
        let file = folder.scan(t(110)).unwrap().remove(0);
        let dest = folder
            .file_away_stamped(&file, Outcome::Failed, "{}", None, "20240102-030405")
            .unwrap();
        assert_eq!(dest, failed.join("20240102-030405-README-2"));
        assert_eq!(
            fs::read_to_string(failed.join("20240102-030405-README.summary.json")).unwrap(),
            "old"
        );
    }

    #[test]
    fn file_away_uses_local_timestamp_name() {
        let (_tmp, mut folder, sender) = setup();
        put(&sender, "a.xlsx", b"x", t(0));
        folder.scan(t(100)).unwrap();
        let file = folder.scan(t(110)).unwrap().remove(0);
        let dest = folder
            .file_away(&file, Outcome::Failed, "{}", None)
            .unwrap();
        assert_eq!(dest.parent().unwrap(), sender.join(FAILED));
        let name = dest.file_name().unwrap().to_str().unwrap();
        assert_eq!(name.len(), "YYYYMMDD-HHMMSS-a.xlsx".len());
        assert!(name.ends_with("-a.xlsx"));
        assert!(chrono::NaiveDateTime::parse_from_str(&name[..15], "%Y%m%d-%H%M%S").is_ok());
    }

    #[test]
    fn file_away_of_vanished_file_is_not_found_and_writes_nothing() {
        let (_tmp, mut folder, sender) = setup();
        put(&sender, "a.csv", b"x", t(0));
        folder.scan(t(100)).unwrap();
        let file = folder.scan(t(110)).unwrap().remove(0);
        fs::remove_file(&file.path).unwrap();
        let err = folder
            .file_away(&file, Outcome::Processed, "{}", Some(b"r"))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(fs::read_dir(sender.join(PROCESSED)).unwrap().count(), 0);
    }

    #[test]
    fn file_away_of_overwritten_file_is_not_found() {
        let (_tmp, mut folder, sender) = setup();
        put(&sender, "a.csv", b"x", t(0));
        folder.scan(t(100)).unwrap();
        let file = folder.scan(t(110)).unwrap().remove(0);
        put(&sender, "a.csv", b"newer", t(105));
        let err = folder
            .file_away(&file, Outcome::Processed, "{}", None)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(file.path.exists());
        assert_eq!(fs::read_dir(sender.join(PROCESSED)).unwrap().count(), 0);
    }

    #[test]
    fn file_away_refuses_names_and_paths_scan_cannot_produce() {
        let (tmp, folder, sender) = setup();
        let outside = put(tmp.path(), "outside.csv", b"x", t(0));
        let mut file = DroppedFile {
            sender: "edu-110000".into(),
            path: sender.join("../../outside.csv"),
            file_name: "../../outside.csv".into(),
            size: 1,
            modified: t(0),
        };
        let err = folder
            .file_away(&file, Outcome::Processed, "{}", None)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);

        file.file_name = "outside.csv".into();
        file.path = outside.clone();
        let err = folder
            .file_away(&file, Outcome::Processed, "{}", None)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);

        file.sender = "..".into();
        let err = folder
            .file_away(&file, Outcome::Processed, "{}", None)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(outside.exists());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_not_followed() {
        use std::os::unix::fs::symlink;
        let (tmp, mut folder, sender) = setup();
        let outside = tmp.path().join("outside");
        fs::create_dir(&outside).unwrap();
        let secret = put(&outside, "secret.csv", b"x", t(0));
        symlink(&secret, sender.join("link.csv")).unwrap();
        symlink(&outside, folder.root().join("linked-sender")).unwrap();
        folder.scan(t(100)).unwrap();
        assert!(folder.scan(t(110)).unwrap().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_processed_folder_is_refused() {
        use std::os::unix::fs::symlink;
        let (tmp, mut folder, sender) = setup();
        let outside = tmp.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::remove_dir(sender.join(PROCESSED)).unwrap();
        symlink(&outside, sender.join(PROCESSED)).unwrap();
        put(&sender, "a.csv", b"x", t(0));
        folder.scan(t(100)).unwrap();
        let file = folder.scan(t(110)).unwrap().remove(0);
        let err = folder
            .file_away(&file, Outcome::Processed, "{}", None)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotADirectory);
        assert!(file.path.exists());
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
        assert!(folder.ensure_sender("edu-110000").is_err());
    }

    #[test]
    fn unsafe_sender_folders_are_skipped() {
        let (_tmp, mut folder, _sender) = setup();
        for bad in [
            "edu 110000",
            "edu.110000",
            "教育局",
            &"x".repeat(MAX_SENDER_LEN + 1),
        ] {
            let dir = folder.root().join(bad);
            fs::create_dir(&dir).unwrap();
            put(&dir, "a.csv", b"x", t(0));
        }
        let good = folder.root().join("edu_120000");
        fs::create_dir(&good).unwrap();
        put(&good, "ok.csv", b"x", t(0));
        folder.scan(t(100)).unwrap();
        let found = folder.scan(t(110)).unwrap();
        assert_eq!(names(&found), ["ok.csv"]);
        assert_eq!(found[0].sender, "edu_120000");
    }

    #[test]
    fn ensure_sender_validates_and_creates_subfolders() {
        let (_tmp, folder, _sender) = setup();
        for bad in ["../x", "..", ".", "", "a/b", "a\\b", "x y", "edu.1"] {
            let err = folder.ensure_sender(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
        assert!(!folder.root().parent().unwrap().join("x").exists());

        let dir = folder.ensure_sender("110000").unwrap();
        assert_eq!(dir, folder.root().join("110000"));
        assert!(dir.join(PROCESSED).is_dir());
        assert!(dir.join(FAILED).is_dir());
        // Idempotent.
        assert_eq!(folder.ensure_sender("110000").unwrap(), dir);
    }

    #[test]
    fn claim_key_is_stable() {
        let file = DroppedFile {
            sender: "edu-110000".into(),
            path: PathBuf::from("/drop/edu-110000/a.csv"),
            file_name: "a.csv".into(),
            size: 42,
            modified: UNIX_EPOCH + Duration::new(1_700_000_000, 123),
        };
        assert_eq!(file.claim_key(), "edu-110000/a.csv/42/1700000000000000123");
        assert_eq!(file.claim_key(), file.clone().claim_key());
    }

    #[test]
    fn open_creates_missing_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("a/b/drop");
        let folder = DropFolder::open(&root, SETTLE).unwrap();
        assert!(root.is_dir());
        assert_eq!(folder.root(), root);
    }
}
