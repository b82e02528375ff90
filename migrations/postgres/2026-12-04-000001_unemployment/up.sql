-- Cross-region unemployment registration (LD/T 6009-2024 §5, 人社厅发〔2020〕79号) (postgres).

-- One application (失业人员登记表) from any channel, and the registration it becomes: routed to
-- the county office of the chosen registration place (`org_id`), reviewed, contacted, exited.
-- `form` is the normalized form as JSON (every field of the 登记表); the columns beside it are
-- what the hub filters, counts and routes by. `active_key` is the ID number while the
-- application is pending or registered and NULL once refused or exited: its unique index is the
-- rule "one person, one registration" on both backends.
CREATE TABLE unemployment_applications (
    id BIGSERIAL PRIMARY KEY,
    application_no TEXT NOT NULL,
    channel TEXT NOT NULL,
    id_type TEXT NOT NULL,
    id_number TEXT NOT NULL,
    name TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_date DATE NOT NULL,
    mobile TEXT NOT NULL,
    email TEXT,
    form TEXT NOT NULL,
    place_kind TEXT NOT NULL,
    place_code TEXT NOT NULL,
    route_method TEXT NOT NULL,
    org_id BIGINT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    received_on DATE NOT NULL,
    target_due DATE NOT NULL,
    limit_due DATE NOT NULL,
    due_provisional BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    reviewed_at TIMESTAMP,
    reviewed_on DATE,
    reviewer TEXT,
    refusal_reason TEXT,
    urban BOOLEAN,
    skill_type TEXT,
    contact_due DATE,
    contacted_on DATE,
    last_contact_on DATE,
    exit_reason TEXT,
    exit_detail TEXT,
    exit_on DATE,
    exit_clerk TEXT,
    exit_verification TEXT,
    exit_note TEXT,
    exit_notice TEXT,
    late_mailed_at TIMESTAMP,
    breach_mailed_at TIMESTAMP,
    active_key TEXT,
    actor TEXT NOT NULL
);
CREATE UNIQUE INDEX unemployment_applications_no ON unemployment_applications (application_no);
CREATE UNIQUE INDEX unemployment_applications_active ON unemployment_applications (active_key);
CREATE INDEX unemployment_applications_org ON unemployment_applications (org_id, status, id);
CREATE INDEX unemployment_applications_id_number ON unemployment_applications (id_number);
-- The escalation pass reads pending applications past their target every few seconds.
CREATE INDEX unemployment_applications_due ON unemployment_applications (status, target_due);

-- What the office did for a registered person, never changed afterwards: a contact (`code` the
-- channel, `reached`), a service (`code` the service kind), or a classification (`code` the
-- 三类 type).
CREATE TABLE unemployment_events (
    id BIGSERIAL PRIMARY KEY,
    application_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    occurred_on DATE NOT NULL,
    reached BOOLEAN,
    note TEXT,
    org_id BIGINT NOT NULL,
    actor TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX unemployment_events_application ON unemployment_events (application_id, kind, occurred_on);

-- Every download of applications by a local system (LD/T 6009-2024 §5.2.1: who, when, what).
CREATE TABLE unemployment_downloads (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL,
    actor TEXT NOT NULL,
    downloaded_at TIMESTAMP NOT NULL,
    after_id BIGINT NOT NULL,
    last_id BIGINT NOT NULL,
    applications INTEGER NOT NULL
);

-- Deregistrations (失业登记退出) in the fields of the 79号 annex: the hub's own exits
-- (`application_id` set) and those received from local systems. Unique business key
-- AAB301 + AAZ341. `org_id` is the organisation that recorded or sent it.
CREATE TABLE deregistrations (
    id BIGSERIAL PRIMARY KEY,
    aab301 TEXT NOT NULL,
    aaz341 TEXT NOT NULL,
    aac003 TEXT NOT NULL,
    aac002 TEXT NOT NULL,
    aac058 TEXT NOT NULL,
    aac044 TEXT NOT NULL,
    adc210 TEXT NOT NULL,
    ajc00a TEXT NOT NULL,
    aae011 TEXT NOT NULL,
    aae036 TEXT NOT NULL,
    aae013 TEXT NOT NULL,
    source TEXT NOT NULL,
    org_id BIGINT NOT NULL,
    application_id BIGINT,
    received_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX deregistrations_key ON deregistrations (aab301, aaz341);
CREATE INDEX deregistrations_day ON deregistrations (aae036);
