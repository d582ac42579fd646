-- Albums and songs. Times are microseconds since the Unix epoch. An album's cover is
-- the cover designer's `superstar.v1.Cover` message, protobuf-encoded: the cover
-- designer owns covers, this copy only saves a call on every GetAlbum.
CREATE TABLE albums (
    id          TEXT   PRIMARY KEY,
    title       TEXT   NOT NULL,
    genre       TEXT   NOT NULL,
    theme       TEXT   NOT NULL,
    cover       BYTEA  NOT NULL,
    create_time BIGINT NOT NULL
);

-- A song made on its own (GenerateLyrics, Jam) has no album.
CREATE TABLE songs (
    id          TEXT    PRIMARY KEY,
    album_id    TEXT    REFERENCES albums (id),
    track       INTEGER NOT NULL,
    title       TEXT    NOT NULL,
    genre       TEXT    NOT NULL,
    genre_key   TEXT    NOT NULL,
    theme       TEXT    NOT NULL,
    lyrics      TEXT    NOT NULL,
    model       TEXT    NOT NULL,
    create_time BIGINT  NOT NULL
);

-- ListSongs pages newest first, optionally within one genre.
CREATE INDEX songs_newest ON songs (create_time DESC, id DESC);
CREATE INDEX songs_by_genre_newest ON songs (genre_key, create_time DESC, id DESC);
CREATE INDEX songs_by_album ON songs (album_id, track);
