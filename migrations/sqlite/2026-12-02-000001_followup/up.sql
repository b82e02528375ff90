-- Follow-up after 签收 (111号 sets 1–3) (sqlite).

-- Every follow-up event as recorded, never changed afterwards: a correction is a later event.
-- `code` is the contact channel, service type, policy type or employment state by `kind`;
-- `client_key` is the sending system's own key, unique per organisation, so a retried request
-- stores nothing twice; `content_hash` tells a retry from a different event under the same key.
CREATE TABLE followup_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    record_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    occurred_on DATE NOT NULL,
    code TEXT,
    reached BOOLEAN,
    amount_fen BIGINT,
    organisation TEXT,
    employer TEXT,
    post TEXT,
    note TEXT,
    address TEXT,
    phone TEXT,
    occupation TEXT,
    region TEXT,
    org_id BIGINT NOT NULL,
    actor TEXT NOT NULL,
    client_key TEXT,
    content_hash TEXT NOT NULL,
    channel TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    holder_org_id BIGINT NOT NULL,
    graduation_year INTEGER NOT NULL,
    stored_at TIMESTAMP NOT NULL
);
CREATE INDEX followup_events_record ON followup_events (record_id, kind, occurred_on);
CREATE UNIQUE INDEX followup_events_client_key ON followup_events (org_id, client_key)
    WHERE client_key IS NOT NULL;

-- `holder_org_id`, `graduation_year` and `stored_at` (the record's `created_at`) are copies, on
-- this table and the two below, of what the summary groups and cuts by: the summary then counts
-- each table alone, without joining millions of rows to `records` and `placements`. The holder
-- is kept in step wherever a placement moves (`db::packages`, via `placements.has_followup`).

-- What the summary counts, derived from a record's events in the transaction that adds one:
-- the first day of each milestone (`contacted`, `service:03`, `policy:01`, `1131`,
-- `1131_in_time`). One row per record and milestone, so a count of rows is a count of persons.
CREATE TABLE followup_milestones (
    record_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    reached_on DATE NOT NULL,
    holder_org_id BIGINT NOT NULL,
    graduation_year INTEGER NOT NULL,
    stored_at TIMESTAMP NOT NULL,
    PRIMARY KEY (record_id, name)
);
CREATE INDEX followup_milestones_name ON followup_milestones (name, reached_on, record_id);

-- The employment-state history as spans: `state` from `from_on` until the day before
-- `until_on` (open when null). The state on a day is the span that covers it.
CREATE TABLE followup_states (
    record_id BIGINT NOT NULL,
    from_on DATE NOT NULL,
    until_on DATE,
    state TEXT NOT NULL,
    holder_org_id BIGINT NOT NULL,
    graduation_year INTEGER NOT NULL,
    stored_at TIMESTAMP NOT NULL,
    PRIMARY KEY (record_id, from_on)
);
CREATE INDEX followup_states_state ON followup_states (state, from_on);
