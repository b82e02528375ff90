-- A scoped list walks placements in record order and keeps those whose holder is in the scope
-- (and, if asked, in one state): with the holder and the state in the primary key's leaves it
-- reads index pages only (an index-only scan), not one table page for every placement it passes
-- over — a province's 50 records from a random position passed over about 700 at 1,000,000
-- records stored, each on its own page once the table outgrew the buffer cache.
ALTER TABLE placements DROP CONSTRAINT placements_pkey;
ALTER TABLE placements ADD PRIMARY KEY (record_id) INCLUDE (holder_org_id, state);
