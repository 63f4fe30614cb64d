-- After a service's SLA changes: recompute the due time of its cases (temp table
-- changed_services), keeping a due time the source gave (expected_at) over the SLA.
UPDATE cases c
SET due_at = coalesce(
  (SELECT arg_max(e.expected_at, e.occurred_at) FROM case_events e WHERE e.case_id = c.case_id AND e.expected_at IS NOT NULL),
  c.opened_at + to_microseconds((s.sla_hours * 3600e6)::BIGINT))
FROM changed_services s
WHERE c.service_code = s.service_code;
