//! The HTTP listener (`[http] listen`): `/metrics`, `/healthz`, `/readyz` and `/status`.
//!
//! It has no authentication: keep it on a loopback or pod-internal address.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tracing::{debug, info, warn};

use crate::config::ConfigError;
use crate::metrics::Metrics;

/// What the endpoints answer from.
pub struct Endpoints {
    /// The connector's metrics.
    pub metrics: Arc<Metrics>,
    /// The lag beyond which `/readyz` fails.
    pub ready_max_lag: Duration,
}

/// Binds `address` and serves the endpoints until the runtime ends; returns the bound address.
pub async fn start(address: SocketAddr, endpoints: Endpoints) -> Result<SocketAddr, ConfigError> {
    let listener = TcpListener::bind(address)
        .await
        .map_err(|e| ConfigError::Key {
            key: "http.listen".into(),
            message: format!("cannot listen on {address}: {e}"),
        })?;
    let bound = listener.local_addr().unwrap_or(address);
    info!(address = %bound, "serving /metrics, /healthz, /readyz and /status");
    let endpoints = Arc::new(endpoints);
    tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, typically: wait instead of spinning.
                    warn!(error = %e, "the HTTP listener cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let endpoints = endpoints.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let endpoints = endpoints.clone();
                    async move { Ok::<_, Infallible>(answer(&endpoints, &request)) }
                });
                if let Err(e) = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    debug!(error = %e, "HTTP connection ended with an error");
                }
            });
        }
    });
    Ok(bound)
}

/// The response to one request.
fn answer<B>(endpoints: &Endpoints, request: &Request<B>) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET\n".into());
    }
    match request.uri().path() {
        "/metrics" => {
            let mut response = text(StatusCode::OK, endpoints.metrics.render());
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            response
        }
        "/healthz" => text(StatusCode::OK, "ok\n".into()),
        "/readyz" => match endpoints.metrics.readiness(endpoints.ready_max_lag) {
            Ok(()) => text(StatusCode::OK, "ready\n".into()),
            Err(reason) => text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {reason}\n"),
            ),
        },
        "/status" => {
            let body = serde_json::to_string(&endpoints.metrics.status()).unwrap_or_default();
            let mut response = text(StatusCode::OK, body);
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            response
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try /metrics, /healthz, /readyz or /status\n".into(),
        ),
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}
