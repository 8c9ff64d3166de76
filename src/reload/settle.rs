//! Debouncing by key: notify's raw events, grouped by what they belong to
//! (a product, or the whole store), handed on once that has been quiet.
//!
//! A changed path marks its key (`key_of`) due one quiet period later; every
//! further change of the key pushes that back; when the period passes with
//! no change, the key is handed to `on_settled` on the watcher's thread.
//! Nothing is ever dropped: any change seen after the handler started
//! marks the key due again, so the last call always comes after the last
//! change. Reads (notify's `Access` events, which the loader itself causes)
//! mark nothing; a rescan notice (an overflowing event queue) or an event
//! without a path marks every key (`all_keys`).
//!
//! Why not `notify-debouncer-full`: its 0.7 release, the newest that is not
//! a release candidate, drops a file's create and remove events when the
//! remove comes within the debounce window of the create
//! (notify-rs/notify#900): a deleted file's policies would be served on
//! (`a_file_deleted_right_after_a_reload_read_it_is_seen` guards this).
//! `notify-debouncer-mini` drops nothing but gives no event kinds, so the
//! loader's own reads would trigger reloads without end.
//! What a reload needs is only "these keys changed, and have settled": the
//! per-path event history those debouncers keep is not used.
//!
//! What is watched: the store's folders (recursively, links not followed),
//! the store's root (its entries only, so a folder deleted and re-created or
//! renamed over is watched again at once, and every key is marked), and the
//! places links under the folders lead to ([`Links`]), scanned again before
//! every hand-on so the files a handler reads are watched first. A change
//! at a link's target marks the keys of every store path leading to it.

use super::links::{Links, Watched};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the watcher's thread is told.
enum Message {
    Event(notify::Result<notify::Event>),
    Stop,
}

/// The watcher, shared by the settler (which stops it) and its thread
/// (which watches folders again and follows links).
type SharedWatcher = Arc<Mutex<Option<RecommendedWatcher>>>;

/// Watches folders and hands on settled keys until stopped or dropped.
pub(crate) struct Settler {
    watcher: SharedWatcher,
    messages: Sender<Message>,
    thread: Option<JoinHandle<()>>,
}

/// What the thread does with what it is told.
pub(crate) struct Handlers<F, A, S, E> {
    /// Whether every key is handed on once right after the watch is in
    /// place, so that a change made before (while the caller first read the
    /// files) is read too.
    pub catch_up: bool,
    /// The key a changed path belongs to (`None`: not followed).
    pub key_of: F,
    /// Every key, for a rescan notice.
    pub all_keys: A,
    /// Called with the keys that settled, in order.
    pub on_settled: S,
    /// Called with the watcher's errors.
    pub on_error: E,
}

impl Settler {
    /// Starts watching `folders` (which share the parent `root`)
    /// recursively; the keys of their changed paths are handed on once
    /// `quiet` has passed without a change to them. Fails with the folder
    /// that cannot be watched.
    pub fn start<K, F, A, S, E>(
        root: &Path,
        folders: &[PathBuf],
        quiet: Duration,
        handlers: Handlers<F, A, S, E>,
    ) -> Result<Self, (PathBuf, notify::Error)>
    where
        K: Ord + Clone + Send + 'static,
        F: Fn(&Path) -> Option<K> + Send + 'static,
        A: Fn() -> Vec<K> + Send + 'static,
        S: FnMut(Vec<K>) + Send + 'static,
        E: FnMut(&notify::Error) + Send + 'static,
    {
        // where an error that is not about one folder is reported
        let first = || folders.first().cloned().unwrap_or_default();
        let (messages, received) = channel();
        let forward = messages.clone();
        let mut watcher = RecommendedWatcher::new(
            move |event| {
                // the receiver is gone only once the settler stops
                let _ = forward.send(Message::Event(event));
            },
            notify::Config::default().with_follow_symlinks(false),
        )
        .map_err(|error| (first(), error))?;
        watcher
            .watch(root, RecursiveMode::NonRecursive)
            .map_err(|error| (root.to_path_buf(), error))?;
        for folder in folders {
            watcher
                .watch(folder, RecursiveMode::Recursive)
                .map_err(|error| (folder.clone(), error))?;
        }
        let watcher = Arc::new(Mutex::new(Some(watcher)));
        let places = Places::new(Arc::clone(&watcher), folders);
        let thread = std::thread::Builder::new()
            .name("rolegrid-watch".to_owned())
            .spawn(move || settle(&received, quiet, places, handlers))
            .map_err(|error| (first(), notify::Error::io(error)))?;
        Ok(Self {
            watcher,
            messages,
            thread: Some(thread),
        })
    }

