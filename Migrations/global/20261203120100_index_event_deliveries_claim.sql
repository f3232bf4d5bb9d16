-- why: a claim takes the oldest due pending deliveries of one group, after dead-lettering those whose leases keep expiring; with a large backlog both scanned all of the group's pending rows under its lock (80 ms for 200 k). These indexes hand out the oldest in order, and find the few leased rows directly.
CREATE INDEX event_deliveries_claim_idx ON event_deliveries (group_name, created_at, event_id) WHERE status = 'pending';
CREATE INDEX event_deliveries_leased_idx ON event_deliveries (group_name, lease_until) WHERE status = 'pending' AND lease_until IS NOT NULL;
