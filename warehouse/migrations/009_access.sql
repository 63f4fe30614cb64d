-- Who may read what, and who did: tokens expire, the dashboard signs in with a session, and every
-- read of staff data is recorded.

-- NULL = never (tokens made before this migration, or created with "never" on purpose).
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;

-- Dashboard sessions. The cookie carries a random id, signed; only its SHA-256 is stored, so a
-- leaked warehouse leaks no session. A session made from an API token takes its role and agencies
-- from the token at every request (revoking or expiring the token ends it); one made from an
-- OpenID Connect identity keeps what the identity said when it signed in.
CREATE TABLE sessions (
  session_hash VARCHAR PRIMARY KEY,
  via          VARCHAR NOT NULL CHECK (via IN ('token', 'oidc')),
  token_id     VARCHAR,
  subject      VARCHAR,
  name         VARCHAR NOT NULL,
  role         VARCHAR NOT NULL CHECK (role IN ('admin', 'manager', 'planner', 'public')),
  agencies     VARCHAR[],
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at   TIMESTAMPTZ NOT NULL,
  ended_at     TIMESTAMPTZ
);

-- Who read staff data: one row per request to a staff or admin route by an identified caller
-- (refused ones too, with their status), and per sign-in and sign-out. Append-only.
CREATE SEQUENCE audit_id_seq;
CREATE TABLE audit_log (
  audit_id       BIGINT NOT NULL DEFAULT nextval('audit_id_seq'),
  requested_at   TIMESTAMPTZ NOT NULL, -- when the request arrived
  request_id     VARCHAR,
  principal_id   VARCHAR NOT NULL,
  principal_name VARCHAR NOT NULL,
  role           VARCHAR NOT NULL,
  agencies       VARCHAR[],           -- the caller's scope; NULL = every agency
  via            VARCHAR NOT NULL,    -- token, session, oidc, local (the server's credential file)
  method         VARCHAR NOT NULL,
  route          VARCHAR NOT NULL,    -- the route's pattern, e.g. /api/tokens/:token_id
  parameters     VARCHAR NOT NULL,    -- JSON: query string and path parameters (and the body where a route allows it)
  status         INTEGER NOT NULL,
  rows_returned  INTEGER,             -- rows, features or findings in the answer; NULL when it is not a table
  duration_ms    DOUBLE
);
