//! Seeding the database directly, for tests of the relay and the dispatcher alone.

use std::sync::Arc;

use delivery::outbox::Handoff;
use domain::ids::{CustomerId, DeliveryId, EndpointId};
use domain::order::{Address, NewOrder, Shipping};
use domain::secret_box::{DEV_SECRETS_KEY_BASE64, SecretKeyring, SecretsKey};
use domain::signing::SigningSecret;
use e2e::TestDb;
use orders_api::db::endpoints::{self, Endpoint};

/// The keyring the dev configuration uses.
pub fn dev_keyring() -> Arc<SecretKeyring> {
    Arc::new(SecretKeyring::new(
        SecretsKey::from_base64(DEV_SECRETS_KEY_BASE64).expect("dev key"),
    ))
}

/// Endpoint health as the test configuration keeps it, its operational events waiting for a
/// relay.
pub fn tracking() -> delivery::health::Tracking {
    delivery::health::Tracking {
        policy: e2e::delivery_args("0").health_policy(),
        handoff: Handoff::relay(Arc::default()),
    }
}

/// What [`seed`] wrote, and the service and customer that wrote it.
pub struct Seeded {
    pub secret: SigningSecret,
    pub deliveries: Vec<DeliveryId>,
    pub service: orders_api::service::Service,
    pub customer: CustomerId,
}

impl Seeded {
    /// Places one more order; returns its delivery.
    pub async fn place_order(&self, pool: &sqlx::MySqlPool, reference: &str) -> DeliveryId {
        let order = self
            .service
            .place_order(self.customer.clone(), new_order(reference))
            .await
            .expect("order");
        let id: String = sqlx::query_scalar(
            "select d.id from webhook_deliveries d join webhook_events e on e.id = d.event_id \
             where e.order_id = ?",
        )
        .bind(order.id.as_str())
        .fetch_one(pool)
        .await
        .expect("its delivery");
        DeliveryId::parse(&id).expect("id")
    }
}

fn new_order(reference: &str) -> NewOrder {
    NewOrder {
        reference: reference.into(),
        origin: address(),
        destination: address(),
        parcels: vec![],
        shipping: Shipping::default(),
    }
}

fn address() -> Address {
    Address {
        name: "Acme".into(),
        line1: "Kade 1".into(),
        line2: None,
        city: "Rotterdam".into(),
        region: None,
        postal_code: "3011AA".into(),
        country: "NL".into(),
    }
}

/// A customer with one endpoint at `url` and `orders` placed orders: one pending, unpublished
/// delivery each.
pub async fn seed(db: &TestDb, url: &str, orders: usize) -> Seeded {
    seed_with(db, url, orders, Handoff::relay(Arc::default())).await
}

/// [`seed`], the orders placed through a service handing its deliveries over with `handoff`.
pub async fn seed_with(db: &TestDb, url: &str, orders: usize, handoff: Handoff) -> Seeded {
    let customer = CustomerId::new();
    let service = orders_api::service::Service::new(
        db.pool.clone(),
        dev_keyring(),
        delivery::client::TargetGuard::system(true),
        handoff,
    );
    let mut conn = db.pool.acquire().await.expect("connection");
    orders_api::db::customers::insert(&mut conn, &customer, "Acme", domain::time::now())
        .await
        .expect("customer");
    let now = domain::time::now();
    let endpoint = Endpoint {
        id: EndpointId::new(),
        customer_id: customer.clone(),
        url: domain::target::WebhookUrl::parse(url).expect("a webhook URL"),
        description: None,
        event_types: None,
        enabled: true,
        disabled_reason: None,
        failing_since: None,
        sealed_headers: None,
        rate_limit: None,
        created_at: now,
        updated_at: now,
    };
    let secret = SigningSecret::generate();
    let sealed = dev_keyring()
        .seal(endpoint.id.as_str(), secret.as_bytes())
        .expect("seal");
    endpoints::insert(&mut conn, &endpoint)
        .await
        .expect("endpoint");
    endpoints::insert_secret(&mut conn, &endpoint.id, &sealed)
        .await
        .expect("secret");
    drop(conn);
    for n in 0..orders {
        service
            .place_order(customer.clone(), new_order(&format!("PO-{n}")))
            .await
            .expect("order");
    }
    let ids: Vec<String> =
        sqlx::query_scalar("select id from webhook_deliveries where endpoint_id = ? order by id")
            .bind(endpoint.id.as_str())
            .fetch_all(&db.pool)
            .await
            .expect("deliveries");
    Seeded {
        secret,
        deliveries: ids
            .iter()
            .map(|id| DeliveryId::parse(id).expect("id"))
            .collect(),
        service,
        customer,
    }
}

