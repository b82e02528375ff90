CREATE INDEX records_route ON records (route_province, route_prefecture, route_county);
