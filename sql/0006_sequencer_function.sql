-- The event sequencer's round as one function, called as one statement in its own
-- transaction. The round was seven statements (BEGIN, SET LOCAL, the cursor read, the batch,
-- the cursor update, pg_notify, COMMIT), each a round trip parsed and planned anew, about a
-- hundred times a second under load. Same steps, same order, same commit-safe rule: only
-- events of transactions older than every running one are numbered (see 0002_items.sql).
--
-- Returns how many events it numbered and the last number handed out (NULL when another
-- instance holds the cursor). Its commit does not wait for the WAL flush: the setting is
-- local to the calling transaction, which ends with this statement.
CREATE FUNCTION docket_sequence_events(batch_limit int, OUT numbered bigint, OUT through_seq bigint)
    LANGUAGE plpgsql AS $$
DECLARE
    cursor_xid xid8;
    cursor_id bigint;
    cursor_seq bigint;
    end_xid xid8;
    end_id bigint;
BEGIN
    SELECT s.last_xid, s.last_id, s.last_seq INTO cursor_xid, cursor_id, cursor_seq
        FROM event_sequencer s WHERE s.id = 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        numbered := 0;
        RETURN;
    END IF;
    PERFORM set_config('synchronous_commit', 'off', true);
    WITH batch AS (
        SELECT e.id, e.xid, row_number() OVER (ORDER BY e.xid, e.id) AS n
        FROM events e
        WHERE (e.xid, e.id) > (cursor_xid, cursor_id)
          AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY e.xid, e.id
        LIMIT batch_limit),
    logged AS (
        INSERT INTO event_log (seq, event_id) SELECT cursor_seq + b.n, b.id FROM batch b)
    SELECT count(*), (SELECT b.xid FROM batch b ORDER BY b.n DESC LIMIT 1), (SELECT b.id FROM batch b ORDER BY b.n DESC LIMIT 1)
        INTO numbered, end_xid, end_id
        FROM batch;
    through_seq := cursor_seq + numbered;
    IF numbered > 0 THEN
        UPDATE event_sequencer SET last_xid = end_xid, last_id = end_id, last_seq = through_seq WHERE id = 1;
        PERFORM pg_notify('docket_events', through_seq::text);
    END IF;
END
$$;
