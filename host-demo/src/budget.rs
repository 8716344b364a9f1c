//! Memory limits of a call's store: its own cap, and optionally a share of a budget that all
//! calls in flight draw from together (`host-demo serve`), so that many concurrent calls
//! cannot together take more than the operator allowed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasmtime::{ResourceLimiter, StoreLimits};

/// What the error of a call that would exceed the shared budget says (matched by the
/// runtime to explain the failure).
pub const BUDGET_EXHAUSTED: &str = "the server's memory budget for calls in flight is used up";

/// Linear memory shared by all calls in flight.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: usize,
    used: AtomicUsize,
    peak: AtomicUsize,
}

impl MemoryBudget {
    pub fn new(limit_bytes: usize) -> MemoryBudget {
        MemoryBudget {
            limit: limit_bytes,
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// Takes `bytes` from the budget, or nothing when they do not fit.
    fn try_reserve(&self, bytes: usize) -> bool {
        let reserved = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.limit)
            });
        match reserved {
            Ok(before) => {
                self.peak.fetch_max(before + bytes, Ordering::AcqRel);
                true
            }
            Err(_) => false,
        }
    }

    fn release(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// The budget, in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes held by calls in flight now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    /// The most bytes held at once so far.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Acquire)
    }
}

/// The limiter of one call's store: the per-call [`StoreLimits`], then the shared budget.
/// What the call took from the budget goes back when the store is dropped.
pub struct CallLimits {
    own: StoreLimits,
    budget: Option<Arc<MemoryBudget>>,
    held: usize,
}

impl CallLimits {
    pub fn new(own: StoreLimits, budget: Option<Arc<MemoryBudget>>) -> CallLimits {
        CallLimits {
            own,
            budget,
            held: 0,
        }
    }
}

impl ResourceLimiter for CallLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if !self.own.memory_growing(current, desired, maximum)? {
            return Ok(false);
        }
        if let Some(budget) = &self.budget {
            let extra = desired.saturating_sub(current);
            if !budget.try_reserve(extra) {
                return Err(wasmtime::format_err!("{BUDGET_EXHAUSTED}"));
            }
            self.held += extra;
        }
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.own.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.own.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.own.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.own.instances()
    }

    fn tables(&self) -> usize {
        self.own.tables()
    }

    fn memories(&self) -> usize {
        self.own.memories()
    }
}

impl Drop for CallLimits {
    fn drop(&mut self) {
        if let Some(budget) = &self.budget {
            budget.release(self.held);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::StoreLimitsBuilder;

    fn limits(own: usize, budget: &Arc<MemoryBudget>) -> CallLimits {
        CallLimits::new(
            StoreLimitsBuilder::new()
                .memory_size(own)
                .trap_on_grow_failure(true)
                .build(),
            Some(budget.clone()),
        )
    }

    #[test]
    fn calls_share_the_budget_and_give_it_back() {
        let budget = Arc::new(MemoryBudget::new(100));
        let mut a = limits(80, &budget);
        let mut b = limits(80, &budget);
        assert!(a.memory_growing(0, 60, None).unwrap());
        assert_eq!(budget.used(), 60);
        // b alone would fit its own cap, but not the shared budget.
        let refused = b.memory_growing(0, 50, None).unwrap_err();
        assert!(refused.to_string().contains(BUDGET_EXHAUSTED), "{refused}");
        assert!(b.memory_growing(0, 40, None).unwrap());
        assert_eq!(budget.used(), 100);
        // Its own cap still applies first.
        assert!(a.memory_growing(60, 90, None).is_err());
        drop(a);
        assert_eq!(budget.used(), 40);
        assert!(b.memory_growing(40, 80, None).unwrap());
        drop(b);
        assert_eq!(
            (budget.used(), budget.peak(), budget.limit()),
            (0, 100, 100)
        );
    }

    #[test]
    fn without_a_budget_only_the_own_cap_applies() {
        let mut own = CallLimits::new(StoreLimitsBuilder::new().memory_size(10).build(), None);
        assert!(own.memory_growing(0, 10, None).unwrap());
        assert!(!own.memory_growing(10, 11, None).unwrap());
    }
}
