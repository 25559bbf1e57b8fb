use mwcdc_binlog::*;
use std::collections::HashMap;

fn run(name: &str, data: &[u8]) {
    let mut dec = EventDecoder::new(Collations::default());
    let mut maps: HashMap<u64, TableMap> = HashMap::new();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for item in file_events(data) {
        let (off, bytes) = match item {
            Ok(x) => x,
            Err(e) => {
                println!("{name}: file_events error {e:?}");
                return;
            }
        };
        let (h, ev) = match dec.decode(bytes) {
            Ok(x) => x,
            Err(e) => {
                println!(
                    "{name}: @{off} type {} decode error {e:?}",
                    bytes.get(4).copied().unwrap_or(0)
                );
                return;
            }
        };
        *counts.entry(format!("{}", h.type_code)).or_default() += 1;
        handle(name, off, &mut dec, &mut maps, ev, &mut counts);
    }
    println!(
        "{name}: OK {:?} fde={:?}",
        counts,
        dec.format_description().map(|f| f.server_version.clone())
    );
}

fn handle(
    name: &str,
    off: usize,
    dec: &mut EventDecoder,
    maps: &mut HashMap<u64, TableMap>,
    ev: Event<'_>,
    counts: &mut HashMap<String, usize>,
) {
    match ev {
        Event::TableMap(t) => {
            maps.insert(t.table_id, t);
        }
        Event::Rows(r) => {
            let Some(t) = maps.get(&r.table_id) else {
                println!("{name}: @{off} unknown table {}", r.table_id);
                return;
            };
            match r.decode(t) {
                Ok(rows) => *counts.entry("rows".into()).or_default() += rows.len(),
                Err(e) => println!("{name}: @{off} rows error {e:?} ({})", t.qualified_name()),
            }
        }
        Event::TransactionPayload(p) => {
            for e in payload_events(&p) {
                let e = match e {
                    Ok(e) => e,
                    Err(er) => {
                        println!("{name}: payload err {er:?}");
                        return;
                    }
                };
                match dec.decode_unchecked(e) {
                    Ok((_, ev)) => handle(name, off, dec, maps, ev, counts),
                    Err(er) => println!("{name}: @{off} inner err {er:?}"),
                }
            }
        }
        Event::PartialUpdateRows { .. } => println!("{name}: @{off} partial update rows"),
        _ => {}
    }
}

#[test]
fn explore() {
    let dir = "/work/shared/fixtures/binlogs";
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "README.md")
        .collect();
    names.sort();
    for n in names {
        let data = std::fs::read(format!("{dir}/{n}")).unwrap();
        let r = std::panic::catch_unwind(|| run(&n, &data));
        if r.is_err() {
            println!("{n}: PANIC");
        }
    }
}
