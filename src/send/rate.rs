//! `rate`: a cap on messages per second across all connections. Each
//! message takes the next free slot on one shared timeline, so workers space
//! themselves out evenly rather than bursting at each second's start.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::campaign::Rate;

pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    pub fn new(rate: Rate) -> Self {
        let interval = Duration::from_secs(u64::from(rate.per_seconds)) / rate.messages.max(1);
        RateLimiter {
            interval,
            next: Mutex::new(None),
        }
    }

    /// Blocks until this caller's slot.
    pub fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().expect("not poisoned");
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        let now = Instant::now();
        if slot > now {
            std::thread::sleep(slot - now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_spaced_by_the_interval() {
        let limiter = RateLimiter::new(Rate {
            messages: 100,
            per_seconds: 1,
        });
        let start = Instant::now();
        for _ in 0..11 {
            limiter.wait();
        }
        // 11 messages at 100/s: the last slot is 100 ms after the first.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(95), "{elapsed:?}");
    }
}
