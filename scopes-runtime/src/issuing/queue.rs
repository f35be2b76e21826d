//! The queue in front of the password checks: a few run at once (one per core), a bounded number wait,
//! served round-robin across clients so one client's flood cannot starve another's login, and a login
//! that could not start within [`PasswordCheckLimits::max_wait`] is answered at once (503 with
//! `Retry-After`) instead of waiting without limit.

use crate::observing::metrics as names;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// How many password checks run and wait at once.
///
/// ```
/// use std::time::Duration;
/// use scopes_runtime::issuing::PasswordCheckLimits;
///
/// let limits = PasswordCheckLimits { max_wait: Duration::from_secs(1), ..PasswordCheckLimits::default() };
/// assert!(limits.concurrent >= 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCheckLimits {
    /// Checks running at once, each on a check thread of its own that keeps its Argon2 memory (19 MiB under
    /// OWASP's parameters) for the process' life: the process holds this many times that.
    pub concurrent: usize,
    /// Logins waiting for a check, from all clients; beyond it, logins are answered 503 at once.
    pub max_waiting: usize,
    /// Logins waiting from one client (an IPv6 client by its /64).
    pub max_waiting_per_client: usize,
    /// The longest a login waits for its check to start. A login that would wait longer, by the measured
    /// time of recent checks, is answered 503 at once; one that waited this long without starting, then.
    pub max_wait: Duration,
}

impl Default for PasswordCheckLimits {
    /// One running check per core, four at most (76 MiB of Argon2 memory under OWASP's parameters, on a
    /// host of any size); 32 waiting, 4 from one client; 1.5 s of waiting at most.
    fn default() -> Self {
        PasswordCheckLimits {
            concurrent: std::thread::available_parallelism().map_or(2, |n| n.get()).min(Self::DEFAULT_MAX_CONCURRENT),
            max_waiting: 32,
            max_waiting_per_client: 4,
            max_wait: Duration::from_millis(1500),
        }
    }
}

impl PasswordCheckLimits {
    /// The most checks the default runs at once, however many cores the host has.
    ///
    /// ```
    /// use scopes_runtime::issuing::PasswordCheckLimits;
    /// assert!(PasswordCheckLimits::default().concurrent <= PasswordCheckLimits::DEFAULT_MAX_CONCURRENT);
    /// ```
    pub const DEFAULT_MAX_CONCURRENT: usize = 4;
}

/// The queue is full, or the login waited its longest: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Busy {
    pub(crate) retry_after: Duration,
}

#[derive(Default)]
pub(crate) struct CheckQueue {
    limits: PasswordCheckLimits,
    state: Mutex<QueueState>,
}

impl std::fmt::Debug for CheckQueue {
    /// The limits and how many checks run and wait; never which clients.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("CheckQueue")
            .field("limits", &self.limits)
            .field("running", &state.running)
            .field("waiting", &state.total_waiting)
            .finish()
    }
}

#[derive(Default)]
struct QueueState {
    running: usize,
    waiting: HashMap<Option<IpAddr>, VecDeque<Waiter>>,
    /// Clients with waiting logins, in the order they are served: one login each per turn.
    rotation: VecDeque<Option<IpAddr>>,
    total_waiting: usize,
    next_id: u64,
    /// A moving average of how long a check takes, for telling a login at once that it would wait too long.
    average_check: Option<Duration>,
}

struct Waiter {
    id: u64,
    start: oneshot::Sender<()>,
}

/// A running check's place: the next waiting login starts when it is dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    queue: Arc<CheckQueue>,
    /// When the check started; `None` for a place given back unused, which says nothing of check times.
    started: Option<Instant>,
}

impl CheckQueue {
    /// A queue within `limits`, estimating a check's time as `check_time` until it has timed its own.
    pub(crate) fn new(limits: PasswordCheckLimits, check_time: Option<Duration>) -> Self {
        let limits = PasswordCheckLimits { concurrent: limits.concurrent.max(1), ..limits };
        CheckQueue { limits, state: Mutex::new(QueueState { average_check: check_time, ..QueueState::default() }) }
    }

