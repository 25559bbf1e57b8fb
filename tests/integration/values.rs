//! Values come through exact: non-UTF-8 VARBINARY, BINARY(16) ending in zero bytes, a 1 MB
//! blob, BIGINT UNSIGNED max, and the temporal, decimal and character-set conversions.

use std::time::Duration;

use base64::Engine;
use serde_json::json;

use crate::harness::*;

/// The bytes of a binary value in `output.binary = "utf8"` form: a string when they are
/// valid UTF-8, else `{"base64": ...}`.
fn bytes(v: &serde_json::Value) -> Vec<u8> {
    match v {
        serde_json::Value::String(s) => s.as_bytes().to_vec(),
        other => base64::engine::general_purpose::STANDARD
            .decode(other["base64"].as_str().expect("a string or {\"base64\"}"))
            .expect("valid base64"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn values_are_lossless() {
    let _shared = SERVER.read().await;
    let (name, server_id) = unique("values");
    let mut conn = db().await;
    exec(&mut conn, &format!("CREATE DATABASE `{name}`")).await;
    exec(&mut conn, &format!(
        "CREATE TABLE `{name}`.vals (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, vb VARBINARY(255), b16 BINARY(16), big LONGBLOB, \
         i8 TINYINT, u64 BIGINT UNSIGNED, i64 BIGINT, g POINT, t VARCHAR(50) CHARACTER SET latin1, u8 VARCHAR(50) CHARACTER SET utf8mb4, \
         d DATE, dt DATETIME(3), ts TIMESTAMP(6) NULL, tm TIME, y YEAR, dec1 DECIMAL(20,4), f DOUBLE, e ENUM('red','green'), \
         s SET('a','b','c'), bits BIT(12), js JSON) ENGINE=InnoDB"
    )).await;
    let mut mwcdc = Connector::new(&name, server_id, &format!("include = [\"{name}.*\"]"), "");
    mwcdc.start();
    exec(&mut conn, "SET time_zone = '+00:00'").await;
    exec(&mut conn, &format!(
        "INSERT INTO `{name}`.vals VALUES (18446744073709551615, x'ff00fe41', x'01020300000000000000000000000000', \
         REPEAT(x'00ff10', 349526), -128, 18446744073709551615, -9223372036854775808, ST_GeomFromText('POINT(1 2)'), x'e9e8', 'Zürich 😀', \
         '2026-11-26', '2026-11-26 08:30:15.123', '2026-11-26 08:00:00.000001', '-838:59:59', 2026, \
         '-1234567890123456.7890', 0.5, 'green', 'a,c', b'101010101010', '{{\"k\": [1, 2]}}')"
    )).await;
    let msgs = read_topics(&name, Duration::from_secs(30), |m| !m.is_empty());
    assert_eq!(mwcdc.stop().code(), Some(0), "{}", mwcdc.log());
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let after = &msgs[0].value["after"];
    assert_eq!(msgs[0].key, json!({"id": 18446744073709551615u64}));
    assert_eq!(after["u64"], json!(18446744073709551615u64));
    assert_eq!(after["i64"], json!(-9223372036854775808i64));
    assert_eq!(after["i8"], json!(-128));
    assert_eq!(after["vb"], json!({"base64": "/wD+QQ=="}));
    let b16 = bytes(&after["b16"]);
    assert_eq!(b16.len(), 16, "BINARY(16) is padded back to 16 bytes");
    assert_eq!(&b16[..3], &[1, 2, 3]);
    assert!(b16[3..].iter().all(|&b| b == 0));
    let big = bytes(&after["big"]);
    assert_eq!(big.len(), 3 * 349_526);
    assert!(big.chunks(3).all(|c| c == [0x00, 0xff, 0x10]));
    // A GEOMETRY column before a text column must not shift the character sets.
    assert_eq!(after["t"], "éè");
    let point = bytes(&after["g"]);
    assert_eq!(point.len(), 25, "SRID, byte order, type and two doubles");
    assert_eq!(&point[17..25], &2.0f64.to_le_bytes());
    assert_eq!(after["u8"], "Zürich 😀");
    assert_eq!(after["d"], "2026-11-26");
    assert_eq!(after["dt"], "2026-11-26T08:30:15.123");
    assert_eq!(after["ts"], "2026-11-26T08:00:00.000001Z");
    assert_eq!(after["tm"], "-838:59:59");
    assert_eq!(after["y"], "2026");
    assert_eq!(after["dec1"], "-1234567890123456.7890");
    assert_eq!(after["f"], json!(0.5));
    assert_eq!(after["e"], "green");
    assert_eq!(after["s"], "a,c");
    assert_eq!(after["bits"], json!(0b101010101010));
    // MariaDB stores JSON as LONGTEXT: it arrives as its text.
    assert_eq!(after["js"], "{\"k\": [1, 2]}");
    drop_dbs(&mut conn, &[&name]).await;
}
