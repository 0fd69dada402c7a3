-- Workflow definitions, items, revisions and the append-only event log.

-- Timestamps cross the wire as microseconds since 1970, exactly: the audit chain hashes them.
CREATE FUNCTION docket_micros(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;
CREATE FUNCTION docket_ts(micros bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT timestamptz 'epoch' + micros * interval '1 microsecond' $$;

CREATE TABLE workflows (
    name        text NOT NULL,
    version     int NOT NULL CHECK (version >= 1),
    title       text NOT NULL,
    prefix      text NOT NULL,
    source      text NOT NULL,
    checksum    text NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version)
);

-- Item numbers per prefix: PP-1, PP-2, ...
CREATE TABLE item_counters (
    prefix      text PRIMARY KEY,
    last        bigint NOT NULL
);

-- One row per item holds everything the engine decides on (its snapshot): the votes of the
-- current round, endorsements, milestones and assignees live here as JSON, so a command
-- reads one row under its lock and writes it back in the same statement as its event.
CREATE TABLE items (
    n                 bigint GENERATED ALWAYS AS IDENTITY UNIQUE,   -- creation order, for paging
    id                text PRIMARY KEY,
    workflow          text NOT NULL,
    workflow_version  int NOT NULL,
    title             text NOT NULL,
    theme             text REFERENCES themes (slug),
    group_slug        text REFERENCES groups (slug),
    state             text NOT NULL,
    final             boolean NOT NULL DEFAULT false,
    version           int NOT NULL CHECK (version >= 1),
    author            text NOT NULL REFERENCES users (handle),
    created_at        timestamptz NOT NULL,
    state_since       timestamptz NOT NULL,
    due_at            timestamptz,
    round             int NOT NULL DEFAULT 1,
    fields            jsonb NOT NULL DEFAULT '{}',
    revisions         int NOT NULL DEFAULT 0,
    votes             jsonb NOT NULL DEFAULT '[]',
    assignees         text[] NOT NULL DEFAULT '{}',
    endorsements      jsonb NOT NULL DEFAULT '[]',
    milestones        jsonb NOT NULL DEFAULT '[]',
    last_hash         bytea NOT NULL,
    FOREIGN KEY (workflow, workflow_version) REFERENCES workflows (name, version)
);
CREATE INDEX items_workflow_state ON items (workflow, state, n);
CREATE INDEX items_state ON items (state, n);
CREATE INDEX items_theme ON items (theme, n);
CREATE INDEX items_group ON items (group_slug, n);
CREATE INDEX items_author ON items (author, n);
CREATE INDEX items_due ON items (due_at) WHERE NOT final AND due_at IS NOT NULL;
CREATE INDEX items_assignees ON items USING gin (assignees) WHERE NOT final;
CREATE INDEX items_board ON items (workflow, state, theme) INCLUDE (due_at);

-- Every revision of an item's document, in full.
CREATE TABLE revisions (
    item_id     text NOT NULL REFERENCES items (id),
    number      int NOT NULL,
    body        text NOT NULL,
    note        text,
    sha256      text NOT NULL,
    author      text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (item_id, number)
);

-- The event log. Append-only; each event extends its item's SHA-256 chain.
CREATE TABLE events (
    id          bigserial PRIMARY KEY,
    item_id     text NOT NULL REFERENCES items (id),
    version     int NOT NULL,
    type        text NOT NULL,
    transition  text,
    from_state  text NOT NULL,
    to_state    text NOT NULL,
    actor       text NOT NULL,
    at          timestamptz NOT NULL,
    comment     text,
    data        jsonb NOT NULL DEFAULT '{}',
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL,
    -- The writing transaction, which orders events for the global sequence (see event_log).
    xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (item_id, version)
);
CREATE INDEX events_xid ON events (xid, id);
CREATE INDEX events_at ON events (at);

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

-- The global sequence readers resume from. A bigserial alone commits out of order, so events
-- are numbered here after their transaction has finished, in (xid, id) order, and only once
-- every transaction with a smaller xid has finished too: a reader that resumes "after N"
-- can never miss an event numbered below N later.
CREATE TABLE event_log (
    seq         bigint PRIMARY KEY,
    event_id    bigint NOT NULL UNIQUE REFERENCES events (id)
);

CREATE TABLE event_sequencer (
    id          int PRIMARY KEY CHECK (id = 1),
    last_xid    xid8 NOT NULL,
    last_id     bigint NOT NULL,
    last_seq    bigint NOT NULL
);
INSERT INTO event_sequencer VALUES (1, '0'::xid8, 0, 0);

-- A repeated idempotency key returns the first answer and appends nothing.
CREATE TABLE idempotency_keys (
    handle      text NOT NULL,
    key         text NOT NULL,
    item_id     text NOT NULL,
    command     text NOT NULL,
    event_id    bigint NOT NULL REFERENCES events (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (handle, key)
);

-- Reminders and timed transitions, claimed by the scheduler with FOR UPDATE SKIP LOCKED.
CREATE TABLE timers (
    id          bigserial PRIMARY KEY,
    item_id     text NOT NULL REFERENCES items (id),
    round       int NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('reminder', 'transition')),
    name        text NOT NULL,
    fire_at     timestamptz NOT NULL
);
CREATE INDEX timers_due ON timers (fire_at);
CREATE INDEX timers_item ON timers (item_id);
