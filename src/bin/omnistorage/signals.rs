//! Ctrl-C and SIGTERM: the first cancels the run (transfers in flight are aborted, so no
//! partial object is committed and multipart uploads are aborted), the second exits at once.

use omnistorage::Cancel;

/// Watches for SIGINT and SIGTERM on a thread of its own until the process ends; `None`
/// if the handlers cannot be installed (then the default — exit at once — applies).
pub fn install(cancel: &Cancel) -> Option<std::thread::JoinHandle<()>> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).ok()?;
    let cancel = cancel.clone();
    std::thread::Builder::new()
        .name("omnistorage-signals".into())
        .spawn(move || {
            let mut seen = 0;
            for signal in signals.forever() {
                seen += 1;
                if seen > 1 {
                    eprintln!("Interrupted again: exiting now");
                    std::process::exit(128 + signal);
                }
                eprintln!("Interrupted: stopping transfers (press Ctrl-C again to exit at once)");
                cancel.cancel();
            }
        })
        .ok()
}