/// `(status, attempt_count)` of a delivery.
pub async fn delivery_state(db: &TestDb, id: &DeliveryId) -> (String, u32) {
    sqlx::query_as("select status, attempt_count from webhook_deliveries where id = ?")
        .bind(id.as_str())
        .fetch_one(&db.pool)
        .await
        .expect("delivery")
}

/// An order of a new customer with one endpoint on a receiver of its own, once its
/// `order.created` delivery has arrived and no delivery is pending: the receiver and the order's
/// id.
pub async fn settled_order(app: &e2e::ApiProcess, db: &TestDb) -> (e2e::Receiver, String) {
    let receiver = e2e::Receiver::start().await;
    let (_, key) = app.customer("Acme").await;
    app.endpoint(&key, &receiver.url, None).await;
    let order = app.order(&key, "PO-1").await;
    receiver.wait_for(1, "the order.created delivery").await;
    e2e::eventually(
        std::time::Duration::from_secs(10),
        "the delivery to settle",
        || async {
            let pending = "select count(*) from webhook_deliveries where status = 'pending'";
            (db.number(pending).await == 0).then_some(())
        },
    )
    .await;
    (receiver, order)
}

/// Sends a status change of `order` (to `confirmed`, by the operator) that the server picks as a
/// deadlock's victim, and returns its response: a transaction heavier than the change (200 rows
/// written, so InnoDB rolls the change back) holds every delivery row and the gap after the
/// last, the change's delivery insert waits for it, then that transaction asks for the order's
/// row, which the change holds: a lock cycle, which InnoDB breaks at once. The API runs the
/// change again.
pub async fn deadlock_a_status_change(
    app: &e2e::ApiProcess,
    db: &TestDb,
    order: &str,
) -> (reqwest::StatusCode, serde_json::Value) {
    sqlx::query("create table ballast (n int primary key)")
        .execute(&db.pool)
        .await
        .expect("ballast");
    let mut other = db.pool.begin().await.expect("begin");
    sqlx::query(
        "insert into ballast (n) with recursive s (n) as (select 1 union all select n + 1 from s where n < 200) select n from s",
    )
    .execute(&mut *other)
    .await
    .expect("ballast rows");
    sqlx::query("select id from webhook_deliveries force index (primary) for update")
        .fetch_all(&mut *other)
        .await
        .expect("delivery locks");
    let path = format!("/v1/orders/{order}/status");
    let change = app.call(
        "POST",
        &path,
        Some(&app.operator_key),
        Some(serde_json::json!({"status": "confirmed"})),
    );
    let (response, ()) = tokio::join!(change, async {
        e2e::eventually(
            std::time::Duration::from_secs(10),
            "the status change to wait for the delivery locks",
            || async {
                // (`innodb_trx` does not list a transaction waiting for an insert intention.)
                // The insert comes after the order's lock: the change holds it now.
                let waiting = "select count(*) from information_schema.processlist \
                               where db = database() \
                               and info like 'insert into webhook_deliveries%'";
                (db.number(waiting).await > 0).then_some(())
            },
        )
        .await;
        sqlx::query("select id from orders where id = ? for update")
            .bind(order)
            .fetch_all(&mut *other)
            .await
            .expect("the status change, not this transaction, is the deadlock's victim");
        other.rollback().await.expect("rollback");
    });
    response
}
