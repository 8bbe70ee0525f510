//! COSI `cosi.resource.State` over the resource store: Get and List here, Watch in
//! [`cosi_watch`](super::cosi_watch).
//!
//! Types may be named by their full name or any alias (`svc`); an empty namespace means the
//! type's default namespace. Types marked sensitive need a caller allowed to read secrets.

use std::pin::Pin;

use basalt_api::cosi::resource as pb;
use basalt_api::cosi::resource::state_server::State;
use basalt_resources::{ResourceDefinition, StoreError, DEFINITION_TYPE};
use futures::Stream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::cosi_convert::{matches_labels, resource_to_proto};
use super::handle::{ApiHandle, Caller};
use super::status::IntoStatus;

/// A boxed response stream.
pub type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// The COSI state service.
#[derive(Clone, Debug)]
pub struct CosiState {
    pub(super) handle: ApiHandle,
    pub(super) shutdown: CancellationToken,
}

impl CosiState {
    /// A state service serving `handle`'s store; open watches end when `shutdown` fires.
    pub fn new(handle: ApiHandle, shutdown: CancellationToken) -> Self {
        CosiState { handle, shutdown }
    }

    /// The namespace and definition a request names, checked against the caller's rights.
    pub(super) fn resolve(
        &self,
        caller: &Caller,
        namespace: &str,
        type_: &str,
    ) -> Result<(String, ResourceDefinition), Status> {
        let store = &self.handle.store;
        let Some(def) = store.resolve(type_) else {
            let known: Vec<String> = store.definitions().into_iter().map(|d| d.type_).collect();
            return Err(Status::not_found(format!(
                "unknown resource type {type_:?}; known types: {} (list them with `get rd`)",
                known.join(", ")
            )));
        };
        if def.sensitive && !caller.may_read_sensitive() {
            return Err(Status::permission_denied(format!(
                "resources of type {} are sensitive and need the os:admin role",
                def.type_
            )));
        }
        let namespace = if namespace.is_empty() {
            def.default_namespace.clone()
        } else {
            namespace.to_string()
        };
        Ok((namespace, def))
    }
}

/// Refuses an id query: ids are not filtered by regular expressions yet.
pub(super) fn refuse_id_query(query: Option<&pb::IdQuery>) -> Result<(), Status> {
    match query {
        Some(q) if !q.regexp.is_empty() => Err(Status::unimplemented(format!(
            "id_query {:?} is not supported yet; list without it and filter ids on the client",
            q.regexp
        ))),
        _ => Ok(()),
    }
}

#[tonic::async_trait]
impl State for CosiState {
    async fn get(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::GetResponse>, Status> {
        let caller = Caller::of(&request);
        let req = request.into_inner();
        let (namespace, def) = self.resolve(&caller, &req.namespace, &req.r#type)?;
        let store = &self.handle.store;
        let found = match store.get(&namespace, &def.type_, &req.id) {
            // A definition may also be asked for by any of its type's names.
            Err(StoreError::NotFound { .. }) if def.type_ == DEFINITION_TYPE => {
                match store.resolve(&req.id) {
                    Some(target) => store.get(&namespace, DEFINITION_TYPE, &target.type_),
                    None => store.get(&namespace, DEFINITION_TYPE, &req.id),
                }
            }
            other => other,
        };
        let resource = found.map_err(IntoStatus::into_status)?;
        Ok(Response::new(pb::GetResponse {
            resource: Some(resource_to_proto(&resource)),
        }))
    }

    type ListStream = BoxStream<pb::ListResponse>;

    async fn list(
        &self,
        request: Request<pb::ListRequest>,
    ) -> Result<Response<Self::ListStream>, Status> {
        let caller = Caller::of(&request);
        let req = request.into_inner();
        let (namespace, def) = self.resolve(&caller, &req.namespace, &req.r#type)?;
        let options = req.options.unwrap_or_default();
        refuse_id_query(options.id_query.as_ref())?;
        let items: Vec<Result<pb::ListResponse, Status>> = self
            .handle
            .store
            .list(&namespace, &def.type_)
            .iter()
            .filter(|r| matches_labels(r, &options.label_query))
            .map(|r| {
                Ok(pb::ListResponse {
                    resource: Some(resource_to_proto(r)),
                })
            })
            .collect();
        Ok(Response::new(Box::pin(futures::stream::iter(items))))
    }

    type WatchStream = BoxStream<pb::WatchResponse>;

    async fn watch(
        &self,
        request: Request<pb::WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let caller = Caller::of(&request);
        super::cosi_watch::start(self, &caller, request.into_inner())
    }
}
