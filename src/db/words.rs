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

        $crate::db::words::text_sql!(
            $name,
            stringify!($name),
            |value: &$name| value.as_str(),
            $name::parse,
            $name::words()
        );
    };
}

/// The diesel `Text` mapping of `$ty` on SQLite, PostgreSQL and `AnyConnection`: written as
/// `$as_str`, read back through `$parse` (an unknown word is [`UnknownWord`] naming `$kind` and
/// the `$words` accepted).
macro_rules! text_sql {
    ($ty:ty, $kind:expr, $as_str:expr, $parse:expr, $words:expr) => {
        $crate::db::words::text_sql!(@from $ty, $kind, $parse, $words, diesel::sqlite::Sqlite);
        $crate::db::words::text_sql!(@from $ty, $kind, $parse, $words, diesel::pg::Pg);
        $crate::db::words::text_sql!(@to $ty, $as_str, diesel::sqlite::Sqlite);
        $crate::db::words::text_sql!(@to $ty, $as_str, diesel::pg::Pg);

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $crate::db::MultiBackend>
            for $ty
        {
            fn from_sql(
                bytes: <$crate::db::MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                bytes.from_sql::<$ty, diesel::sql_types::Text>()
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                out.set_value((diesel::sql_types::Text, self));
                Ok(diesel::serialize::IsNull::No)
            }
        }
    };
    (@from $ty:ty, $kind:expr, $parse:expr, $words:expr, $backend:ty) => {
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $backend> for $ty {
            fn from_sql(
                bytes: <$backend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let text = $crate::db::words::read_text::<$backend>(bytes)?;
                $crate::db::words::parse_stored(&text, $kind, $parse, &$words)
            }
        }
    };
    (@to $ty:ty, $as_str:expr, $backend:ty) => {
        impl diesel::serialize::ToSql<diesel::sql_types::Text, $backend> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $backend>,
            ) -> diesel::serialize::Result {
                $crate::db::words::write_text::<$backend>(($as_str)(self), out)
            }
        }
    };
}

/// A text column's value as a backend stores it.
pub fn read_text<DB>(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<String>
where
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
{
    <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)
}

/// Writes a word to a text column the way the backend writes any `&str`.
pub fn write_text<'b, DB>(
    word: &'b str,
    out: &mut diesel::serialize::Output<'b, '_, DB>,
) -> diesel::serialize::Result
where
    DB: diesel::backend::Backend,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    diesel::serialize::ToSql::<diesel::sql_types::Text, DB>::to_sql(word, out)
}

/// Stores an enum declared outside storage (the ingest channel, the routing method: types that
/// know nothing of diesel) as text, through a wrapper a row field names with
/// `#[diesel(deserialize_as = Wrapper)]`; the row then holds the enum itself.
macro_rules! text_word {
    (
        $(#[$meta:meta])*
        $wrapper:ident($inner:ty), values: $values:expr
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $wrapper(pub $inner);

        impl From<$wrapper> for $inner {
            fn from(stored: $wrapper) -> $inner {
                stored.0
            }
        }

        $crate::db::words::text_sql!(
            $wrapper,
            stringify!($inner),
            |value: &$wrapper| value.0.as_str(),
            |word: &str| $values.into_iter().find(|v| v.as_str() == word).map($wrapper),
            $values.map(|v| v.as_str())
        );
    };
}

pub(crate) use {text_enum, text_sql, text_word};

#[cfg(test)]
mod tests {
    use crate::db::packages::{HopKind, HopOutcome, PackageState, PlacementState};
    use crate::domain::routing::RouteMethod;
    use crate::ingest::Channel;

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
        for channel in [
            Channel::Education,
            Channel::WalkIn,
            Channel::Visit,
            Channel::SelfApplied,
        ] {
            assert_eq!(
                serde_json::to_value(channel).expect("json"),
                serde_json::json!(channel.as_str()),
                "a record's channel reads in JSON as it is stored"
            );
        }
        for method in RouteMethod::ALL {
            assert_eq!(
                serde_json::to_value(method).expect("json"),
                serde_json::json!(method.as_str())
            );
        }
        assert_eq!(
            PlacementState::words(),
            ["unassigned", "queued", "pending", "settled"]
        );
    }
}
