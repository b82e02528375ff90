//! The drop folder on disk: finding complete files per sender, opening them safely, and filing
//! them away afterwards.
//!
//! Layout: `<root>/<sender>/<file>` for incoming files, `<root>/<sender>/processed/` and
//! `<root>/<sender>/failed/` for files the hub is done with. Bureaus copy over network shares
//! that give no "copy finished" signal, so completeness is inferred from a file that stopped
//! changing across two scans and has been quiet for the settle time.
//!
//! The bureau controls what is in its folder, so every entry is treated as hostile: links are
//! never followed, nothing but a regular file is ever opened for reading (a FIFO would block the
//! worker), and the file that is hashed and ingested is the one open descriptor checked to be
//! the file the scan saw.

use crate::domain::catalogue::ErrorCode;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
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
/// Bounds the retries when another node reserves the same destination name at the same moment.
const MAX_RESERVE_RACES: u32 = 100;
/// The refusal code in the summary of an entry that is not a regular file.
pub const NOT_A_REGULAR_FILE: &str = ErrorCode::NotARegularFile.as_str();

pub struct DropFolder {
    root: PathBuf,
    settle: Duration,
    seen: HashMap<PathBuf, Seen>,
    /// Entries that are not regular files and could not be moved aside (directories, or a move
    /// that failed): logged once per appearance instead of at every scan.
    noted: HashMap<PathBuf, Identity>,
}

impl std::fmt::Debug for DropFolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DropFolder")
            .field("root", &self.root)
            .field("settle", &self.settle)
            .field("tracked_files", &self.seen.len())
            .field("noted_entries", &self.noted.len())
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct DroppedFile {
    pub sender: String,
    /// The entry as it is named on disk: the raw bytes, which a Windows share may have written
    /// in GBK. Every file operation uses this.
    pub path: PathBuf,
    /// The name for people, logs and the batch: the raw name decoded (UTF-8, else GBK).
    pub file_name: String,
    pub size: u64,
    pub modified: SystemTime,
    /// Device and inode the scan saw: the descriptor opened for the ingest must be this file.
    pub device: u64,
    pub inode: u64,
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

/// What a sender-folder entry is when it is not a regular file; none of these is ever read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotRegular {
    Symlink,
    Fifo,
    Socket,
    Device,
    Directory,
    Other,
}

impl NotRegular {
    fn of(file_type: fs::FileType) -> NotRegular {
        if file_type.is_symlink() {
            NotRegular::Symlink
        } else if file_type.is_fifo() {
            NotRegular::Fifo
        } else if file_type.is_socket() {
            NotRegular::Socket
        } else if file_type.is_block_device() || file_type.is_char_device() {
            NotRegular::Device
        } else if file_type.is_dir() {
            NotRegular::Directory
        } else {
            NotRegular::Other
        }
    }

    /// Renaming moves the entry itself (a link, never its target; a pipe is not opened), so
    /// everything but a folder is moved to `failed/`. A folder is left where it is: the bureau
    /// may keep its own sub-folders, and moving a whole tree is not ours to decide.
    pub fn moved_aside(self) -> bool {
        self != NotRegular::Directory
    }

    /// The reason, in Chinese and in English, for the summary and the log.
    pub fn reason(self, file_name: &str) -> (String, String) {
        let name = escaped(file_name);
        let (zh, en) = match self {
            NotRegular::Symlink => (
                "是符号链接（快捷方式）。投放文件夹只接收普通文件，不跟随链接，请直接复制文件本身",
                "is a symbolic link; the drop folder takes regular files only and never follows links, copy the file itself",
            ),
            NotRegular::Fifo => (
                "是命名管道（FIFO），不是普通文件，未读取",
                "is a named pipe (FIFO), not a regular file; it was not read",
            ),
            NotRegular::Socket => (
                "是套接字，不是普通文件，未读取",
                "is a socket, not a regular file; it was not read",
            ),
            NotRegular::Device => (
                "是设备文件，不是普通文件，未读取",
                "is a device file, not a regular file; it was not read",
            ),
            NotRegular::Directory => (
                "是文件夹，投放文件夹只读取直接放在其中的文件，文件夹内的文件不会被读取",
                "is a folder; only files directly inside the drop folder are read, not files in sub-folders",
            ),
            NotRegular::Other => (
                "不是普通文件，未读取",
                "is not a regular file; it was not read",
            ),
        };
        (format!("“{name}”{zh}。"), format!("\"{name}\" {en}."))
    }

