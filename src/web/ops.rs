//! What an operator's probes and scrapers read: liveness (`/health/live`, no database),
//! readiness (`/health/ready`, and `/health` as before: the database answers and its migrations
//! are current) and the Prometheus figures (`/metrics`). None needs a token: none holds personal
//! data (`docs/operations.md`).

use super::api::Health;
use super::error::ApiError;
use super::routes::RouteBook;
use super::AppState;
use crate::domain::catalogue::ErrorCode;
use actix_web::{web, HttpResponse};
use std::time::Duration;

/// How long readiness waits for a database connection: probes give up after a few seconds, and
/// a wait of the pool's 30 seconds would look like a hung process rather than a missing database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes(book: &mut RouteBook) {
    book.add::<__path_live, _, _>(live)
        .add::<__path_ready, _, _>(ready)
        .add::<__path_metrics, _, _>(metrics);
}

/// The process answers. Touches no database, so a restart is only asked for when the process
/// itself is stuck, not when the database is away.
#[utoipa::path(get, path = "/health/live",
    responses((status = 200, description = "The process answers", body = Object)))]
async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "live"}))
}

/// Ready for traffic: the database answers and every migration of this binary is applied.
/// `503` with the reason (`DATABASE_UNAVAILABLE`, `MIGRATIONS_PENDING`) otherwise.
#[utoipa::path(get, path = "/health/ready", responses(
    (status = 200, description = "Ready", body = Health),
    (status = 503, description = "Not ready; the reason", body = ApiError)))]
async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    super::api::health(state).await
}

/// Checks what readiness means; the error is the `503` answer, its cause is logged.
pub(super) async fn check_ready(state: &AppState) -> Result<(), ApiError> {
    let db = state.db.clone();
    super::block(move || -> Result<(), ApiError> {
        let unavailable = |cause: &dyn std::fmt::Display| {
            tracing::warn!(error = %cause, "not ready: the database does not answer");
            ApiError::new(
                ErrorCode::DatabaseUnavailable,
                "数据库无法访问，服务暂不可用。",
                "The database does not answer; the service is not ready.",
            )
        };
        let mut conn = db.conn_within(READY_TIMEOUT).map_err(|e| unavailable(&e))?;
        diesel::RunQueryDsl::execute(diesel::sql_query("SELECT 1"), &mut conn)
            .map_err(|e| unavailable(&e))?;
        if crate::db::has_pending_migrations(&mut conn).map_err(|e| unavailable(&e))? {
            tracing::warn!("not ready: database migrations are pending");
            return Err(ApiError::new(
                ErrorCode::MigrationsPending,
                "数据库结构不是最新版本，请先运行 gradhub migrate。",
                "The database schema is older than this program; run `gradhub migrate` first.",
            ));
        }
        Ok(())
    })
    .await?
}

/// The hub's figures in the Prometheus text format (`docs/operations.md` lists each).
#[utoipa::path(get, path = "/metrics", responses(
    (status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String)))]
async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    let today = crate::ingest::china_today();
    let calendar = state.dist.calendar_coverage(today);
    let snapshot = super::block(move || -> Result<_, ApiError> {
        let mut conn = db.conn()?;
        Ok(crate::metrics::collect(&mut conn, today, calendar)?)
    })
    .await??;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(snapshot.render()))
}
