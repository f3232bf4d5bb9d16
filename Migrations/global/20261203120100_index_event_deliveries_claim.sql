-- why: a claim takes the oldest due pending deliveries of one group; with a large backlog it scanned and sorted them all under the group's lock (80 ms for 200 k). This index hands them out in order.
CREATE INDEX event_deliveries_claim_idx ON event_deliveries (group_name, created_at, event_id) WHERE status = 'pending';
