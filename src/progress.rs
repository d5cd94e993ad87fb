//! Progress display for long commands: a bar on a terminal, plain periodic lines otherwise
//! (so logs of CI runs and pipes stay readable).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// A progress reporter for one phase at a time.
pub struct Reporter {
    bar: Option<ProgressBar>,
    phase: String,
    total: u64,
    done: u64,
    last_line_percent: u64,
}

impl Reporter {
    pub fn new() -> Self {
        Reporter {
            bar: None,
            phase: String::new(),
            total: 0,
            done: 0,
            last_line_percent: 0,
        }
    }

    /// Starts a phase of `total` steps.
    pub fn phase(&mut self, name: &str, total: u64) {
        self.finish();
        self.phase = name.to_string();
        self.total = total;
        self.done = 0;
        self.last_line_percent = 0;
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_message(name.to_string());
            self.bar = Some(bar);
        } else {
            eprintln!("{name}: 0/{total}");
        }
    }

    /// Marks one step done.
    pub fn inc(&mut self) {
        self.done += 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
            return;
        }
        let percent = self.done * 100 / self.total.max(1);
        if percent >= self.last_line_percent + 25 && self.done < self.total {
            self.last_line_percent = percent - percent % 25;
            eprintln!("{}: {}/{}", self.phase, self.done, self.total);
        }
    }

    /// Ends the current phase.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        } else if !self.phase.is_empty() {
            eprintln!("{}: {}/{} done", self.phase, self.done, self.total);
        }
        self.phase.clear();
    }
}

impl Default for Reporter {
    fn default() -> Self {
        Reporter::new()
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.finish();
    }
}
