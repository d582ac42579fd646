//! The scripts where people keep their checkouts: bin/test's PostgreSQL from a private
//! folder, as root too.

use std::{os::unix::fs::PermissionsExt, process::Command};

use super::*;

/// bin/test's PostgreSQL starts from a checkout in a private folder (mode 700, like
/// /root or `mktemp -d`). As root the server runs as `postgres`, which cannot enter such
/// a folder, so its data must live elsewhere.
#[test]
#[ignore = "starts a PostgreSQL server: bin/test runs this"]
fn test_postgres_starts_from_a_private_checkout() {
    let checkout = tempfile::tempdir().unwrap();
    std::fs::set_permissions(checkout.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let mode = std::fs::metadata(checkout.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700, "a private folder");
    std::fs::create_dir_all(checkout.path().join("bin/lib")).unwrap();
    std::fs::copy(
        repo().join("bin/lib/postgres.sh"),
        checkout.path().join("bin/lib/postgres.sh"),
    )
    .unwrap();
    let output = Command::new("bash")
        .args([
            "-c",
            "set -euo pipefail; source bin/lib/postgres.sh; trap stop_test_postgres EXIT
             start_test_postgres >/dev/null
             \"$(postgres_bin_dir)/psql\" -tAc 'SELECT 40 + 2' \"$SUPERSTAR_TEST_POSTGRES_URL\"",
        ])
        .current_dir(checkout.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "42");
}