    pub(crate) fn limits(&self) -> PasswordCheckLimits {
        self.limits
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // Every update leaves the state consistent before anything can panic; keep using it.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits for a place to run a check for `client` (already bucketed), fairly and within the limits.
    pub(crate) async fn admit(self: &Arc<Self>, client: Option<IpAddr>) -> Result<Slot, Busy> {
        let (id, started) = {
            let mut state = self.lock();
            if state.running < self.limits.concurrent && state.total_waiting == 0 {
                state.running += 1;
                metrics::histogram!(names::PASSWORD_QUEUE_WAIT).record(0.0);
                return Ok(self.slot());
            }
            let expected_wait = state.expected_wait(self.limits.concurrent);
            let from_client = state.waiting.get(&client).map_or(0, VecDeque::len);
            if state.total_waiting >= self.limits.max_waiting
                || from_client >= self.limits.max_waiting_per_client
                || expected_wait > self.limits.max_wait
            {
                // Whole seconds go on the wire: at least one, and never a wait longer than a minute.
                let retry_after = expected_wait.min(Duration::from_secs(60)).max(Duration::from_secs(1));
                return Err(Busy { retry_after });
            }
            let (start, started) = oneshot::channel();
            let id = state.next_id;
            state.next_id += 1;
            let queue = state.waiting.entry(client).or_default();
            queue.push_back(Waiter { id, start });
            if queue.len() == 1 {
                state.rotation.push_back(client);
            }
            state.total_waiting += 1;
            state.count_waiting();
            (id, started)
        };
        let queued = Instant::now();
        // From here the login is either still queued or was given a place; `Waiting` tells them apart when it
        // ends, however it ends (started, timed out, or dropped with the request).
        let waiting = Waiting { queue: self.clone(), client, id, done: false };
        let _ = tokio::time::timeout(self.limits.max_wait, started).await;
        metrics::histogram!(names::PASSWORD_QUEUE_WAIT).record(queued.elapsed());
        waiting.finish()
    }

    fn slot(self: &Arc<Self>) -> Slot {
        Slot { queue: self.clone(), started: Some(Instant::now()) }
    }

    /// Starts waiting logins while there is room, one client at a time in rotation.
    fn start_next(state: &mut QueueState, concurrent: usize) {
        while state.running < concurrent {
            let Some(client) = state.rotation.pop_front() else { return };
            let Some(queue) = state.waiting.get_mut(&client) else { continue };
            let Some(waiter) = queue.pop_front() else { continue };
            if queue.is_empty() {
                state.waiting.remove(&client);
            } else {
                state.rotation.push_back(client);
            }
            state.total_waiting -= 1;
            state.count_waiting();
            state.running += 1;
            // A receiver gone means its login is being dropped; `Waiting::finish` sees it was started and
            // gives the place back.
            let _ = waiter.start.send(());
        }
    }
}

impl QueueState {
    /// Sets the queue-depth gauge to the logins waiting now.
    fn count_waiting(&self) {
        metrics::gauge!(names::PASSWORD_QUEUE_DEPTH).set(self.total_waiting as f64);
    }

    /// How long a newly queued login would wait, by the average check time: those queued ahead of it run
    /// `concurrent` at a time.
    fn expected_wait(&self, concurrent: usize) -> Duration {
        let rounds = (self.total_waiting / concurrent + 1) as u32;
        self.average_check.unwrap_or(Duration::ZERO).saturating_mul(rounds)
    }

    fn record_check(&mut self, took: Duration) {
        self.average_check = Some(match self.average_check {
            Some(average) => (average * 7 + took) / 8,
            None => took,
        });
    }
}

/// A login in the queue, until it starts or gives up.
struct Waiting {
    queue: Arc<CheckQueue>,
    client: Option<IpAddr>,
    id: u64,
    done: bool,
}

impl Waiting {
    /// A place if the login was started, whether or not it heard so before its wait ended; otherwise it
    /// leaves the queue and is busy.
    fn finish(mut self) -> Result<Slot, Busy> {
        self.done = true;
        if self.leave() {
            Err(Busy { retry_after: self.queue.limits.max_wait.max(Duration::from_secs(1)) })
        } else {
            Ok(self.queue.slot())
        }
    }

