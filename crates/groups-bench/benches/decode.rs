//! Workload 3 under criterion: a `get_my_groups` answer of 10,000 groups
//! decoded into `Vec<groups_types::Group>` and into `serde_json::Value`.
//! `cargo bench -p groups-bench --bench decode`; `cargo xtask bench` runs
//! the same comparison with its own timing loop so the whole report comes
//! from one command.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use groups_types::Group;
use serde_json::Value;

fn decode(c: &mut Criterion) {
    let body = groups_bench::my_groups_json(10_000);
    let mut group = c.benchmark_group("decode_my_groups_10000");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.sample_size(20);
    group.bench_function("typed Vec<Group>", |b| {
        b.iter(|| {
            let groups: Vec<Group> = serde_json::from_slice(black_box(&body)).expect("valid");
            groups
        })
    });
    group.bench_function("serde_json::Value", |b| {
        b.iter(|| {
            let value: Value = serde_json::from_slice(black_box(&body)).expect("valid");
            value
        })
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
