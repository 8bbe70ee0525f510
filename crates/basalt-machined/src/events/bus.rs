//! [`EventBus`]: bounded history plus live broadcast, with explicit lag errors.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::Stream;
use tokio::sync::broadcast;

use super::MachineEvent;

/// Why an [`EventSubscription`] could not deliver the next event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventBusError {
    /// The subscriber was too slow (or asked to resume from an id older than the kept history)
    /// and `missed` events are gone. The subscription stays usable: the next call continues with
    /// the oldest event still available.
    #[error("event subscriber fell behind: {missed} event(s) after id {last_delivered} were dropped; resubscribe with a recent id or read faster")]
    Lagged {
        /// How many events were skipped.
        missed: u64,
        /// The id of the last event delivered before the gap (0 = none).
        last_delivered: u64,
    },
    /// The bus was dropped (machined is shutting down).
    #[error("the event bus was closed")]
    Closed,
}

/// The machine event bus. Cheap to clone; every clone publishes to the same subscribers.
#[derive(Clone, Debug)]
pub struct EventBus {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<History>,
    tx: broadcast::Sender<(u64, MachineEvent)>,
}

#[derive(Debug)]
struct History {
    next_id: u64,
    capacity: usize,
    events: VecDeque<(u64, MachineEvent)>,
}

impl EventBus {
    /// A bus keeping the last `capacity` events (at least 1) for replay; a live subscriber may
    /// also be up to `capacity` events behind before it gets [`EventBusError::Lagged`].
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        let (tx, _) = broadcast::channel(capacity);
        EventBus {
            inner: Arc::new(Inner {
                state: Mutex::new(History {
                    next_id: 1,
                    capacity,
                    events: VecDeque::with_capacity(capacity.min(1024)),
                }),
                tx,
            }),
        }
    }

    fn history(&self) -> MutexGuard<'_, History> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publishes an event and returns its id (ids start at 1 and grow by one per event).
    pub fn publish(&self, event: MachineEvent) -> u64 {
        let mut history = self.history();
        let id = history.next_id;
        history.next_id += 1;
        if history.events.len() >= history.capacity {
            history.events.pop_front();
        }
        history.events.push_back((id, event.clone()));
        // Sending while holding the lock keeps history and live delivery in one order.
        let _no_subscribers_is_fine = self.inner.tx.send((id, event));
        id
    }

    /// Subscribes to events. With `since = Some(id)`, first replays the kept events after `id`
    /// (a gap, when `id` is older than the kept history, is reported as
    /// [`EventBusError::Lagged`] first); with `None`, delivers only new events.
    pub fn subscribe(&self, since: Option<u64>) -> EventSubscription {
        let history = self.history();
        let rx = self.inner.tx.subscribe();
        let mut sub = EventSubscription {
            backlog: VecDeque::new(),
            rx,
            last: 0,
            gap: None,
        };
        if let Some(since) = since {
            sub.last = since;
            let oldest = history
                .events
                .front()
                .map_or(history.next_id, |(id, _)| *id);
            if oldest > since + 1 {
                sub.gap = Some(oldest - since - 1);
            }
            sub.backlog = history
                .events
                .iter()
                .filter(|(id, _)| *id > since)
                .cloned()
                .collect();
        } else {
            sub.last = history.next_id - 1;
        }
        sub
    }

    /// The most recent `n` kept events, oldest first.
    pub fn recent(&self, n: usize) -> Vec<(u64, MachineEvent)> {
        let history = self.history();
        let skip = history.events.len().saturating_sub(n);
        history.events.iter().skip(skip).cloned().collect()
    }

    /// The id the next published event will get.
    pub fn next_id(&self) -> u64 {
        self.history().next_id
    }
}

/// A subscription created by [`EventBus::subscribe`].
#[derive(Debug)]
pub struct EventSubscription {
    backlog: VecDeque<(u64, MachineEvent)>,
    rx: broadcast::Receiver<(u64, MachineEvent)>,
    last: u64,
    gap: Option<u64>,
}

