//! The one portable diesel schema, shared by SQLite and PostgreSQL (see `migrations/`).

// Kept in step by hand with both migration folders: a column added there is added here.

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    divisions (code) {
        code -> Text,
        name -> Text,
        level -> Text,
        parent -> Nullable<Text>,
    }
}

diesel::table! {
    division_successors (old_code) {
        old_code -> Text,
        old_name -> Text,
        old_level -> Text,
        old_parent -> Nullable<Text>,
        new_code -> Text,
        effective -> Date,
        note -> Text,
    }
}

diesel::table! {
    batches (id) {
        id -> BigInt,
        source -> Text,
        channel -> Text,
        file_name -> Text,
        sha256 -> Text,
        format -> Text,
        encoding -> Text,
        rows_read -> BigInt,
        accepted -> BigInt,
        updated -> BigInt,
        rejected -> BigInt,
        warnings -> BigInt,
        quarantined -> BigInt,
        routed -> Text,
        unknown_columns -> Text,
        division_edition -> Text,
        started_at -> Timestamp,
        finished_at -> Timestamp,
    }
}

diesel::table! {
    records (id) {
        id -> BigInt,
        person_key -> Text,
        graduation_year -> Integer,
        name -> Text,
        sex -> Text,
        ethnicity -> Nullable<Text>,
        id_type -> Text,
        id_number -> Text,
        birth_date -> Nullable<Date>,
        political_status -> Nullable<Text>,
        education_level -> Text,
        school_code -> Text,
        school_name -> Text,
        major_code -> Nullable<Text>,
        major_name -> Text,
        graduation_date -> Date,
        hukou_code -> Nullable<Text>,
        hukou_address -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        hardship -> Nullable<Text>,
        intention -> Text,
        route_province -> Nullable<Text>,
        route_prefecture -> Nullable<Text>,
        route_county -> Nullable<Text>,
        route_method -> Text,
        route_note -> Nullable<Text>,
        division_edition -> Text,
        source -> Text,
        channel -> Text,
        batch_id -> BigInt,
        source_line -> BigInt,
        first_batch_id -> BigInt,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    record_history (id) {
        id -> BigInt,
        record_id -> BigInt,
        replaced_by_batch -> BigInt,
        replaced_at -> Timestamp,
        version -> Integer,
        person_key -> Text,
        graduation_year -> Integer,
        name -> Text,
        sex -> Text,
        ethnicity -> Nullable<Text>,
        id_type -> Text,
        id_number -> Text,
        birth_date -> Nullable<Date>,
        political_status -> Nullable<Text>,
        education_level -> Text,
        school_code -> Text,
        school_name -> Text,
        major_code -> Nullable<Text>,
        major_name -> Text,
        graduation_date -> Date,
        hukou_code -> Nullable<Text>,
        hukou_address -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        hardship -> Nullable<Text>,
        intention -> Text,
        route_province -> Nullable<Text>,
        route_prefecture -> Nullable<Text>,
        route_county -> Nullable<Text>,
        route_method -> Text,
        route_note -> Nullable<Text>,
        division_edition -> Text,
        source -> Text,
        channel -> Text,
        batch_id -> BigInt,
        source_line -> BigInt,
    }
}

diesel::table! {
    batch_problems (id) {
        id -> BigInt,
        batch_id -> BigInt,
        line -> BigInt,
        column_key -> Text,
        value -> Text,
        code -> Text,
        message -> Text,
        message_en -> Text,
        severity -> Text,
    }
}

diesel::table! {
    staging_records (person_key, graduation_year) {
        person_key -> Text,
        graduation_year -> Integer,
        name -> Text,
        sex -> Text,
        ethnicity -> Nullable<Text>,
        id_type -> Text,
        id_number -> Text,
        birth_date -> Nullable<Date>,
        political_status -> Nullable<Text>,
        education_level -> Text,
        school_code -> Text,
        school_name -> Text,
        major_code -> Nullable<Text>,
        major_name -> Text,
        graduation_date -> Date,
        hukou_code -> Nullable<Text>,
        hukou_address -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        hardship -> Nullable<Text>,
        intention -> Text,
        route_province -> Nullable<Text>,
        route_prefecture -> Nullable<Text>,
        route_county -> Nullable<Text>,
        route_method -> Text,
        route_note -> Nullable<Text>,
        division_edition -> Text,
        source -> Text,
        channel -> Text,
        batch_id -> BigInt,
        source_line -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    batches,
    records,
    record_history,
    batch_problems,
    staging_records
);