    /// The summary written beside an entry moved to `failed/`, in the shape of a refused file's.
    pub fn summary_json(self, sender: &str, file_name: &str) -> String {
        let (message, message_en) = self.reason(file_name);
        let summary = serde_json::json!({
            "file_name": file_name,
            "sender": sender,
            "refused": {
                "code": NOT_A_REGULAR_FILE,
                "message": message,
                "message_en": message_en,
            },
        });
        serde_json::to_string_pretty(&summary).unwrap_or_else(|_| summary.to_string())
    }
}

/// Why a file the scan reported cannot be ingested after all.
#[derive(Debug)]
pub enum OpenRefused {
    /// The name now points at something that is not a regular file (swapped since the scan).
    NotRegular(NotRegular),
    /// Gone, or a different file than the scan saw: look again later.
    Changed,
    /// The disk: worth retrying.
    Io(io::Error),
}

impl std::fmt::Display for OpenRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenRefused::NotRegular(kind) => write!(f, "not a regular file ({kind:?})"),
            OpenRefused::Changed => write!(f, "changed or gone since it was scanned"),
            OpenRefused::Io(e) => write!(f, "{e}"),
        }
    }
}

/// A dropped file opened for the ingest: one descriptor, checked to be the regular file the scan
/// saw. Both the hash and the ingest read through it, so swapping the name afterwards changes
/// nothing.
#[derive(Debug)]
pub struct OpenedFile {
    file: fs::File,
}

impl OpenedFile {
    /// A path that reaches this open descriptor (Linux `/proc/self/fd`), for readers that take a
    /// path: opening it opens the same file, whatever the name in the drop folder points to now.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.file.as_raw_fd()))
    }

    /// The SHA-256 of the content, read through the descriptor.
    pub fn sha256(&self) -> io::Result<String> {
        use sha2::{Digest, Sha256};
        use std::os::unix::fs::FileExt;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut offset = 0u64;
        loop {
            // Positional reads leave the descriptor's offset alone.
            let n = self.file.read_at(&mut buf, offset)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            offset += n as u64;
        }
        Ok(hex::encode(hasher.finalize()))
    }
}

/// What tells one appearance of a file from the next. The inode is included because a bureau
/// re-copying the same file (Windows copies keep the source mtime) is a new appearance even when
/// size and mtime are identical.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Identity {
    size: u64,
    modified: SystemTime,
    device: u64,
    inode: u64,
}

impl Identity {
    fn of(meta: &fs::Metadata) -> io::Result<Identity> {
        Ok(Identity {
            size: meta.len(),
            modified: meta.modified()?,
            device: meta.dev(),
            inode: meta.ino(),
        })
    }
}

#[derive(Debug)]
struct Seen {
    identity: Identity,
    reported: bool,
}

/// A file name as it may be written to a log or a summary: control characters (a newline, an
/// ESC that starts a terminal sequence) are escaped, so a name cannot forge log lines.
pub fn escaped(name: &str) -> String {
    name.escape_debug().to_string()
}

