//! ls, lsl, lsd, lsf, lsjson, size, tree: rclone's listing formats, byte for byte (times in
//! UTC), over the one walk of `walk.rs`.

use std::io::Write;
use std::time::SystemTime;

use omnistorage::{Backend, Cancel, Entry, Error, ErrorKind, HashKind};

use super::walk::{self, Walked};
use crate::args::{Args, Usage};
use crate::output::human;
use crate::{Outcome, exit};

/// ls, lsl, lsd, lsf, lsjson, size, tree: one listing, printed as the command's name says.
pub(super) fn run(c: &super::Call<'_>) -> Result<Outcome, Usage> {
    super::on_tree(list(c.name, c.args, c.cancel))
}

/// A time as rclone formats it, to the second (`2006-01-02 15:04:05`, UTC here), and the
/// nanoseconds.
fn parts(t: SystemTime) -> (String, u32) {
    let ts = jiff::Timestamp::try_from(t).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    (
        ts.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        ts.subsec_nanosecond().unsigned_abs(),
    )
}

/// The time an entry shows: its own; a directory without one shows the time of the listing,
/// as rclone's directories do; an object without one, the Unix epoch.
fn shown(e: &Entry, now: SystemTime) -> SystemTime {
    match e.modified {
        Some(t) => t,
        None if e.is_dir => now,
        None => SystemTime::UNIX_EPOCH,
    }
}

/// `lsl`'s time: `2006-01-02 15:04:05.000000000`.
fn lsl_time(t: SystemTime) -> String {
    let (s, ns) = parts(t);
    format!("{s}.{ns:09}")
}

/// `lsjson`'s ModTime: `2006-01-02T15:04:05.000000000Z`.
fn json_time(t: SystemTime) -> String {
    let (s, ns) = parts(t);
    format!("{}.{ns:09}Z", s.replacen(' ', "T", 1))
}

/// A JSON string literal (the log's own escaping).
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    crate::output::log::json_string(s, &mut out);
    out
}

/// The MIME type rclone would guess from the extension (a short table of common ones).
fn mime(e: &Entry) -> &'static str {
    if e.is_dir {
        return "inode/directory";
    }
    match e
        .path
        .extension()
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("txt") => "text/plain; charset=utf-8",
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("xml") => "text/xml; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        Some("md") => "text/markdown; charset=utf-8",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("webp") => "image/webp",
        Some("pdf") => "application/pdf",
        Some("zip") => "application/zip",
        Some("gz") => "application/gzip",
        Some("zst") => "application/zstd",
        Some("tar") => "application/x-tar",
        Some("mp4") => "video/mp4",
        Some("mp3") => "audio/mpeg",
        _ => "application/octet-stream",
    }
}

/// A hash named on the command line (`--hash` of lsf, `--hash-type` of lsjson).
fn hash_kind(flag: &str, name: &str) -> Result<HashKind, Error> {
    HashKind::from_name(name).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("--{flag}: unknown hash {name:?} (md5, sha1, sha256, crc32c)"),
        )
    })
}

fn list(command: &str, args: &Args, cancel: &Cancel) -> Result<u8, Error> {
    let recursive = matches!(command, "ls" | "lsl" | "size" | "tree") || args.on("recursive");
    let depth = walk::depth(args, recursive)?;
    let mut w = walk::walk(&args.rest[0], depth, args, cancel)?;
    let times = match command {
        "lsl" => true,
        "lsf" => args.value("format").is_some_and(|f| f.contains('t')),
        "lsjson" => !args.on("no-modtime"),
        _ => false,
    };
    if times {
        w = w.with_times(cancel)?;
    }
    let now = SystemTime::now();
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let files = || w.entries.iter().filter(|e| !e.is_dir);
    match command {
        "ls" => {
            for e in files() {
                writeln!(out, "{:>9} {}", e.size, e.path)?;
            }
        }
        "lsl" => {
            for e in files() {
                let t = lsl_time(shown(e, now));
                writeln!(out, "{:>9} {t} {}", e.size, e.path)?;
            }
        }
        "size" => {
            let (n, bytes) = files().fold((0u64, 0u64), |(n, s), e| (n + 1, s + e.size));
            if args.on("json") {
                writeln!(out, "{{\"count\":{n},\"bytes\":{bytes},\"sizeless\":0}}")?;
            } else {
                writeln!(out, "Total objects: {} ({n})", human::count(n))?;
                writeln!(out, "Total size: {} ({bytes} Byte)", human::size(bytes))?;
            }
        }
        "tree" => crate::output::tree::write(&mut out, &w.entries)?,
        "lsd" => {
            // rclone's size column: -1 where directories are real, 0 for prefixes.
            let size = if w.backend.capabilities().directories {
                -1
            } else {
                0
            };
            for e in w.entries.iter().filter(|e| e.is_dir) {
                let (t, _) = parts(shown(e, now));
                writeln!(out, "{size:>12} {t} {:>9} {}", -1, e.path)?;
            }
        }
        "lsf" => lsf(&mut out, &w, args, now, cancel)?,
        _ => lsjson(&mut out, &w, args, now, cancel)?,
    }
    out.flush()?;
    Ok(exit::OK)
}