    /// Stops watching; waits for a handler that is running to return (unless
    /// called from the handler itself).
    pub fn stop(&mut self) {
        // no more events, then the thread's last message
        drop(
            self.watcher
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let _ = self.messages.send(Message::Stop);
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }

    /// Whether it is watching.
    pub fn is_running(&self) -> bool {
        self.thread.is_some()
    }
}

impl Drop for Settler {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the thread watches besides the folders' insides: the folders
/// themselves (again when replaced) and the places links lead to.
struct Places {
    watcher: SharedWatcher,
    folders: Vec<PathBuf>,
    /// The folders' canonical paths, watched whole already.
    covered: Vec<PathBuf>,
    links: Links,
    watched: BTreeMap<PathBuf, Watched>,
}

impl Places {
    fn new(watcher: SharedWatcher, folders: &[PathBuf]) -> Self {
        let mut places = Self {
            watcher,
            folders: folders.to_vec(),
            covered: Vec::new(),
            links: Links::default(),
            watched: BTreeMap::new(),
        };
        places.follow_links();
        places
    }

    /// Whether `path` is one of the folders (created, removed or renamed
    /// as a whole: an event in the root's entries).
    fn is_folder(&self, path: &Path) -> bool {
        self.folders.iter().any(|folder| folder == path)
    }

    /// Watches the folders again (a replaced folder is a new one).
    fn watch_folders_again(&mut self) -> Vec<notify::Error> {
        let mut errors = Vec::new();
        let mut guard = self.watcher.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(watcher) = guard.as_mut() {
            for folder in &self.folders {
                // the old folder's watches may be gone already
                let _ = watcher.unwatch(folder);
                if folder.is_dir()
                    && let Err(error) = watcher.watch(folder, RecursiveMode::Recursive)
                {
                    errors.push(error);
                }
            }
        }
        errors
    }

