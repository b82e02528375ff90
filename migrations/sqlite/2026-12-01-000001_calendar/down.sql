ALTER TABLE packages DROP COLUMN deadline_provisional;
DROP TABLE calendar_years;
DROP TABLE calendar_days;
