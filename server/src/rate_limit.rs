//! Per-user rate limits: each user, i.e. installation plus `principal`, gets a sustained rate
//! with a burst (`RATE_LIMIT_PER_SECOND`, `RATE_LIMIT_BURST`).
//!
//! Forge limits invocations it proxies, but `requestRemote` calls come straight from the user's
//! browser, and a FIT lifted from its network tab can be replayed in a loop for its 25 s. The
//! limit is per user, so one user's script cannot starve the rest of the site or other sites.
//! Over the limit: 429 JSON with `Retry-After`. State is in memory, per replica: N replicas
//! allow up to N times the rate, which still bounds a script.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use forge_fit::Fit;
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// How often keys idle long enough to be full again are dropped, so the map stays as small as
/// the set of recently active users.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// The limiter shared by all requests of one process. Cheap to clone.
#[derive(Clone)]
pub struct UserRateLimit {
    limiter: Arc<DefaultKeyedRateLimiter<(String, String)>>,
}

impl UserRateLimit {
    /// `per_second` sustained, `burst` at once.
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        let quota = Quota::per_second(per_second).allow_burst(burst);
        Self {
            limiter: Arc::new(RateLimiter::keyed(quota)),
        }
    }

    /// Drops the state of users idle long enough to be back at a full burst. Runs until the
    /// runtime stops.
    pub fn spawn_pruning(&self) {
        let limiter = Arc::downgrade(&self.limiter);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PRUNE_EVERY);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(limiter) = limiter.upgrade() else {
                    return;
                };
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        });
    }

    /// `Err(wait)` when the user is over the limit.
    fn check(&self, installation: &str, principal: &str) -> Result<(), Duration> {
        let key = (installation.to_owned(), principal.to_owned());
        self.limiter.check_key(&key).map_err(|not_until| {
            not_until.wait_time_from(governor::clock::DefaultClock::default().now())
        })
    }
}

/// Counter of requests refused with a 429 by the per-user limit.
pub const REFUSALS: &str = "rate_limit_refusals_total";

/// Middleware, inside the FIT layer: the user comes from the verified token. A token without a
/// principal (a trigger, a backend call) counts against its installation's anonymous user.
pub async fn limit_per_user(
    State(limit): State<UserRateLimit>,
    request: Request,
    next: Next,
) -> Response {
    let Some(Fit(claims)) = request.extensions().get::<Fit>().cloned() else {
        return next.run(request).await;
    };
    let principal = claims.principal.as_deref().unwrap_or("");
    match limit.check(&claims.app.installation_id, principal) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            metrics::counter!(REFUSALS).increment(1);
            tracing::debug!(wait_ms = wait.as_millis() as u64, "rate limit exceeded");
            ApiError::TooManyRequests {
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            }
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(per_second: u32, burst: u32) -> UserRateLimit {
        UserRateLimit::new(
            NonZeroU32::new(per_second).unwrap(),
            NonZeroU32::new(burst).unwrap(),
        )
    }

    #[test]
    fn a_user_gets_the_burst_then_waits_and_others_are_unaffected() {
        let l = limit(1, 3);
        for _ in 0..3 {
            assert!(l.check("site-a", "alice").is_ok());
        }
        let wait = l.check("site-a", "alice").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        // Another user, the same user on another site, and a trigger: their own budgets.
        assert!(l.check("site-a", "bob").is_ok());
        assert!(l.check("site-b", "alice").is_ok());
        assert!(l.check("site-a", "").is_ok());
    }
}