    /// Scans the links again and watches where they lead now.
    fn follow_links(&mut self) -> Vec<notify::Error> {
        self.covered = self
            .folders
            .iter()
            .filter_map(|folder| std::fs::canonicalize(folder).ok())
            .collect();
        self.links = Links::scan(&self.folders);
        let wanted = self.links.places(&self.covered);
        let mut errors = Vec::new();
        let mut guard = self.watcher.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(watcher) = guard.as_mut() else {
            return errors;
        };
        for (place, how) in &self.watched {
            if wanted.get(place) != Some(how) {
                let _ = watcher.unwatch(place);
            }
        }
        for (place, how) in &wanted {
            if self.watched.get(place) == Some(how) {
                continue;
            }
            let mode = match how {
                Watched::Tree => RecursiveMode::Recursive,
                Watched::Entries => RecursiveMode::NonRecursive,
            };
            if let Err(error) = watcher.watch(place, mode) {
                errors.push(error);
            }
        }
        self.watched = wanted;
        errors
    }
}

/// The watcher's thread: marks keys due, hands on those whose time came.
fn settle<K, F, A, S, E>(
    received: &Receiver<Message>,
    quiet: Duration,
    mut places: Places,
    mut handlers: Handlers<F, A, S, E>,
) where
    K: Ord + Clone,
    F: Fn(&Path) -> Option<K>,
    A: Fn() -> Vec<K>,
    S: FnMut(Vec<K>),
    E: FnMut(&notify::Error),
{
    let mut due: BTreeMap<K, Instant> = BTreeMap::new();
    if handlers.catch_up {
        let now = Instant::now();
        due.extend((handlers.all_keys)().into_iter().map(|key| (key, now)));
    }
    loop {
        let message = match due.values().min() {
            Some(first) => {
                match received.recv_timeout(first.saturating_duration_since(Instant::now())) {
                    Ok(message) => Some(message),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            None => match received.recv() {
                Ok(message) => Some(message),
                Err(_) => return,
            },
        };
        match message {
            Some(Message::Stop) => return,
            Some(Message::Event(Ok(event))) if changes_content(&event) => {
                let at = Instant::now() + quiet;
                let replaced = event.paths.iter().any(|path| places.is_folder(path));
                if replaced {
                    for error in places.watch_folders_again() {
                        (handlers.on_error)(&error);
                    }
                }
                if replaced || event.need_rescan() || event.paths.is_empty() {
                    for key in (handlers.all_keys)() {
                        due.insert(key, at);
                    }
                }
                for path in &event.paths {
                    let through = places.links.through(path);
                    let paths =
                        std::iter::once(path.as_path()).chain(through.iter().map(PathBuf::as_path));
                    for key in paths.filter_map(|p| (handlers.key_of)(p)) {
                        due.insert(key, at);
                    }
                }
            }
            Some(Message::Event(Ok(_))) | None => {}
            Some(Message::Event(Err(error))) => (handlers.on_error)(&error),
        }
        let now = Instant::now();
        let settled: Vec<K> = due
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(key, _)| key.clone())
            .collect();
        if !settled.is_empty() {
            due.retain(|_, at| *at > now);
            // what the handler reads is watched before it reads it
            for error in places.follow_links() {
                (handlers.on_error)(&error);
            }
            (handlers.on_settled)(settled);
        }
    }
}

/// Whether an event can change what a file holds (reads, which the loader
/// itself causes, are not changes).
pub(crate) fn changes_content(event: &notify::Event) -> bool {
    !matches!(event.kind, notify::EventKind::Access(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind, EventKind, Flag, RemoveKind};

    type Settled = Vec<Vec<&'static str>>;

    /// Runs the thread over `events` (each after a pause) and returns what it handed on.
    fn run(events: Vec<(Duration, notify::Event)>, quiet: Duration) -> Settled {
        let (messages, received) = channel();
        let (out, settled) = channel();
        let thread = std::thread::spawn(move || {
            settle(
                &received,
                quiet,
                Places::new(Arc::new(Mutex::new(None)), &[]),
                Handlers {
                    catch_up: false,
                    key_of: |path: &Path| -> Option<&'static str> {
                        match path.to_str()? {
                            p if p.starts_with("/a/") => Some("a"),
                            p if p.starts_with("/b/") => Some("b"),
                            _ => None,
                        }
                    },
                    all_keys: || vec!["a", "b"],
                    on_settled: move |keys: Vec<&'static str>| {
                        let _ = out.send(keys);
                    },
                    on_error: |_: &notify::Error| {},
                },
            );
        });
        for (pause, event) in events {
            std::thread::sleep(pause);
            let _ = messages.send(Message::Event(Ok(event)));
        }
        std::thread::sleep(quiet * 4);
        let _ = messages.send(Message::Stop);
        let _ = thread.join();
        settled.try_iter().collect()
    }

    fn event(kind: EventKind, path: &str) -> notify::Event {
        notify::Event::new(kind).add_path(PathBuf::from(path))
    }

    #[test]
    fn a_create_then_remove_is_handed_on_not_dropped() {
        let quiet = Duration::from_millis(150);
        let settled = run(
            vec![
                (
                    Duration::ZERO,
                    event(EventKind::Create(CreateKind::File), "/a/x"),
                ),
                (
                    Duration::from_millis(5),
                    event(EventKind::Remove(RemoveKind::File), "/a/x"),
                ),
            ],
            quiet,
        );
        assert_eq!(settled, vec![vec!["a"]]);
    }

    #[test]
    fn keys_settle_apart_and_a_burst_is_handed_on_once() {
        let quiet = Duration::from_millis(150);
        let settled = run(
            vec![
                (
                    Duration::ZERO,
                    event(EventKind::Create(CreateKind::File), "/a/x"),
                ),
                (Duration::from_millis(5), event(EventKind::Any, "/a/y")),
                (Duration::from_millis(5), event(EventKind::Any, "/a/x")),
                // b settles on its own, long after a
                (quiet * 3, event(EventKind::Any, "/b/z")),
                // reads and paths of no key mark nothing
                (
                    Duration::ZERO,
                    event(EventKind::Access(AccessKind::Any), "/a/x"),
                ),
                (Duration::ZERO, event(EventKind::Any, "/elsewhere")),
            ],
            quiet,
        );
        assert_eq!(settled, vec![vec!["a"], vec!["b"]]);
    }

    #[test]
    fn a_rescan_notice_marks_every_key() {
        let quiet = Duration::from_millis(150);
        let rescan = notify::Event::new(EventKind::Other).set_flag(Flag::Rescan);
        let settled = run(vec![(Duration::ZERO, rescan)], quiet);
        assert_eq!(settled, vec![vec!["a", "b"]]);
    }
}
