//! The CPU of a benchmark's child processes: the time each has used (from
//! `/proc/<pid>/stat`), and a quota that holds a node on this machine to the share of
//! processor time a machine of its own of that size would give it: a control group of its
//! own with the CPU controller's quota (`cpu.max` on cgroup v2, `cpu.cfs_quota_us` on v1),
//! the process moved in with all its threads. Writing there needs root; a quota that cannot
//! be set is an error, never a run without it.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// The scheduler period the quota is a share of, in microseconds (the kernel's default).
const PERIOD_US: u64 = 100_000;

/// A control group holding one process; on drop its processes go back to the group above
/// and the group is removed.
pub struct CpuQuota {
    group: PathBuf,
    v2: bool,
}

impl CpuQuota {
    /// Holds process `pid` to `cpus` processors' worth of time (0.5: half of one), in a
    /// group named `name`.
    pub fn hold(pid: u32, cpus: f64, name: &str) -> anyhow::Result<CpuQuota> {
        anyhow::ensure!(
            cpus.is_finite() && cpus >= 0.01,
            "a CPU quota must be at least 0.01 processor, not {cpus}"
        );
        let quota_us = (cpus * PERIOD_US as f64).round() as u64;
        let unified = Path::new("/sys/fs/cgroup/cgroup.controllers");
        let v1 = Path::new("/sys/fs/cgroup/cpu");
        let quota = if unified.exists() {
            let controllers = std::fs::read_to_string(unified).unwrap_or_default();
            if !controllers.split_whitespace().any(|c| c == "cpu") {
                bail!("the cgroup v2 hierarchy has no cpu controller");
            }
            // The children of the root may use the controller only once it is delegated.
            write(Path::new("/sys/fs/cgroup/cgroup.subtree_control"), "+cpu")?;
            let quota = CpuQuota {
                group: Path::new("/sys/fs/cgroup").join(name),
                v2: true,
            };
            create(&quota.group)?;
            write(
                &quota.group.join("cpu.max"),
                &format!("{quota_us} {PERIOD_US}"),
            )?;
            quota
        } else if v1.join("cpu.cfs_quota_us").exists() {
            let quota = CpuQuota {
                group: v1.join(name),
                v2: false,
            };
            create(&quota.group)?;
            write(
                &quota.group.join("cpu.cfs_period_us"),
                &PERIOD_US.to_string(),
            )?;
            write(&quota.group.join("cpu.cfs_quota_us"), &quota_us.to_string())?;
            quota
        } else {
            bail!("no cgroup CPU controller under /sys/fs/cgroup to hold a node to a CPU quota");
        };
        write(&quota.group.join("cgroup.procs"), &pid.to_string())?;
        Ok(quota)
    }

    /// Microseconds the group's processes were held back by the quota so far.
    pub fn throttled_us(&self) -> u64 {
        let stat = std::fs::read_to_string(self.group.join("cpu.stat")).unwrap_or_default();
        let (key, per_us) = if self.v2 {
            ("throttled_usec", 1)
        } else {
            ("throttled_time", 1_000)
        };
        stat.lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map_or(0, |value| value / per_us)
    }
}

impl Drop for CpuQuota {
    fn drop(&mut self) {
        // Only an empty group can go.
        if let Some(parent) = self.group.parent() {
            let held = std::fs::read_to_string(self.group.join("cgroup.procs")).unwrap_or_default();
            for pid in held.lines() {
                let _ = std::fs::write(parent.join("cgroup.procs"), pid);
            }
        }
        let _ = std::fs::remove_dir(&self.group);
    }
}

/// The CPU time process `pid` used so far (user and system), in microseconds.
pub(super) fn cpu_us(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line; after the name the state (field 3)
    // comes first, so they are 11 and 12 from 0.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|at| fields.get(*at)?.parse::<u64>().ok())
        .sum();
    // SAFETY: sysconf with a valid name has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    ticks * 1_000_000 / per_second
}

fn create(group: &Path) -> anyhow::Result<()> {
    match std::fs::create_dir(group) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error).with_context(|| {
            format!(
                "creating the control group {} (a CPU quota needs root)",
                group.display()
            )
        }),
    }
}

fn write(file: &Path, value: &str) -> anyhow::Result<()> {
    std::fs::write(file, value).with_context(|| format!("writing {value:?} to {}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_busy_process_is_held_to_its_share() {
        if !Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
            && !Path::new("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").exists()
        {
            eprintln!("skipped: no cgroup CPU controller on this machine");
            return;
        }
        let mut busy = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .unwrap();
        let name = format!("ponte-test-quota-{}", std::process::id());
        let quota = match CpuQuota::hold(busy.id(), 0.2, &name) {
            Ok(quota) => quota,
            Err(error) => {
                let _ = busy.kill();
                let _ = busy.wait();
                // Writing under /sys/fs/cgroup needs root (and a writable hierarchy).
                eprintln!("skipped: no CPU quota could be set here: {error:#}");
                return;
            }
        };
        let before = cpu_us(busy.id());
        std::thread::sleep(Duration::from_millis(1_500));
        let used = cpu_us(busy.id()) - before;
        let throttled = quota.throttled_us();
        // Dropped while the process lives: it goes back above, and the group goes.
        drop(quota);
        busy.kill().unwrap();
        busy.wait().unwrap();
        // A fifth of a processor over 1.5 s is 0.3 s; unheld, the loop would take 1.5 s.
        assert!(used <= 600_000, "the loop used {used} us of CPU in 1.5 s");
        assert!(throttled > 0, "the quota never held the loop back");
        assert!(!Path::new("/sys/fs/cgroup/cpu").join(&name).exists());
        assert!(!Path::new("/sys/fs/cgroup").join(&name).exists());
        assert!(CpuQuota::hold(1, 0.0, "ponte-test-zero").is_err());
    }

    #[test]
    fn this_process_cpu_time_is_read() {
        // Spins until the kernel has counted a tick (10 ms at most on a usual kernel).
        let started = Instant::now();
        let mut spin = 0u64;
        while cpu_us(std::process::id()) == 0 && started.elapsed() < Duration::from_secs(5) {
            for i in 0..100_000u64 {
                spin = spin.wrapping_add(std::hint::black_box(i));
            }
        }
        assert!(cpu_us(std::process::id()) > 0, "spun {spin}");
        assert_eq!(cpu_us(u32::MAX), 0, "no such process");
    }
}