/// The name for people: UTF-8 as is; anything else is taken as GBK (what a Windows share writes
/// when it is not told otherwise), undecodable bytes shown as U+FFFD.
fn display_name(raw: &OsStr) -> String {
    match raw.to_str() {
        Some(name) => name.to_owned(),
        None => {
            let (name, _had_errors) = encoding_rs::GBK.decode_without_bom_handling(raw.as_bytes());
            name.into_owned()
        }
    }
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
            noted: HashMap::new(),
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
    /// mtime at least `settle` before `now`. Skips hidden files (leading '.'), Office lock files
    /// (`~$*`), and partial-copy names (`*.part`, `*.tmp`, `*.crdownload`, `*.filepart`,
    /// `*.partial`). Only looks one level down (`<root>/<sender>/<file>`), ignores `processed/`
    /// and `failed/`. Sender folders with unsafe names or that are links are skipped. Files of
    /// size 0 are still reported once stable (the ingest refuses them with a message, which is
    /// what a clerk needs to see). Names that are not UTF-8 are decoded as GBK.
    ///
    /// Entries that are not regular files are never read: links, pipes, sockets and devices are
    /// moved to `failed/` at once with a summary saying why; folders (and entries that cannot be
    /// moved) are logged once per appearance.
    ///
    /// Each appearance of a file is reported once; it is reported again only after it changes or
    /// is replaced by a new copy.
    pub fn scan(&mut self, now: SystemTime) -> io::Result<Vec<DroppedFile>> {
        let mut next: HashMap<PathBuf, Seen> = HashMap::new();
        let mut noted_next: HashMap<PathBuf, Identity> = HashMap::new();
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
                let raw_name = entry.file_name();
                let file_name = display_name(&raw_name);
                if is_ignored_name(&file_name) {
                    continue;
                }
                // On Unix DirEntry::metadata is an lstat: a link is seen as a link, never followed.
                let Ok(meta) = entry.metadata() else { continue };
                let Ok(identity) = Identity::of(&meta) else {
                    continue;
                };
                let path = entry.path();
                if !meta.is_file() {
                    let kind = NotRegular::of(meta.file_type());
                    // Ours even when swapped for a link: filing refuses a processed/ that is not a
                    // plain folder, and moving it away would hide that from the operator.
                    let ours = raw_name == PROCESSED || raw_name == FAILED;
                    if !ours {
                        self.deal_with_not_regular(
                            &sender,
                            &path,
                            &file_name,
                            kind,
                            identity,
                            &mut noted_next,
                        );
                    }
                    continue;
                }
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
                        device: identity.device,
                        inode: identity.inode,
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
        self.noted = noted_next;
        ready.sort_by(|a, b| {
            (&a.sender, a.modified, &a.file_name).cmp(&(&b.sender, b.modified, &b.file_name))
        });
        Ok(ready)
    }

    /// Moves a non-regular entry aside, or logs it; either way once per appearance.
    fn deal_with_not_regular(
        &self,
        sender: &str,
        path: &Path,
        file_name: &str,
        kind: NotRegular,
        identity: Identity,
        noted_next: &mut HashMap<PathBuf, Identity>,
    ) {
        // A folder's size and mtime change with what is put in it; it is the same appearance as
        // long as it is the same inode.
        let identity = Identity {
            size: 0,
            modified: UNIX_EPOCH,
            ..identity
        };
        if self.noted.get(path) == Some(&identity) {
            noted_next.insert(path.to_path_buf(), identity);
            return;
        }
        let (_, reason_en) = kind.reason(file_name);
        if !kind.moved_aside() {
            tracing::warn!(sender = %sender, file = %escaped(file_name), reason = %reason_en, "drop folder entry left in place, not read");
            noted_next.insert(path.to_path_buf(), identity);
            return;
        }
        match self.set_aside(sender, path, file_name, kind) {
            Ok(to) => {
                tracing::warn!(sender = %sender, file = %escaped(file_name), to = %escaped(&to.display().to_string()), reason = %reason_en, "drop folder entry moved to failed/, not read");
            }
            // Another node moved it first.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(sender = %sender, file = %escaped(file_name), reason = %reason_en, error = %e, "drop folder entry cannot be moved aside; left in place, not read");
                noted_next.insert(path.to_path_buf(), identity);
            }
        }
    }

    /// Moves an entry that is not a regular file (the entry itself: a link, never its target) to
    /// `failed/` with a summary saying why. NotFound if it is gone already.
    pub fn set_aside(
        &self,
        sender: &str,
        path: &Path,
        file_name: &str,
        kind: NotRegular,
    ) -> io::Result<PathBuf> {
        let source = self.source_path(sender, path)?;
        let summary = kind.summary_json(sender, file_name);
        let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
        self.move_with_summary(
            sender,
            &source,
            file_name,
            Outcome::Failed,
            &summary,
            None,
            &stamp,
        )
    }

    /// Opens a file the scan reported, for the ingest: without following a link, without
    /// blocking (a FIFO opened for reading would wait for a writer forever), and only if the
    /// descriptor is the regular file the scan saw (same device, inode, size and mtime).
    pub fn open_dropped(&self, file: &DroppedFile) -> Result<OpenedFile, OpenRefused> {
        let source = self
            .source_path(&file.sender, &file.path)
            .map_err(OpenRefused::Io)?;
        // O_NONBLOCK matters only for the open of a pipe or device; reads of a regular file
        // ignore it, so it need not be cleared afterwards.
        let opened = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&source);
        let opened = match opened {
            Ok(f) => f,
            // What O_NOFOLLOW answers for a link.
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(OpenRefused::NotRegular(NotRegular::Symlink))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(OpenRefused::Changed),
            Err(e) => return Err(OpenRefused::Io(e)),
        };
        let meta = opened.metadata().map_err(OpenRefused::Io)?;
        if !meta.is_file() {
            return Err(OpenRefused::NotRegular(NotRegular::of(meta.file_type())));
        }
        let identity = Identity::of(&meta).map_err(OpenRefused::Io)?;
        let scanned = Identity {
            size: file.size,
            modified: file.modified,
            device: file.device,
            inode: file.inode,
        };
        if identity != scanned {
            return Err(OpenRefused::Changed);
        }
        let opened = OpenedFile { file: opened };
        // The readers reach the descriptor through /proc; make sure that leads to this very file.
        let through_proc = fs::metadata(opened.path()).map_err(OpenRefused::Io)?;
        if (through_proc.dev(), through_proc.ino()) != (identity.device, identity.inode) {
            return Err(OpenRefused::Io(io::Error::other(
                "/proc/self/fd does not lead to the opened file",
            )));
        }
        Ok(opened)
    }

    /// Moves the file into processed/ or failed/ as `<YYYYMMDD-HHMMSS>-<file_name>` (local time;
    /// add `-2`, `-3`… if taken), with `<that name>.summary.json` (the given text) and, when
    /// given, `<that name>.rejects.csv` (the given bytes) beside it. Returns the new path. If the
    /// source no longer exists (another node moved it), returns an io::Error of kind NotFound and
    /// leaves nothing behind.
    ///
    /// The summary is written (atomically) before the file is moved, so a node killed in between
    /// leaves at worst a summary for a file still pending, never a filed file without one.
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
        let source = self.source_path(&file.sender, &file.path)?;
        let meta = fs::symlink_metadata(&source)?;
        let unchanged = meta.is_file()
            && meta.len() == file.size
            && meta.modified().is_ok_and(|m| m == file.modified);
        if !unchanged {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "{} changed since it was scanned",
                    escaped(&source.display().to_string())
                ),
            ));
        }
        self.move_with_summary(
            &file.sender,
            &source,
            &file.file_name,
            outcome,
            summary_json,
            rejects_csv,
            stamp,
        )
    }

    /// `path` if it is an entry directly inside the sender's folder. DroppedFile's fields are
    /// public; refusing a path that scan could not have produced keeps this from touching
    /// arbitrary files.
    fn source_path(&self, sender: &str, path: &Path) -> io::Result<PathBuf> {
        check_sender(sender)?;
        let sender_dir = self.root.join(sender);
        let inside = path.parent() == Some(sender_dir.as_path())
            && path
                .file_name()
                .is_some_and(|name| sender_dir.join(name) == path);
        if inside {
            Ok(path.to_path_buf())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} is not a file directly inside {}",
                    escaped(&path.display().to_string()),
                    sender_dir.display()
                ),
            ))
        }
    }

    /// Reserves a free destination name by creating its summary (and reject report), then moves
    /// `source` there. If the move fails, the sidecars are removed again.
    #[allow(clippy::too_many_arguments)]
    fn move_with_summary(
        &self,
        sender: &str,
        source: &Path,
        file_name: &str,
        outcome: Outcome,
        summary_json: &str,
        rejects_csv: Option<&[u8]>,
        stamp: &str,
    ) -> io::Result<PathBuf> {
        let file_name = plain_file_name(file_name)?;
        let sender_dir = self.root.join(sender);
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

        let mut races = 0;
        let dest_name = loop {
            let candidate = free_name(&dir, stamp, file_name)?;
            let summary_name = format!("{candidate}.summary.json");
            match write_new_atomically(&dir, &summary_name, summary_json.as_bytes()) {
                Ok(()) => break candidate,
                // Another node took the name between the look and the write.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && races < MAX_RESERVE_RACES => {
                    races += 1;
                }
                Err(e) => return Err(e),
            }
        };
        let summary_path = dir.join(format!("{dest_name}.summary.json"));
        let rejects_path = dir.join(format!("{dest_name}.rejects.csv"));
        let dest = dir.join(&dest_name);
        let moved = (|| {
            if let Some(rejects) = rejects_csv {
                write_atomically(&dir, &format!("{dest_name}.rejects.csv"), rejects)?;
            }
            // rename never follows a link: a link is moved as itself.
            fs::rename(source, &dest)
        })();
        if let Err(e) = moved {
            // A lost race (NotFound) or a failed move must not leave a summary for a file that is
            // not there.
            let _ = fs::remove_file(&summary_path);
            if rejects_csv.is_some() {
                let _ = fs::remove_file(&rejects_path);
            }
            return Err(e);
        }
        remove_superseded_summaries(&dir, file_name, &dest_name, summary_json);
        Ok(dest)
    }
}

