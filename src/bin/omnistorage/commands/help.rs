//! The usage text.

/// `omnistorage help`.
pub const USAGE: &str = "\
omnistorage: rclone's verbs over every storage backend, in one small binary.

Usage: omnistorage [flags] <command> [flags] <args>

Remotes: a local path, or a URL: s3://bucket/prefix?endpoint=..., sftp://user@host/path,
mem://, file:///abs.

Commands:
  sync SRC DST        make DST identical to SRC (deletes extras at DST)
  copy SRC DST        copy new and changed files from SRC to DST
  move SRC DST        move files from SRC to DST
  copyto SRC DST      copy one file (or a tree) to exactly DST
  moveto SRC DST      move one file (or a tree) to exactly DST
  check SRC DST       compare two trees (sizes and hashes)
  cryptcheck/verify   compare two trees by hashing the data on both sides
  bisync P1 P2        two-way sync (first run: --resync)
  dedupe [MODE] PATH  find files with identical content (list|first|newest|oldest|rename)
  ls, lsl, lsd, lsf, lsjson PATH   list objects / with times / directories / for scripts / as JSON
  size PATH           total size and count
  tree PATH           a tree of the listing
  cat FILE            print a file (--offset, --count, --head, --tail)
  rcat FILE           stdin to a file, streamed
  delete PATH         delete the files under PATH (filters apply)
  deletefile FILE     delete one file
  purge PATH          delete everything under PATH, directories too
  mkdir, rmdir, rmdirs PATH
  touch FILE          create a file or set its time
  md5sum, sha1sum, sha256sum PATH, hashsum HASH PATH
  link FILE           a presigned URL (--expire 1h)
  cleanup PATH        abort pending uploads (S3 multipart) and staged leftovers
  config list|show NAME|create NAME TYPE k=v...|delete NAME|path
                      named remotes (~/.config/omnistorage/config.toml, or rclone's
                      rclone.conf read unchanged), used as NAME:path
  version             print the version
  completion SHELL    shell completions (bash, zsh, fish)

Flags: rclone's names (omnistorage help flags lists them all).

Exit codes: 0 ok, 1 usage or error, 3 directory not found, 4 file not found, 5 temporary
error, 7 fatal (e.g. --max-delete), 8 --max-transfer reached, 9 nothing transferred
(--error-on-no-transfer), 130 interrupted.
";

/// `omnistorage help flags`: every flag, from the parser's own table.
pub fn flags() -> String {
    let mut out = String::from("Flags:\n");
    for f in crate::args::FLAGS {
        let short = f.short.map(|c| format!("-{c}, ")).unwrap_or_default();
        let value = match f.kind {
            crate::args::Kind::Value | crate::args::Kind::Many => " VALUE",
            _ => "",
        };
        let name = format!("{short}--{}{value}", f.long);
        out.push_str(&format!("  {name:<28} {}\n", f.help));
    }
    out
}
