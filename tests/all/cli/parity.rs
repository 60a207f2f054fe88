//! The binary side by side with rclone 1.60: the same flags and filter file on the same
//! trees give the same destination tree and the same `check --combined` report.

use omnistorage::conformance::TempDir;

use super::{code, run, stderr, stdout};
use crate::sync::parity::{
    RULES, destination, rclone, rclone_combined, run_rclone, snapshot, source,
};

#[test]
fn sync_and_check_with_a_filter_file_match_rclone() {
    if rclone().is_none() {
        return;
    }
    let home = TempDir::new().unwrap();
    let (src, ours, theirs) = (
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
    );
    let rules = home.path().join("rules.txt");
    std::fs::write(&rules, RULES).unwrap();
    source(src.path());
    destination(ours.path());
    destination(theirs.path());
    let s = src.path().to_string_lossy().into_owned();
    let r = rules.to_string_lossy().into_owned();
    for (flags, label) in [
        (vec![], "plain"),
        (vec!["--filter-from", r.as_str()], "filtered"),
    ] {
        let (a, b) = (TempDir::new().unwrap(), TempDir::new().unwrap());
        destination(a.path());
        destination(b.path());
        let (pa, pb) = (
            a.path().to_string_lossy().into_owned(),
            b.path().to_string_lossy().into_owned(),
        );
        let mut args = vec!["sync", s.as_str(), pa.as_str(), "--no-hash-cache"];
        args.extend(flags.iter().copied());
        let o = run(&args, None, home.path());
        assert_eq!(code(&o), 0, "{label}: {}", stderr(&o));
        let mut rargs = vec!["sync", s.as_str(), pb.as_str()];
        rargs.extend(flags.iter().copied());
        let theirs_out = run_rclone(&rargs);
        assert!(
            theirs_out.status.success(),
            "{label}: rclone: {}",
            String::from_utf8_lossy(&theirs_out.stderr)
        );
        assert_eq!(snapshot(a.path()), snapshot(b.path()), "{label}");
    }
    // check, on the unsynced trees, with the filter.
    let d = ours.path().to_string_lossy().into_owned();
    let o = run(
        &["check", &s, &d, "--filter-from", &r, "--combined", "-"],
        None,
        home.path(),
    );
    let mut lines: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
    lines.sort();
    assert_eq!(
        lines,
        rclone_combined(src.path(), ours.path(), &["--filter-from", &r])
    );
    let _ = theirs;
}
