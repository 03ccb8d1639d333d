//! Online backups of the embedded SQLite database, and restoring one into an empty data
//! directory.
//!
//! A backup is `VACUUM INTO` a new file: SQLite copies the database as one read transaction sees
//! it, so the copy is consistent (every committed payment with its outbox events, nothing half
//! written) while the server keeps serving and writing. Beside each backup goes a checksum file
//! in `sha256sum` format (`<hex>  <file name>`), so `sha256sum -c` checks it too. PostgreSQL is
//! backed up with its own tools (`pg_dump`/`pg_restore`, docs/operations/backups.md).

use super::{Backend, Db, DbError, SQLITE_MIGRATIONS};
use crate::domain::{new_id, UnixMillis};
use anyhow::{bail, Context};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Row};
use std::path::{Path, PathBuf};

/// Backup files are named `wallet-checkout-<UTC time>-<random>.db`, so that names sort by time.
const PREFIX: &str = "wallet-checkout-";
const SUFFIX: &str = ".db";

/// The database file's name in a data directory.
pub const DATABASE_FILE: &str = "wallet-checkout.db";

/// What to say when asked to back up or restore a PostgreSQL store.
pub const POSTGRES_ADVICE: &str = "this server's database is PostgreSQL: back it up with PostgreSQL's own tools, \
e.g. `pg_dump --format=custom --file=wallet-checkout.dump \"$DATABASE_URL\"`, and restore into an empty \
database with `pg_restore --no-owner --dbname=\"$DATABASE_URL\" wallet-checkout.dump` (docs/operations/backups.md)";

impl Db {
    /// Takes an online backup into `dir` (made if missing, readable by this user only), writes
    /// its checksum file, records it, and removes all but the newest `keep` backups there.
    pub async fn take_backup(
        &self,
        dir: &Path,
        keep: usize,
        kind: &str,
        now: UnixMillis,
    ) -> anyhow::Result<BackupRecord> {
        if self.backend != Backend::Sqlite {
            bail!("{POSTGRES_ADVICE}");
        }
        crate::db::prepare_data_dir(dir)?;
        let dir = dir.canonicalize().with_context(|| format!("cannot open {}", dir.display()))?;
        let taken_at = now;
        let id = new_id("bkp");
        let stamp = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(taken_at) * 1_000_000)
            .ok()
            .and_then(|t| {
                t.format(time::macros::format_description!(
                    "[year][month][day]T[hour][minute][second][subsecond digits:3]Z"
                ))
                .ok()
            })
            .unwrap_or_else(|| taken_at.to_string());
        let suffix = id.rsplit('_').next().unwrap_or_default().chars().take(8).collect::<String>();
        let name = format!("{PREFIX}{stamp}-{suffix}{SUFFIX}");
        let path = dir.join(&name);
        let partial = dir.join(format!("{name}.partial"));
        let target = partial.to_str().context("the backup directory's path is not UTF-8")?;
        // Made private and empty first: `VACUUM INTO` writes into an empty file as it finds it,
        // and SQLite gives the journal beside it the same mode, so no byte is ever readable by
        // others.
        drop(create_private(&partial)?);
        let written = sqlx::query(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))
            .execute(&self.pool)
            .await
            .with_context(|| format!("cannot write the backup {}", partial.display()));
        if let Err(error) = written {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
        let (sha256, bytes) = checksum(&partial).await?;
        std::fs::write(dir.join(format!("{name}.sha256")), format!("{sha256}  {name}\n"))
            .context("cannot write the checksum file")?;
        std::fs::rename(&partial, &path).context("cannot finish the backup file")?;
        let record = BackupRecord {
            id,
            taken_at,
            path: path.display().to_string(),
            bytes: i64::try_from(bytes).unwrap_or(i64::MAX),
            sha256,
            kind: kind.to_owned(),
        };
        self.record_backup(&record).await.context("cannot record the backup")?;
        self.prune_backups(&dir, keep.max(1)).await.context("cannot remove older backups")?;
        Ok(record)
    }

    /// Removes all but the newest `keep` backups in `dir` (with their checksum files and records).
    async fn prune_backups(&self, dir: &Path, keep: usize) -> anyhow::Result<()> {
        let mut names: Vec<String> = std::fs::read_dir(dir)?
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| name.starts_with(PREFIX) && name.ends_with(SUFFIX))
            .collect();
        names.sort_unstable_by(|a, b| b.cmp(a));
        for name in names.into_iter().skip(keep) {
            let path = dir.join(&name);
            std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
            let _ = std::fs::remove_file(dir.join(format!("{name}.sha256")));
            self.forget_backup(&path.display().to_string()).await?;
        }
        Ok(())
    }

    /// Forgets the record of a backup file that was removed.
    pub async fn forget_backup(&self, path: &str) -> Result<(), DbError> {
        sqlx::query("DELETE FROM backups WHERE path = $1").bind(path).execute(&self.writer).await?;
        Ok(())
    }
}

/// Creates a new file readable by this user only from the start (a backup holds everything the
/// database holds); one that exists already is an error.
fn create_private(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).with_context(|| format!("cannot create {}", path.display()))
}

/// The SHA-256 of a file (lower-case hex) and its size.
pub async fn checksum(path: &Path) -> anyhow::Result<(String, u64)> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<(String, u64)> {
        use std::io::Read;
        let mut file =
            std::fs::File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            total += read as u64;
            hasher.update(&buffer[..read]);
        }
        let hex = hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect();
        Ok((hex, total))
    })
    .await?
}

