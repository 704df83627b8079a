//! Settings every process shares (the API, the Lambda, the worker): the environment, the
//! database and the key sealing signing secrets.

use anyhow::{Context, bail};
use domain::secret_box::{DEV_SECRETS_KEY_BASE64, SecretKeyring, SecretsKey};
use secrecy::{ExposeSecret, SecretString};

/// The deployment environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AppEnv {
    /// Development: dev secrets key allowed, readable logs, migrations at start.
    Dev,
    /// Production: `SECRETS_KEY` and a TLS database URL required, JSON logs.
    Prod,
}

/// Database and secrets settings (`APP_ENV`, `DATABASE_URL`/`DSN`, `SECRETS_KEY`).
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// `dev` or `prod`.
    #[arg(long, env = "APP_ENV", value_enum, default_value = "prod")]
    pub app_env: AppEnv,

    /// `mysql://user:pass@host:port/db` (dev default `mysql://root@127.0.0.1:3306/mechanica`).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretString>,

    /// The Go-driver form `user:pass@tcp(host:port)/db?tls=true`, used when `DATABASE_URL` is unset.
    #[arg(long, env = "DSN", hide_env_values = true)]
    pub dsn: Option<SecretString>,

    /// Base64 of 32 bytes: the master key sealing webhook signing secrets at rest.
    #[arg(long, env = "SECRETS_KEY", hide_env_values = true)]
    pub secrets_key: Option<SecretString>,
}

/// The database a dev environment uses when none is configured.
pub const DEV_DATABASE_URL: &str = "mysql://root@127.0.0.1:3306/mechanica";

impl CommonArgs {
    /// The `mysql://` URL to connect to; production insists on verified TLS.
    pub fn database_url(&self) -> anyhow::Result<SecretString> {
        let url = match (&self.database_url, &self.dsn) {
            (Some(url), _) if !url.expose_secret().is_empty() => {
                domain::dsn::to_mysql_url(url.expose_secret())?
            }
            (_, Some(dsn)) if !dsn.expose_secret().is_empty() => {
                domain::dsn::to_mysql_url(dsn.expose_secret())
                    .context("DSN is not a valid user:pass@tcp(host:port)/db DSN")?
            }
            _ if self.app_env == AppEnv::Dev => DEV_DATABASE_URL.to_owned(),
            _ => bail!("DATABASE_URL or DSN is required when APP_ENV=prod"),
        };
        if self.app_env == AppEnv::Prod && !requires_verified_tls(&url) {
            bail!(
                "APP_ENV=prod requires a database URL with ssl-mode=VERIFY_IDENTITY (or VERIFY_CA)"
            );
        }
        Ok(SecretString::from(url))
    }

    /// The keyring sealing and opening signing secrets.
    pub fn keyring(&self) -> anyhow::Result<SecretKeyring> {
        let key = match &self.secrets_key {
            Some(key) if !key.expose_secret().is_empty() => {
                SecretsKey::from_base64(key.expose_secret())
                    .context("SECRETS_KEY must be base64 of exactly 32 bytes")?
            }
            _ if self.app_env == AppEnv::Dev => {
                tracing::warn!("SECRETS_KEY is unset: using the development key (APP_ENV=dev)");
                SecretsKey::from_base64(DEV_SECRETS_KEY_BASE64)
                    .context("the development secrets key is malformed")?
            }
            _ => bail!("SECRETS_KEY is required when APP_ENV=prod"),
        };
        Ok(SecretKeyring::new(key))
    }
}

fn requires_verified_tls(url: &str) -> bool {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    query.split('&').any(|pair| {
        matches!(
            pair.to_ascii_lowercase().replace('-', "_").as_str(),
            "ssl_mode=verify_identity"
                | "ssl_mode=verify_ca"
                | "sslmode=verify_identity"
                | "sslmode=verify_ca"
        )
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Test {
        #[command(flatten)]
        common: CommonArgs,
    }

    fn parse(args: &[&str]) -> Test {
        Test::try_parse_from(std::iter::once("test").chain(args.iter().copied()))
            .expect("arguments parse")
    }

    #[test]
    fn prod_requires_a_key_and_verified_tls() {
        let t = parse(&["--app-env", "prod", "--database-url", "mysql://u@h/db"]);
        assert!(t.common.database_url().is_err());
        assert!(t.common.keyring().is_err());
        let t = parse(&[
            "--app-env",
            "prod",
            "--dsn",
            "u:p@tcp(h:3306)/db?tls=true",
            "--secrets-key",
            DEV_SECRETS_KEY_BASE64,
        ]);
        assert!(t.common.database_url().is_ok());
        assert!(t.common.keyring().is_ok());
    }

    #[test]
    fn dev_has_defaults() {
        let t = parse(&["--app-env", "dev"]);
        assert_eq!(
            t.common.database_url().expect("default").expose_secret(),
            DEV_DATABASE_URL
        );
        assert!(t.common.keyring().is_ok());
    }
}
