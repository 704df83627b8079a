//! Customers.

use chrono::{DateTime, Utc};
use domain::ids::CustomerId;
use secrecy::SecretString;

use super::{Result, Service, in_transaction};
use crate::db::api_keys::{self, Role};
use crate::db::customers;

/// A customer just created, with its first API key.
#[derive(Debug)]
pub struct CreatedCustomer {
    /// Its id.
    pub id: CustomerId,
    /// Its API key, shown once.
    pub api_key: SecretString,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl Service {
    /// Creates a customer named `name` and its first API key, `default`.
    pub async fn create_customer(&self, name: &str) -> Result<CreatedCustomer> {
        let id = CustomerId::new();
        let created_at = domain::time::now();
        let key = in_transaction!(self.pool, |tx| {
            customers::insert(&mut tx, &id, name, created_at).await?;
            Ok(api_keys::create(&mut tx, &Role::Customer(id.clone()), Some("default")).await?)
        })?;
        Ok(CreatedCustomer {
            id,
            api_key: key.secret,
            created_at,
        })
    }
}
