# shellcheck shell=bash
# shellcheck disable=SC2153 # SERVER and MARKER are set by the script that sources this one
# Shared helpers for scripts/servers/*: sourced, never run. The caller sets `SERVER` (its
# name, for messages and state) before sourcing, and runs with `set -euo pipefail`.
#
# State lives in $OMNISTORAGE_SERVERS_DIR (default: target/servers under the repository root,
# which is gitignored): one directory per server with its pid file, log, data, timings and
# env fragment, and the combined `env` file the tests read.
#
# Exit codes of the server scripts: 0 started (or stopped), 3 skipped (outside CI only: the
# server could not be installed or started, and said so loudly), anything else a failure.
# Under CI=true nothing is ever skipped: what would be a skip is a failure.

OMNI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SERVERS_DIR="${OMNISTORAGE_SERVERS_DIR:-$OMNI_ROOT/target/servers}"
case "$SERVERS_DIR" in /*) ;; *) SERVERS_DIR="$PWD/$SERVERS_DIR" ;; esac
export OMNISTORAGE_SERVERS_DIR="$SERVERS_DIR"
# shellcheck disable=SC2034 # used by up and down
SERVERS_SCRIPTS="$OMNI_ROOT/scripts/servers"

# The servers `up` starts by default, in start order; the ones it starts only when named
# (heavier, for one campaign); and the prefix of each one's variables.
ALL_SERVERS=(s3s-fs garage moto sshd rclone-sftp)
OPTIONAL_SERVERS=(garage-cluster)
env_prefix() {
    case "$1" in
        s3s-fs) echo OMNISTORAGE_TEST_S3S ;;
        garage) echo OMNISTORAGE_TEST_GARAGE ;;
        moto) echo OMNISTORAGE_TEST_MOTO ;;
        sshd) echo OMNISTORAGE_TEST_SFTP ;;
        rclone-sftp) echo OMNISTORAGE_TEST_RCLONE_SFTP ;;
        garage-cluster) echo OMNISTORAGE_TEST_GCLUSTER ;;
        *) die "unknown server '$1' (known: ${ALL_SERVERS[*]} ${OPTIONAL_SERVERS[*]})" ;;
    esac
}

TEST_BUCKET=omnistorage-test
SKIP_RC=3
# Upper bound for any wait on a server (readiness, shutdown), in seconds.
WAIT_SECS="${OMNISTORAGE_SERVERS_TIMEOUT:-60}"

# cargo-installed tools live here; a fresh machine may not have it on PATH yet.
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
case ":$PATH:" in *":$CARGO_BIN:"*) ;; *) PATH="$CARGO_BIN:$PATH" ;; esac

# Never let curl go through a proxy: every request here is to loopback.
CURL=(curl --noproxy '*' --silent --show-error --max-time 10)

log() { printf '==> [%s] %s\n' "${SERVER:-servers}" "$*" >&2; }
warn() { printf '!!! [%s] %s\n' "${SERVER:-servers}" "$*" >&2; }
die() { printf 'ERROR [%s]: %s\n' "${SERVER:-servers}" "$*" >&2; exit 1; }

is_ci() {
    case "${CI:-}" in "" | 0 | false | FALSE | False) return 1 ;; *) return 0 ;; esac
}

# skip_or_fail MESSAGE: the server cannot run. Fatal under CI; elsewhere a loud skip (exit 3).
skip_or_fail() {
    if is_ci; then
        die "$* -- server '${SERVER:-?}' is required under CI=true"
    fi
    {
        echo
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo "!!! SKIPPING server '${SERVER:-?}': $*"
        echo "!!! Tests that need it will be skipped. (Under CI=true this is a failure.)"
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo
    } >&2
    exit "$SKIP_RC"
}

# require COMMAND [HINT]: COMMAND must be on PATH; fatal under CI, a loud skip elsewhere.
require() {
    command -v "$1" >/dev/null 2>&1 || skip_or_fail "'$1' is not installed${2:+ ($2)}"
}

# May this run install what is missing? Always under CI; elsewhere unless
# OMNISTORAGE_SERVERS_INSTALL=0 (then a missing server is skipped).
may_install() {
    is_ci || [ "${OMNISTORAGE_SERVERS_INSTALL:-1}" != 0 ]
}

now() { echo "$EPOCHREALTIME"; }
# since T0: seconds elapsed since T0 (from `now`), one decimal.
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

server_dir() { echo "$SERVERS_DIR/$1"; }

# record_timing WHAT SECONDS NOTE: kept for the summary that `up` prints.
record_timing() {
    local dir
    dir=$(server_dir "$SERVER")
    mkdir -p "$dir"
    printf '%-8s %6ss  %s\n' "$1" "$2" "$3" >>"$dir/timings"
}

# ---------------------------------------------------------------------------------------
# Processes, by pid file. A pid file holds one pid; it is trusted only while that process
# is alive and its command line still contains the server's marker (no pid reuse accidents).

pid_file() { echo "$(server_dir "$1")/pid"; }

# pid_of NAME MARKER: prints the live pid of NAME, or fails.
pid_of() {
    local file pid state
    file=$(pid_file "$1")
    [ -s "$file" ] || return 1
    pid=$(<"$file")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [ -r "/proc/$pid/stat" ] || return 1
    state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "$state" != Z ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
    echo "$pid"
}

proc_alive() {
    [ -r "/proc/$1/stat" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# stop_server NAME MARKER: TERM, then KILL after a bounded wait. Only the pid from our own
# pid file, and only if it still looks like our server.
stop_server() {
    local name=$1 marker=$2 pid i
    if pid=$(pid_of "$name" "$marker"); then
        log "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < WAIT_SECS * 10; i++)); do
            proc_alive "$pid" || break
            sleep 0.1
        done
        if proc_alive "$pid"; then
            warn "$name (pid $pid) ignored SIGTERM for ${WAIT_SECS}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do
                proc_alive "$pid" || break
                sleep 0.1
            done
            proc_alive "$pid" && die "$name (pid $pid) survived SIGKILL"
        fi
    fi
    rm -f "$(pid_file "$name")" "$(server_dir "$name")/env"
}

# start_daemon NAME LOG COMMAND...: starts COMMAND in its own session (so it outlives this
# script and the terminal's signals), stdin from /dev/null, output to LOG. The child writes
# its own pid before it execs the server, so the pid file is exact.
start_daemon() {
    local name=$1 logfile=$2 file i
    shift 2
    file=$(pid_file "$name")
    rm -f "$file"
    : >"$logfile"
    # shellcheck disable=SC2016 # $$ and $@ are for the child shell
    setsid bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$file" "$@" \
        </dev/null >>"$logfile" 2>&1 &
    for ((i = 0; i < 100; i++)); do
        [ -s "$file" ] && return 0
        sleep 0.05
    done
    die "$name did not write its pid file $file within 5s"
}

# wait_until NAME MARKER LOG DESCRIPTION PREDICATE [ARGS...]: polls PREDICATE until it
# succeeds, for at most WAIT_SECS; fails early if the server died. Shows the log on failure.
wait_until() {
    local name=$1 marker=$2 logfile=$3 what=$4 deadline
    shift 4
    deadline=$((SECONDS + WAIT_SECS))
    while ! "$@"; do
        if ! pid_of "$name" "$marker" >/dev/null; then
            warn "$name exited while waiting for: $what. Last lines of $logfile:"
            tail -n 30 "$logfile" >&2 || true
            skip_or_fail "$name exited during start-up"
        fi
        if ((SECONDS >= deadline)); then
            warn "timed out after ${WAIT_SECS}s waiting for: $what. Last lines of $logfile:"
            tail -n 30 "$logfile" >&2 || true
            skip_or_fail "$name was not ready within ${WAIT_SECS}s ($what)"
        fi
        sleep 0.2
    done
}

# port_free PORT: nothing listens on 127.0.0.1:PORT.
port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ensure_port_free PORT: a clear message when someone else (another worktree?) holds it.
ensure_port_free() {
    if ! port_free "$1"; then
        warn "127.0.0.1:$1 is already in use by a process this directory did not start:"
        ss -ltnp "sport = :$1" >&2 2>/dev/null || true
        skip_or_fail "port $1 is busy (set the port variable of this server to move it)"
    fi
}

# http_code URL [CURL ARGS...]: the HTTP status, 000 when nothing answers.
http_code() {
    local url=$1
    shift
    "${CURL[@]}" -o /dev/null -w '%{http_code}' "$@" "$url" 2>/dev/null || true
}

# SHA-256 of an empty body: curl 7.88's --aws-sigv4 does not send x-amz-content-sha256, which
# s3s-fs requires (400 InvalidRequest without it); curl signs it when it is given.
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# s3_list_code ENDPOINT REGION BUCKET ACCESS SECRET: HTTP status of a SigV4-signed
# ListObjectsV2 of the bucket (200 means: up, bucket there, credentials accepted).
s3_list_code() {
    http_code "$1/$3?list-type=2&max-keys=1" --aws-sigv4 "aws:amz:$2:s3" --user "$4:$5" \
        -H "x-amz-content-sha256: $EMPTY_SHA256"
}

# fresh_dir DIR...: each DIR, empty. An old DIR is moved aside (instant) and deleted in the
# background: deleting the 10,000s of files a benchmark leaves took a minute on this busy
# disk, and a start must not wait for that.
fresh_dir() {
    local dir trash
    for dir in "$@"; do
        if [ -e "$dir" ]; then
            mkdir -p "$SERVERS_DIR/.trash"
            trash=$(mktemp -d "$SERVERS_DIR/.trash/XXXXXX")
            mv "$dir" "$trash/"
            setsid rm -rf "$trash" </dev/null >/dev/null 2>&1 &
        fi
        mkdir -p "$dir"
    done
}

rand_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# write_vars NAME FIELD=VALUE...: this server's variables, `export <PREFIX>_FIELD=VALUE`
# (PREFIX from env_prefix), in that order. Readable by its owner only: some are secrets.
write_vars() {
    local name=$1 prefix file pair
    shift
    prefix=$(env_prefix "$name")
    file="$(server_dir "$name")/env"
    for pair in "$@"; do
        [[ "${pair%%=*}" =~ ^[A-Z][A-Z0-9_]*$ ]] || die "write_vars: bad variable '$pair'"
    done
    (
        umask 077
        for pair in "$@"; do
            printf 'export %s_%s=%q\n' "$prefix" "${pair%%=*}" "${pair#*=}"
        done >"$file.tmp"
    )
    mv "$file.tmp" "$file"
}

# write_fragment NAME ENDPOINT REGION BUCKET ACCESS SECRET: an S3 server's variables.
write_fragment() {
    write_vars "$1" "ENDPOINT=$2" "REGION=$3" "BUCKET=$4" "ACCESS_KEY=$5" "SECRET_KEY=$6"
}

# write_env_file: $SERVERS_DIR/env from the fragments of the servers that are running.
write_env_file() {
    local name marker out="$SERVERS_DIR/env"
    mkdir -p "$SERVERS_DIR"
    {
        echo "# Written by scripts/servers (up/down): the servers running now. Source it."
        for name in "${ALL_SERVERS[@]}" "${OPTIONAL_SERVERS[@]}"; do
            if [ -s "$(server_dir "$name")/env" ] && server_running "$name"; then
                cat "$(server_dir "$name")/env"
            fi
        done
    } >"$out.tmp"
    chmod 600 "$out.tmp"
    mv "$out.tmp" "$out"
}

# server_running NAME: its process runs (for garage-cluster: at least one of its nodes, so a
# campaign's `kill N` does not drop the cluster's variables from the env file).
server_running() {
    local n
    case "$1" in
        garage-cluster)
            for n in 1 2 3; do
                pid_of "garage-cluster/node$n" "$(server_marker "$1")" >/dev/null && return 0
            done
            return 1
            ;;
        *) pid_of "$1" "$(server_marker "$1")" >/dev/null ;;
    esac
}

# The substring of each server's command line that identifies it (see pid_of).
server_marker() {
    case "$1" in
        s3s-fs) echo "s3s-fs" ;;
        garage) echo "garage" ;;
        moto) echo "moto.server" ;;
        # sshd's listener renames itself ("sshd: /usr/sbin/sshd -D -e -f CONFIG [listener]
        # ..."), keeping its command line: its config path tells this directory's sshd apart
        # from one that another worktree started.
        sshd) echo "$SERVERS_DIR/sshd/sshd_config" ;;
        # `rclone serve sftp ... --key $SERVERS_DIR/rclone-sftp/keys/host_key ...`.
        rclone-sftp) echo "$SERVERS_DIR/rclone-sftp/keys/host_key" ;;
        # Its nodes run `garage -c $SERVERS_DIR/garage-cluster/nodeN/garage.toml server`.
        garage-cluster) echo "$SERVERS_DIR/garage-cluster/node" ;;
        *) die "unknown server '$1'" ;;
    esac
}

# cargo_install_pinned CRATE VERSION BINARY [CARGO INSTALL ARGS...]: idempotent: skips when
# `cargo install --list` already has exactly CRATE vVERSION and BINARY is on PATH.
cargo_install_pinned() {
    local crate=$1 version=$2 bin=$3 t0
    shift 3
    t0=$(now)
    if cargo install --list 2>/dev/null | grep -qxF "$crate v$version:" &&
        command -v "$bin" >/dev/null 2>&1; then
        log "install: $crate $version already installed ($(command -v "$bin"))"
        record_timing install "$(since "$t0")" "already installed ($crate $version)"
        return 0
    fi
    may_install || skip_or_fail "$crate $version is not installed and OMNISTORAGE_SERVERS_INSTALL=0"
    require cargo "Rust toolchain"
    log "install: cargo install $crate@$version --locked${*:+ $*} (this can take minutes)"
    if ! cargo install "$crate@$version" --locked "$@"; then
        skip_or_fail "cargo install $crate@$version failed"
    fi
    require "$bin" "cargo install $crate@$version did not put it on PATH"
    log "install: $crate $version took $(since "$t0")s"
    record_timing install "$(since "$t0")" "cargo install $crate@$version"
}

START_DONE=0
stop_if_start_failed() {
    if [ "$START_DONE" != 1 ] && pid_of "$SERVER" "$MARKER" >/dev/null; then
        warn "start failed (exit $1): stopping the half-started server"
        stop_server "$SERVER" "$MARKER" || true
    fi
}

# server_main "$@": the command line of every server script. The script defines
# do_install, do_start (which must leave its env fragment written) and sets MARKER; it may
# set READY_NOTE, the note of its start in the timings (default: the S3 servers' note).
server_main() {
    local cmd=${1:-start} dir t0
    dir=$(server_dir "$SERVER")
    case "$cmd" in
        install)
            mkdir -p "$dir"
            : >"$dir/timings"
            do_install
            ;;
        start)
            mkdir -p "$dir"
            : >"$dir/timings"
            do_install
            stop_server "$SERVER" "$MARKER" # a restart: stop what an earlier `up` left
            # A start that fails half-way must not leave the server running.
            trap 'stop_if_start_failed $?' EXIT
            t0=$(now)
            do_start
            START_DONE=1
            log "start: ready in $(since "$t0")s"
            record_timing start "$(since "$t0")" "${READY_NOTE:-ready, bucket $TEST_BUCKET created}"
            write_env_file
            ;;
        stop)
            stop_server "$SERVER" "$MARKER"
            write_env_file
            ;;
        status)
            if pid_of "$SERVER" "$MARKER" >/dev/null; then
                echo "$SERVER: running (pid $(pid_of "$SERVER" "$MARKER"))"
            else
                echo "$SERVER: not running"
                return 1
            fi
            ;;
        -h | --help | help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            ;;
        *) die "usage: $0 [start|stop|status|install]" ;;
    esac
}
