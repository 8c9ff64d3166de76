//! Measures hot reload as a service sees it, on a copy of a store:
//! the time from a file write to the new decision being served (median and
//! worst over N edits), and authorize throughput while reloading vs idle.
//!
//! `cargo run --release --example reload_latency -- [STORE] [PRODUCT] [EDITS]`
//! (defaults: `.`, `fireworks`, 100). The product needs the fireworks-style
//! policy `view-all-users-and-service-accounts`, or pass a store generated
//! by `rolegrid-synth` with its product name: the first policy file's first
//! `permit` is flipped to `forbid` and back.

use rolegrid::{Evaluator, LoadOptions, ReloadOutcome};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let store = PathBuf::from(args.get(1).map_or(".", String::as_str));
    let product = args.get(2).map_or("fireworks", String::as_str).to_owned();
    let edits: usize = args.get(3).map_or(Ok(100), |n| n.parse())?;
    let dir = std::env::temp_dir().join(format!("rolegrid-reload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for folder in ["schemas", "policies"] {
        copy_dir(&store.join(folder), &dir.join(folder))?;
    }
    let evaluator = Arc::new(
        Evaluator::open_products(&dir, std::slice::from_ref(&product), LoadOptions::default())
            .map_err(|p| format!("{p}"))?,
    );
    let (tx, events) = channel();
    let watch = evaluator.watch(move |event| {
        let _ = tx.send(event.clone());
    })?;

    // the edited file: the policy file holding the first permit, flipped to forbid and back
    let snapshot = evaluator.snapshot(&product).ok_or("no snapshot")?;
    let mut policies: Vec<_> = snapshot
        .policies()
        .policies()
        .filter(|p| p.effect() == cedar_policy::Effect::Permit)
        .collect();
    policies.sort_by_key(|p| p.id().to_string());
    let policy = policies.first().ok_or("no permit policy")?;
    let origin = snapshot.policy_origin(policy.id()).ok_or("no origin")?;
    let path = origin.file.path().to_path_buf();
    let original = origin.file.text().to_owned();
    let start = origin.span.start
        + original
            .get(origin.span.clone())
            .and_then(|t| t.find("permit"))
            .ok_or("no permit keyword")?;
    let flipped = format!(
        "{}forbid{}",
        original.get(..start).unwrap_or_default(),
        original.get(start + "permit".len()..).unwrap_or_default()
    );
    let policy_id = policy.id().clone();
    println!(
        "{product}: {} policies; editing {} (policy {policy_id}), {edits} edits",
        snapshot.policy_count(),
        path.display()
    );
    drop(snapshot);

    let mut latencies = Vec::with_capacity(edits);
    for i in 0..edits {
        let text = if i % 2 == 0 { &flipped } else { &original };
        let written = Instant::now();
        let temporary = path.with_file_name(".edit.tmp");
        std::fs::write(&temporary, text)?;
        std::fs::rename(&temporary, &path)?;
        loop {
            let event = events.recv_timeout(Duration::from_secs(30))?;
            if let ReloadOutcome::Swapped { .. } = event.outcome {
                break;
            }
            if let ReloadOutcome::Failed(problems) = event.outcome {
                return Err(format!("reload failed: {problems}").into());
            }
        }
        // served: the new snapshot has the edited effect
        let effect = evaluator
            .with_snapshot(&product, |s| {
                s.policies()
                    .policy(&policy_id)
                    .map(cedar_policy::Policy::effect)
            })
            .flatten();
        let want = if i % 2 == 0 {
            cedar_policy::Effect::Forbid
        } else {
            cedar_policy::Effect::Permit
        };
        if effect != Some(want) {
            return Err("the served snapshot does not have the edit".into());
        }
        latencies.push(written.elapsed());
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = latencies
        .get(latencies.len() / 2)
        .copied()
        .unwrap_or_default();
    let worst = latencies.last().copied().unwrap_or_default();
    let best = latencies.first().copied().unwrap_or_default();
    println!(
        "write -> new decision served: median {:.1} ms, best {:.1} ms, worst {:.1} ms over {edits} edits",
        ms(median),
        ms(best),
        ms(worst)
    );

    // throughput: one reader thread per core for 2 s idle, then 2 s while a writer edits every 50 ms
    let requests: Vec<cedar_policy::Request> = evaluator
        .with_snapshot(&product, |s| {
            s.entities()
                .iter()
                .filter(|e| e.uid().type_name().basename() == "User")
                .take(4)
                .filter_map(|u| {
                    let action = s.schema()?.actions().next()?.clone();
                    let resource = s.schema()?.resources_for_action(&action)?.next()?.clone();
                    let resource = s
                        .entities()
                        .iter()
                        .find(|e| e.uid().type_name() == &resource)?
                        .uid();
                    s.request(
                        &u.uid().to_string(),
                        &action.to_string(),
                        &resource.to_string(),
                        None,
                    )
                    .ok()
                })
                .collect()
        })
        .unwrap_or_default();
    if requests.is_empty() {
        return Err("no requests to measure throughput with".into());
    }
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let measure = |reloading: bool| -> f64 {
        let stop = AtomicBool::new(false);
        let count = AtomicU64::new(0);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        for request in &requests {
                            let _ = evaluator.with_snapshot(&product, |s| s.authorize(request));
                            n += 1;
                        }
                    }
                    count.fetch_add(n, Ordering::Relaxed);
                });
            }
            let started = Instant::now();
            let mut i = 0;
            while started.elapsed() < Duration::from_secs(2) {
                if reloading {
                    let text = if i % 2 == 0 { &flipped } else { &original };
                    let _ = std::fs::write(&path, text);
                    i += 1;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            stop.store(true, Ordering::Relaxed);
        });
        count.load(Ordering::Relaxed) as f64 / 2.0
    };
    let idle = measure(false);
    let busy = measure(true);
    println!(
        "authorize throughput ({threads} threads): idle {idle:.0}/s, while reloading every 50 ms {busy:.0}/s ({:.0}%)",
        busy / idle * 100.0
    );
    drop(watch);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
