//! Which endpoint of a store the next attempt goes to: what the client knows of each one's
//! health ([`Health`]) and the choice made from it ([`choose`]). Pure: the clock is passed
//! in, so the rules are tested here without a network.
//!
//! An endpoint is failing from the first attempt that cannot reach it (connection refused,
//! no route, connect timeout: `errors::unreachable`) until it answers anything; it is down once it has failed for `down_after`
//! with no answer. The client keeps the endpoint in use while it answers, leaves a failing
//! one for the next that answers, probes a failing one again after [`revisit`], and while
//! every endpoint is down sends nothing: the request fails at once with
//! [`ErrorKind::Unavailable`](crate::ErrorKind::Unavailable).

use std::time::{Duration, Instant, SystemTime};

/// What the client knows of one endpoint: whether (and since when) it has been failing at
/// the transport level with no answer since.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Health {
    /// The first transport failure since the last answer (monotonic, and wall-clock for
    /// the message).
    pub(crate) failing_since: Option<(Instant, SystemTime)>,
    /// The last request sent to it while failing.
    pub(crate) last_try: Option<Instant>,
}

impl Health {
    /// Any HTTP answer (whatever its status): the endpoint is reachable.
    pub(crate) fn answered(&mut self) {
        *self = Health::default();
    }

    /// A transport failure at `now`.
    pub(crate) fn failed(&mut self, now: Instant, wall: SystemTime) {
        self.failing_since.get_or_insert((now, wall));
        self.last_try = Some(now);
    }

    /// No answer for `down_after` or longer.
    pub(crate) fn down(&self, now: Instant, down_after: Duration) -> bool {
        self.failing_since
            .is_some_and(|(t, _)| now.saturating_duration_since(t) >= down_after)
    }

    /// Answering, or failing but left alone for `revisit`: worth a request.
    fn rested(&self, now: Instant, revisit: Duration) -> bool {
        self.failing_since.is_none()
            || self
                .last_try
                .is_none_or(|t| now.saturating_duration_since(t) >= revisit)
    }
}

/// Where the next attempt goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Choice {
    /// To endpoint `index`; `probe`: it is failing, this attempt finds out whether it is back.
    Use { index: usize, probe: bool },
    /// Nowhere: every endpoint is down and none is due for a probe.
    AllDown,
}

/// Chooses an endpoint, looking from `start` (the one in use) on: the first that answers;
/// else the first failing one left alone for `revisit` (a probe); else the first that is
/// failing but not yet down (the request's own retries go on there); else none.
pub(crate) fn choose(
    health: &[Health],
    start: usize,
    now: Instant,
    down_after: Duration,
    revisit: Duration,
) -> Choice {
    let n = health.len();
    let order = || {
        (0..n)
            .map(|k| (start + k) % n)
            .filter_map(|i| Some((i, health.get(i)?)))
    };
    if let Some((index, _)) = order().find(|(_, h)| h.failing_since.is_none()) {
        return Choice::Use {
            index,
            probe: false,
        };
    }
    if let Some((index, _)) = order().find(|(_, h)| h.rested(now, revisit)) {
        return Choice::Use { index, probe: true };
    }
    match order().find(|(_, h)| !h.down(now, down_after)) {
        Some((index, _)) => Choice::Use {
            index,
            probe: false,
        },
        None => Choice::AllDown,
    }
}

/// How long a failing endpoint is left alone before a request tries it again.
pub(crate) fn revisit(down_after: Duration) -> Duration {
    down_after.clamp(Duration::from_millis(100), Duration::from_secs(10))
}

/// The longest wait before retrying after a transport failure: a quarter of the bound (at
/// least 10 ms), so that a request meets [`ErrorKind::Unavailable`] soon after the bound.
pub(crate) fn transport_pause(down_after: Duration) -> Duration {
    (down_after / 4).max(Duration::from_millis(10))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AFTER: Duration = Duration::from_secs(3);
    const REVISIT: Duration = Duration::from_secs(1);

    fn failing(since: Instant, last_try: Instant) -> Health {
        Health {
            failing_since: Some((since, SystemTime::now())),
            last_try: Some(last_try),
        }
    }

    #[test]
    fn health_goes_down_after_the_bound_and_up_on_any_answer() {
        let t0 = Instant::now();
        let mut h = Health::default();
        assert!(!h.down(t0, AFTER));
        h.failed(t0, SystemTime::now());
        h.failed(t0 + Duration::from_secs(2), SystemTime::now());
        assert!(!h.down(t0 + Duration::from_secs(2), AFTER), "2 s < 3 s");
        assert!(h.down(t0 + AFTER, AFTER), "failing since the first failure");
        h.answered();
        assert_eq!(h, Health::default());
        assert!(!h.down(t0 + Duration::from_secs(60), AFTER));
    }

    #[test]
    fn the_endpoint_in_use_stays_while_it_answers() {
        let now = Instant::now();
        let ok = Health::default();
        let use_ = |index| Choice::Use {
            index,
            probe: false,
        };
        assert_eq!(choose(&[ok, ok, ok], 1, now, AFTER, REVISIT), use_(1));
        assert_eq!(choose(&[ok], 0, now, AFTER, REVISIT), use_(0));
    }

    #[test]
    fn a_failing_endpoint_is_left_for_the_next_that_answers() {
        let now = Instant::now();
        let ok = Health::default();
        let bad = failing(now, now);
        let use_ = |index| Choice::Use {
            index,
            probe: false,
        };
        assert_eq!(choose(&[bad, ok, ok], 0, now, AFTER, REVISIT), use_(1));
        assert_eq!(
            choose(&[ok, bad, bad], 1, now, AFTER, REVISIT),
            use_(0),
            "wraps"
        );
    }

    #[test]
    fn a_failing_endpoint_alone_is_retried_until_it_is_down() {
        let t0 = Instant::now();
        let just_tried = |at| failing(t0, at);
        let at = t0 + Duration::from_millis(500);
        assert_eq!(
            choose(&[just_tried(at)], 0, at, AFTER, REVISIT),
            Choice::Use {
                index: 0,
                probe: false
            },
            "not down yet: the request's own retries go on"
        );
        let later = t0 + AFTER;
        assert_eq!(
            choose(&[just_tried(later)], 0, later, AFTER, REVISIT),
            Choice::AllDown
        );
    }

    #[test]
    fn a_down_endpoint_gets_one_probe_per_revisit() {
        let t0 = Instant::now();
        let now = t0 + Duration::from_secs(10);
        let rested = failing(t0, now - REVISIT);
        assert_eq!(
            choose(&[rested], 0, now, AFTER, REVISIT),
            Choice::Use {
                index: 0,
                probe: true
            }
        );
        let probed = failing(t0, now);
        assert_eq!(
            choose(&[probed, probed], 0, now, AFTER, REVISIT),
            Choice::AllDown
        );
        assert_eq!(
            choose(&[probed, rested], 0, now, AFTER, REVISIT),
            Choice::Use {
                index: 1,
                probe: true
            },
            "a revived node is found again"
        );
    }

    #[test]
    fn transport_pauses_are_a_quarter_of_the_bound() {
        assert_eq!(
            transport_pause(Duration::from_secs(3)),
            Duration::from_millis(750)
        );
        assert_eq!(transport_pause(Duration::ZERO), Duration::from_millis(10));
    }

    #[test]
    fn revisit_is_bounded() {
        assert_eq!(revisit(Duration::ZERO), Duration::from_millis(100));
        assert_eq!(revisit(Duration::from_secs(3)), Duration::from_secs(3));
        assert_eq!(revisit(Duration::from_secs(300)), Duration::from_secs(10));
    }
}
