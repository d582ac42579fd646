-- Each client's model-call budget, shared by every replica on this database: GCRA's
-- theoretical arrival time of the client's next call, in microseconds since the epoch
-- (see src/budget.rs). On SQLite, a single process keeps its budgets in memory.
CREATE TABLE model_budgets (
    client TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);