    /// Takes the login out of the queue; `false` when it was no longer there, because it was started.
    fn leave(&self) -> bool {
        let mut state = self.queue.lock();
        let Some(queue) = state.waiting.get_mut(&self.client) else { return false };
        let Some(position) = queue.iter().position(|waiter| waiter.id == self.id) else { return false };
        queue.remove(position);
        if queue.is_empty() {
            state.waiting.remove(&self.client);
            state.rotation.retain(|client| *client != self.client);
        }
        state.total_waiting -= 1;
        state.count_waiting();
        true
    }
}

impl Drop for Waiting {
    /// Dropped with its request before it finished: out of the queue, or, if it was started meanwhile,
    /// the place goes to the next login.
    fn drop(&mut self) {
        if !self.done && !self.leave() {
            drop(Slot { queue: self.queue.clone(), started: None });
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.queue.lock();
        state.running -= 1;
        if let Some(started) = self.started {
            state.record_check(started.elapsed());
        }
        CheckQueue::start_next(&mut state, self.queue.limits.concurrent);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(concurrent: usize) -> PasswordCheckLimits {
        PasswordCheckLimits { concurrent, max_waiting: 8, max_waiting_per_client: 2, max_wait: Duration::from_secs(5) }
    }

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, last]))
    }

    #[tokio::test]
    async fn waiting_logins_are_served_round_robin_across_clients() {
        let queue = Arc::new(CheckQueue::new(limits(1), None));
        let running = queue.admit(ip(1)).await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (client, label) in [(1, "a1"), (1, "a2"), (2, "b1"), (3, "c1")] {
            let (queue, order) = (queue.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let slot = queue.admit(ip(client)).await.unwrap();
                order.lock().unwrap().push(label);
                drop(slot);
            }));
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(running);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["a1", "b1", "c1", "a2"]);
    }

    #[tokio::test]
    async fn beyond_the_bounds_logins_are_refused_at_once() {
        let queue = Arc::new(CheckQueue::new(limits(1), None));
        let _running = queue.admit(ip(1)).await.unwrap();
        let mut waiting = Vec::new();
        for _ in 0..2 {
            let queue = queue.clone();
            waiting.push(tokio::spawn(async move { queue.admit(ip(9)).await.map(drop) }));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = Instant::now();
        assert!(queue.admit(ip(9)).await.is_err(), "a third from one client");
        assert!(started.elapsed() < Duration::from_millis(100), "answered at once");
        for task in waiting {
            task.abort();
        }
    }

    #[tokio::test]
    async fn a_login_that_waits_too_long_gives_up_and_leaves_the_queue() {
        let queue =
            Arc::new(CheckQueue::new(PasswordCheckLimits { max_wait: Duration::from_millis(50), ..limits(1) }, None));
        let running = queue.admit(ip(1)).await.unwrap();
        assert!(queue.admit(ip(2)).await.is_err());
        assert_eq!(queue.lock().total_waiting, 0);
        drop(running);
        assert!(queue.admit(ip(2)).await.is_ok(), "the place was given back");
    }

    #[tokio::test]
    async fn the_measured_check_time_refuses_logins_that_would_wait_too_long() {
        let limits = PasswordCheckLimits { max_wait: Duration::from_millis(150), ..limits(1) };
        let queue = Arc::new(CheckQueue::new(limits, Some(Duration::from_millis(100))));
        let _running = queue.admit(ip(1)).await.unwrap();
        let queue_2 = queue.clone();
        let _second = tokio::spawn(async move { queue_2.admit(ip(2)).await.map(drop) });
        tokio::time::sleep(Duration::from_millis(10)).await;
        let started = Instant::now();
        assert!(queue.admit(ip(3)).await.is_err(), "two checks of 100 ms ahead");
        assert!(started.elapsed() < Duration::from_millis(50));
    }

    #[tokio::test]
    async fn a_dropped_login_gives_its_place_back() {
        let queue = Arc::new(CheckQueue::new(limits(1), None));
        let running = queue.admit(ip(1)).await.unwrap();
        let queue_2 = queue.clone();
        let abandoned = tokio::spawn(async move { queue_2.admit(ip(2)).await.map(drop) });
        tokio::time::sleep(Duration::from_millis(10)).await;
        abandoned.abort();
        let _ = abandoned.await;
        drop(running);
        let state = queue.lock();
        assert_eq!((state.running, state.total_waiting), (0, 0));
    }
}
