//! The store's state behind its lock: resources, definitions, revision, history and the
//! live event channel. Every mutation appends exactly one event, under the lock.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::broadcast;

use super::history::History;
use crate::definition::{ResourceDefinition, DEFINITION_OWNER};
use crate::error::StoreError;
use crate::resource::{Phase, Resource};
use crate::watch::{Event, EventKind, WatchFilter, WatchOptions, Watcher};

/// `(namespace, type, id)`.
type Key = (String, String, String);

/// Everything the store guards with one lock.
#[derive(Debug)]
pub(crate) struct State {
    resources: BTreeMap<Key, Resource>,
    definitions: BTreeMap<String, ResourceDefinition>,
    revision: u64,
    history: History,
    live: broadcast::Sender<Arc<Event>>,
}

fn key(ns: &str, type_: &str, id: &str) -> Key {
    (ns.to_string(), type_.to_string(), id.to_string())
}

fn not_found(ns: &str, type_: &str, id: &str) -> StoreError {
    StoreError::NotFound {
        ns: ns.to_string(),
        type_: type_.to_string(),
        id: id.to_string(),
    }
}

fn check_owner(current: &Resource, writer: &str) -> Result<(), StoreError> {
    if current.metadata.owner == writer {
        Ok(())
    } else {
        Err(StoreError::OwnerConflict {
            owner: current.metadata.owner.clone(),
            writer: writer.to_string(),
        })
    }
}

impl State {
    /// An empty state with the definition of definitions registered.
    pub(crate) fn new(history: usize, watch_buffer: usize) -> Self {
        let (live, _) = broadcast::channel(watch_buffer.max(1));
        let mut state = State {
            resources: BTreeMap::new(),
            definitions: BTreeMap::new(),
            revision: 0,
            history: History::new(history),
            live,
        };
        // The meta definition is well-formed and the store is empty: this cannot fail.
        let _ = state.register(ResourceDefinition::meta());
        state
    }

    pub(crate) fn revision(&self) -> u64 {
        self.revision
    }

    pub(crate) fn register(&mut self, def: ResourceDefinition) -> Result<(), StoreError> {
        def.validate()?;
        if let Some(existing) = self.definitions.get(&def.type_) {
            return if *existing == def {
                Ok(())
            } else {
                Err(StoreError::Invalid(format!(
                    "resource type `{}` is already registered with a different definition",
                    def.type_
                )))
            };
        }
        for other in self.definitions.values() {
            if let Some(name) = def.names().into_iter().find(|n| other.matches(n)) {
                return Err(StoreError::Invalid(format!(
                    "name `{name}` of resource type `{}` is already a name of `{}`; \
                     choose another alias",
                    def.type_, other.type_
                )));
            }
        }
        let resource = def.to_resource()?;
        self.definitions.insert(def.type_.clone(), def);
        self.create(DEFINITION_OWNER, resource).map(|_| ())
    }

    pub(crate) fn definitions(&self) -> Vec<ResourceDefinition> {
        self.definitions.values().cloned().collect()
    }

    pub(crate) fn resolve(&self, name: &str) -> Option<ResourceDefinition> {
        self.definitions
            .values()
            .find(|def| def.matches(name))
            .cloned()
    }

    pub(crate) fn get(&self, ns: &str, type_: &str, id: &str) -> Result<Resource, StoreError> {
        self.resources
            .get(&key(ns, type_, id))
            .cloned()
            .ok_or_else(|| not_found(ns, type_, id))
    }

    pub(crate) fn list(&self, ns: &str, type_: &str) -> Vec<Resource> {
        self.matching(&WatchFilter::of(ns, type_))
            .cloned()
            .collect()
    }

    pub(crate) fn create(&mut self, owner: &str, mut r: Resource) -> Result<Resource, StoreError> {
        self.check_writable(&r)?;
        let k = key(&r.metadata.namespace, &r.metadata.type_, &r.metadata.id);
        if self.resources.contains_key(&k) {
            return Err(StoreError::AlreadyExists {
                ns: k.0,
                type_: k.1,
                id: k.2,
            });
        }
        let now = SystemTime::now();
        let m = &mut r.metadata;
        m.version = 1;
        m.phase = Phase::Running;
        m.owner = owner.to_string();
        m.created = now;
        m.updated = now;
        self.resources.insert(k, r.clone());
        self.emit(EventKind::Created, r.clone(), None);
        Ok(r)
    }

    pub(crate) fn update(&mut self, owner: &str, r: Resource) -> Result<Resource, StoreError> {
        let m = &r.metadata;
        let current = self.get_mut(&m.namespace, &m.type_, &m.id)?;
        check_owner(current, owner)?;
        if m.version != current.metadata.version {
            return Err(StoreError::Conflict {
                expected: m.version,
                actual: current.metadata.version,
            });
        }
        let old = current.clone();
        current.spec = r.spec;
        current.metadata.labels = r.metadata.labels;
        Ok(self.changed(old))
    }

