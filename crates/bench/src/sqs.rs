//! P5: SQS mode against moto: events/s end to end (API → relay → queue → worker → receiver),
//! beside moto's own SendMessageBatch + ReceiveMessage (+ DeleteMessageBatch, as the worker
//! does) rate from a plain aws-sdk-sqs loop.

use std::time::{Duration, Instant};

use anyhow::Context;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};
use e2e::LIFECYCLE;

use crate::http_load::{CLIENTS, change, create_order};
use crate::receiver::Receiver;
use crate::report::{Figure, series};
use crate::stats::Summary;
use crate::{ApiUnderTest, CpuSplit, Settings, cpu_seconds, moto_pid, start};

/// Orders each client creates and takes through the lifecycle per run.
pub const ORDERS_PER_CLIENT: usize = 3;
/// Concurrent loops of the ceiling: the worker's default `WORKER_POLLERS`.
pub const LOOPS: usize = 4;

/// Messages/s moto sends, receives and deletes for `length` with `LOOPS` loops, and how many
/// messages that was.
async fn moto_rate(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    length: Duration,
) -> anyhow::Result<(f64, u64)> {
    let start = Instant::now();
    let deadline = start + length;
    let loops = (0..LOOPS).map(|l| {
        let (sqs, url) = (sqs.clone(), url.to_owned());
        tokio::spawn(async move {
            let mut received = 0u64;
            while Instant::now() < deadline {
                let entries = batch_entries(&format!("bench_{l}"), 0)?;
                sqs.send_message_batch()
                    .queue_url(&url)
                    .set_entries(Some(entries))
                    .send()
                    .await?;
                let messages = sqs
                    .receive_message()
                    .queue_url(&url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(0)
                    .send()
                    .await?
                    .messages
                    .unwrap_or_default();
                received += messages.len() as u64;
                let deletes = messages
                    .iter()
                    .enumerate()
                    .filter_map(|(i, m)| {
                        DeleteMessageBatchRequestEntry::builder()
                            .id(format!("d{i}"))
                            .set_receipt_handle(m.receipt_handle.clone())
                            .build()
                            .ok()
                    })
                    .collect::<Vec<_>>();
                if !deletes.is_empty() {
                    sqs.delete_message_batch()
                        .queue_url(&url)
                        .set_entries(Some(deletes))
                        .send()
                        .await?;
                }
            }
            anyhow::Ok(received)
        })
    });
    let mut total = 0;
    for result in futures::future::join_all(loops).await {
        total += result??;
    }
    Ok((total as f64 / start.elapsed().as_secs_f64(), total))
}

/// A full `SendMessageBatch` of 10 small delivery messages named after `tag`, each invisible
/// for `delay_seconds`.
fn batch_entries(
    tag: &str,
    delay_seconds: i32,
) -> Result<Vec<SendMessageBatchRequestEntry>, aws_sdk_sqs::error::BuildError> {
    (0..10)
        .map(|i| {
            SendMessageBatchRequestEntry::builder()
                .id(format!("m{i}"))
                .message_body(format!(r#"{{"v":1,"delivery_id":"dlv_{tag}_{i}"}}"#))
                .delay_seconds(delay_seconds)
                .build()
        })
        .collect()
}

/// Puts `count` messages on `url` that stay invisible for the next 15 minutes.
async fn hold_delayed(sqs: &aws_sdk_sqs::Client, url: &str, count: u64) -> anyhow::Result<()> {
    for batch in 0..count.div_ceil(10) {
        let entries = batch_entries(&format!("held_{batch}"), 900)?;
        sqs.send_message_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await?;
    }
    Ok(())
}

/// Runs P5 (needs `MOTO_ENDPOINT`).
pub async fn run(settings: &Settings) -> anyhow::Result<Figure> {
    let sqs = e2e::sqs().await;
    let queue = e2e::create_queue(&sqs, 30, 20)
        .await
        .context("a queue on moto")?;
    let ceiling_queue = e2e::create_queue(&sqs, 30, 20)
        .await
        .context("a queue on moto")?;
    let receiver = Receiver::start().await?;
    let mut extra: Vec<(&'static str, String)> = e2e::aws_env();
    extra.push(("SQS_QUEUE_URL", queue.url.clone()));
    let mut api_extra = extra.clone();
    api_extra.push(("QUEUE", "sqs".into()));
    let under_test = ApiUnderTest::start(settings, &api_extra).await?;
    let mut worker_env = e2e::api_env(&under_test.db, 0);
    worker_env.extend(extra);
    let worker = start(settings, "webhook-dispatch-worker", &worker_env)?;
    let (api_pid, worker_pid) = (under_test.process.id(), worker.id());
    let moto = moto_pid(&e2e::moto_endpoint()).context("the moto_server process")?;
    let api = &under_test.api;
    let (_, key) = api.customer("bench").await;
    api.endpoint(&key, &receiver.url, None).await;

    let events = (CLIENTS * ORDERS_PER_CLIENT * (1 + LIFECYCLE.len())) as u64;
    let (mut rates, mut ceilings, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut cpu = Vec::new();
    for _ in 0..settings.runs {
        let before = receiver.count();
        receiver.record(true);
        let (c0, m0, w0) = (
            CpuSplit::now(Some(api_pid)),
            cpu_seconds(moto),
            cpu_seconds(worker_pid),
        );
        let start = Instant::now();
        let clients = (0..CLIENTS).map(|_| {
            let api = e2e::Api {
                base: api.base.clone(),
                operator_key: api.operator_key.clone(),
                http: api.http.clone(),
            };
            let key = key.clone();
            tokio::spawn(async move {
                for _ in 0..ORDERS_PER_CLIENT {
                    let id = create_order(&api, &key, "p5").await?;
                    for status in LIFECYCLE {
                        change(&api, &id, status).await?;
                    }
                }
                anyhow::Ok(())
            })
        });
        for result in futures::future::join_all(clients).await {
            result??;
        }
        let deadline = Instant::now() + Duration::from_secs(90);
        while receiver.count() - before < events && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        receiver.record(false);
        receiver.take_arrivals();
        let arrived = receiver.count() - before;
        anyhow::ensure!(
            arrived >= events,
            "only {arrived} of {events} events arrived within 90 s"
        );
        let last = receiver.last_arrival().context("an arrival")?;
        let rate = events as f64 / last.duration_since(start).as_secs_f64();
        let (c1, m1, w1) = (
            CpuSplit::now(Some(api_pid)),
            cpu_seconds(moto),
            cpu_seconds(worker_pid),
        );
        let (ceiling, moved) = moto_rate(&sqs, &ceiling_queue.url, settings.run_length).await?;
        let per = |a: f64, b: f64, n: f64| (a - b) * 1e3 / n;
        cpu.push(format!(
            "moto {:.2} / worker {:.2} / {} per event, moto {:.2} per message of its own loop",
            per(m1, m0, events as f64),
            per(w1, w0, events as f64),
            c1.per_op_since(&c0, events as f64),
            per(cpu_seconds(moto), m1, moved as f64),
        ));
        rates.push(rate);
        ceilings.push(ceiling);
        ratios.push(rate / ceiling);
    }
    // moto scans every message of a queue on each receive and delete, so its cost per message
    // grows with the queue's depth; the end-to-end queue holds up to a run's events at once.
    let deep_queue = e2e::create_queue(&sqs, 30, 20)
        .await
        .context("a queue on moto")?;
    hold_delayed(&sqs, &deep_queue.url, events).await?;
    let deep_started = cpu_seconds(moto);
    let (deep_rate, deep_moved) = moto_rate(&sqs, &deep_queue.url, settings.run_length).await?;
    let deep_cpu = (cpu_seconds(moto) - deep_started) * 1e3 / deep_moved.max(1) as f64;
    under_test.finish().await;
    let ratio = Summary::of(&ratios);
    Ok(Figure {
        id: "P5",
        what: "events/s end to end in SQS mode (moto)".into(),
        value: Summary::of(&rates),
        ceiling: Some((
            "moto send+receive+delete msgs/s".into(),
            Summary::of(&ceilings),
        )),
        ratio: Some(ratio),
        budget: "≥ 0.5×",
        met: ratio.median >= 0.5,
        notes: format!(
            "{events} events per run ({CLIENTS} clients × {ORDERS_PER_CLIENT} orders × created + 5 changes) from the first request to the last arrival, API (QUEUE=sqs) + webhook-dispatch-worker; end to end {}; moto loop ({LOOPS} loops of SendMessageBatch 10 → ReceiveMessage 10 → DeleteMessageBatch) {}; ratios {}. CPU ms per event end to end (moto / worker / orders-api / mariadbd / bench process = load generator and receiver), and moto's per message of its own loop, per run: {}. The same moto loop on a queue that also holds {events} delayed messages (as deep as one run's backlog): {deep_rate:.0} msgs/s, moto {deep_cpu:.2} CPU ms per message",
            series(&rates),
            series(&ceilings),
            series(&ratios),
            cpu.join("; ")
        ),
    })
}
