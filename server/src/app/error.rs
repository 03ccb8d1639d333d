//! Why a use case did not do what was asked, in the contract's terms and with no HTTP in it: the
//! merchant API and the widget's API answer it as the contract's error body, the console in the
//! staff member's words, the command line as a message.

use crate::db::DbError;
use wallet_checkout_contract::ErrorCode;

#[derive(Debug)]
pub enum AppError {
    /// Refused, for the reason `code` names, with words the caller may show.
    Refused { code: ErrorCode, message: String },
    /// The database failed. Logged; the caller learns only that the server could not finish.
    Db(DbError),
    /// Something else failed inside. Logged; never shown.
    Internal(String),
}

impl AppError {
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError::Refused { code, message: message.into() }
    }

    pub fn not_found(what: &str) -> Self {
        Self::refused(ErrorCode::NotFound, format!("no such {what}"))
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::refused(ErrorCode::InvalidRequest, message)
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(cause.to_string())
    }

    /// The contract's code for this error (`internal` for a failure inside).
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Refused { code, .. } => *code,
            AppError::Db(_) | AppError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<DbError> for AppError {
    fn from(error: DbError) -> Self {
        AppError::Db(error)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Refused { code, message } => write!(f, "{code:?}: {message}"),
            AppError::Db(error) => write!(f, "{error}"),
            AppError::Internal(cause) => f.write_str(cause),
        }
    }
}
