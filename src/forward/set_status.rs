//! What `status`, `ctl list` and the metrics show of each forward.

use serde::Serialize;

use super::{ForwardSet, kind};
use crate::forward::stats::StatsSnapshot;
use crate::spec::ForwardSpec;

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
    /// A dynamic listener's login (`auth`: the credentials file or null),
    /// destination rules (`permit`) and `open`; absent for other forwards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<serde_json::Value>,
    #[serde(flatten)]
    pub stats: StatsSnapshot,
}

/// -D, or -R without a target (reverse dynamic).
fn is_dynamic(spec: &ForwardSpec) -> bool {
    matches!(
        spec,
        ForwardSpec::Dynamic { .. } | ForwardSpec::Remote { target: None, .. }
    )
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
                    proxy: is_dynamic(&a.spec).then(|| self.inner.options.proxy.describe()),
                    stats: a.stats.snapshot(),
                }
            })
            .collect()
    }
}
