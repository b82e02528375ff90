-- Records are listed in a jurisdiction through placements, and a province export pages the
-- records in id order with the province as a filter: no query needs the route index, and each
-- random-key index costs an ingest about 4 µs a row (issue 11's profile).
DROP INDEX records_route;
