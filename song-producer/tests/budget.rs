//! Each client's model-call budget in one process: all or nothing, its own per client.
//!
//! On tokio's paused clock, which the budget reads: time moves only when a test moves
//! it, however busy the machine is.

use std::{num::NonZeroU32, time::Duration};

use song_producer::{
    budget::{BudgetSettings, LARGEST_REQUEST, ModelBudget, OverBudget},
    error::Error,
};

fn budget(per_second: u32, burst: u32) -> ModelBudget {
    ModelBudget::new(BudgetSettings {
        per_second: NonZeroU32::new(per_second).unwrap(),
        burst: NonZeroU32::new(burst).unwrap(),
    })
}

fn refused(error: Error) -> OverBudget {
    match error {
        Error::OverBudget(over) => over,
        other => panic!("not over budget: {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn each_client_has_its_own_budget() {
    let budget = budget(1, 12);
    budget.spend("alice", 12).await.unwrap();
    let over = refused(budget.spend("alice", 1).await.unwrap_err());
    // One call a second: the next is a second away, exactly (no time has passed).
    assert_eq!(over.retry_after, Duration::from_secs(1));
    budget.spend("bob", 12).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_spent_budget_refills_at_its_rate_and_says_when() {
    let budget = budget(2, 12);
    budget.spend("alice", 12).await.unwrap();
    let first = refused(budget.spend("alice", 2).await.unwrap_err());
    assert_eq!(
        first.retry_after,
        Duration::from_secs(1),
        "two calls at 2/s"
    );

    // Just short of the time it named: still refused, with what is left to wait.
    tokio::time::advance(Duration::from_millis(900)).await;
    let again = refused(budget.spend("alice", 2).await.unwrap_err());
    assert_eq!(again.retry_after, Duration::from_millis(100));

    // At the time it named: served, and spent again.
    tokio::time::advance(Duration::from_millis(100)).await;
    budget.spend("alice", 2).await.unwrap();
    refused(budget.spend("alice", 1).await.unwrap_err());
}

#[tokio::test(start_paused = true)]
async fn a_request_is_charged_all_or_nothing() {
    let budget = budget(1, 12);
    budget.spend("alice", 8).await.unwrap();
    let over = refused(budget.spend("alice", 5).await.unwrap_err());
    assert_eq!(over.calls, 5);
    assert!(over.to_string().contains("retry in"), "{over}");
    // The refused request took nothing: the four left are still there, and no more.
    budget.spend("alice", 4).await.unwrap();
    refused(budget.spend("alice", 1).await.unwrap_err());
}

#[tokio::test(start_paused = true)]
async fn the_largest_album_fits_a_smaller_burst() {
    budget(2, 1).spend("alice", LARGEST_REQUEST).await.unwrap();
}
