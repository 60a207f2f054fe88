//! ls, lsl, lsd, lsf, lsjson, size, tree: rclone's listing formats.

use std::io::Write;
use std::time::SystemTime;

use omnistorage::{Backend, Cancel, Entry, Error, HashKind, ListOptions, Path};

use crate::args::{Args, Usage};
use crate::{Outcome, exit, flags, remote};

/// ls, lsl, lsd, lsf, lsjson, size, tree: one listing, printed as the command's name says.
pub(super) fn run(c: &super::Call<'_>) -> Result<Outcome, Usage> {
    super::on_tree(list(c.name, c.args, c.cancel))
}

/// Time as rclone prints it in `lsl`: `2006-01-02 15:04:05.000000000` (UTC here).
fn lsl_time(t: Option<SystemTime>) -> String {
    let Some(t) = t.and_then(|t| jiff::Timestamp::try_from(t).ok()) else {
        return "-".into();
    };
    t.strftime("%Y-%m-%d %H:%M:%S.%f").to_string()
}

/// RFC 3339 with nanoseconds, UTC (`lsjson`'s ModTime).
fn rfc3339(t: Option<SystemTime>) -> String {
    t.and_then(|t| jiff::Timestamp::try_from(t).ok())
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S.%fZ").to_string())
        .unwrap_or_default()
}

/// A JSON string literal (the log's own escaping).
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    crate::output::log::json_string(s, &mut out);
    out
}

