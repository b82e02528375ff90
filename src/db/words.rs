//! Closed vocabularies stored as text on both backends: [`text_enum!`] declares an enum whose
//! variants are written as fixed words, read back through diesel's `FromSql` on SQLite,
//! PostgreSQL and the multi-backend connection, and serialised in JSON as the same words. A word
//! the hub does not know (a row written by hand, a newer version's state) is a typed
//! [`UnknownWord`] deserialisation error at the storage edge, never a silent default.

/// A stored text column held a word outside its vocabulary.
#[derive(Debug, thiserror::Error)]
#[error("stored {kind} {value:?} is not one of {known}")]
pub struct UnknownWord {
    pub kind: &'static str,
    pub value: String,
    pub known: String,
}

/// Reads `text` as a word of vocabulary `kind`, or the typed error naming what was found.
pub fn parse_stored<T>(
    text: &str,
    kind: &'static str,
    parse: fn(&str) -> Option<T>,
    known: &[&str],
) -> diesel::deserialize::Result<T> {
    parse(text).ok_or_else(|| {
        Box::new(UnknownWord {
            kind,
            value: text.chars().take(64).collect(),
            known: known.join(", "),
        }) as Box<dyn std::error::Error + Send + Sync>
    })
}

/// Declares an enum stored as text: `Variant = "word"` for each variant. Gives `as_str`,
/// `parse`, `ALL`, `Display`, serde and OpenAPI under the same words, and diesel `Text` on
/// SQLite, PostgreSQL and `AnyConnection`.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $word:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
            utoipa::ToSchema, diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $word)] $variant, )+
        }

        impl $name {
            /// Every word of the vocabulary, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word stored and shown for this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }

            /// The value a word stands for; `None` for any other text.
            pub fn parse(word: &str) -> Option<$name> {
                match word {
                    $($word => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The words, for messages that list what is accepted.
            pub fn words() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.as_str()).collect()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::sqlite::Sqlite>
            for $name
        {
            fn from_sql(
                bytes: <diesel::sqlite::Sqlite as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::sqlite::Sqlite,
                >>::from_sql(bytes)?;
                $crate::db::words::parse_stored(
                    &text,
                    stringify!($name),
                    $name::parse,
                    &$name::words(),
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(
                bytes: <diesel::pg::Pg as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(bytes)?;
                $crate::db::words::parse_stored(
                    &text,
                    stringify!($name),
                    $name::parse,
                    &$name::words(),
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $crate::db::MultiBackend>
            for $name
        {
            fn from_sql(
                bytes: <$crate::db::MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                bytes.from_sql::<$name, diesel::sql_types::Text>()
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<
                    diesel::sql_types::Text,
                    diesel::sqlite::Sqlite,
                >>::to_sql(self.as_str(), out)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend>
            for $name
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                out.set_value((diesel::sql_types::Text, self));
                Ok(diesel::serialize::IsNull::No)
            }
        }
    };
}

pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    use crate::db::packages::{HopKind, HopOutcome, PackageState, PlacementState};

    /// Every word parses back to its value and is what JSON shows; anything else is refused.
    fn words_round_trip<T>(all: &[T], as_str: fn(T) -> &'static str, parse: fn(&str) -> Option<T>)
    where
        T: Copy + PartialEq + std::fmt::Debug + serde::Serialize,
    {
        for value in all {
            let word = as_str(*value);
            assert_eq!(parse(word), Some(*value));
            assert_eq!(
                serde_json::to_value(value).expect("json"),
                serde_json::json!(word)
            );
        }
        assert_eq!(parse("Delivered"), None, "words are exact");
        assert_eq!(parse(""), None);
    }

    #[test]
    fn every_stored_word_is_its_json_word() {
        words_round_trip(PackageState::ALL, PackageState::as_str, PackageState::parse);
        words_round_trip(
            PlacementState::ALL,
            PlacementState::as_str,
            PlacementState::parse,
        );
        words_round_trip(HopOutcome::ALL, HopOutcome::as_str, HopOutcome::parse);
        words_round_trip(HopKind::ALL, HopKind::as_str, HopKind::parse);
        assert_eq!(
            PlacementState::words(),
            ["unassigned", "queued", "pending", "settled"]
        );
    }
}
