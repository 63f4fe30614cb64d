-- Alerts (issue 14, item 6): a manager subscribes to the findings the dashboard shows for a scope
-- (a new anomaly in volume, a significant trend, an on-time rate under its target), and each is
-- sent once, not again until it clears, and again after it has cleared and come back.

-- A subscription keeps the caller's agency scope as it was when they subscribed: the evaluator
-- runs the analyses with it, so an alert can never be wider than what its owner may see.
CREATE TABLE alert_subscriptions (
  subscription_id VARCHAR PRIMARY KEY,
  owner_id        VARCHAR NOT NULL,   -- the principal's token_id (oidc:<subject> for an identity)
  owner_name      VARCHAR NOT NULL,
  owner_role      VARCHAR NOT NULL,
  agencies        VARCHAR[],          -- the owner's scope; NULL = every agency
  filter          VARCHAR NOT NULL,   -- JSON: service, service_group, agency, area (the dashboard's filter names)
  area_kind       VARCHAR NOT NULL,   -- the area kind `area` and the area findings are read in
  kinds           VARCHAR[] NOT NULL, -- anomaly, trend, below_target
  channel         VARCHAR NOT NULL CHECK (channel IN ('email', 'webhook')),
  target          VARCHAR NOT NULL,   -- the e-mail address or the webhook URL
  webhook_secret  VARCHAR,            -- HMAC key of a webhook (the server signs with it, so it is kept as is)
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  deleted_at      TIMESTAMPTZ,        -- deleted subscriptions keep their history
  last_evaluated_at TIMESTAMPTZ,      -- the last evaluation that completed
  last_error      VARCHAR,            -- why the last evaluation failed (NULL after one that completed)
  last_error_at   TIMESTAMPTZ
);

-- One row per episode of a finding for a subscription: it appears (first_seen_at), is sent once
-- (sent_at; failed attempts counted with their last error), and clears (cleared_at) when an
-- evaluation no longer finds it. While a row with no cleared_at exists for a key, the finding is
-- not sent again; once cleared, its next appearance is a new row, sent again (rearmed).
CREATE SEQUENCE alert_event_seq;
CREATE TABLE alert_events (
  event_id        BIGINT PRIMARY KEY DEFAULT nextval('alert_event_seq'),
  subscription_id VARCHAR NOT NULL,
  finding_key     VARCHAR NOT NULL,   -- kind|service|area|direction: stable across evaluations, never the sentence
  kind            VARCHAR NOT NULL CHECK (kind IN ('anomaly', 'trend', 'below_target')),
  sentence        VARCHAR NOT NULL,   -- as first seen
  link            VARCHAR NOT NULL,   -- the dashboard view that shows it
  detail          VARCHAR NOT NULL,   -- JSON: the finding's figures when first seen
  data_as_of      VARCHAR NOT NULL,   -- the as-of time of the evaluation that first saw it
  first_seen_at   TIMESTAMPTZ NOT NULL,
  last_seen_at    TIMESTAMPTZ NOT NULL,
  sent_at         TIMESTAMPTZ,
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_attempt_at TIMESTAMPTZ,
  last_error      VARCHAR,
  cleared_at      TIMESTAMPTZ
);
