-- API tokens. Only a SHA-256 of each token is stored: the token itself is shown once, at creation.
CREATE TABLE api_tokens (
  token_id   VARCHAR PRIMARY KEY,
  name       VARCHAR NOT NULL,
  role       VARCHAR NOT NULL CHECK (role IN ('admin', 'manager', 'planner', 'public')),
  agencies   VARCHAR[],                -- NULL = every agency; else a row-level filter
  token_hash VARCHAR NOT NULL UNIQUE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  revoked_at TIMESTAMPTZ
);
