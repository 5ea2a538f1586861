//! A small pool: run a job for each index with at most `parallel` at once,
//! handing each result to the caller (on the caller's thread) as it finishes.

use std::sync::Mutex;
use std::sync::mpsc;

/// Runs `work(i)` for every `i` in `indices`, at most `parallel` at a time,
/// and calls `on_done(i, result)` on the calling thread in completion order.
///
/// `on_done` returning `false` stops handing out new work (runs already
/// started finish, and their results are still delivered).
pub fn run_pool<T, W>(
    indices: &[usize],
    parallel: usize,
    work: W,
    on_done: &mut dyn FnMut(usize, T) -> bool,
) where
    T: Send,
    W: Fn(usize) -> T + Sync,
{
    let parallel = parallel.clamp(1, indices.len().max(1));
    let queue = Mutex::new(
        indices
            .iter()
            .copied()
            .collect::<std::collections::VecDeque<_>>(),
    );
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(usize, T)>();
    std::thread::scope(|s| {
        for _ in 0..parallel {
            let tx = tx.clone();
            let (queue, work, stop) = (&queue, &work, &stop);
            s.spawn(move || {
                loop {
                    if stop.load(std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    let next = match queue.lock() {
                        Ok(mut q) => q.pop_front(),
                        Err(_) => None,
                    };
                    let Some(i) = next else { break };
                    let r = work(i);
                    if tx.send((i, r)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (i, r) in rx {
            if !on_done(i, r) {
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn runs_every_index_once_with_bounded_parallelism() {
        let active = std::sync::atomic::AtomicUsize::new(0);
        let peak = std::sync::atomic::AtomicUsize::new(0);
        let mut seen = Vec::new();
        run_pool(
            &[0, 1, 2, 3, 4, 5, 6, 7],
            3,
            |i| {
                let now = active.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                peak.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
                active.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                i * 10
            },
            &mut |i, r| {
                assert_eq!(r, i * 10);
                seen.push(i);
                true
            },
        );
        seen.sort();
        assert_eq!(seen, vec![0, 1, 2, 3, 4, 5, 6, 7]);
        let p = peak.load(std::sync::atomic::Ordering::SeqCst);
        assert!((2..=3).contains(&p), "peak {p}");
    }

    #[test]
    fn stop_stops_handing_out_work() {
        let mut n = 0;
        run_pool(&[0, 1, 2, 3, 4, 5], 1, |i| i, &mut |_, _| {
            n += 1;
            false
        });
        assert_eq!(n, 1);
    }
}
