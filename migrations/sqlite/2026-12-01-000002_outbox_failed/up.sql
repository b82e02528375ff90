-- A message that can never be delivered (an address the mailer cannot parse, or a permanent
-- 5xx refusal of the recipient) is marked failed, with its reason in `last_error`, and no
-- longer taken: it stays in the table for the operator (`gradhub outbox list --state failed`).
ALTER TABLE outbox ADD COLUMN failed_at TIMESTAMP;