/// After a file is filed: removes the summaries (and reject reports) of an earlier, interrupted
/// filing of the same content under the same name — a node killed after writing the summary and
/// before moving the file — whose file is not beside them. The new summary replaces them. Only
/// summaries naming the same file and SHA-256 are touched, so an operator's leftovers stay.
fn remove_superseded_summaries(dir: &Path, file_name: &str, dest_name: &str, summary_json: &str) {
    let Ok(summary) = serde_json::from_str::<serde_json::Value>(summary_json) else {
        return;
    };
    let Some(sha256) = summary.get("sha256").and_then(|s| s.as_str()) else {
        return;
    };
    let (stem, ext) = split_extension(file_name);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Some(base) = name.strip_suffix(".summary.json") else {
            continue;
        };
        // `<YYYYMMDD-HHMMSS>-` and the name, perhaps with `-N` before the extension.
        let named_alike = base != dest_name
            && base.as_bytes().get(15) == Some(&b'-')
            && base
                .get(16..)
                .is_some_and(|rest| rest.starts_with(stem) && rest.ends_with(ext));
        if !named_alike || exists(&dir.join(base)).unwrap_or(true) {
            continue;
        }
        let Ok(text) = fs::read_to_string(entry.path()) else {
            continue;
        };
        let Ok(old) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if old["file_name"] == file_name && old["sha256"] == sha256 {
            let _ = fs::remove_file(entry.path());
            let _ = fs::remove_file(dir.join(format!("{base}.rejects.csv")));
            tracing::info!(file = %escaped(file_name), summary = %escaped(&name), "summary of an interrupted filing replaced");
        }
    }
}

