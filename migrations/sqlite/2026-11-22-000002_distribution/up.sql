-- Organisations, people, distribution packages, audit, outbox and job claims (SQLite).

-- The receiving hierarchy (ministry → province → prefecture → county → grassroots) plus sender
-- organisations. `path` lists the ids from the root ("/1/12/345/"), so a subtree is a prefix.
CREATE TABLE orgs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_id BIGINT REFERENCES orgs (id),
    division_code TEXT UNIQUE,
    path TEXT NOT NULL,
    inbox_seq BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX orgs_parent ON orgs (parent_id);

CREATE TABLE org_contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES orgs (id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX org_contacts_org ON org_contacts (org_id);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES orgs (id),
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

-- Secrets are never stored, only their SHA-256 (they are 256-bit random, so a slow hash adds
-- nothing); `prefix` lets an operator tell tokens apart.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES orgs (id),
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- A package: the records one organisation sends to one organisation below it.
-- `receiver_seq` numbers a receiver's packages in commit order (the inbox cursor).
CREATE TABLE packages (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    sender_org_id BIGINT NOT NULL REFERENCES orgs (id),
    receiver_org_id BIGINT NOT NULL REFERENCES orgs (id),
    receiver_seq BIGINT NOT NULL,
    state TEXT NOT NULL,
    records BIGINT NOT NULL,
    returned BIGINT NOT NULL DEFAULT 0,
    delivered_at TIMESTAMP NOT NULL,
    delivered_on DATE NOT NULL,
    deadline DATE NOT NULL,
    escalation_deadline DATE NOT NULL,
    acknowledged_at TIMESTAMP,
    acknowledged_by TEXT,
    reminded_at TIMESTAMP,
    escalated_at TIMESTAMP,
    created_by TEXT NOT NULL
);
CREATE UNIQUE INDEX packages_inbox ON packages (receiver_org_id, receiver_seq);
CREATE INDEX packages_sender ON packages (sender_org_id, id);
CREATE INDEX packages_open ON packages (state, deadline);

-- Where each record is now. Kept apart from `records` so that moving a record does not write a
-- new version of its contents.
CREATE TABLE placements (
    record_id BIGINT PRIMARY KEY,
    holder_org_id BIGINT NOT NULL,
    target_org_id BIGINT NOT NULL,
    state TEXT NOT NULL,
    package_id BIGINT,
    returns INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX placements_holder ON placements (holder_org_id, state, record_id);
-- Cutting takes a holder's waiting records by target, one receiving organisation at a time.
CREATE INDEX placements_target ON placements (holder_org_id, state, target_org_id);
CREATE INDEX placements_package ON placements (package_id);

-- Batches whose new records have been placed in the distribution (at the hub, by routing).
CREATE TABLE batch_placements (
    batch_id BIGINT PRIMARY KEY NOT NULL,
    records BIGINT NOT NULL,
    placed_at TIMESTAMP NOT NULL
);

-- Every hop of every record: placed at the hub, delivered in a package (with its outcome), or
-- assigned by hand. A package's contents are its hops.
CREATE TABLE record_hops (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    record_id BIGINT NOT NULL,
    package_id BIGINT,
    kind TEXT NOT NULL,
    from_org_id BIGINT,
    to_org_id BIGINT NOT NULL,
    actor TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    outcome TEXT,
    reason TEXT,
    outcome_by TEXT,
    outcome_at TIMESTAMP
);
CREATE INDEX record_hops_record ON record_hops (record_id);
CREATE INDEX record_hops_package ON record_hops (package_id, record_id);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    actor_org_id BIGINT,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    before TEXT,
    after TEXT
);
CREATE INDEX audit_events_subject ON audit_events (subject);

-- Mail waiting to be sent; written in the transaction of the change it reports.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;

-- Work claimed by one node at a time (drop-folder files): who took it, when (`claimed_until` holds
-- the time it was taken), and whether it is done. On PostgreSQL the claim itself is a session
-- advisory lock, so a node that dies frees it at once.
CREATE TABLE job_claims (
    key TEXT PRIMARY KEY NOT NULL,
    owner TEXT NOT NULL,
    claimed_until TIMESTAMP NOT NULL,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL
);

-- A one-row table a write transaction updates first, so that it holds SQLite's write lock from
-- its start instead of failing to upgrade a read lock halfway (SQLITE_BUSY without waiting).
CREATE TABLE write_lock (
    id INTEGER PRIMARY KEY NOT NULL,
    n BIGINT NOT NULL
);
INSERT INTO write_lock (id, n) VALUES (1, 0);
