-- Grows a populated Docket database to :items thematic projects with :per_item events each,
-- straight in SQL (going through the server would take hours on a small machine).
-- Run by Benchmarks/scale.sh after `docket-bench populate` created the bench users and the
-- first items TP-1 ... TP-:first, with psql -v items=N -v per_item=K -v first=F.
--
-- What is synthetic: the rows are written directly, so every loaded event carries a constant
-- hash instead of a SHA-256 chain (AUDIT.VERIFY reports the first of them as bad), and the
-- loaded events are numbered in event_log in the same transaction instead of by the
-- sequencer. The events table's trigger refuses only UPDATE, DELETE and TRUNCATE, so the
-- append-only rule holds: nothing is changed, only appended.
\set ON_ERROR_STOP on
\timing on
BEGIN;
-- Items: thematic projects of group bench, ready to submit (summary, budget, one revision),
-- themes and due times spread so every ITEM.LIST filter has matches; 10% are overdue.
INSERT INTO items (id, workflow, workflow_version, title, theme, group_slug, state, final, version, author,
                   created_at, state_since, due_at, round, fields, revisions, last_hash)
SELECT 'TP-' || g, 'thematic-project', 1, 'Scale project ' || g,
       (ARRAY['sustainability', 'gender-equity', 'local-innovation'])[1 + g % 3], 'bench',
       'proposal', false, :per_item, 'bench-secretariat',
       now() - interval '400 days' + g * interval '1 second', now() - interval '20 days',
       CASE WHEN g % 10 = 0 THEN now() - interval '1 day' ELSE now() + interval '10 days' END,
       1, '{"budget": "25000", "summary": "A project for the scale run"}'::jsonb, 1,
       '\x5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e'::bytea
FROM generate_series(:first + 1, :items) g;
UPDATE item_counters SET last = greatest(last, :items) WHERE prefix = 'TP';

-- Events: a created event and (per_item - 1) comments per item, chained by version.
INSERT INTO events (item_id, version, type, transition, from_state, to_state, actor, at, comment, data, prev_hash, hash)
SELECT 'TP-' || g, v, CASE WHEN v = 1 THEN 'created' ELSE 'comment' END, NULL,
       CASE WHEN v = 1 THEN '' ELSE 'proposal' END, 'proposal', 'bench-secretariat',
       now() - interval '400 days' + g * interval '1 second' + v * interval '1 minute',
       CASE WHEN v = 1 THEN NULL ELSE 'note ' || v END, '{}'::jsonb,
       '\x5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e'::bytea,
       '\x5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e'::bytea
FROM generate_series(:first + 1, :items) g, generate_series(1, :per_item) v;

-- Number them in the global log, after everything numbered so far, and move the sequencer's
-- cursor past them (this transaction's xid is above every xid it has seen).
INSERT INTO event_log (seq, event_id)
SELECT s.last_seq + row_number() OVER (ORDER BY e.id), e.id
FROM events e, event_sequencer s
WHERE e.xid = pg_current_xact_id();
UPDATE event_sequencer SET last_xid = pg_current_xact_id(),
       last_id = (SELECT max(id) FROM events), last_seq = (SELECT max(seq) FROM event_log);
COMMIT;
-- The items' trigger queued one board change per loaded item: fold them into the board.
SELECT docket_board_fold() AS board_changes_folded;
VACUUM ANALYZE board;
VACUUM ANALYZE board_changes;
VACUUM ANALYZE items;
VACUUM ANALYZE events;
VACUUM ANALYZE event_log;
SELECT (SELECT count(*) FROM items) AS items, (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM event_log) AS logged;
