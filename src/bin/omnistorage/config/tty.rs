//! The `config` wizard's terminal: a prompt and the line typed after it, and secrets read
//! without echo (termios through rustix; the terminal's settings are put back however the
//! read ends). Ctrl-C while the wizard waits ends it (the run's `Cancel`, which the signal
//! handler sets, is looked at ten times a second); end of input (Ctrl-D) ends it too.

use std::io::{IsTerminal, Write};
use std::os::fd::AsFd;

use omnistorage::{Cancel, Error, ErrorKind};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::Errno;
use rustix::termios::{self, LocalModes, OptionalActions, Termios};

/// Standard input, a terminal, read a line at a time.
pub struct Terminal {
    cancel: Cancel,
    /// Bytes read and not yet returned as a line.
    pending: Vec<u8>,
}

/// Puts the terminal's settings back when dropped.
struct Restore(Termios);

impl Drop for Restore {
    fn drop(&mut self) {
        // Nothing better to do if this fails: the terminal is gone.
        let _ = termios::tcsetattr(std::io::stdin().as_fd(), OptionalActions::Now, &self.0);
    }
}

impl Terminal {
    /// Standard input, if it is a terminal; else an [`ErrorKind::Unsupported`] error.
    pub fn open(cancel: &Cancel) -> Result<Terminal, Error> {
        if !std::io::stdin().is_terminal() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "the config wizard needs a terminal, and standard input is not one",
            ));
        }
        Ok(Terminal {
            cancel: cancel.clone(),
            pending: Vec::new(),
        })
    }

    /// Prints `prompt` and returns the line typed after it (without its end of line).
    pub fn line(&mut self, prompt: &str) -> Result<String, Error> {
        show(prompt)?;
        self.read_line()
    }

    /// Prints `prompt` and returns the line typed after it, which the terminal does not
    /// echo (the end of line is echoed, so the next text starts on a line of its own).
    pub fn secret(&mut self, prompt: &str) -> Result<String, Error> {
        let stdin = std::io::stdin();
        let before = termios::tcgetattr(stdin.as_fd()).map_err(io_error)?;
        let mut quiet = before.clone();
        quiet
            .local_modes
            .remove(LocalModes::ECHO | LocalModes::ECHOE | LocalModes::ECHOK);
        quiet.local_modes.insert(LocalModes::ECHONL);
        // Echo goes off before the prompt shows, so nothing typed after it is echoed.
        termios::tcsetattr(stdin.as_fd(), OptionalActions::Now, &quiet).map_err(io_error)?;
        let _restore = Restore(before);
        show(prompt)?;
        self.read_line()
    }

    /// The next line of standard input, waiting for it; Ctrl-C (the run cancelled) or the
    /// end of input ends the wait with an error.
    fn read_line(&mut self) -> Result<String, Error> {
        let stdin = std::io::stdin();
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.pending.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return String::from_utf8(line)
                    .map_err(|_| Error::new(ErrorKind::InvalidInput, "the line is not UTF-8"));
            }
            if self.cancel.is_cancelled() {
                println!();
                return Err(Error::new(
                    ErrorKind::Cancelled,
                    "interrupted: the config wizard stopped (what it saved stays)",
                ));
            }
            let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
            let tenth = Timespec {
                tv_sec: 0,
                tv_nsec: 100_000_000,
            };
            match poll(&mut fds, Some(&tenth)) {
                Ok(0) | Err(Errno::INTR) => continue,
                Ok(_) => {}
                Err(e) => return Err(io_error(e)),
            }
            let mut buf = [0u8; 512];
            let n = match rustix::io::read(stdin.as_fd(), &mut buf) {
                Ok(n) => n,
                Err(Errno::INTR | Errno::AGAIN) => continue,
                Err(e) => return Err(io_error(e)),
            };
            if n == 0 {
                println!();
                return Err(Error::new(
                    ErrorKind::Cancelled,
                    "end of input: the config wizard stopped (what it saved stays)",
                ));
            }
            self.pending.extend_from_slice(&buf[..n]);
        }
    }
}

/// Prints text without an end of line, at once.
fn show(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn io_error(e: Errno) -> Error {
    Error::from(std::io::Error::from(e))
}
