-- A record's first hop, its placing at the hub, is kept on its placement from now on (when and by
-- whom; it always goes to the hub's root organisation), not as a row of `record_hops`: that row
-- and its three index entries were a third of the cost of placing a batch (issue 11's profile).
-- Placings written before this migration keep their `placed` rows; the history reads both.
ALTER TABLE placements ADD COLUMN placed_at TIMESTAMP;
ALTER TABLE placements ADD COLUMN placed_by TEXT;
