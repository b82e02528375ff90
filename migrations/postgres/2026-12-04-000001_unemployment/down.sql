DROP TABLE deregistrations;
DROP TABLE unemployment_downloads;
DROP TABLE unemployment_events;
DROP TABLE unemployment_applications;
