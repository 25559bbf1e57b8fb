//! The real MediaWiki 1.39 (`tests/services/mediawiki.sh`): a scenario of every operation
//! class that writes the captured tables, driven through the action API on two wikis
//! (`tests/mediawiki/scenario.py`, which reads MediaWiki's own view back after each operation),
//! then mwcdc's entity records of its binlog range compared with that view in the three
//! capture modes (`tests/mediawiki/check.py`), every record validated by its JSON Schema; and
//! the workload generator's row changes compared with MediaWiki's for each kind of operation
//! both have (`tests/mediawiki/drift.py`), so that the generator does not drift.

use std::path::Path;
use std::process::Command;

use mwcdc_test_support::schemas;

use crate::harness::{db, gtid_position, mysql_url, repo_root, SERVER};
use crate::truth::run_workload;

/// Runs a Python script of `tests/mediawiki/` with `args`; its stdout, panicking with its
/// output unless it exits 0.
fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg(repo_root().join("tests/mediawiki").join(script))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("python3 {script}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} {args:?}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The `checks: N, mismatches: M` figures of a check.py report.
fn figures(report: &str) -> (u64, u64) {
    let line = report
        .lines()
        .find(|l| l.starts_with("checks: "))
        .unwrap_or_else(|| panic!("no summary line in {report}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

/// Validates every entity record of a stdout sink file; how many there were.
fn validate_records(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).expect("records");
    let mut n = 0;
    for line in text.lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        schemas::validate_entity(&record["value"]);
        n += 1;
    }
    n
}

#[tokio::test(flavor = "multi_thread")]
async fn the_entity_stream_matches_what_the_real_mediawiki_did() {
    assert!(
        std::env::var("MWCDC_MW_API_A").is_ok(),
        "the MediaWiki test service is not set up: run `make test` (or tests/services/mediawiki.sh start and source its env)"
    );
    let _shared = SERVER.read().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = dir.path().join("scenario.json");
    let scenario = scenario.to_str().expect("a UTF-8 path");
    let started = std::time::Instant::now();
    python("scenario.py", &[scenario]);
    eprintln!("MediaWiki scenario: {:?}", started.elapsed());
    let mwcdc = env!("CARGO_BIN_EXE_mwcdc");
    for mode in ["all", "default", "logging"] {
        let records = dir.path().join(format!("records-{mode}.jsonl"));
        let report = python(
            "check.py",
            &[
                scenario,
                records.to_str().expect("a UTF-8 path"),
                "--mode",
                mode,
                "--run-mwcdc",
                mwcdc,
            ],
        );
        let (checks, mismatches) = figures(&report);
        let valid = validate_records(&records);
        eprintln!("capture mode {mode}: {checks} checks, {mismatches} mismatches, {valid} records schema-valid");
        assert_eq!(mismatches, 0, "{report}");
        assert!(checks > 1000 && valid > 100, "{report}");
    }
    // The generator, once, with the settings drift.py would use: one wiki, every kind of
    // operation, deletions in batches of 2 as the test wikis' $wgDeleteRevisionsBatchSize.
    let (prefix, seed, ops) = ("mwcdc_drift_", "7", "400");
    let mut conn = db().await;
    let before = gtid_position(&mut conn).await;
    run_workload(
        &mysql_url(),
        prefix,
        dir.path(),
        &[
            "--wikis",
            "1",
            "--ops",
            ops,
            "--seed",
            seed,
            "--big-pages",
            "0",
            "--delete-batch-size",
            "2",
            "--create-schema",
            "true",
        ],
    )
    .await;
    let after = gtid_position(&mut conn).await;
    let drift = python(
        "drift.py",
        &[
            scenario,
            "--mwcdc",
            mwcdc,
            "--generated",
            &before,
            &after,
            "--db-prefix",
            prefix,
            "--seed",
            seed,
            "--ops",
            ops,
            "--batch-size",
            "2",
        ],
    );
    let summary = drift
        .lines()
        .find(|l| l.starts_with("kinds: "))
        .unwrap_or_else(|| panic!("no summary line in {drift}"));
    eprintln!("generator against MediaWiki: {summary}");
    assert!(summary.ends_with("drifts: 0"), "{drift}");
}
