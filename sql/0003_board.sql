-- The board REPORT.STATUS reads: how many items stand in each workflow version, state, theme
-- and group, and when they fall due, kept as items move instead of counted from every item
-- at each report.
--
-- Moving items append +1/-1 rows to board_changes (a trigger, so every writer and any bulk
-- load keeps it true); nothing is updated in place, so concurrent transitions out of one busy
-- state never wait on each other's counter row. docket_board_fold() moves the changes into
-- board; every `docket serve` calls it from its scheduler. A report sums board and the
-- changes not folded yet, so it is exact at any moment.
-- theme and group_slug hold '' for none, so they can be part of the key. due_day is the UTC
-- day (days since 1970) an open item falls due, -1 for final items and items without a due
-- time: items due before today are overdue by the board alone, and only those due today are
-- compared with the clock one by one.

CREATE TABLE board (
    workflow          text NOT NULL,
    workflow_version  int NOT NULL,
    state             text NOT NULL,
    theme             text NOT NULL,
    group_slug        text NOT NULL,
    due_day           int NOT NULL,
    items             bigint NOT NULL,
    PRIMARY KEY (workflow, workflow_version, state, theme, group_slug, due_day)
);

CREATE TABLE board_changes (
    workflow          text NOT NULL,
    workflow_version  int NOT NULL,
    state             text NOT NULL,
    theme             text NOT NULL,
    group_slug        text NOT NULL,
    due_day           int NOT NULL,
    delta             int NOT NULL
);

CREATE FUNCTION docket_due_day(final boolean, due_at timestamptz) RETURNS int
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN final OR due_at IS NULL THEN -1 ELSE floor(docket_micros(due_at) / 86400000000.0)::int END $$;

CREATE FUNCTION docket_board_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO board_changes VALUES (OLD.workflow, OLD.workflow_version, OLD.state, coalesce(OLD.theme, ''),
                                          coalesce(OLD.group_slug, ''), docket_due_day(OLD.final, OLD.due_at), -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO board_changes VALUES (NEW.workflow, NEW.workflow_version, NEW.state, coalesce(NEW.theme, ''),
                                          coalesce(NEW.group_slug, ''), docket_due_day(NEW.final, NEW.due_at), 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER items_board_add AFTER INSERT OR DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION docket_board_track();
-- Only a change of place or due time counts: most writes (votes, comments) fire no trigger.
CREATE TRIGGER items_board_move AFTER UPDATE OF workflow, workflow_version, state, theme, group_slug, final, due_at ON items
    FOR EACH ROW
    WHEN ((OLD.workflow, OLD.workflow_version, OLD.state, OLD.theme, OLD.group_slug, OLD.final, OLD.due_at)
          IS DISTINCT FROM (NEW.workflow, NEW.workflow_version, NEW.state, NEW.theme, NEW.group_slug, NEW.final, NEW.due_at))
    EXECUTE FUNCTION docket_board_track();

-- Moves the pending changes into board and returns how many it moved; one caller at a time
-- (the advisory key is the migrator's plus one; others return 0 at once).
CREATE FUNCTION docket_board_fold() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    moved bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(110429572130165) THEN
        RETURN 0;
    END IF;
    WITH taken AS (DELETE FROM board_changes RETURNING *),
         sums AS (SELECT workflow, workflow_version, state, theme, group_slug, due_day, sum(delta) AS d, count(*) AS n
                  FROM taken GROUP BY 1, 2, 3, 4, 5, 6),
         upserted AS (
             INSERT INTO board AS b (workflow, workflow_version, state, theme, group_slug, due_day, items)
             SELECT workflow, workflow_version, state, theme, group_slug, due_day, d FROM sums
             ON CONFLICT (workflow, workflow_version, state, theme, group_slug, due_day)
             DO UPDATE SET items = b.items + excluded.items
             RETURNING 1)
    SELECT coalesce(sum(n), 0) INTO moved FROM sums;
    DELETE FROM board WHERE items = 0;
    RETURN moved;
END
$$;

INSERT INTO board (workflow, workflow_version, state, theme, group_slug, due_day, items)
SELECT workflow, workflow_version, state, coalesce(theme, ''), coalesce(group_slug, ''), docket_due_day(final, due_at), count(*)
FROM items GROUP BY 1, 2, 3, 4, 5, 6;

-- REPORT.WAITING: open items, oldest in their state first.
CREATE INDEX items_open_since ON items (state_since, id) WHERE NOT final;

-- The covering index REPORT.STATUS used to scan is not read any more; every state change
-- paid for it.
DROP INDEX items_board;
