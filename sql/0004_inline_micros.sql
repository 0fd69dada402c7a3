-- docket_micros as first written could not be inlined: extract(epoch FROM timestamptz) is only
-- STABLE, and PostgreSQL does not inline an IMMUTABLE SQL function whose body is less
-- immutable. Every call then ran as a function of its own (an executor started per call,
-- three calls per item row read), which cost about as much as the rest of reading the row.
-- The difference of two timestamptz and the epoch of an interval are IMMUTABLE, and give the
-- same microseconds: now the expression is inlined into every query that reads a time.
CREATE OR REPLACE FUNCTION docket_micros(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (extract(epoch FROM t - timestamptz 'epoch') * 1000000)::bigint $$;
