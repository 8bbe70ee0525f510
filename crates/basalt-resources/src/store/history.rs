//! The bounded history of events, for watches that resume from a revision.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::error::StoreError;
use crate::watch::Event;

/// The last `capacity` events, with contiguous revisions.
#[derive(Debug)]
pub(crate) struct History {
    events: VecDeque<Arc<Event>>,
    capacity: usize,
}

impl History {
    /// An empty history keeping at most `capacity` (at least 1) events.
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        History {
            events: VecDeque::with_capacity(capacity.min(4096)),
            capacity,
        }
    }

    /// Appends an event; drops the oldest when full.
    pub(crate) fn push(&mut self, event: Arc<Event>) {
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// The events with a revision greater than `since`, oldest first. `current` is the
    /// store's revision; every event after `since` must still be held.
    pub(crate) fn after(
        &self,
        since: u64,
        current: u64,
    ) -> Result<impl Iterator<Item = &Arc<Event>>, StoreError> {
        if since > current {
            return Err(StoreError::RevisionInFuture {
                requested: since,
                current,
            });
        }
        // Revisions are contiguous: the history holds `oldest ..= current`.
        let oldest = current + 1 - self.events.len() as u64;
        if since + 1 < oldest {
            return Err(StoreError::HistoryCompacted {
                requested: since,
                oldest,
            });
        }
        let skip = (since + 1 - oldest) as usize;
        Ok(self.events.iter().skip(skip))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::resource::Resource;
    use crate::watch::EventKind;

    fn event(revision: u64) -> Arc<Event> {
        Arc::new(Event {
            revision,
            kind: EventKind::Created,
            resource: Resource::new("ns", "Things.test", revision.to_string(), 0.into()),
            old: None,
        })
    }

    fn revisions(h: &History, since: u64, current: u64) -> Vec<u64> {
        h.after(since, current)
            .unwrap()
            .map(|e| e.revision)
            .collect()
    }

    #[test]
    fn keeps_the_newest_events() {
        let mut h = History::new(3);
        assert_eq!(revisions(&h, 0, 0), Vec::<u64>::new());
        for r in 1..=5 {
            h.push(event(r));
        }
        assert_eq!(revisions(&h, 2, 5), vec![3, 4, 5]);
        assert_eq!(revisions(&h, 4, 5), vec![5]);
        assert_eq!(revisions(&h, 5, 5), Vec::<u64>::new());
        assert_eq!(
            h.after(1, 5).err(),
            Some(StoreError::HistoryCompacted {
                requested: 1,
                oldest: 3
            })
        );
        assert_eq!(
            h.after(6, 5).err(),
            Some(StoreError::RevisionInFuture {
                requested: 6,
                current: 5
            })
        );
    }
}
