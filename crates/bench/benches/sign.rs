//! P1: `domain::signing::sign` of a 1 KiB body beside its ceiling, a raw HMAC-SHA256 of the
//! same bytes (`hmac` + `sha2`). `scripts/bench` runs this executable and reads criterion's
//! `sample.json` files; `cargo test --all-targets` only compiles it.

#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use criterion::{Criterion, criterion_group, criterion_main};
use domain::signing::{SigningSecret, sign};
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

const MSG_ID: &str = "evt_01jd6f0r6q8v3x9k2m4n5p7q8r";
const TIMESTAMP: i64 = 1_614_265_330;

fn body() -> Vec<u8> {
    let mut body = br#"{"type":"order.status_changed","data":{"pad":""#.to_vec();
    while body.len() < 1024 - 3 {
        body.push(b'x');
    }
    body.extend_from_slice(br#""}}"#);
    body
}

fn p1(c: &mut Criterion) {
    let encoded = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let secret = SigningSecret::parse(&format!("whsec_{encoded}")).expect("a valid secret");
    let key = STANDARD.decode(encoded).expect("base64 key");
    let body = body();
    // The exact bytes `sign` authenticates: "{id}.{timestamp}.{body}".
    let mut signed = format!("{MSG_ID}.{TIMESTAMP}.").into_bytes();
    signed.extend_from_slice(&body);

    let mut group = c.benchmark_group("p1");
    group.bench_function("sign", |b| {
        b.iter(|| sign(black_box(&secret), MSG_ID, TIMESTAMP, black_box(&body)));
    });
    group.bench_function("hmac", |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha256>::new_from_slice(black_box(&key)).expect("any key length");
            mac.update(black_box(&signed));
            mac.finalize().into_bytes()
        });
    });
    group.finish();
}

criterion_group!(benches, p1);
criterion_main!(benches);