/// `("a", ".csv")` for `a.csv`; a leading dot is part of the stem.
fn split_extension(file_name: &str) -> (&str, &str) {
    match file_name.rfind('.') {
        Some(dot) if dot > 0 => file_name.split_at(dot),
        _ => (file_name, ""),
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
            let (stem, ext) = split_extension(file_name);
            format!("{stamp}-{stem}-{n}{ext}")
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
    let tmp = write_hidden_temp(dir, name, bytes)?;
    let result = fs::rename(&tmp, dir.join(name));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Like `write_atomically`, but never replaces an existing file: the name is taken with a hard
/// link, which fails if it exists, so two nodes filing at the same moment cannot both own one
/// name. On a share without hard links it falls back to a look and a rename.
fn write_new_atomically(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = write_hidden_temp(dir, name, bytes)?;
    let target = dir.join(name);
    let result = match fs::hard_link(&tmp, &target) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) => match exists(&target) {
            Ok(true) => Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists", target.display()),
            )),
            Ok(false) => fs::rename(&tmp, &target),
            Err(e) => Err(e),
        },
    };
    // After a link the temp name is a second name of the summary; after a rename it is gone.
    let _ = fs::remove_file(&tmp);
    result
}

/// Writes `bytes` to a new hidden file beside `name` (hidden names are never taken as drops),
/// synced to disk; the caller gives it its final name.
fn write_hidden_temp(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    match written {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    const SETTLE: Duration = Duration::from_secs(30);

    /// The names in a folder, sorted.
    fn sorted_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

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
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(
            found,
            vec![DroppedFile {
                sender: "edu-110000".into(),
                path: path.clone(),
                file_name: "a.csv".into(),
                size: 1,
                modified: t(0),
                device: meta.dev(),
                inode: meta.ino(),
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
        let listing = sorted_names(&processed);
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
    fn summary_of_an_interrupted_filing_is_replaced() {
        let (_tmp, mut folder, sender) = setup();
        let processed = sender.join(PROCESSED);
        let same = r#"{"file_name":"a.csv","sha256":"abc","batch_id":1}"#;
        // Left by a node killed after the summary and before the move; beside it, one of other
        // content and one whose file is there: both stay.
        fs::write(processed.join("20240101-000000-a.csv.summary.json"), same).unwrap();
        fs::write(processed.join("20240101-000000-a.csv.rejects.csv"), "r").unwrap();
        let other = r#"{"file_name":"a.csv","sha256":"def"}"#;
        fs::write(processed.join("20240101-000001-a.csv.summary.json"), other).unwrap();
        fs::write(processed.join("20240101-000002-a.csv.summary.json"), same).unwrap();
        fs::write(processed.join("20240101-000002-a.csv"), "kept").unwrap();
        put(&sender, "a.csv", b"x", t(0));
        folder.scan(t(100)).unwrap();
        let file = folder.scan(t(110)).unwrap().remove(0);
        let duplicate = r#"{"file_name":"a.csv","sha256":"abc","duplicate_of":1}"#;
        folder
            .file_away_stamped(
                &file,
                Outcome::Processed,
                duplicate,
                None,
                "20240102-030405",
            )
            .unwrap();
        let listing = sorted_names(&processed);
        assert_eq!(
            listing,
            [
                "20240101-000001-a.csv.summary.json",
                "20240101-000002-a.csv",
                "20240101-000002-a.csv.summary.json",
                "20240102-030405-a.csv",
                "20240102-030405-a.csv.summary.json",
            ]
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
            device: 0,
            inode: 0,
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
        // The link itself went to failed/ with the reason; its target stayed where it was.
        let failed: Vec<_> = fs::read_dir(sender.join(FAILED))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        let moved = failed
            .iter()
            .find(|p| p.to_string_lossy().ends_with("-link.csv"))
            .expect("link moved aside");
        assert!(fs::symlink_metadata(moved)
            .unwrap()
            .file_type()
            .is_symlink());
        let summary = fs::read_to_string(format!("{}.summary.json", moved.display())).unwrap();
        assert!(summary.contains(NOT_A_REGULAR_FILE), "{summary}");
        assert!(summary.contains("符号链接"), "{summary}");
        assert_eq!(fs::read(&secret).unwrap(), b"x");
        assert!(outside.join("secret.csv").exists());
    }

    #[cfg(unix)]
    #[test]
    fn link_swapped_in_after_the_scan_is_not_opened() {
        use std::os::unix::fs::symlink;
        let (tmp, mut folder, sender) = setup();
        let secret = put(tmp.path(), "secret.csv", b"x", t(0));
        let path = put(&sender, "a.csv", b"x", t(0));
        folder.scan(t(100)).unwrap();
        let file = folder.scan(t(110)).unwrap().remove(0);
        // Kept alive under another name so that its inode number cannot be reused below.
        fs::hard_link(&path, tmp.path().join("keep")).unwrap();
        fs::remove_file(&path).unwrap();
        symlink(&secret, &path).unwrap();
        assert!(matches!(
            folder.open_dropped(&file),
            Err(OpenRefused::NotRegular(NotRegular::Symlink))
        ));
        // A regular file that is not the one scanned (another inode) is not taken either.
        fs::remove_file(&path).unwrap();
        put(&sender, "a.csv", b"x", t(0));
        assert!(matches!(
            folder.open_dropped(&file),
            Err(OpenRefused::Changed)
        ));
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
            device: 0,
            inode: 0,
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
