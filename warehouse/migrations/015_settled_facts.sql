-- Settled facts (issue 10): the figures of every settled case (closed or cancelled, responded to,
-- nothing of it after `settled_at`), summed per opening day, service, agency and channel, with
-- each duration's ends sorted — computed once when a batch lands instead of at every question.
-- The facts and `live_cases` (a copy of the cases read at every question: those opened since the
-- `horizon` day and those not settled) are built by analytics/settled-facts.ts, the facts'
-- columns from the measure registry; this row says for which data (`stamp`: the batches landed),
-- which zone's local days and which build (`shape`: a hash of its SQL) they are. A question of
-- other data, zone or build reads every case from `cases`, as before.
CREATE TABLE settled_facts_meta (stamp VARCHAR NOT NULL, zone VARCHAR NOT NULL, shape VARCHAR NOT NULL, horizon DATE NOT NULL, built_at TIMESTAMPTZ NOT NULL);
