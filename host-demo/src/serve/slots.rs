//! Bounded concurrency: at most N tool calls run at once across all connections; the rest
//! wait in arrival order, each at most the queue timeout, then fail with `timeout`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Semaphore;

use crate::mcp::{BoxFuture, CallOutcome, ToolBackend, ToolSpec};

/// A [`ToolBackend`] that runs at most `slots` calls of `inner` at once.
pub struct Slots {
    inner: Arc<dyn ToolBackend>,
    permits: Semaphore,
    slots: usize,
    queue_timeout: Duration,
}

impl Slots {
    pub fn new(inner: Arc<dyn ToolBackend>, slots: usize, queue_timeout: Duration) -> Slots {
        Slots {
            inner,
            permits: Semaphore::new(slots),
            slots,
            queue_timeout,
        }
    }

    /// Calls running now.
    pub fn running(&self) -> usize {
        self.slots - self.permits.available_permits()
    }
}

impl ToolBackend for Slots {
    fn tools(&self) -> &[ToolSpec] {
        self.inner.tools()
    }

    fn call_tool<'a>(
        &'a self,
        name: &'a str,
        args: &'a Value,
    ) -> BoxFuture<'a, Result<CallOutcome, String>> {
        Box::pin(async move {
            // tokio's semaphore is fair: waiting calls get their slot in arrival order.
            let permit = tokio::time::timeout(self.queue_timeout, self.permits.acquire()).await;
            let Ok(Ok(_permit)) = permit else {
                return Ok(CallOutcome::tool_error(
                    "timeout",
                    format!(
                        "the server is busy: all {} call slots stayed taken for {} s; try again shortly",
                        self.slots,
                        self.queue_timeout.as_secs_f64()
                    ),
                ));
            };
            self.inner.call_tool(name, args).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Slow {
        running: AtomicUsize,
        most: AtomicUsize,
        delay: Duration,
    }

    impl ToolBackend for Slow {
        fn tools(&self) -> &[ToolSpec] {
            &[]
        }
        fn call_tool<'a>(
            &'a self,
            _: &'a str,
            _: &'a Value,
        ) -> BoxFuture<'a, Result<CallOutcome, String>> {
            Box::pin(async move {
                let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
                self.most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(self.delay).await;
                self.running.fetch_sub(1, Ordering::SeqCst);
                Ok(CallOutcome::Success(json!({})))
            })
        }
    }

    fn slow(delay_ms: u64) -> Arc<Slow> {
        Arc::new(Slow {
            running: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
            delay: Duration::from_millis(delay_ms),
        })
    }

    #[tokio::test]
    async fn at_most_n_calls_run_and_the_rest_wait() {
        let inner = slow(100);
        let slots = Arc::new(Slots::new(inner.clone(), 3, Duration::from_secs(10)));
        let started = std::time::Instant::now();
        let calls: Vec<_> = (0..7)
            .map(|_| {
                let slots = slots.clone();
                tokio::spawn(async move { slots.call_tool("t", &json!({})).await })
            })
            .collect();
        for call in calls {
            assert!(!call.await.unwrap().unwrap().is_error());
        }
        assert_eq!(inner.most.load(Ordering::SeqCst), 3);
        // Three waves of 100 ms.
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(3),
            "{took:?}"
        );
        assert_eq!(slots.running(), 0);
    }

    #[tokio::test]
    async fn a_call_that_waits_too_long_fails_with_timeout() {
        let slots = Arc::new(Slots::new(slow(1_500), 1, Duration::from_millis(300)));
        let first = {
            let slots = slots.clone();
            tokio::spawn(async move { slots.call_tool("t", &json!({})).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = slots.call_tool("t", &json!({})).await.unwrap();
        match second {
            CallOutcome::ToolError { kind, message } => {
                assert_eq!(kind, "timeout");
                assert!(
                    message.contains("busy") && message.contains("all 1 call slots"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(!first.await.unwrap().unwrap().is_error());
    }
}
