DROP INDEX audit_events_action;
DROP INDEX records_school_name;
DROP INDEX records_name;
ALTER TABLE sessions DROP COLUMN last_seen_at;
