//! The registration endpoint: a county or grassroots office registers one graduate it found
//! itself (walk-in or visit, LD/T 6009-2024 §4.2). The handler only translates JSON to the
//! `registration` service and its answers and refusals back.

use super::auth::Authenticated;
use super::error::ApiError;
use super::routes::RouteBook;
use super::AppState;
use crate::ingest::Channel;
use crate::registration::{self, Registered, RegistrationError, RegistrationOutcome};
use actix_web::{web, HttpResponse};
use serde::Deserialize;

pub fn routes(book: &mut RouteBook) {
    book.add::<__path_register, _, _>(register);
}

/// One registration as an office's system or page sends it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationBody {
    /// `walk_in` (办理登记、报到、档案托管时获取) or `visit` (入户走访摸排).
    pub channel: String,
    /// The graduate's values keyed by the transfer-file column keys (`name`, `sex`,
    /// `id_number`, `education_level`, `school_code`, `school_name`, `major_name`,
    /// `graduation_date`, `hukou_code` or `hukou_address`, …; docs/data-format.md), each a
    /// string or a number; a null or empty value is an empty cell. Any other key is refused.
    #[schema(value_type = Object)]
    pub record: serde_json::Map<String, serde_json::Value>,
}

/// Registers a graduate found through other channels at the caller's own office (county or
/// grassroots), judged by exactly the transfer file's rules. A new person becomes a record held
/// and settled at the office; a person the office's jurisdiction already holds gets a new
/// version (history kept); a person waiting above the office in no package is taken by it. The
/// same registration sent again stores nothing and answers its record (`outcome: duplicate`).
#[utoipa::path(post, path = "/api/v1/registrations", request_body = RegistrationBody,
    responses(
        (status = 201, description = "Stored: a new record, a new version, or a record taken from above", body = Registered),
        (status = 200, description = "The same registration was stored before (`outcome: duplicate`); nothing stored again", body = Registered),
        (status = 400, description = "Not JSON, an unknown or repeated field, a value that is neither text nor a number (BODY_INVALID), or a channel other than walk_in / visit (CHANNEL_INVALID)", body = ApiError),
        (status = 403, description = "The role may not register, or the organisation is not a county or grassroots office", body = ApiError),
        (status = 409, description = "REGISTERED_ELSEWHERE: the person is held by another organisation for this year (another jurisdiction, or in a package awaiting 签收); nothing about it is told", body = ApiError),
        (status = 422, description = "REGISTRATION_INVALID: the values fail the transfer-file rules; `problems` lists every one with its code; nothing stored", body = ApiError)
    ),
    security(("bearer" = [])))]
async fn register(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<RegistrationBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let body = body.into_inner();
    // Who may register is answered before anything about the values.
    registration::may_register(&caller).map_err(refusal)?;
    let channel = Channel::parse(&body.channel)
        .filter(|c| registration::CHANNELS.contains(c))
        .ok_or_else(|| refusal(RegistrationError::Channel(body.channel.clone())))?;
    let fields = registration::fields_of_json(body.record).map_err(refusal)?;
    let state = state.clone();
    let answer = super::block(move || {
        registration::register(&state.dist, &state.router, &caller, channel, &fields)
    })
    .await?
    .map_err(refusal)?;
    if answer.outcome == RegistrationOutcome::Duplicate {
        Ok(HttpResponse::Ok().json(answer))
    } else {
        Ok(HttpResponse::Created().json(answer))
    }
}

fn refusal(e: RegistrationError) -> ApiError {
    if let RegistrationError::Db(cause) = e {
        return ApiError::internal(cause);
    }
    let (zh, en) = e.messages();
    ApiError::with_problems(e.code(), &zh, &en, e.problems())
}
