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

diesel::table! {
    orgs (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        level -> Text,
        parent_id -> Nullable<BigInt>,
        division_code -> Nullable<Text>,
        path -> Text,
        inbox_seq -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    org_contacts (id) {
        id -> BigInt,
        org_id -> BigInt,
        name -> Text,
        email -> Text,
        phone -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        role -> Text,
        org_id -> BigInt,
        password_hash -> Text,
        disabled -> Bool,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        name -> Text,
        org_id -> BigInt,
        role -> Text,
        token_hash -> Text,
        prefix -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    packages (id) {
        id -> BigInt,
        sender_org_id -> BigInt,
        receiver_org_id -> BigInt,
        receiver_seq -> BigInt,
        state -> Text,
        records -> BigInt,
        returned -> BigInt,
        delivered_at -> Timestamp,
        delivered_on -> Date,
        deadline -> Date,
        escalation_deadline -> Date,
        acknowledged_at -> Nullable<Timestamp>,
        acknowledged_by -> Nullable<Text>,
        reminded_at -> Nullable<Timestamp>,
        escalated_at -> Nullable<Timestamp>,
        created_by -> Text,
        deadline_provisional -> Bool,
    }
}

diesel::table! {
    placements (record_id) {
        record_id -> BigInt,
        holder_org_id -> BigInt,
        target_org_id -> BigInt,
        state -> Text,
        package_id -> Nullable<BigInt>,
        returns -> Integer,
        reason -> Nullable<Text>,
        updated_at -> Timestamp,
        graduation_year -> Integer,
        stored_at -> Nullable<Timestamp>,
        education_level -> Text,
        sex -> Text,
        hardship -> Bool,
        intention -> Text,
        graduation_date -> Nullable<Date>,
        contacted_on -> Nullable<Date>,
        s1131_in_time_on -> Nullable<Date>,
        has_followup -> Bool,
        placed_at -> Nullable<Timestamp>,
        placed_by -> Nullable<Text>,
    }
}

diesel::table! {
    batch_placements (batch_id) {
        batch_id -> BigInt,
        records -> BigInt,
        placed_at -> Timestamp,
    }
}

diesel::table! {
    record_hops (id) {
        id -> BigInt,
        record_id -> BigInt,
        package_id -> Nullable<BigInt>,
        kind -> Text,
        from_org_id -> Nullable<BigInt>,
        to_org_id -> BigInt,
        actor -> Text,
        at -> Timestamp,
        outcome -> Nullable<Text>,
        reason -> Nullable<Text>,
        outcome_by -> Nullable<Text>,
        outcome_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        actor_org_id -> Nullable<BigInt>,
        action -> Text,
        subject -> Text,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        dedupe_key -> Text,
        to_addr -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        failed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    calendar_days (day) {
        day -> Date,
        year -> Integer,
        kind -> Text,
        festival -> Text,
    }
}

diesel::table! {
    calendar_years (year) {
        year -> Integer,
        source -> Text,
        loaded_at -> Timestamp,
    }
}

diesel::table! {
    job_claims (key) {
        key -> Text,
        owner -> Text,
        claimed_until -> Timestamp,
        done -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    followup_events (id) {
        id -> BigInt,
        record_id -> BigInt,
        kind -> Text,
        occurred_on -> Date,
        code -> Nullable<Text>,
        reached -> Nullable<Bool>,
        amount_fen -> Nullable<BigInt>,
        organisation -> Nullable<Text>,
        employer -> Nullable<Text>,
        post -> Nullable<Text>,
        note -> Nullable<Text>,
        address -> Nullable<Text>,
        phone -> Nullable<Text>,
        occupation -> Nullable<Text>,
        region -> Nullable<Text>,
        org_id -> BigInt,
        actor -> Text,
        client_key -> Nullable<Text>,
        content_hash -> Text,
        channel -> Text,
        recorded_at -> Timestamp,
        holder_org_id -> BigInt,
        graduation_year -> Integer,
        stored_at -> Timestamp,
    }
}

diesel::table! {
    followup_milestones (record_id, name) {
        record_id -> BigInt,
        name -> Text,
        reached_on -> Date,
        holder_org_id -> BigInt,
        graduation_year -> Integer,
        stored_at -> Timestamp,
    }
}

diesel::table! {
    followup_states (record_id, from_on) {
        record_id -> BigInt,
        from_on -> Date,
        until_on -> Nullable<Date>,
        state -> Text,
        holder_org_id -> BigInt,
        graduation_year -> Integer,
        stored_at -> Timestamp,
    }
}

diesel::table! {
    unemployment_applications (id) {
        id -> BigInt,
        application_no -> Text,
        channel -> Text,
        id_type -> Text,
        id_number -> Text,
        name -> Text,
        sex -> Text,
        birth_date -> Date,
        mobile -> Text,
        email -> Nullable<Text>,
        form -> Text,
        place_kind -> Text,
        place_code -> Text,
        route_method -> Text,
        org_id -> BigInt,
        received_at -> Timestamp,
        received_on -> Date,
        target_due -> Date,
        limit_due -> Date,
        due_provisional -> Bool,
        status -> Text,
        reviewed_at -> Nullable<Timestamp>,
        reviewed_on -> Nullable<Date>,
        reviewer -> Nullable<Text>,
        refusal_reason -> Nullable<Text>,
        urban -> Nullable<Bool>,
        skill_type -> Nullable<Text>,
        contact_due -> Nullable<Date>,
        contacted_on -> Nullable<Date>,
        last_contact_on -> Nullable<Date>,
        exit_reason -> Nullable<Text>,
        exit_detail -> Nullable<Text>,
        exit_on -> Nullable<Date>,
        exit_clerk -> Nullable<Text>,
        exit_verification -> Nullable<Text>,
        exit_note -> Nullable<Text>,
        exit_notice -> Nullable<Text>,
        late_mailed_at -> Nullable<Timestamp>,
        breach_mailed_at -> Nullable<Timestamp>,
        active_key -> Nullable<Text>,
        actor -> Text,
    }
}

diesel::table! {
    unemployment_events (id) {
        id -> BigInt,
        application_id -> BigInt,
        kind -> Text,
        code -> Text,
        occurred_on -> Date,
        reached -> Nullable<Bool>,
        note -> Nullable<Text>,
        org_id -> BigInt,
        actor -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    unemployment_downloads (id) {
        id -> BigInt,
        org_id -> BigInt,
        actor -> Text,
        downloaded_at -> Timestamp,
        after_id -> BigInt,
        last_id -> BigInt,
        applications -> Integer,
    }
}

diesel::table! {
    deregistrations (id) {
        id -> BigInt,
        aab301 -> Text,
        aaz341 -> Text,
        aac003 -> Text,
        aac002 -> Text,
        aac058 -> Text,
        aac044 -> Text,
        adc210 -> Text,
        ajc00a -> Text,
        aae011 -> Text,
        aae036 -> Text,
        aae013 -> Text,
        source -> Text,
        org_id -> BigInt,
        application_id -> Nullable<BigInt>,
        received_at -> Timestamp,
    }
}

diesel::joinable!(placements -> records (record_id));
diesel::joinable!(record_hops -> records (record_id));
diesel::joinable!(org_contacts -> orgs (org_id));
diesel::joinable!(followup_events -> records (record_id));
diesel::joinable!(followup_milestones -> records (record_id));
diesel::joinable!(followup_states -> records (record_id));
diesel::joinable!(unemployment_events -> unemployment_applications (application_id));

diesel::allow_tables_to_appear_in_same_query!(
    batches,
    records,
    record_history,
    batch_problems,
    staging_records,
    orgs,
    org_contacts,
    users,
    api_tokens,
    sessions,
    packages,
    placements,
    batch_placements,
    record_hops,
    audit_events,
    outbox,
    job_claims,
    calendar_days,
    calendar_years,
    followup_events,
    followup_milestones,
    followup_states,
    unemployment_applications,
    unemployment_events,
    unemployment_downloads,
    deregistrations,
);
