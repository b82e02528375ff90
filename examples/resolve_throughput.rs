//! Address resolution throughput (quality.md: ≥ 200,000 addresses/s on one core).
//! `cargo run --release --example resolve_throughput [N]`

use gradhub::domain::address::AddressResolver;
use gradhub::domain::division::{DivisionTable, Level};
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500_000);
    let table = DivisionTable::embedded();
    let resolver = AddressResolver::new(&table);
    let counties: Vec<String> = table
        .divisions()
        .filter(|d| d.level == Level::County)
        .map(|d| table.name_path(d.code).replace(' ', ""))
        .collect();
    // Realistic variety: full paths with street detail, short forms, and noise.
    let addresses: Vec<String> = counties
        .iter()
        .enumerate()
        .flat_map(|(i, path)| {
            [
                format!("{path}人民路{}号", i % 300),
                path.replace('省', "").replace("自治区", ""),
                format!(
                    "{}幸福小区{}栋",
                    path.chars().skip(3).collect::<String>(),
                    i % 30
                ),
            ]
        })
        .collect();
    let start = Instant::now();
    let mut resolved = 0usize;
    for i in 0..n {
        if resolver
            .resolve(&addresses[i % addresses.len()])
            .division
            .is_some()
        {
            resolved += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "resolved {resolved}/{n} addresses in {secs:.3} s: {:.0} addresses/s on one core (target ≥ 200,000)",
        n as f64 / secs
    );
}
