//! The memory estimate against what loading the real test model costs. Its own test
//! binary with one test: resident memory of the process is what is measured.

use bantam_bench::check_estimate;
use bantam_core::models::fit::Budget;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_estimate_is_within_15_percent_of_the_memory_really_used() {
    let model = bantam_testkit::test_model();
    let budget = Budget::default();
    let check = check_estimate(&model, &budget)
        .await
        .unwrap()
        .expect("the test model's header has its shape, and this is Linux");
    eprintln!("{check:?}");
    // The weights are exactly the tensor table's bytes.
    assert!(check.estimate.weights > 90_000_000 && check.estimate.weights < check.estimate.total);
    assert!(
        check.error.abs() < 0.15,
        "estimate {} vs measured {} ({:+.0}%)",
        check.estimate.total,
        check.measured,
        check.error * 100.0
    );
}
