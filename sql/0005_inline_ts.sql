-- docket_ts had the same flaw as docket_micros (0004): timestamptz + interval is only STABLE,
-- so PostgreSQL ran it as a function call wherever its argument was not a constant, as in the
-- prepared write statement. Adding the microseconds to a timestamp and reading that as UTC
-- uses IMMUTABLE parts only and gives the same instant.
CREATE OR REPLACE FUNCTION docket_ts(micros bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT timezone('UTC', timestamp 'epoch' + micros * interval '1 microsecond') $$;
