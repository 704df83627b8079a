//! Where `migrate` finds its database: `DATABASE_URL`, or PlanetScale's Go-driver `DSN`.

use secrecy::{ExposeSecret, SecretString};

/// No usable database URL was configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    /// Neither variable is set (or both are empty).
    #[error(
        "set DATABASE_URL (mysql://user:pass@host:port/db) or DSN (user:pass@tcp(host:port)/db?tls=true)"
    )]
    Missing,
    /// `DATABASE_URL` is set but is neither form.
    #[error("DATABASE_URL is neither a mysql:// URL nor a user:pass@tcp(host:port)/db DSN")]
    InvalidDatabaseUrl,
    /// `DSN` is used but is neither form.
    #[error("DSN is neither a user:pass@tcp(host:port)/db DSN nor a mysql:// URL")]
    InvalidDsn,
}

/// The `mysql://` URL to migrate: `DATABASE_URL` when it is set and not empty, otherwise `DSN`.
/// Either may be in either form (`mysql://…` or `user:pass@tcp(host:port)/db?tls=true`, where
/// `tls=true` becomes `ssl-mode=VERIFY_IDENTITY`).
pub fn database_url(
    database_url: Option<&SecretString>,
    dsn: Option<&SecretString>,
) -> Result<SecretString, DatabaseUrlError> {
    let present = |value: Option<&SecretString>| {
        value
            .map(|value| value.expose_secret().trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    if let Some(url) = present(database_url) {
        return domain::dsn::to_mysql_url(&url)
            .map(SecretString::from)
            .map_err(|_| DatabaseUrlError::InvalidDatabaseUrl);
    }
    if let Some(dsn) = present(dsn) {
        return domain::dsn::to_mysql_url(&dsn)
            .map(SecretString::from)
            .map_err(|_| DatabaseUrlError::InvalidDsn);
    }
    Err(DatabaseUrlError::Missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(value: &str) -> SecretString {
        SecretString::from(value.to_owned())
    }

    fn resolve(url: Option<&str>, dsn: Option<&str>) -> Result<String, DatabaseUrlError> {
        let url = url.map(secret);
        let dsn = dsn.map(secret);
        database_url(url.as_ref(), dsn.as_ref()).map(|url| url.expose_secret().to_owned())
    }

    #[test]
    fn planetscale_dsn_is_used_when_database_url_is_unset() {
        assert_eq!(
            resolve(
                None,
                Some("u5er:pscale_pw_x@tcp(aws.connect.psdb.cloud:3306)/mechanica?tls=true")
            ),
            Ok(
                "mysql://u5er:pscale_pw_x@aws.connect.psdb.cloud:3306/mechanica?ssl-mode=VERIFY_IDENTITY"
                    .to_owned()
            )
        );
    }

    #[test]
    fn empty_database_url_falls_back_to_dsn() {
        assert_eq!(
            resolve(Some(""), Some("root@tcp(127.0.0.1:3306)/mechanica")),
            Ok("mysql://root@127.0.0.1:3306/mechanica".to_owned())
        );
    }

    #[test]
    fn database_url_wins_and_may_be_either_form() {
        assert_eq!(
            resolve(
                Some("mysql://root@127.0.0.1:3306/a"),
                Some("root@tcp(127.0.0.1:3306)/b")
            ),
            Ok("mysql://root@127.0.0.1:3306/a".to_owned())
        );
        assert_eq!(
            resolve(Some("root@tcp(db:3306)/a?tls=true"), None),
            Ok("mysql://root@db:3306/a?ssl-mode=VERIFY_IDENTITY".to_owned())
        );
    }

    #[test]
    fn missing_and_malformed_values_are_named() {
        assert_eq!(resolve(None, None), Err(DatabaseUrlError::Missing));
        assert_eq!(resolve(Some(" "), Some("")), Err(DatabaseUrlError::Missing));
        assert_eq!(
            resolve(None, Some("root@127.0.0.1/db")),
            Err(DatabaseUrlError::InvalidDsn)
        );
        assert_eq!(
            resolve(Some("postgres://x"), None),
            Err(DatabaseUrlError::InvalidDatabaseUrl)
        );
    }
}
