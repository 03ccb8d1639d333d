//! Backups on a schedule: the server takes one whenever the newest is older than
//! `backup_every_hours`, checked every minute (so a restart does not postpone it). Taking one is
//! `Db::take_backup` (SQLite's `VACUUM INTO`); PostgreSQL is backed up with its own tools.

use crate::{
    db::{backup_age, Backend, BackupRecord, Db},
    domain::{SharedClock, UnixMillis},
};
use std::{path::PathBuf, time::Duration};

/// How often the schedule looks at the age of the newest backup.
const CHECK_EVERY: Duration = Duration::from_secs(60);

/// Where scheduled backups go and how often.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub dir: PathBuf,
    pub every_hours: u64,
    pub keep: usize,
}

impl Schedule {
    fn every_ms(&self) -> i64 {
        i64::try_from(self.every_hours).unwrap_or(i64::MAX / 3_600_000).saturating_mul(3_600_000)
    }
}

/// Takes a scheduled backup if the newest one (if any) is as old as the schedule says at `now`;
/// answers the backup taken.
pub async fn take_if_due(
    db: &Db,
    schedule: &Schedule,
    now: UnixMillis,
) -> anyhow::Result<Option<BackupRecord>> {
    if schedule.every_hours == 0 || db.backend() != Backend::Sqlite {
        return Ok(None);
    }
    let last = db.last_backup().await?;
    if backup_age(last.as_ref(), now).is_some_and(|age| age < schedule.every_ms()) {
        return Ok(None);
    }
    let backup = db.take_backup(&schedule.dir, schedule.keep, "scheduled", now).await?;
    tracing::info!(path = %backup.path, "scheduled backup taken");
    Ok(Some(backup))
}

/// Runs the schedule in the background, on `clock`'s time.
pub fn spawn_schedule(db: Db, schedule: Schedule, clock: SharedClock) {
    if schedule.every_hours == 0 {
        return;
    }
    if db.backend() != Backend::Sqlite {
        tracing::info!("scheduled backups are for the embedded SQLite database; back PostgreSQL up with pg_dump (docs/operations/backups.md)");
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = take_if_due(&db, &schedule, clock.now()).await {
                tracing::error!(error = %format!("{error:#}"), "scheduled backup failed");
            }
        }
    });
}
