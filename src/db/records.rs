//! Graduate records as stored: the read side (export pages, counts, one person's history).
//! Writes go through `bulk`.

use super::schema::{record_history, records};
use super::words::text_word;
use super::AnyConnection;
use crate::domain::routing::RouteMethod;
use crate::ingest::Channel;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

text_word! {
    /// The `records.channel` column: how the record reached the hub.
    StoredChannel(Channel),
    values: [Channel::Education, Channel::WalkIn, Channel::Visit, Channel::SelfApplied]
}

text_word! {
    /// The `records.route_method` column: how the record was routed.
    StoredRouteMethod(RouteMethod),
    values: RouteMethod::ALL
}

/// A stored record with its route.
#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = records)]
pub struct RecordRow {
    pub id: i64,
    pub person_key: String,
    pub graduation_year: i32,
    pub name: String,
    pub sex: String,
    pub ethnicity: Option<String>,
    pub id_type: String,
    pub id_number: String,
    pub birth_date: Option<NaiveDate>,
    pub political_status: Option<String>,
    pub education_level: String,
    pub school_code: String,
    pub school_name: String,
    pub major_code: Option<String>,
    pub major_name: String,
    pub graduation_date: NaiveDate,
    pub hukou_code: Option<String>,
    pub hukou_address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub hardship: Option<String>,
    pub intention: String,
    pub route_province: Option<String>,
    pub route_prefecture: Option<String>,
    pub route_county: Option<String>,
    #[diesel(deserialize_as = StoredRouteMethod)]
    #[schema(value_type = String)]
    pub route_method: RouteMethod,
    pub route_note: Option<String>,
    pub division_edition: String,
    pub source: String,
    #[diesel(deserialize_as = StoredChannel)]
    #[schema(value_type = String)]
    pub channel: Channel,
    pub batch_id: i64,
    pub source_line: i64,
    pub first_batch_id: i64,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Which records a listing or export covers.
#[derive(Clone, Debug, Default)]
pub struct RecordFilter {
    /// A route province code (`370000`).
    pub province: Option<String>,
    pub batch_id: Option<i64>,
}

/// One page in id order after `after_id` (keyset paging: flat cost however deep the page).
pub fn page(
    conn: &mut AnyConnection,
    filter: &RecordFilter,
    after_id: i64,
    limit: i64,
) -> QueryResult<Vec<RecordRow>> {
    let mut query = records::table
        .filter(records::id.gt(after_id))
        .order(records::id.asc())
        .limit(limit)
        .select(RecordRow::as_select())
        .into_boxed();
    if let Some(p) = &filter.province {
        query = query.filter(records::route_province.eq(p.clone()));
    }
    if let Some(b) = filter.batch_id {
        query = query.filter(records::batch_id.eq(b));
    }
    query.load(conn)
}

pub fn count(conn: &mut AnyConnection) -> QueryResult<i64> {
    records::table.count().get_result(conn)
}

/// The current record of a person for a graduation year.
pub fn find_person(
    conn: &mut AnyConnection,
    person_key: &str,
    graduation_year: i32,
) -> QueryResult<Option<RecordRow>> {
    records::table
        .filter(records::person_key.eq(person_key))
        .filter(records::graduation_year.eq(graduation_year))
        .select(RecordRow::as_select())
        .first(conn)
        .optional()
}

/// How many earlier versions of a record are kept.
pub fn history_count(conn: &mut AnyConnection, record_id: i64) -> QueryResult<i64> {
    record_history::table
        .filter(record_history::record_id.eq(record_id))
        .count()
        .get_result(conn)
}
