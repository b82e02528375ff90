-- The working-day calendar as data (SQLite): the listed days of each covered year, which years
-- are covered (a year without rows is not "no holidays" but "not loaded"), and whether a
-- package's deadlines were counted over a year not yet covered (weekends only, 暂定).

CREATE TABLE calendar_days (
    day DATE PRIMARY KEY NOT NULL,
    year INTEGER NOT NULL,
    -- `holiday` (a day off) or `workday` (a weekend day worked, 调休).
    kind TEXT NOT NULL,
    festival TEXT NOT NULL DEFAULT ''
);
CREATE INDEX calendar_days_year ON calendar_days (year);

CREATE TABLE calendar_years (
    year INTEGER PRIMARY KEY NOT NULL,
    -- The file the year was loaded from (`fixture:…` for the seed).
    source TEXT NOT NULL,
    loaded_at TIMESTAMP NOT NULL
);

ALTER TABLE packages ADD COLUMN deadline_provisional BOOLEAN NOT NULL DEFAULT FALSE;
