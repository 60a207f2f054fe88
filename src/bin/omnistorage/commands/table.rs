//! The command table: every command with its names, arguments, summary, own flags and the
//! function that runs it. Dispatch, `help`, `help COMMAND`, flag validation and the shell
//! completions are all made from it; a command exists when it has a line here.

use omnistorage::HashKind;

use super::{
    Call, Command, about, configcmd, help, list, missing_fails, objects, on_object, on_tree,
    transfer,
};
use crate::args::{Kind, Spec, flag, short};
use crate::{Outcome, exit};

/// Any number of arguments: the command checks them itself.
const ANY: (usize, usize) = (0, usize::MAX);

/// `check` and `cryptcheck`: where the report files go, one-way, and the depth.
const CHECK: &[Spec] = &[
    flag(
        "one-way",
        Kind::Switch,
        "only look for files missing at the destination",
    ),
    flag(
        "combined",
        Kind::Value,
        "write the combined report to this file (- for stdout)",
    ),
    flag(
        "missing-on-src",
        Kind::Value,
        "report files missing at the source here",
    ),
    flag(
        "missing-on-dst",
        Kind::Value,
        "report files missing at the destination here",
    ),
    flag("match", Kind::Value, "report matching files here"),
    flag("differ", Kind::Value, "report differing files here"),
    flag("error", Kind::Value, "report files with errors here"),
    MAX_DEPTH,
];

/// `check` alone: the reports, and `--download`.
const CHECK_DOWNLOAD: &[Spec] = &[
    CHECK[0],
    CHECK[1],
    CHECK[2],
    CHECK[3],
    CHECK[4],
    CHECK[5],
    CHECK[6],
    CHECK[7],
    flag(
        "download",
        Kind::Switch,
        "compare the data, downloading both sides",
    ),
];

const RECURSIVE: Spec = short("recursive", 'R', Kind::Switch, "recurse into the listing");
const DIRS_ONLY: Spec = flag("dirs-only", Kind::Switch, "only list directories");
const FILES_ONLY: Spec = flag("files-only", Kind::Switch, "only list files");
const HASH: Spec = flag(
    "hash",
    Kind::Value,
    "the hash h shows (md5, sha1, sha256, crc32c; md5)",
);
const MAX_DEPTH: Spec = flag(
    "max-depth",
    Kind::Value,
    "descend only this many levels (0: all the way)",
);

/// ls, lsl, size: how deep.
const DEPTH: &[Spec] = &[MAX_DEPTH];
/// `move` and `moveto`'s own flag, and the depth for `move`.
const MOVE: &[Spec] = &[DELETE_EMPTY_SRC_DIRS, MAX_DEPTH];

const LSD: &[Spec] = &[RECURSIVE, MAX_DEPTH];

const LSJSON: &[Spec] = &[
    RECURSIVE,
    MAX_DEPTH,
    DIRS_ONLY,
    FILES_ONLY,
    flag(
        "hash",
        Kind::Switch,
        "show the hashes (all the backend gives)",
    ),
    flag(
        "hash-type",
        Kind::Many,
        "show only this hash (repeatable; md5, sha1, sha256, crc32c)",
    ),
    flag(
        "no-modtime",
        Kind::Switch,
        "leave out the modification time",
    ),
    flag("no-mimetype", Kind::Switch, "leave out the MIME type"),
    flag(
        "original",
        Kind::Switch,
        "show the underlying object's ID (none of our backends has one)",
    ),
];

const TREE: &[Spec] = &[
    MAX_DEPTH,
    flag("level", Kind::Value, "descend only this many levels"),
];

const SIZE: &[Spec] = &[MAX_DEPTH, flag("json", Kind::Switch, "print as JSON")];

const ABOUT: &[Spec] = &[
    flag("json", Kind::Switch, "print as JSON"),
    flag("full", Kind::Switch, "print whole numbers of bytes"),
];

const LSF: &[Spec] = &[
    RECURSIVE,
    MAX_DEPTH,
    flag(
        "format",
        Kind::Value,
        "the fields: p path, s size, t time, h hash, m MIME type (p)",
    ),
    flag("separator", Kind::Value, "the separator between fields (;)"),
    DIRS_ONLY,
    FILES_ONLY,
    HASH,
];

const CAT: &[Spec] = &[
    MAX_DEPTH,
    flag(
        "offset",
        Kind::Value,
        "start at this offset (negative: from the end)",
    ),
    flag("count", Kind::Value, "only print this many bytes"),
    flag("head", Kind::Value, "only print the first N bytes"),
    flag("tail", Kind::Value, "only print the last N bytes"),
];

