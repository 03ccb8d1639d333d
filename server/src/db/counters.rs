//! The merchant's locations and their counters (see `domain::counter` for what makes their names
//! and identifiers). A counter is retired, never deleted.

use super::{Db, DbError};
use crate::domain::UnixMillis;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LocationRecord {
    pub id: String,
    pub name: String,
    /// WeChat Pay's `store_info.id` (Alipay's `store_id`) for the payments taken here.
    pub wechat_store_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CounterRecord {
    pub id: String,
    pub location_id: String,
    pub name: String,
    /// The wallets' `device_id` (Alipay's `terminal_id`) for the payments taken here.
    pub device_id: Option<String>,
    pub retired_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A location or a counter as it is to be stored.
#[derive(Debug, Clone)]
pub struct Place<'a> {
    pub name: &'a str,
    /// The location's shop number or the counter's device number.
    pub identifier: Option<&'a str>,
}

/// What a change to a location or a counter came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceChange {
    Done,
    /// Another one in the same scope has the name.
    NameTaken,
    /// No such location or counter (in use).
    NotFound,
}

const LOCATION_SELECT: &str = "SELECT id, name, wechat_store_id, created_at, updated_at FROM locations";
const COUNTER_SELECT: &str =
    "SELECT id, location_id, name, device_id, retired_at, created_at, updated_at FROM counters";

impl Db {
    /// Every location, by name.
    pub async fn locations(&self) -> Result<Vec<LocationRecord>, DbError> {
        Ok(sqlx::query_as(&format!("{LOCATION_SELECT} ORDER BY name, id")).fetch_all(&self.pool).await?)
    }

    pub async fn location(&self, id: &str) -> Result<Option<LocationRecord>, DbError> {
        Ok(sqlx::query_as(&format!("{LOCATION_SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Every counter in use, by location and name.
    pub async fn counters_in_use(&self) -> Result<Vec<CounterRecord>, DbError> {
        Ok(sqlx::query_as(&format!(
            "{COUNTER_SELECT} WHERE retired_at IS NULL ORDER BY location_id, name, id"
        ))
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn counter(&self, id: &str) -> Result<Option<CounterRecord>, DbError> {
        Ok(sqlx::query_as(&format!("{COUNTER_SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Adds a location; `NameTaken` if another has its name.
    pub async fn add_location(
        &self,
        id: &str,
        place: &Place<'_>,
        now: UnixMillis,
    ) -> Result<PlaceChange, DbError> {
        let inserted = sqlx::query(
            "INSERT INTO locations (id, name, wechat_store_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(id)
        .bind(place.name)
        .bind(place.identifier)
        .bind(now)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(if inserted == 1 { PlaceChange::Done } else { PlaceChange::NameTaken })
    }

    /// Renames a location and sets its shop number.
    pub async fn update_location(
        &self,
        id: &str,
        place: &Place<'_>,
        now: UnixMillis,
    ) -> Result<PlaceChange, DbError> {
        change(
            sqlx::query(
                "UPDATE locations SET name = $1, wechat_store_id = $2, updated_at = $3 WHERE id = $4",
            )
            .bind(place.name)
            .bind(place.identifier)
            .bind(now)
            .bind(id)
            .execute(&self.writer)
            .await,
        )
    }

    /// Adds a counter at a location; `NameTaken` if a counter in use there has its name,
    /// `NotFound` if there is no such location.
    pub async fn add_counter(
        &self,
        id: &str,
        location_id: &str,
        place: &Place<'_>,
        now: UnixMillis,
    ) -> Result<PlaceChange, DbError> {
        if self.location(location_id).await?.is_none() {
            return Ok(PlaceChange::NotFound);
        }
        change(
            sqlx::query(
                "INSERT INTO counters (id, location_id, name, device_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(id)
            .bind(location_id)
            .bind(place.name)
            .bind(place.identifier)
            .bind(now)
            .execute(&self.writer)
            .await,
        )
    }

    /// Renames a counter in use and sets its device number.
    pub async fn update_counter(
        &self,
        id: &str,
        place: &Place<'_>,
        now: UnixMillis,
    ) -> Result<PlaceChange, DbError> {
        change(
            sqlx::query(
                "UPDATE counters SET name = $1, device_id = $2, updated_at = $3 WHERE id = $4 AND retired_at IS NULL",
            )
            .bind(place.name)
            .bind(place.identifier)
            .bind(now)
            .bind(id)
            .execute(&self.writer)
            .await,
        )
    }

    /// Retires a counter: it can no longer be opened, and its name is free again.
    pub async fn retire_counter(&self, id: &str, now: UnixMillis) -> Result<PlaceChange, DbError> {
        let retired = sqlx::query(
            "UPDATE counters SET retired_at = $1, updated_at = $1 WHERE id = $2 AND retired_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(if retired == 1 { PlaceChange::Done } else { PlaceChange::NotFound })
    }
}

/// What a statement that writes one location or counter came to: one row is done, none is not
/// found, a broken unique index is a name taken (also when another change took the name between
/// a check and the write).
fn change(result: Result<sqlx::any::AnyQueryResult, sqlx::Error>) -> Result<PlaceChange, DbError> {
    match result {
        Ok(done) if done.rows_affected() == 1 => Ok(PlaceChange::Done),
        Ok(_) => Ok(PlaceChange::NotFound),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(PlaceChange::NameTaken),
        Err(error) => Err(error.into()),
    }
}
