//! Each client's model-call budget in one process: all or nothing, its own per client.

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

#[tokio::test]
async fn each_client_has_its_own_budget() {
    let budget = budget(1, 12);
    budget.spend("alice", 12).await.unwrap();
    let refused = refused(budget.spend("alice", 1).await.unwrap_err());
    assert!(refused.retry_after > Duration::ZERO && refused.retry_after <= Duration::from_secs(1));
    budget.spend("bob", 12).await.unwrap();
}

#[tokio::test]
async fn a_request_is_charged_all_or_nothing() {
    let budget = budget(1, 12);
    budget.spend("alice", 8).await.unwrap();
    let refused = refused(budget.spend("alice", 5).await.unwrap_err());
    assert_eq!(refused.calls, 5);
    assert!(refused.to_string().contains("retry in"), "{refused}");
    // The refused request took nothing: the four left are still there.
    budget.spend("alice", 4).await.unwrap();
}

#[tokio::test]
async fn the_largest_album_fits_a_smaller_burst() {
    budget(2, 1).spend("alice", LARGEST_REQUEST).await.unwrap();
}
