ALTER TABLE placements DROP CONSTRAINT placements_pkey;
ALTER TABLE placements ADD PRIMARY KEY (record_id);
