//! The delivery log, and re-sending a delivery.

use delivery::log::{self, AttemptRow, DeliveryRow, ListFilter, Reopen};
use domain::ids::{CustomerId, DeliveryId};

use super::{Result, Service, ServiceError, in_transaction};
use crate::db::endpoints;

/// One delivery with everything the log shows of it.
#[derive(Debug)]
pub struct DeliveryDetail {
    /// The delivery.
    pub delivery: DeliveryRow,
    /// Its attempts, in order.
    pub attempts: Vec<AttemptRow>,
    /// The exact payload bytes it sends.
    pub payload: Vec<u8>,
}

impl Service {
    /// The deliveries `filter` selects, newest first, once its endpoint is found to be
    /// `customer`'s.
    pub async fn list_deliveries(
        &self,
        customer: &CustomerId,
        filter: &ListFilter,
    ) -> Result<Vec<DeliveryRow>> {
        let mut conn = self.pool.acquire().await?;
        endpoints::find(&mut conn, customer, &filter.endpoint_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        Ok(log::list(&mut conn, filter).await?)
    }

    /// One delivery of `customer`, with its attempts and payload.
    pub async fn delivery(&self, customer: &CustomerId, id: &DeliveryId) -> Result<DeliveryDetail> {
        let mut conn = self.pool.acquire().await?;
        let delivery = log::find(&mut conn, customer, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let attempts = log::attempts(&mut conn, id).await?;
        let payload = log::payload(&mut conn, &delivery.event_id).await?;
        Ok(DeliveryDetail {
            delivery,
            attempts,
            payload,
        })
    }

    /// Re-opens a delivery of `customer` for one immediate attempt with the same `webhook-id`.
    pub async fn retry_delivery(&self, customer: &CustomerId, id: &DeliveryId) -> Result<()> {
        in_transaction!(
            self.pool,
            |tx| match log::reopen(&mut tx, &self.handoff, customer, id).await? {
                Reopen::Reopened => Ok(()),
                Reopen::NotFound => Err(ServiceError::NotFound),
                Reopen::InFlight => Err(ServiceError::DeliveryInFlight),
                Reopen::EndpointDisabled => Err(ServiceError::EndpointDisabled),
            }
        )?;
        self.hand_off();
        Ok(())
    }
}
