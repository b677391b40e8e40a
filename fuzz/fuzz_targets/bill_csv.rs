//! Bill CSV parsing: `parse_bill`, `parse_trade_bill` and `amount_to_fen`
//! on text the fuzzer wrote.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wxpay_core::bill::{amount_to_fen, parse_bill, parse_trade_bill};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(table) = parse_bill(text) {
        assert_eq!(table.rows().len(), table.len());
        for row in table.rows().chain(table.summary_rows()) {
            let _ = row.to_map();
            for (column, value) in row.iter() {
                let _ = (column, value, row.get(column));
            }
            let _ = row.line();
        }
        let _ = table.summary();
    }
    let _ = parse_trade_bill(text);
    for line in text.lines().take(8) {
        for field in line.split(',') {
            if let Some(fen) = amount_to_fen(field) {
                // Whatever was accepted reads back as the same amount.
                let yuan = format!(
                    "{}{}.{:02}",
                    if fen < 0 { "-" } else { "" },
                    (fen / 100).unsigned_abs(),
                    (fen % 100).unsigned_abs()
                );
                assert_eq!(amount_to_fen(&yuan), Some(fen), "{field:?}");
            }
        }
    }
});
