-- The placings kept on placements go back to being `placed` rows of the history.
INSERT INTO record_hops (record_id, package_id, kind, from_org_id, to_org_id, actor, at, outcome)
SELECT p.record_id, NULL, 'placed', NULL, o.id, p.placed_by, p.placed_at, NULL
FROM placements p JOIN orgs o ON o.code = '000000'
WHERE p.placed_at IS NOT NULL;
ALTER TABLE placements DROP COLUMN placed_by;
ALTER TABLE placements DROP COLUMN placed_at;