/// The MIME type rclone would guess from the extension (a short table of common ones).
fn mime(path: &Path, is_dir: bool) -> &'static str {
    if is_dir {
        return "inode/directory";
    }
    match path.extension().map(|e| e.to_ascii_lowercase()).as_deref() {
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

/// The listing a command walks: recursive for ls/lsl/size/tree/md5sum, one level for
/// lsd/lsf/lsjson unless -R; the filter applies to objects.
fn entries(
    backend: &dyn Backend,
    root: &Path,
    recursive: bool,
    args: &Args,
    cancel: &Cancel,
) -> Result<Vec<Entry>, Error> {
    let filter = flags::filter(args)?;
    let mut opts = ListOptions::new().recursive(recursive);
    opts.cancel = Some(cancel.clone());
    let mut out = Vec::new();
    let mut dirs = std::collections::HashSet::new();
    for item in backend.list(root, &opts)? {
        let mut e = item?;
        let Some(rel) = e.path.strip_prefix(root) else {
            continue;
        };
        if rel.is_root() {
            continue;
        }
        e.path = rel;
        if !e.is_dir
            && let Some(f) = &filter
            && !f.include_file(e.path.as_str(), e.size, e.modified)
        {
            continue;
        }
        if recursive && !e.is_dir {
            // A recursive listing has objects only; rclone shows their directories too,
            // each just before its first entry (which keeps the order).
            let mut missing = Vec::new();
            let mut up = e.path.parent().filter(|p| !p.is_root());
            while let Some(d) = up {
                if !dirs.insert(d.as_str().to_owned()) {
                    break;
                }
                up = d.parent().filter(|p| !p.is_root());
                missing.push(d);
            }
            out.extend(missing.into_iter().rev().map(Entry::dir));
        } else if e.is_dir && !dirs.insert(e.path.as_str().to_owned()) {
            continue;
        }
        out.push(e);
    }
    Ok(out)
}

fn list(command: &str, args: &Args, cancel: &Cancel) -> Result<u8, Error> {
    let target = remote::tree(&args.rest[0])?;
    crate::commands::objects::require_dir(target.backend.as_ref(), &target.path)?;
    let b = target.backend.as_ref();
    let rec = args.on("recursive");
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let w = |e: std::io::Error| Error::from(e);
    match command {
        "ls" | "lsl" | "size" | "tree" => {
            let all = entries(b, &target.path, true, args, cancel)?;
            let files = all.iter().filter(|e| !e.is_dir);
            match command {
                "ls" => {
                    for e in files {
                        writeln!(out, "{:>9} {}", e.size, e.path).map_err(w)?;
                    }
                }
                "lsl" => {
                    for e in files {
                        writeln!(out, "{:>9} {} {}", e.size, lsl_time(e.modified), e.path)
                            .map_err(w)?;
                    }
                }
                "size" => {
                    let (n, bytes) = files.fold((0u64, 0u64), |(n, s), e| (n + 1, s + e.size));
                    writeln!(
                        out,
                        "Total objects: {n}\nTotal size: {bytes} Byte ({bytes} Bytes)"
                    )
                    .map_err(w)?;
                }
                _ => {
                    writeln!(out, "/").map_err(w)?;
                    let mut last: Vec<String> = Vec::new();
                    for e in files {
                        let segs: Vec<&str> = e.path.segments().collect();
                        for (depth, seg) in segs.iter().enumerate() {
                            if last.get(depth).map(String::as_str) == Some(*seg)
                                && depth + 1 < segs.len()
                            {
                                continue;
                            }
                            writeln!(out, "{}└── {seg}", "    ".repeat(depth)).map_err(w)?;
                        }
                        last = segs.iter().map(|s| s.to_string()).collect();
                    }
                }
            }
        }
        "lsd" => {
            for e in entries(b, &target.path, rec, args, cancel)?
                .iter()
                .filter(|e| e.is_dir)
            {
                writeln!(
                    out,
                    "{:>12} {} {:>9} {}",
                    -1,
                    lsl_time(e.modified),
                    -1,
                    e.path
                )
                .map_err(w)?;
            }
        }
        "lsf" => {
            let format = args.value("format").unwrap_or("p");
            let sep = args.value("separator").unwrap_or(";");
            let kind = args
                .value("hash")
                .and_then(HashKind::from_name)
                .unwrap_or(HashKind::Md5);
            for e in entries(b, &target.path, rec, args, cancel)? {
                if (e.is_dir && args.on("files-only")) || (!e.is_dir && args.on("dirs-only")) {
                    continue;
                }
                let mut fields = Vec::new();
                for c in format.chars() {
                    fields.push(match c {
                        'p' => {
                            let slash = if e.is_dir { "/" } else { "" };
                            format!("{}{slash}", e.path)
                        }
                        's' => {
                            if e.is_dir {
                                "-1".into()
                            } else {
                                e.size.to_string()
                            }
                        }
                        't' => lsl_time(e.modified).chars().take(19).collect(),
                        'h' if !e.is_dir => b
                            .hash(&target.path.join(&e.path), kind, Some(cancel))
                            .map(|h| h.to_hex())
                            .unwrap_or_default(),
                        'h' => String::new(),
                        'm' => mime(&e.path, e.is_dir).into(),
                        other => {
                            return Err(Error::new(
                                omnistorage::ErrorKind::InvalidInput,
                                format!("--format: unknown field {other:?} (p, s, t, h, m)"),
                            ));
                        }
                    });
                }
                writeln!(out, "{}", fields.join(sep)).map_err(w)?;
            }
        }
        _ => {
            // lsjson
            let kind = args.value("hash").and_then(HashKind::from_name);
            writeln!(out, "[").map_err(w)?;
            let all = entries(b, &target.path, rec, args, cancel)?;
            for (i, e) in all.iter().enumerate() {
                let hashes = match kind.filter(|_| !e.is_dir) {
                    Some(k) => match b.hash(&target.path.join(&e.path), k, Some(cancel)) {
                        Ok(h) => format!(
                            ",\"Hashes\":{{{}:{}}}",
                            json_str(k.name()),
                            json_str(&h.to_hex())
                        ),
                        Err(_) => String::new(),
                    },
                    None => String::new(),
                };
                let comma = if i + 1 < all.len() { "," } else { "" };
                writeln!(
                    out,
                    "{{\"Path\":{},\"Name\":{},\"Size\":{},\"MimeType\":{},\"ModTime\":{},\"IsDir\":{}{hashes}}}{comma}",
                    json_str(e.path.as_str()),
                    json_str(e.path.file_name().unwrap_or("")),
                    if e.is_dir { -1 } else { i64::try_from(e.size).unwrap_or(i64::MAX) },
                    json_str(mime(&e.path, e.is_dir)),
                    json_str(&rfc3339(e.modified)),
                    e.is_dir
                )
                .map_err(w)?;
            }
            writeln!(out, "]").map_err(w)?;
        }
    }
    out.flush().map_err(w)?;
    Ok(exit::OK)
}