/// Whether a directory is missing or has nothing in it.
fn is_empty_dir(dir: &Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// Restores the backup `file` into the empty (or missing) data directory `data_dir`, after
/// checking its checksum file, that it is a database of this server that this version can open,
/// and that SQLite finds it intact. Refuses anything else, changing nothing. Answers the path
/// of the restored database.
pub async fn restore(file: &Path, data_dir: &Path) -> anyhow::Result<PathBuf> {
    if !file.is_file() {
        bail!("there is no backup file at {}", file.display());
    }
    let sums = PathBuf::from(format!("{}.sha256", file.display()));
    let expected = std::fs::read_to_string(&sums).map_err(|_| {
        anyhow::anyhow!(
            "{} has no checksum file {} beside it: only backups made by `wallet-checkout-server backup` can be restored",
            file.display(),
            sums.display()
        )
    })?;
    let expected = expected.split_whitespace().next().unwrap_or_default().to_ascii_lowercase();
    let (actual, _) = checksum(file).await?;
    if expected != actual {
        bail!(
            "the checksum of {} does not match {}: the file is damaged or was changed; nothing was restored",
            file.display(),
            sums.display()
        );
    }
    let mut magic = [0u8; 16];
    let is_sqlite =
        std::fs::File::open(file).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok()
            && &magic == b"SQLite format 3\0";
    if !is_sqlite {
        bail!(
            "{} is not a backup of this server's database (not an SQLite database); nothing was restored",
            file.display()
        );
    }
    if !is_empty_dir(data_dir)? {
        bail!(
            "the data directory {} is not empty: a backup is restored only into an empty (or new) directory, \
             never over a database; choose a new directory (--data-dir DIR, or WC_DATA_DIR)",
            data_dir.display()
        );
    }
    check_database(file).await.map_err(|error| {
        anyhow::anyhow!(
            "{} is not a backup this server can restore: {error:#}; nothing was restored",
            file.display()
        )
    })?;
    crate::db::prepare_data_dir(data_dir)?;
    let target = data_dir.join(DATABASE_FILE);
    let partial = data_dir.join(format!("{DATABASE_FILE}.restoring"));
    let _ = std::fs::remove_file(&partial);
    let copied = std::fs::File::open(file).and_then(|mut from| {
        std::io::copy(&mut from, &mut create_private(&partial).map_err(std::io::Error::other)?)
    });
    copied.with_context(|| format!("cannot write {}", partial.display()))?;
    let (copied, _) = checksum(&partial).await?;
    if copied != expected {
        let _ = std::fs::remove_file(&partial);
        bail!("the copy in {} does not match the backup; nothing was restored", data_dir.display());
    }
    std::fs::rename(&partial, &target).context("cannot finish the restored database")?;
    Ok(target)
}

/// Opens a backup without changing it and checks that it is intact and a database of this
/// server, from migrations this version knows.
async fn check_database(file: &Path) -> anyhow::Result<()> {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(file).read_only(true).immutable(true);
    let mut connection = sqlx::SqliteConnection::connect_with(&options).await.context("cannot open it")?;
    let integrity: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&mut connection)
        .await
        .context("SQLite cannot read it")?
        .try_get(0)?;
    if integrity != "ok" {
        bail!("SQLite finds it damaged ({integrity})");
    }
    let versions: Vec<i64> = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success")
        .fetch_all(&mut connection)
        .await
        .context("it has no migrations of this server")?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    let known: Vec<i64> = SQLITE_MIGRATIONS.iter().map(|migration| migration.version).collect();
    if !versions.contains(&1) {
        bail!("it has no migrations of this server");
    }
    if let Some(newer) = versions.iter().find(|version| !known.contains(version)) {
        bail!(
            "it was made by a newer version of the server (migration {newer}); restore it with that version"
        );
    }
    sqlx::query("SELECT count(*) FROM orders")
        .fetch_one(&mut connection)
        .await
        .context("it has no orders table")?;
    connection.close().await?;
    Ok(())
}

/// A backup the server took.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BackupRecord {
    pub id: String,
    pub taken_at: i64,
    pub path: String,
    pub bytes: i64,
    pub sha256: String,
    /// `manual` (the command line or the console) or `scheduled`.
    pub kind: String,
}

impl Db {
    pub async fn record_backup(&self, backup: &BackupRecord) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO backups (id, taken_at, path, bytes, sha256, kind) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&backup.id)
        .bind(backup.taken_at)
        .bind(&backup.path)
        .bind(backup.bytes)
        .bind(&backup.sha256)
        .bind(&backup.kind)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
    /// The newest backup, if any.
    pub async fn last_backup(&self) -> Result<Option<BackupRecord>, DbError> {
        Ok(sqlx::query_as("SELECT id, taken_at, path, bytes, sha256, kind FROM backups ORDER BY taken_at DESC, id DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?)
    }
    /// Backups newest first.
    pub async fn backups(&self, limit: i64) -> Result<Vec<BackupRecord>, DbError> {
        Ok(sqlx::query_as("SELECT id, taken_at, path, bytes, sha256, kind FROM backups ORDER BY taken_at DESC, id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }
}

/// The time since the newest backup, for checks such as "a backup in the last 24 hours".
pub fn backup_age(last: Option<&BackupRecord>, now: UnixMillis) -> Option<i64> {
    last.map(|backup| now - backup.taken_at)
}
