-- Reference data, ingest batches and graduate records (PostgreSQL).
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE divisions (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent TEXT
);

CREATE TABLE division_successors (
    old_code TEXT PRIMARY KEY NOT NULL,
    old_name TEXT NOT NULL,
    old_level TEXT NOT NULL,
    old_parent TEXT,
    new_code TEXT NOT NULL,
    effective DATE NOT NULL,
    note TEXT NOT NULL
);

CREATE TABLE batches (
    id BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL,
    channel TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL,
    encoding TEXT NOT NULL,
    rows_read BIGINT NOT NULL,
    accepted BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    warnings BIGINT NOT NULL,
    quarantined BIGINT NOT NULL,
    routed TEXT NOT NULL,
    unknown_columns TEXT NOT NULL,
    division_edition TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL
);

-- batch_id / first_batch_id name the batch that wrote the row. They carry no foreign-key
-- constraint: only the ingest transaction writes them, right after creating that batch, and a
-- per-row check would double the cost of a million-row batch on PostgreSQL.
-- Codes and ID numbers are ASCII: byte order ("C") is their order, and it spares every index
-- comparison a locale-aware collation (about a fifth of the bulk-load time).
CREATE TABLE records (
    id BIGSERIAL PRIMARY KEY,
    person_key TEXT COLLATE "C" NOT NULL,
    graduation_year INTEGER NOT NULL,
    name TEXT NOT NULL,
    sex TEXT NOT NULL,
    ethnicity TEXT,
    id_type TEXT NOT NULL,
    id_number TEXT NOT NULL,
    birth_date DATE,
    political_status TEXT,
    education_level TEXT NOT NULL,
    school_code TEXT NOT NULL,
    school_name TEXT NOT NULL,
    major_code TEXT,
    major_name TEXT NOT NULL,
    graduation_date DATE NOT NULL,
    hukou_code TEXT,
    hukou_address TEXT,
    phone TEXT,
    email TEXT,
    hardship TEXT,
    intention TEXT NOT NULL,
    route_province TEXT COLLATE "C",
    route_prefecture TEXT COLLATE "C",
    route_county TEXT COLLATE "C",
    route_method TEXT NOT NULL,
    route_note TEXT,
    division_edition TEXT NOT NULL,
    source TEXT NOT NULL,
    channel TEXT NOT NULL,
    batch_id BIGINT NOT NULL,
    source_line BIGINT NOT NULL,
    first_batch_id BIGINT NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX records_person ON records (person_key, graduation_year);
CREATE INDEX records_route ON records (route_province, route_prefecture, route_county);
CREATE INDEX records_batch ON records (batch_id);

-- Earlier versions of a record, written when a later batch replaces it.
CREATE TABLE record_history (
    id BIGSERIAL PRIMARY KEY,
    record_id BIGINT NOT NULL,
    replaced_by_batch BIGINT NOT NULL,
    replaced_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL,
    person_key TEXT NOT NULL,
    graduation_year INTEGER NOT NULL,
    name TEXT NOT NULL,
    sex TEXT NOT NULL,
    ethnicity TEXT,
    id_type TEXT NOT NULL,
    id_number TEXT NOT NULL,
    birth_date DATE,
    political_status TEXT,
    education_level TEXT NOT NULL,
    school_code TEXT NOT NULL,
    school_name TEXT NOT NULL,
    major_code TEXT,
    major_name TEXT NOT NULL,
    graduation_date DATE NOT NULL,
    hukou_code TEXT,
    hukou_address TEXT,
    phone TEXT,
    email TEXT,
    hardship TEXT,
    intention TEXT NOT NULL,
    route_province TEXT,
    route_prefecture TEXT,
    route_county TEXT,
    route_method TEXT NOT NULL,
    route_note TEXT,
    division_edition TEXT NOT NULL,
    source TEXT NOT NULL,
    channel TEXT NOT NULL,
    batch_id BIGINT NOT NULL,
    source_line BIGINT NOT NULL
);
CREATE INDEX record_history_record ON record_history (record_id);

-- Every update of a record keeps the version it replaces, whatever path updates it.
CREATE FUNCTION records_keep_history() RETURNS trigger AS $$
BEGIN
    INSERT INTO record_history (record_id, replaced_by_batch, replaced_at, version, person_key, graduation_year, name, sex, ethnicity, id_type, id_number, birth_date, political_status, education_level, school_code, school_name, major_code, major_name, graduation_date, hukou_code, hukou_address, phone, email, hardship, intention, route_province, route_prefecture, route_county, route_method, route_note, division_edition, source, channel, batch_id, source_line)
    VALUES (OLD.id, NEW.batch_id, NEW.updated_at, OLD.version, OLD.person_key, OLD.graduation_year, OLD.name, OLD.sex, OLD.ethnicity, OLD.id_type, OLD.id_number, OLD.birth_date, OLD.political_status, OLD.education_level, OLD.school_code, OLD.school_name, OLD.major_code, OLD.major_name, OLD.graduation_date, OLD.hukou_code, OLD.hukou_address, OLD.phone, OLD.email, OLD.hardship, OLD.intention, OLD.route_province, OLD.route_prefecture, OLD.route_county, OLD.route_method, OLD.route_note, OLD.division_edition, OLD.source, OLD.channel, OLD.batch_id, OLD.source_line);
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER records_keep_history BEFORE UPDATE ON records
    FOR EACH ROW EXECUTE FUNCTION records_keep_history();

-- One line per problem found in a batch (rejects and warnings), the reject report's source.
CREATE TABLE batch_problems (
    id BIGSERIAL PRIMARY KEY,
    batch_id BIGINT NOT NULL REFERENCES batches (id),
    line BIGINT NOT NULL,
    column_key TEXT NOT NULL,
    value TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    message_en TEXT NOT NULL,
    severity TEXT NOT NULL
);
CREATE INDEX batch_problems_batch ON batch_problems (batch_id, line);

-- Template of the per-transaction staging table (PostgreSQL COPY target); never holds rows itself.
CREATE TABLE staging_records (
    person_key TEXT NOT NULL,
    graduation_year INTEGER NOT NULL,
    name TEXT NOT NULL,
    sex TEXT NOT NULL,
    ethnicity TEXT,
    id_type TEXT NOT NULL,
    id_number TEXT NOT NULL,
    birth_date DATE,
    political_status TEXT,
    education_level TEXT NOT NULL,
    school_code TEXT NOT NULL,
    school_name TEXT NOT NULL,
    major_code TEXT,
    major_name TEXT NOT NULL,
    graduation_date DATE NOT NULL,
    hukou_code TEXT,
    hukou_address TEXT,
    phone TEXT,
    email TEXT,
    hardship TEXT,
    intention TEXT NOT NULL,
    route_province TEXT,
    route_prefecture TEXT,
    route_county TEXT,
    route_method TEXT NOT NULL,
    route_note TEXT,
    division_edition TEXT NOT NULL,
    source TEXT NOT NULL,
    channel TEXT NOT NULL,
    batch_id BIGINT NOT NULL,
    source_line BIGINT NOT NULL,
    PRIMARY KEY (person_key, graduation_year)
);