const RMDIRS: &[Spec] = &[flag(
    "leave-root",
    Kind::Switch,
    "do not remove PATH itself",
)];

const TOUCH: &[Spec] = &[flag(
    "no-create",
    Kind::Switch,
    "do not create the file if it does not exist",
)];

const DELETE_EMPTY_SRC_DIRS: Spec = flag(
    "delete-empty-src-dirs",
    Kind::Switch,
    "delete empty source directories after the move",
);

const BISYNC: &[Spec] = &[
    flag("resync", Kind::Switch, "first run, or to start over"),
    flag(
        "conflict-resolve",
        Kind::Value,
        "newer|older|larger|smaller|path1|path2|none",
    ),
    flag(
        "check-access",
        Kind::Switch,
        "require RCLONE_TEST files on both sides",
    ),
    flag("workdir", Kind::Value, "where its state is kept"),
];

/// A command without aliases or details.
#[allow(clippy::too_many_arguments)]
const fn cmd(
    name: &'static str,
    usage: &'static str,
    args: (usize, usize),
    summary: &'static str,
    flags: &'static [Spec],
    run: fn(&Call<'_>) -> Result<Outcome, crate::args::Usage>,
) -> Command {
    Command {
        name,
        aliases: &[],
        usage,
        args,
        summary,
        details: "",
        flags,
        run,
    }
}

/// Every command, in the order `help` lists them.
pub const COMMANDS: &[Command] = &[
    cmd(
        "sync",
        "SRC DST",
        (2, 2),
        "make DST identical to SRC (deletes extras at DST)",
        DEPTH,
        |c| transfer::tree_transfer(c.name, c.args, c.cancel, c.out),
    ),
    cmd(
        "copy",
        "SRC DST",
        (2, 2),
        "copy new and changed files from SRC to DST",
        DEPTH,
        |c| transfer::tree_transfer(c.name, c.args, c.cancel, c.out),
    ),
    cmd(
        "move",
        "SRC DST",
        (2, 2),
        "move files from SRC to DST",
        MOVE,
        |c| {
            missing_fails(
                c.out,
                transfer::tree_transfer(c.name, c.args, c.cancel, c.out),
            )
        },
    ),
    cmd(
        "copyto",
        "SRC DST",
        (2, 2),
        "copy one file (or a tree) to exactly DST",
        &[],
        |c| transfer::one_transfer(c.name, c.args, c.cancel, c.out),
    ),
    cmd(
        "moveto",
        "SRC DST",
        (2, 2),
        "move one file (or a tree) to exactly DST",
        &[DELETE_EMPTY_SRC_DIRS],
        |c| {
            missing_fails(
                c.out,
                transfer::one_transfer(c.name, c.args, c.cancel, c.out),
            )
        },
    ),
    cmd(
        "check",
        "SRC DST",
        (2, 2),
        "compare two trees (sizes and hashes)",
        CHECK_DOWNLOAD,
        |c| transfer::check(c.name, c.args, c.cancel, c.out),
    ),
    Command {
        aliases: &["verify"],
        ..cmd(
            "cryptcheck",
            "SRC DST",
            (2, 2),
            "compare two trees by hashing the data on both sides",
            CHECK,
            |c| transfer::check(c.name, c.args, c.cancel, c.out),
        )
    },
    cmd(
        "bisync",
        "PATH1 PATH2",
        (2, 2),
        "two-way sync (first run: --resync)",
        BISYNC,
        |c| transfer::bisync(c.args, c.cancel, c.out),
    ),
    Command {
        details: "MODE: list (the default), first, newest, oldest or rename; or --dedupe-mode.",
        ..cmd(
            "dedupe",
            "[MODE] PATH",
            (1, 2),
            "find duplicate names (with --by-hash: identical content)",
            &[
                flag(
                    "dedupe-mode",
                    Kind::Value,
                    "skip|first|newest|oldest|largest|smallest|rename|list",
                ),
                flag("by-hash", Kind::Switch, "find identical content, not names"),
            ],
            |c| transfer::dedupe(c.args, c.cancel, c.out),
        )
    },
    cmd(
        "ls",
        "PATH",
        (1, 1),
        "list objects with their sizes",
        DEPTH,
        list::run,
    ),
    cmd(
        "lsl",
        "PATH",
        (1, 1),
        "list objects with their sizes and times",
        DEPTH,
        list::run,
    ),
    cmd("lsd", "PATH", (1, 1), "list directories", LSD, list::run),
    cmd("lsf", "PATH", (1, 1), "list for scripts", LSF, list::run),
    cmd("lsjson", "PATH", (1, 1), "list as JSON", LSJSON, list::run),
    cmd(
        "size",
        "PATH",
        (1, 1),
        "total size and count",
        SIZE,
        list::run,
    ),
    cmd(
        "tree",
        "PATH",
        (1, 1),
        "a tree of the listing",
        TREE,
        list::run,
    ),
    cmd(
        "cat",
        "FILE",
        (1, 1),
        "print a file (or the files under a directory)",
        CAT,
        // rclone lists a missing file's parent for it: "directory not found" (exit 3).
        |c| on_tree(objects::cat(c.args, c.cancel)),
    ),
    cmd(
        "rcat",
        "FILE",
        (1, 1),
        "stdin to a file, streamed",
        &[],
        |c| on_object(objects::rcat(c.args, c.cancel)),
    ),
    cmd(
        "delete",
        "PATH",
        (1, 1),
        "delete the files under PATH (filters apply)",
        DEPTH,
        |c| on_tree(objects::delete(c.args)),
    ),
    cmd("deletefile", "FILE", (1, 1), "delete one file", &[], |c| {
        missing_fails(c.out, on_object(objects::deletefile(c.args)))
    }),
    cmd(
        "purge",
        "PATH",
        (1, 1),
        "delete PATH and everything under it",
        &[],
        |c| on_tree(objects::purge(c.args)),
    ),
    cmd("mkdir", "PATH", (1, 1), "make a directory", &[], |c| {
        on_tree(objects::mkdir(c.args))
    }),
    cmd(
        "rmdir",
        "PATH",
        (1, 1),
        "remove an empty directory",
        &[],
        |c| on_tree(objects::rmdir(c.args)),
    ),
    cmd(
        "rmdirs",
        "PATH",
        (1, 1),
        "remove the empty directories under PATH (and PATH)",
        RMDIRS,
        |c| missing_fails(c.out, on_tree(objects::rmdirs(c.args))),
    ),
    cmd(
        "touch",
        "FILE",
        (1, 1),
        "create a file or set its time",
        TOUCH,
        |c| on_object(objects::touch(c.args)),
    ),
    cmd(
        "md5sum",
        "PATH",
        (1, 1),
        "the MD5 of every file under PATH",
        DEPTH,
        |c| {
            on_tree(objects::sums(
                c.args,
                HashKind::Md5,
                &c.args.rest[0],
                c.cancel,
            ))
        },
    ),
    cmd(
        "sha1sum",
        "PATH",
        (1, 1),
        "the SHA-1 of every file under PATH",
        DEPTH,
        |c| {
            on_tree(objects::sums(
                c.args,
                HashKind::Sha1,
                &c.args.rest[0],
                c.cancel,
            ))
        },
    ),
    cmd(
        "sha256sum",
        "PATH",
        (1, 1),
        "the SHA-256 of every file under PATH",
        DEPTH,
        |c| {
            on_tree(objects::sums(
                c.args,
                HashKind::Sha256,
                &c.args.rest[0],
                c.cancel,
            ))
        },
    ),
    cmd(
        "hashsum",
        "HASH PATH",
        (2, 2),
        "the hash of every file under PATH (md5, sha1, sha256, crc32c)",
        DEPTH,
        |c| objects::hashsum(c.args, c.cancel),
    ),
    cmd(
        "link",
        "FILE",
        (1, 1),
        "a presigned URL (--expire 1h)",
        &[flag("expire", Kind::Value, "the URL's lifetime (e.g. 1h)")],
        |c| on_object(objects::link(c.args)),
    ),
    cmd(
        "cleanup",
        "PATH",
        (1, 1),
        "abort pending uploads (S3 multipart) and staged leftovers",
        &[],
        |c| on_tree(objects::cleanup(c.args)),
    ),
    cmd(
        "about",
        "PATH",
        (1, 1),
        "space used and free (local files, SFTP)",
        ABOUT,
        |c| on_tree(about::run(c.args)),
    ),
    Command {
        details: configcmd::DETAILS,
        ..cmd(
            "config",
            "[list|show NAME|create NAME TYPE k=v...|delete NAME|path]",
            ANY,
            "named remotes (no arguments: the interactive wizard)",
            &[],
            configcmd::run,
        )
    },
    cmd("version", "", ANY, "print the version", &[], |_| {
        println!("omnistorage v{}", env!("CARGO_PKG_VERSION"));
        println!("- features: sync, s3, sftp (the file and memory backends are built in)");
        Ok(Outcome::Code(exit::OK))
    }),
    cmd(
        "completion",
        "SHELL",
        ANY,
        "shell completions (bash, zsh, fish)",
        &[],
        super::completion::run,
    ),
    cmd(
        "help",
        "[COMMAND|flags]",
        ANY,
        "this text, a command's, or every flag",
        &[],
        help::run,
    ),
];
