//! Request bodies: the declared `Content-Length` checked before a byte is read, a pace every body
//! must keep (so a client trickling bytes cannot hold a connection for hours), the small-body
//! extractor of `/acknowledge` and `/packages/cut`, and the JSON errors (408, 413) all of them
//! answer.

use super::error::ApiError;
use crate::domain::catalogue::ErrorCode;
use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PayloadError};
use actix_web::rt::time::{sleep_until, Instant, Sleep};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::{Stream, StreamExt};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Bodies of `/acknowledge` and `/packages/cut` (no body, `{}`, or a few thousand returns).
pub const SMALL_BODY_LIMIT: usize = 256 << 10;
/// JSON bodies of the other endpoints: a return list, a push, an assignment (100,000 ids fit).
pub const JSON_BODY_LIMIT: usize = 2 << 20;

/// How fast a body must arrive: within `grace` plus one second per `min_bytes_per_sec` bytes
/// received so far. An idle client and a trickling one both run out of time; a slow but honest
/// upload of a large file does not.
#[derive(Clone, Copy, Debug)]
pub struct BodyPace {
    pub grace: Duration,
    pub min_bytes_per_sec: u64,
}

/// A request body that ends with a timeout error once it falls behind its [`BodyPace`].
pub struct PacedPayload {
    inner: Payload,
    pace: BodyPace,
    started: Instant,
    received: u64,
    timer: Pin<Box<Sleep>>,
    expired: bool,
}

impl PacedPayload {
    pub fn new(inner: Payload, pace: BodyPace) -> PacedPayload {
        let started = Instant::now();
        PacedPayload {
            inner,
            pace,
            started,
            received: 0,
            timer: Box::pin(sleep_until(started + pace.grace)),
            expired: false,
        }
    }

    fn deadline(&self) -> Instant {
        let rate = self.pace.min_bytes_per_sec.max(1) as f64;
        self.started + self.pace.grace + Duration::from_secs_f64(self.received as f64 / rate)
    }

    fn expire(&mut self) -> Poll<Option<Result<Bytes, PayloadError>>> {
        self.expired = true;
        Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the request body arrived too slowly",
        )))))
    }
}

impl Stream for PacedPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.received += chunk.len() as u64;
                let deadline = this.deadline();
                if Instant::now() > deadline {
                    return this.expire();
                }
                this.timer.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => this.expire(),
                Poll::Pending => Poll::Pending,
            },
            other => other,
        }
    }
}

/// The body length the client declared, if it did.
pub fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

pub fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        ErrorCode::BodyTooLarge,
        &format!("请求体过大（上限 {} KiB），未做任何更改。", limit >> 10),
        &format!(
            "The request body is too large (at most {} KiB); nothing was changed.",
            limit >> 10
        ),
    )
}

pub fn too_slow() -> ApiError {
    ApiError::new(
        ErrorCode::BodyTimeout,
        "请求体发送过慢或中途停止，已停止接收，未做任何更改，请重新发送。",
        "The request body arrived too slowly or stopped; nothing was changed: send it again.",
    )
}

/// Whether a body read failed because the client fell behind its pace.
pub fn timed_out(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// The answer to a JSON body actix could not read (`JsonConfig`'s error handler).
pub fn json_error(e: &JsonPayloadError) -> ApiError {
    match e {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            too_large(JSON_BODY_LIMIT)
        }
        JsonPayloadError::Payload(p) if timed_out(p) => too_slow(),
        other => ApiError::new(
            ErrorCode::BodyInvalid,
            &format!("请求体无效：{other}"),
            &format!("The request body is not valid: {other}"),
        ),
    }
}

/// A body of at most [`SMALL_BODY_LIMIT`] bytes, refused `413` as soon as its declared length or
/// the bytes received pass the limit.
pub struct SmallBody(pub Bytes);

impl FromRequest for SmallBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let declared = declared_length(req);
        let mut payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|n| n > SMALL_BODY_LIMIT as u64) {
                return Err(too_large(SMALL_BODY_LIMIT));
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    if timed_out(&e) {
                        too_slow()
                    } else {
                        ApiError::new(
                            ErrorCode::BodyInvalid,
                            &format!("请求体未完整接收，未做任何更改：{e}"),
                            &format!("The request body was cut off; nothing was changed: {e}"),
                        )
                    }
                })?;
                if body.len() + chunk.len() > SMALL_BODY_LIMIT {
                    return Err(too_large(SMALL_BODY_LIMIT));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(SmallBody(body.freeze()))
        })
    }
}
