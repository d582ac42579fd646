-- Covers and their images. Times are microseconds since the Unix epoch.
CREATE TABLE covers (
    id             TEXT    PRIMARY KEY,
    description    TEXT    NOT NULL,
    title          TEXT    NOT NULL,
    genre          TEXT    NOT NULL,
    mime_type      TEXT    NOT NULL,
    width          INTEGER NOT NULL,
    height         INTEGER NOT NULL,
    image          BYTEA   NOT NULL,
    revised_prompt TEXT,
    model          TEXT    NOT NULL,
    create_time    BIGINT  NOT NULL
);
