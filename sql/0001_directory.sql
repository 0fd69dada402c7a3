-- The directory: member governments, people, working groups, themes, tokens.

CREATE TABLE themes (
    slug        text PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO themes (slug, name) VALUES
    ('gender-equity', 'Gender equity'),
    ('sustainability', 'Sustainability'),
    ('local-innovation', 'Local innovation');

-- Local and regional governments and their national associations.
CREATE TABLE members (
    slug        text PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
    name        text NOT NULL,
    kind        text NOT NULL DEFAULT 'city'
                CHECK (kind IN ('city', 'region', 'metropolis', 'association', 'other')),
    country     text,
    section     text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    handle      text PRIMARY KEY CHECK (handle ~ '^[a-z0-9][a-z0-9._-]*$'),
    name        text NOT NULL,
    member      text REFERENCES members (slug),
    -- Global roles.
    roles       text[] NOT NULL DEFAULT '{}' CHECK (roles <@ ARRAY['admin', 'secretariat']),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 of each token is kept; the token itself is shown once.
CREATE TABLE tokens (
    id          bigserial PRIMARY KEY,
    handle      text NOT NULL REFERENCES users (handle) ON DELETE CASCADE,
    hash        bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX tokens_handle ON tokens (handle) WHERE revoked_at IS NULL;

-- Working groups (committees) own items and carry themes.
CREATE TABLE groups (
    slug        text PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
    name        text NOT NULL,
    themes      text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE group_roles (
    handle      text NOT NULL REFERENCES users (handle) ON DELETE CASCADE,
    group_slug  text NOT NULL REFERENCES groups (slug) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('chair', 'drafter', 'reviewer')),
    PRIMARY KEY (handle, group_slug, role)
);
CREATE INDEX group_roles_group ON group_roles (group_slug, role);
