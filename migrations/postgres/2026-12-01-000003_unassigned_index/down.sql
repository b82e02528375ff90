DROP INDEX placements_unassigned;
