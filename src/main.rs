use std::process::ExitCode;

use clap::Parser;

// An allocator made for many small, short-lived allocations from several threads (the parse
// stage's import sites and strings), as uv and ruff use: mimalloc (see `envscan::allocator`).
#[global_allocator]
static GLOBAL: envscan::allocator::Mimalloc = envscan::allocator::Mimalloc;

/// `mi_option_purge_delay` in mimalloc.h (the same in v2 and v3; libmimalloc-sys names no
/// constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // mimalloc v3 keeps freed memory for 1 s before it returns it to the system, longer than a
    // whole scan: the pages the parse stage freed would stay resident beside everything
    // allocated after them. 10 ms (v2's default) lets them go while the run goes on: the
    // 20,000-file benchmark's peak RSS falls from 92 to 68 MB.
    // SAFETY: sets an integer option, which mimalloc reads at each purge decision.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10);
    }
    // A full disk played by RLIMIT_FSIZE (or a quota) must be a write error naming the file,
    // which the output writer handles (nothing partial, old outputs intact), not SIGXFSZ
    // killing the process midway. SIG_IGN is inherited by nothing envscan starts that matters.
    // SAFETY: setting a signal's disposition to SIG_IGN at start-up, before any thread exists.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let cli = envscan::cli::Cli::parse();
    let result = envscan::run(cli);
    // At exit mimalloc collects every heap and would return the freed pages to the system
    // one `madvise` at a time (a tenth of a warm `envscan env`): the process is ending, so
    // purging is turned off first.
    // SAFETY: as above; nothing allocates after this that needs memory returned.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
    }
    match result {
        Ok(status) => status.into(),
        // `envscan scan | head`: the reader has what it wanted, as ripgrep treats it.
        Err(err) if envscan::output::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let mut stderr = anstream::stderr();
            let _ = envscan::output::print_fatal(&mut stderr, &err);
            envscan::ExitStatus::Fatal.into()
        }
    }
}
