//! What a caller is shown of a stored record: the row itself for roles that may see personal
//! numbers, masked through `domain::masking` for the others. The API and the pages to come build
//! every record they show with [`RecordView::for_caller`], so no channel shows more than another.

use crate::authz::Caller;
use crate::db::records::RecordRow;
use crate::domain::masking;
use serde::Serialize;

/// A record as one caller sees it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RecordView {
    #[serde(flatten)]
    pub record: RecordRow,
    /// The birth year: all of the birth date a masked view shows (`birth_date` is then null).
    pub birth_year: Option<i32>,
    /// True when ID number, phone and birth date are masked for this caller.
    pub masked: bool,
}

impl RecordView {
    /// The record as `caller` may see it.
    pub fn for_caller(record: RecordRow, caller: &Caller) -> RecordView {
        if caller.sees_masked() {
            RecordView::masked(record)
        } else {
            RecordView::whole(record)
        }
    }

    pub fn whole(record: RecordRow) -> RecordView {
        RecordView {
            birth_year: record.birth_date.map(masking::birth_year),
            record,
            masked: false,
        }
    }

    pub fn masked(mut record: RecordRow) -> RecordView {
        let birth_year = record.birth_date.take().map(masking::birth_year);
        record.id_number = masking::id_number(&record.id_number);
        record.person_key = masking::id_number(&record.person_key);
        record.phone = record.phone.as_deref().map(masking::phone);
        record.email = record.email.as_deref().map(masking::email);
        RecordView {
            record,
            birth_year,
            masked: true,
        }
    }
}
