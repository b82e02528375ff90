DROP TABLE followup_states;
DROP TABLE followup_milestones;
DROP TABLE followup_events;