/// Whether `--files-only` / `--dirs-only` leave `e` out.
fn skipped(e: &Entry, args: &Args) -> bool {
    (e.is_dir && args.on("files-only")) || (!e.is_dir && args.on("dirs-only"))
}

fn lsf(
    out: &mut impl Write,
    w: &Walked,
    args: &Args,
    now: SystemTime,
    cancel: &Cancel,
) -> Result<(), Error> {
    let format = args.value("format").unwrap_or("p");
    let sep = args.value("separator").unwrap_or(";");
    let kind = hash_kind("hash", args.value("hash").unwrap_or("md5"))?;
    if let Some(other) = format.chars().find(|c| !"psthm".contains(*c)) {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("--format: unknown field {other:?} (p, s, t, h, m)"),
        ));
    }
    for e in w.entries.iter().filter(|e| !skipped(e, args)) {
        let fields: Vec<String> = format
            .chars()
            .map(|c| match c {
                'p' if e.is_dir => format!("{}/", e.path),
                'p' => e.path.to_string(),
                's' if e.is_dir => "-1".into(),
                's' => e.size.to_string(),
                't' => parts(shown(e, now)).0,
                'h' if e.is_dir => String::new(),
                'h' => w
                    .backend
                    .hash(&w.full(e), kind, Some(cancel))
                    .map(|h| h.to_hex())
                    .unwrap_or_default(),
                _ => mime(e).into(),
            })
            .collect();
        writeln!(out, "{}", fields.join(sep))?;
    }
    Ok(())
}

/// The hash kinds `lsjson --hash` shows: those of `--hash-type`, else every kind the backend
/// can give: what it stores or hashes where the data is, and on local stores every kind this
/// build can compute (rclone's local backend shows all of its own).
fn json_kinds(b: &dyn Backend, args: &Args) -> Result<Vec<HashKind>, Error> {
    let named = args.values("hash-type");
    if !named.is_empty() {
        let mut kinds = named
            .iter()
            .map(|n| hash_kind("hash-type", n))
            .collect::<Result<Vec<_>, _>>()?;
        kinds.sort_by_key(|k| k.name());
        kinds.dedup();
        return Ok(kinds);
    }
    let caps = b.capabilities();
    let mut kinds: Vec<HashKind> = if caps.local {
        HashKind::ALL.to_vec()
    } else {
        caps.hashes.union(caps.server_hashes).iter().collect()
    };
    kinds.sort_by_key(|k| k.name());
    Ok(kinds)
}

fn lsjson(
    out: &mut impl Write,
    w: &Walked,
    args: &Args,
    now: SystemTime,
    cancel: &Cancel,
) -> Result<(), Error> {
    let kinds = if args.on("hash") || !args.values("hash-type").is_empty() {
        json_kinds(w.backend.as_ref(), args)?
    } else {
        Vec::new()
    };
    let entries: Vec<&Entry> = w.entries.iter().filter(|e| !skipped(e, args)).collect();
    writeln!(out, "[")?;
    for (i, e) in entries.iter().enumerate() {
        let mut line = format!(
            "{{\"Path\":{},\"Name\":{},\"Size\":{}",
            json_str(e.path.as_str()),
            json_str(e.path.file_name().unwrap_or("")),
            if e.is_dir {
                -1
            } else {
                i64::try_from(e.size).unwrap_or(i64::MAX)
            },
        );
        if !args.on("no-mimetype") {
            line.push_str(&format!(",\"MimeType\":{}", json_str(mime(e))));
        }
        let time = if args.on("no-modtime") {
            String::new()
        } else {
            json_time(shown(e, now))
        };
        line.push_str(&format!(
            ",\"ModTime\":{},\"IsDir\":{}",
            json_str(&time),
            e.is_dir
        ));
        if !e.is_dir && !kinds.is_empty() {
            let path = w.full(e);
            let hashes: Vec<String> = kinds
                .iter()
                .filter_map(|k| {
                    // A kind this build or backend cannot give is left out, as rclone
                    // leaves out the kinds an object does not have.
                    let h = w.backend.hash(&path, *k, Some(cancel)).ok()?;
                    Some(format!("{}:{}", json_str(k.name()), json_str(&h.to_hex())))
                })
                .collect();
            line.push_str(&format!(",\"Hashes\":{{{}}}", hashes.join(",")));
        }
        let comma = if i + 1 < entries.len() { "," } else { "" };
        writeln!(out, "{line}}}{comma}")?;
    }
    writeln!(out, "]")?;
    Ok(())
}
