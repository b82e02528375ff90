-- The 待分配 (unassigned) records of every holder, for /metrics' queue size: without it the count
-- walks every placement (millions) at each scrape. Partial, so it holds only the few waiting.
CREATE INDEX placements_unassigned ON placements (holder_org_id) WHERE state = 'unassigned';
