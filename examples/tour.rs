//! A tour of omnistorage on the local file backend: write, read, list, copy, move, delete.
//!
//! ```text
//! cargo run --example tour [DIR]
//! ```
//!
//! DIR defaults to `./omnistorage-tour` (created if missing, and left in place so you can look
//! at what was written).

use std::io::{BufRead, BufReader, Write};
use std::process::ExitCode;

use omnistorage::{
    Backend, BackendExt, FileBackend, ListOptions, MemoryBackend, Path, WriteOptions, copy_path,
    move_path,
};

fn main() -> ExitCode {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "omnistorage-tour".into());
    match run(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(dir: &str) -> omnistorage::Result<()> {
    let local = FileBackend::new(dir)?;
    println!(
        "backend: {}",
        local.location().map(|l| l.to_string()).unwrap_or_default()
    );

    // Write in pieces; nothing is visible until finish() commits the whole object.
    let path = Path::parse("logs/2026/app.log")?;
    let mut w = local.writer(&path, &WriteOptions::new())?;
    for i in 1..=1000 {
        writeln!(w, "{i:04} something happened")?;
    }
    let entry = w.finish()?;
    println!("wrote   {} ({} bytes)", entry.path, entry.size);

    local.write_all("logs/2026/errors.log", b"0042 disk full\n")?;
    local.write_all("README.txt", b"files written by the omnistorage tour\n")?;

    // Read as a plain std::io::Read.
    let reader = local.open_reader(&path)?;
    let lines = BufReader::new(reader).lines().count();
    println!("read    {path}: {lines} lines");
    let tail = local.read_range(&path, entry.size - 24..)?;
    println!(
        "range   last 24 bytes: {:?}",
        String::from_utf8_lossy(&tail)
    );

    // List: recursive, lazy, sorted by full path.
    println!("list    (everything):");
    for item in local.list(&Path::root(), &ListOptions::new())? {
        let e = item?;
        println!("          {:>6}  {}", e.size, e.path);
    }

    // Copy within the backend (server-side), and to another backend (streamed).
    copy_path(&local, &path, &local, &Path::parse("backup/app.log")?)?;
    let mem = MemoryBackend::new();
    local.copy_to("logs/2026/errors.log", &mem, "errors.log")?;
    println!(
        "copy    backup/app.log, and errors.log into memory: {:?}",
        mem.read_to_string("errors.log")?
    );

    // Move, then clean up the copy.
    move_path(
        &local,
        &Path::parse("backup/app.log")?,
        &local,
        &Path::parse("backup/app.log.1")?,
    )?;
    local.remove("backup/app.log.1")?;
    println!("moved and deleted backup/app.log");
    println!("done: see {dir}/");
    Ok(())
}
