//! Asking the operating system to favour serving (the proxy's forwarding, the emulator's
//! answers): background writers (the proxy's journal, `serve`'s request log) run at a lower CPU
//! priority than the threads that serve, and a server's memory is not backed by transparent
//! huge pages (the allocator asks for them; the kernel's first touch of one may compact memory
//! synchronously, for milliseconds, on the serving path).

/// How much lower a background writer's CPU priority is than the server's (a `nice` increment):
/// `serve`'s request log, which keeps up with a full load at this share.
pub const BACKGROUND_NICENESS: i32 = 10;

/// The least favoured `nice` value, and the increment that reaches it from any other: the
/// proxy's journal writer, whose work per exchange (reading the answer) costs as much as
/// forwarding it, and which must give the cores to forwarding when the machine is saturated.
pub const LEAST_FAVOURED: i32 = 19;

/// Lowers the calling thread's CPU priority by `by` nice levels, as far as
/// [`LEAST_FAVOURED`] (Linux: a thread's nice value is its own).
#[cfg(target_os = "linux")]
pub fn lower_this_thread(by: i32) -> std::io::Result<()> {
    let thread = Some(rustix::thread::gettid());
    let now = rustix::process::getpriority_process(thread)?;
    let lower = (now + by).min(LEAST_FAVOURED);
    Ok(rustix::process::setpriority_process(thread, lower)?)
}

/// Lowers the calling thread's CPU priority (elsewhere than Linux: left as it is).
#[cfg(not(target_os = "linux"))]
pub fn lower_this_thread(_by: i32) -> std::io::Result<()> {
    Ok(())
}

/// Stops this process's memory from being backed by transparent huge pages from now on.
#[cfg(target_os = "linux")]
pub fn avoid_huge_page_stalls() -> std::io::Result<()> {
    Ok(rustix::thread::disable_transparent_huge_pages(true)?)
}

/// Stops this process's memory from being backed by transparent huge pages (elsewhere than
/// Linux: nothing to do).
#[cfg(not(target_os = "linux"))]
pub fn avoid_huge_page_stalls() -> std::io::Result<()> {
    Ok(())
}
