//! What a caller is shown of a stored record: the row itself for roles that may see personal
//! numbers, masked through `domain::masking` for the others. The API and the pages to come build
//! every record they show with [`RecordView::for_role`], so no channel shows more than another.

use crate::db::records::RecordRow;
use crate::domain::masking;
use crate::domain::organisation::Role;
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
    /// The record as `role` may see it.
    pub fn for_role(record: RecordRow, role: Role) -> RecordView {
        if role.sees_personal_numbers() {
            RecordView::whole(record)
        } else {
            RecordView::masked(record)
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
        RecordView {
            record,
            birth_year,
            masked: true,
        }
    }
}
