//! Ids of packages and records as distinct types in the distribution service's signatures, so a
//! record id cannot be passed where a package id is meant. Both read and write in JSON as the
//! bare number, as before.

use serde::{Deserialize, Serialize};

/// Declares one id type: a bare number in JSON and in the OpenAPI schema, shown as the number.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = i64)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A package's id (`packages.id`).
    PackageId
);
id_type!(
    /// A record's id (`records.id`).
    RecordId
);

/// The bare numbers of a list of record ids, for storage.
pub fn raw(ids: &[RecordId]) -> Vec<i64> {
    ids.iter().map(|id| id.0).collect()
}

#[cfg(test)]
mod tests {
    use super::{PackageId, RecordId};

    #[test]
    fn ids_read_and_write_as_bare_numbers() {
        assert_eq!(
            serde_json::to_value(PackageId(7)).expect("json"),
            serde_json::json!(7)
        );
        let ids: Vec<RecordId> = serde_json::from_str("[1, 22]").expect("ids");
        assert_eq!(ids, [RecordId(1), RecordId(22)]);
        assert!(
            serde_json::from_str::<RecordId>("\"1\"").is_err(),
            "no text ids"
        );
    }
}
