//! A small pool: run a job for each index with at most `parallel` at once,
//! handing each result to the caller (on the caller's thread) as it finishes.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, mpsc};

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
    let queue = Mutex::new(indices.iter().copied().collect::<VecDeque<_>>());
    // A permit is taken before a job starts and given back only once the
    // caller has seen its result, so a "stop" from `on_done` is seen before
    // any further job starts (workers cannot run ahead of the caller).
    let permits = (Mutex::new(parallel), Condvar::new());
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(usize, T)>();
    std::thread::scope(|s| {
        for _ in 0..parallel {
            let tx = tx.clone();
            let (queue, work, stop, permits) = (&queue, &work, &stop, &permits);
            s.spawn(move || {
                loop {
                    if !take_permit(permits, stop) {
                        break;
                    }
                    let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                    let Some(i) = next else {
                        give_permit(permits);
                        break;
                    };
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
                stop.store(true, Ordering::SeqCst);
            }
            give_permit(&permits);
        }
    });
}

/// Waits for a permit; `false` once the pool is stopping.
fn take_permit(permits: &(Mutex<usize>, Condvar), stop: &AtomicBool) -> bool {
    let (lock, cv) = permits;
    let Ok(mut n) = lock.lock() else { return false };
    loop {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        if *n > 0 {
            *n -= 1;
            return true;
        }
        n = match cv.wait(n) {
            Ok(g) => g,
            Err(_) => return false,
        };
    }
}

fn give_permit(permits: &(Mutex<usize>, Condvar)) {
    let (lock, cv) = permits;
    if let Ok(mut n) = lock.lock() {
        *n += 1;
    }
    cv.notify_all();
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
    fn stop_is_seen_before_another_job_starts() {
        let started = std::sync::atomic::AtomicUsize::new(0);
        let mut n = 0;
        run_pool(
            &[0, 1, 2, 3, 4, 5],
            2,
            |i| {
                started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                i
            },
            &mut |_, _| {
                n += 1;
                false
            },
        );
        // Those already started report; no further one starts.
        let started = started.load(std::sync::atomic::Ordering::SeqCst);
        assert!((1..=2).contains(&started), "{started}");
        assert_eq!(n, started);
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
