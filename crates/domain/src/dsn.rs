//! Database URLs: `mysql://…` as sqlx takes it, or the Go-driver form PlanetScale hands out.
//!
//! `user:pass@tcp(host:port)/db?tls=true` becomes
//! `mysql://user:pass@host:port/db?ssl-mode=VERIFY_IDENTITY`: PlanetScale requires TLS with
//! identity verification, and `tls=true` in the Go driver means exactly that.

/// The DSN could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a mysql:// URL nor a user:pass@tcp(host:port)/db DSN")]
pub struct DsnError;

/// Translates a Go-driver DSN into a `mysql://` URL; a `mysql://` URL is returned unchanged.
pub fn to_mysql_url(dsn: &str) -> Result<String, DsnError> {
    let dsn = dsn.trim();
    if dsn.starts_with("mysql://") || dsn.starts_with("mariadb://") {
        return Ok(dsn.to_owned());
    }
    let (credentials, rest) = dsn.rsplit_once("@tcp(").ok_or(DsnError)?;
    let (address, rest) = rest.split_once(')').ok_or(DsnError)?;
    let rest = rest.strip_prefix('/').ok_or(DsnError)?;
    let (database, query) = rest.split_once('?').unwrap_or((rest, ""));
    if address.is_empty() || database.is_empty() {
        return Err(DsnError);
    }
    let (user, password) = credentials.split_once(':').unwrap_or((credentials, ""));
    let mut params = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match (key, value) {
            ("tls", "true" | "1" | "verify-identity") => params.push("ssl-mode=VERIFY_IDENTITY"),
            ("tls", "skip-verify" | "preferred") => params.push("ssl-mode=REQUIRED"),
            ("tls", "false" | "0") => params.push("ssl-mode=DISABLED"),
            // Go-driver options with no sqlx equivalent (parseTime, interpolateParams, …) are
            // about the Go driver's own behaviour and do not apply here.
            _ => {}
        }
    }
    let mut url = String::from("mysql://");
    url.push_str(&percent_encode(user));
    if !password.is_empty() {
        url.push(':');
        url.push_str(&percent_encode(password));
    }
    url.push('@');
    url.push_str(address);
    url.push('/');
    url.push_str(database);
    if !params.is_empty() {
        url.push('?');
        url.push_str(&params.join("&"));
    }
    Ok(url)
}

fn percent_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planetscale_dsn_becomes_a_verified_tls_url() {
        assert_eq!(
            to_mysql_url("u5er:pscale_pw_abc/+=@tcp(aws.connect.psdb.cloud)/orders?tls=true&interpolateParams=true"),
            Ok("mysql://u5er:pscale_pw_abc%2F%2B%3D@aws.connect.psdb.cloud/orders?ssl-mode=VERIFY_IDENTITY".to_owned())
        );
    }

    #[test]
    fn local_dsn_without_password_or_tls() {
        assert_eq!(
            to_mysql_url("root@tcp(127.0.0.1:3306)/mechanica"),
            Ok("mysql://root@127.0.0.1:3306/mechanica".to_owned())
        );
    }

    #[test]
    fn urls_pass_through_and_garbage_is_rejected() {
        let url = "mysql://root@127.0.0.1:3306/mechanica";
        assert_eq!(to_mysql_url(url).as_deref(), Ok(url));
        for bad in [
            "",
            "root@127.0.0.1/db",
            "root@tcp(127.0.0.1:3306)",
            "root@tcp()/db",
            "u@tcp(h:1)/",
        ] {
            assert_eq!(to_mysql_url(bad), Err(DsnError), "{bad}");
        }
    }
}
