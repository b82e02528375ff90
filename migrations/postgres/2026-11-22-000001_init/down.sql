DROP TABLE staging_records;
DROP TABLE batch_problems;
DROP TABLE record_history;
DROP FUNCTION IF EXISTS records_keep_history() CASCADE;
DROP TABLE records;
DROP TABLE batches;
DROP TABLE division_successors;
DROP TABLE divisions;
DROP TABLE settings;
