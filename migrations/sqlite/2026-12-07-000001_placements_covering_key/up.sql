-- PostgreSQL's migration of this name puts the holder and the state in the leaves of placements'
-- primary key (INCLUDE), for an index-only page of ids of a scoped list. SQLite has no INCLUDE:
-- its scoped list still reads each placement's row beside the key, as before. Kept so that both
-- backends list the same versions.
SELECT 1;
