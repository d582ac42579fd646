-- Creates that carry a request_id (AIP-155), per client, kept 24 hours: what the
-- first request was and, once it succeeded, its reply, so that a repeat gets the
-- reply back without a model being called again (see superstar-server's
-- idempotency module).
CREATE TABLE request_ids (
    client      TEXT   NOT NULL, -- the client the gateway authenticated
    request_id  TEXT   NOT NULL, -- the client's UUID
    fingerprint BYTEA  NOT NULL, -- SHA-256 of the method and the request
    state       TEXT   NOT NULL, -- running, done or withdrawn
    owner       TEXT   NOT NULL, -- the attempt running it
    lease_until BIGINT NOT NULL, -- when another attempt may take a running id over
    response    BYTEA,           -- the reply, protobuf-encoded, once done
    create_time BIGINT NOT NULL,
    PRIMARY KEY (client, request_id)
);

CREATE INDEX request_ids_by_age ON request_ids (create_time);