    pub(crate) fn apply(&mut self, owner: &str, r: Resource) -> Result<Resource, StoreError> {
        let m = &r.metadata;
        let Ok(current) = self.get_mut(&m.namespace, &m.type_, &m.id) else {
            return self.create(owner, r);
        };
        check_owner(current, owner)?;
        if current.spec == r.spec
            && current.metadata.labels == r.metadata.labels
            && current.metadata.phase == Phase::Running
        {
            return Ok(current.clone());
        }
        let old = current.clone();
        current.spec = r.spec;
        current.metadata.labels = r.metadata.labels;
        current.metadata.phase = Phase::Running;
        Ok(self.changed(old))
    }

    pub(crate) fn teardown(
        &mut self,
        owner: &str,
        ns: &str,
        type_: &str,
        id: &str,
    ) -> Result<Resource, StoreError> {
        let current = self.get_mut(ns, type_, id)?;
        check_owner(current, owner)?;
        if current.metadata.phase == Phase::TearingDown {
            return Ok(current.clone());
        }
        let old = current.clone();
        current.metadata.phase = Phase::TearingDown;
        Ok(self.changed(old))
    }

    pub(crate) fn destroy(
        &mut self,
        owner: &str,
        ns: &str,
        type_: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        check_owner(self.get_mut(ns, type_, id)?, owner)?;
        if let Some(removed) = self.resources.remove(&key(ns, type_, id)) {
            self.emit(EventKind::Destroyed, removed, None);
        }
        Ok(())
    }

    /// A watcher whose replayed or bootstrap events join the live ones with no gap: the
    /// caller holds the lock, so no event can slip between the snapshot and the subscription.
    pub(crate) fn watch(
        &self,
        filter: WatchFilter,
        opts: WatchOptions,
    ) -> Result<Watcher, StoreError> {
        let start = self.revision;
        let mut pending = VecDeque::new();
        if let Some(since) = opts.since_revision {
            pending.extend(
                self.history
                    .after(since, start)?
                    .filter(|e| filter.matches(&e.resource))
                    .map(|e| Event::clone(e)),
            );
        } else if opts.bootstrap {
            pending.extend(self.matching(&filter).map(|r| Event {
                revision: start,
                kind: EventKind::Created,
                resource: r.clone(),
                old: None,
            }));
            let marker = Resource::new(
                filter.namespace.clone(),
                filter.type_.clone(),
                filter.id.clone().unwrap_or_default(),
                serde_json::Value::Null,
            );
            pending.push_back(Event {
                revision: start,
                kind: EventKind::Bootstrapped,
                resource: marker,
                old: None,
            });
        }
        let resumed_from = opts.since_revision.unwrap_or(start);
        Ok(Watcher::new(
            filter,
            pending,
            self.live.subscribe(),
            start,
            resumed_from,
        ))
    }

    /// Resources passing `filter`, sorted by namespace, type and id.
    fn matching<'a>(
        &'a self,
        filter: &'a WatchFilter,
    ) -> Box<dyn Iterator<Item = &'a Resource> + 'a> {
        if filter.namespace.is_empty() || filter.type_.is_empty() {
            return Box::new(self.resources.values().filter(|r| filter.matches(r)));
        }
        let from = key(&filter.namespace, &filter.type_, "");
        Box::new(
            self.resources
                .range(from..)
                .take_while(|(k, _)| k.0 == filter.namespace && k.1 == filter.type_)
                .map(|(_, r)| r)
                .filter(|r| filter.matches(r)),
        )
    }

    fn check_writable(&self, r: &Resource) -> Result<(), StoreError> {
        let m = &r.metadata;
        if !self.definitions.contains_key(&m.type_) {
            return Err(StoreError::UnknownType(m.type_.clone()));
        }
        if m.namespace.is_empty() || m.id.is_empty() {
            return Err(StoreError::Invalid(format!(
                "resource `{}` needs a non-empty namespace and id",
                r.key()
            )));
        }
        Ok(())
    }

    fn get_mut(&mut self, ns: &str, type_: &str, id: &str) -> Result<&mut Resource, StoreError> {
        self.resources
            .get_mut(&key(ns, type_, id))
            .ok_or_else(|| not_found(ns, type_, id))
    }

    /// Bumps the version of the resource `old` was taken from and emits `Updated`.
    fn changed(&mut self, old: Resource) -> Resource {
        let m = &old.metadata;
        let k = key(&m.namespace, &m.type_, &m.id);
        let Some(current) = self.resources.get_mut(&k) else {
            return old;
        };
        current.metadata.version += 1;
        current.metadata.updated = SystemTime::now();
        let new = current.clone();
        self.emit(EventKind::Updated, new.clone(), Some(old));
        new
    }

    fn emit(&mut self, kind: EventKind, resource: Resource, old: Option<Resource>) {
        self.revision += 1;
        let event = Arc::new(Event {
            revision: self.revision,
            kind,
            resource,
            old,
        });
        self.history.push(event.clone());
        // No receiver is not an error: nobody is watching.
        let _ = self.live.send(event);
    }
}
