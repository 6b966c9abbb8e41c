//! What `status`, `ctl list` and the metrics show of each forward.

use serde::Serialize;

use super::{ForwardSet, kind};
use crate::forward::stats::StatsSnapshot;

/// What `status` shows of one forward.
#[derive(Debug, Clone, Serialize)]
pub struct ForwardStatus {
    pub spec: String,
    pub kind: &'static str,
    pub listen: Vec<String>,
    /// `up`, `pending` (being retried) or `failed`.
    pub state: &'static str,
    /// Why it is not up (null while up).
    pub error: Option<String>,
    #[serde(flatten)]
    pub stats: StatsSnapshot,
}

impl ForwardSet {
    /// How many forwards there are, and how many of them are not up.
    pub fn counts(&self) -> (usize, usize) {
        let active = self.lock();
        (active.len(), active.iter().filter(|a| !a.is_up()).count())
    }

    /// What `status` and `ctl list` show.
    pub fn status(&self) -> Vec<ForwardStatus> {
        self.lock()
            .iter()
            .map(|a| {
                let state = a.state();
                ForwardStatus {
                    spec: a.spec.to_string(),
                    kind: kind(&a.spec),
                    listen: a.listen.clone(),
                    state,
                    error: (state != "up").then(|| a.error.clone()).flatten(),
                    stats: a.stats.snapshot(),
                }
            })
            .collect()
    }
}