impl EventSubscription {
    /// The next event with its id, in publish order.
    pub async fn next(&mut self) -> Result<(u64, MachineEvent), EventBusError> {
        if let Some(missed) = self.gap.take() {
            return Err(EventBusError::Lagged {
                missed,
                last_delivered: self.last,
            });
        }
        if let Some((id, event)) = self.backlog.pop_front() {
            self.last = id;
            return Ok((id, event));
        }
        loop {
            match self.rx.recv().await {
                // Events already replayed from history are skipped.
                Ok((id, _)) if id <= self.last => continue,
                Ok((id, event)) => {
                    self.last = id;
                    return Ok((id, event));
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    return Err(EventBusError::Lagged {
                        missed,
                        last_delivered: self.last,
                    })
                }
                Err(broadcast::error::RecvError::Closed) => return Err(EventBusError::Closed),
            }
        }
    }

    /// The subscription as a stream; it ends after [`EventBusError::Closed`].
    pub fn into_stream(
        self,
    ) -> impl Stream<Item = Result<(u64, MachineEvent), EventBusError>> + Send + 'static {
        futures::stream::unfold(Some(self), |sub| async move {
            let mut sub = sub?;
            match sub.next().await {
                Err(EventBusError::Closed) => Some((Err(EventBusError::Closed), None)),
                item => Some((item, Some(sub))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::events::{SequenceAction, ServiceState};

    fn seq(name: &str) -> MachineEvent {
        MachineEvent::Sequence {
            sequence: name.into(),
            action: SequenceAction::Start,
            error: None,
        }
    }

    fn name(e: &MachineEvent) -> String {
        match e {
            MachineEvent::Sequence { sequence, .. } => sequence.clone(),
            other => format!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn replays_history_after_since_then_live() {
        let bus = EventBus::new(10);
        for i in 0..3 {
            bus.publish(seq(&format!("e{i}")));
        }
        let mut sub = bus.subscribe(Some(1));
        bus.publish(seq("live"));
        let mut got = Vec::new();
        for _ in 0..3 {
            let (id, e) = sub.next().await.unwrap();
            got.push((id, name(&e)));
        }
        assert_eq!(
            got,
            vec![(2, "e1".into()), (3, "e2".into()), (4, "live".into())]
        );
    }

    #[tokio::test]
    async fn subscribe_none_sees_only_new_events() {
        let bus = EventBus::new(10);
        bus.publish(seq("old"));
        let mut sub = bus.subscribe(None);
        bus.publish(seq("new"));
        assert_eq!(name(&sub.next().await.unwrap().1), "new");
    }

    #[tokio::test]
    async fn since_older_than_history_reports_gap_then_continues() {
        let bus = EventBus::new(2);
        for i in 0..5 {
            bus.publish(seq(&format!("e{i}")));
        }
        let mut sub = bus.subscribe(Some(0));
        assert_eq!(
            sub.next().await.unwrap_err(),
            EventBusError::Lagged {
                missed: 3,
                last_delivered: 0
            }
        );
        assert_eq!(sub.next().await.unwrap().0, 4);
        assert_eq!(sub.next().await.unwrap().0, 5);
    }

    #[tokio::test]
    async fn lagging_live_subscriber_gets_explicit_error() {
        let bus = EventBus::new(4);
        let mut sub = bus.subscribe(None);
        for i in 0..10 {
            bus.publish(seq(&format!("e{i}")));
        }
        match sub.next().await {
            Err(EventBusError::Lagged { missed, .. }) => assert_eq!(missed, 6),
            other => panic!("expected a lag error, got {other:?}"),
        }
        assert_eq!(sub.next().await.unwrap().0, 7);
    }

    #[test]
    fn recent_returns_last_n_in_order() {
        let bus = EventBus::new(10);
        for i in 0..5 {
            bus.publish(MachineEvent::ServiceState {
                service: format!("s{i}"),
                state: ServiceState::Running,
                message: String::new(),
                health: None,
            });
        }
        let ids: Vec<u64> = bus.recent(2).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, vec![4, 5]);
        assert_eq!(bus.recent(100).len(), 5);
    }
}
