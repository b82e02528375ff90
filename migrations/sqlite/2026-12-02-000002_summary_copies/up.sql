-- The record's attributes the 111号 summary counts by, copied onto its placement (sqlite), so the
-- summary reads one narrow table instead of joining the wide `records` to `placements`:
-- written when a record is placed and when a later batch replaces it (`db::packages`), and the
-- follow-up milestones the overdue counts need (`contacted_on`, `s1131_in_time_on`), written
-- with the record's follow-up. `has_followup` says the follow-up tables hold rows of the record,
-- whose copied holder must then move with it.
ALTER TABLE placements ADD COLUMN graduation_year INTEGER NOT NULL DEFAULT 0;
ALTER TABLE placements ADD COLUMN stored_at TIMESTAMP;
ALTER TABLE placements ADD COLUMN education_level TEXT NOT NULL DEFAULT '';
ALTER TABLE placements ADD COLUMN sex TEXT NOT NULL DEFAULT '';
ALTER TABLE placements ADD COLUMN hardship BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE placements ADD COLUMN intention TEXT NOT NULL DEFAULT '';
ALTER TABLE placements ADD COLUMN graduation_date DATE;
ALTER TABLE placements ADD COLUMN contacted_on DATE;
ALTER TABLE placements ADD COLUMN s1131_in_time_on DATE;
ALTER TABLE placements ADD COLUMN has_followup BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE placements SET graduation_year = r.graduation_year, stored_at = r.created_at,
    education_level = r.education_level, sex = r.sex,
    hardship = (r.hardship IS NOT NULL AND r.hardship <> ''), intention = r.intention,
    graduation_date = r.graduation_date
FROM records r WHERE r.id = placements.record_id;
