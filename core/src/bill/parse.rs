//! Reading a bill: CSV whose values start with a backtick, a header line,
//! data rows, then a summary header and its summary line(s).
//!
//! ```text
//! 交易时间,公众账号ID,商户号,…
//! `2020-03-05 09:25:07,`wx2421b1c4370ec43b,`10000100,…
//! 总交易单数,应结订单总金额,…
//! `1,`0.01,…
//! ```
//!
//! Values are kept exactly as written, minus the backtick: amounts stay
//! decimal strings in yuan (`"0.01"`, and `"0.00000"` for fees, which carry
//! five decimals), so nothing is rounded; [`amount_to_fen`] converts the
//! two-decimal ones.

use std::collections::HashMap;

/// Why a bill could not be read. Parsing never panics: any input gives a
/// bill or one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BillParseError {
    /// The bill has no header line.
    #[error("the bill is empty: it has no header line")]
    Empty,
    /// The bytes are not UTF-8 text.
    #[error("the bill is not UTF-8 text (invalid byte at offset {valid_up_to})")]
    NotUtf8 {
        /// How many leading bytes are valid UTF-8.
        valid_up_to: usize,
    },
    /// A line is not valid CSV.
    #[error("line {line} of the bill is not valid CSV: {message}")]
    Csv {
        /// The line number, from 1.
        line: u64,
        /// What the CSV reader reported.
        message: String,
    },
    /// A line has another number of values than its header.
    #[error(
        "line {line} of the bill has {found} values but its header has {expected}; a value may hold an unquoted comma"
    )]
    ColumnCount {
        /// The line number, from 1.
        line: u64,
        /// How many columns the header names.
        expected: usize,
        /// How many values the line has.
        found: usize,
    },
    /// A line after the summary is not a summary line.
    #[error(
        "line {line} of the bill follows the summary but is not a summary line (its values do not start with a backtick)"
    )]
    UnexpectedLine {
        /// The line number, from 1.
        line: u64,
    },
    /// The header lacks a column of the trade bill.
    #[error(
        "the bill has no `{column}` column, so it is not a trade bill of type ALL; read other bills (SUCCESS, REFUND, fund flow) with `parse_bill`"
    )]
    MissingColumn {
        /// The missing column's name.
        column: &'static str,
    },
    /// The summary lacks a column of the trade bill's summary.
    #[error("the bill's summary has no `{column}` column")]
    MissingSummaryColumn {
        /// The missing column's name.
        column: &'static str,
    },
    /// The bill ends without its summary lines.
    #[error("the bill has no summary (it ends after its rows); it may be truncated")]
    MissingSummary,
}

/// One line of values, with where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    number: u64,
    values: Vec<String>,
}

/// Any bill, as a table: header, rows, summary header, summary rows.
/// Every value is the text of the CSV cell without its leading backtick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillTable {
    header: Vec<String>,
    rows: Vec<Line>,
    summary_header: Vec<String>,
    summary: Vec<Line>,
}

impl BillTable {
    /// The column names of the rows, in order.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The data rows, in order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = BillRow<'_>> {
        self.rows.iter().map(|line| BillRow {
            header: &self.header,
            line,
        })
    }

    /// How many data rows the bill has.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the bill has no data rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The column names of the summary (`总交易单数,…`), empty when the
    /// bill has no summary.
    pub fn summary_header(&self) -> &[String] {
        &self.summary_header
    }

    /// The summary lines (usually one).
    pub fn summary_rows(&self) -> impl ExactSizeIterator<Item = BillRow<'_>> {
        self.summary.iter().map(|line| BillRow {
            header: &self.summary_header,
            line,
        })
    }

    /// The first summary line, if there is one.
    pub fn summary(&self) -> Option<BillRow<'_>> {
        self.summary_rows().next()
    }
}

/// One row of a [`BillTable`]: values by column name.
#[derive(Debug, Clone, Copy)]
pub struct BillRow<'a> {
    header: &'a [String],
    line: &'a Line,
}

impl<'a> BillRow<'a> {
    /// The value of the column named `column`, if the bill has it.
    pub fn get(&self, column: &str) -> Option<&'a str> {
        let index = self.header.iter().position(|name| name == column)?;
        self.line.values.get(index).map(String::as_str)
    }

    /// The values, in column order.
    pub fn values(&self) -> &'a [String] {
        &self.line.values
    }

    /// `(column, value)` pairs, in column order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a> {
        self.header
            .iter()
            .map(String::as_str)
            .zip(self.line.values.iter().map(String::as_str))
    }

    /// The row as a `column → value` map.
    pub fn to_map(&self) -> HashMap<&'a str, &'a str> {
        self.iter().collect()
    }

    /// The line of the bill this row was on, from 1.
    pub fn line(&self) -> u64 {
        self.line.number
    }
}

/// The value of a cell: the text after the leading backtick.
fn cell(raw: &str) -> String {
    raw.strip_prefix('`').unwrap_or(raw).to_owned()
}

/// Reads any bill (trade bill of any type, fund flow bill, …) into a
/// [`BillTable`].
///
/// The first line is the header. Lines whose first value starts with a
/// backtick are rows; the first line after them that does not is the
/// summary header, and the backtick lines after it are the summary.
/// Blank lines and a leading byte-order mark are ignored; values may be
/// quoted as in RFC 4180.
///
/// # Errors
/// See [`BillParseError`]: no header, broken CSV, a line whose number of
/// values differs from its header's, a line after the summary that is not
/// a summary line.
pub fn parse_bill(text: &str) -> Result<BillTable, BillParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());

    #[derive(PartialEq)]
    enum Section {
        Header,
        Rows,
        Summary,
    }
    let mut section = Section::Header;
    let mut table = BillTable {
        header: Vec::new(),
        rows: Vec::new(),
        summary_header: Vec::new(),
        summary: Vec::new(),
    };
    // Line numbers, counted here: the CSV reader's own count is one short
    // after lines that end in CRLF.
    let mut lines = LineCounter::new(text);
    for record in reader.records() {
        let record = record.map_err(|error| BillParseError::Csv {
            line: lines.at(error.position().map_or(0, csv::Position::byte)),
            message: error.to_string(),
        })?;
        let number = lines.at(record.position().map_or(0, csv::Position::byte));
        if record.iter().all(|value| value.trim().is_empty()) {
            continue;
        }
        let is_value_line = record.get(0).is_some_and(|first| first.starts_with('`'));
        let values = || record.iter().map(cell).collect::<Vec<_>>();
        let names = || {
            record
                .iter()
                .map(|name| cell(name.trim()).trim().to_owned())
                .collect::<Vec<_>>()
        };
        let check = |expected: usize| {
            if record.len() == expected {
                Ok(())
            } else {
                Err(BillParseError::ColumnCount {
                    line: number,
                    expected,
                    found: record.len(),
                })
            }
        };
        match section {
            Section::Header => {
                table.header = names();
                section = Section::Rows;
            }
            Section::Rows if is_value_line => {
                check(table.header.len())?;
                table.rows.push(Line {
                    number,
                    values: values(),
                });
            }
            Section::Rows => {
                table.summary_header = names();
                section = Section::Summary;
            }
            Section::Summary if is_value_line => {
                check(table.summary_header.len())?;
                table.summary.push(Line {
                    number,
                    values: values(),
                });
            }
            Section::Summary => return Err(BillParseError::UnexpectedLine { line: number }),
        }
    }
    if section == Section::Header {
        return Err(BillParseError::Empty);
    }
    Ok(table)
}

/// Line numbers of byte offsets met in increasing order.
struct LineCounter<'t> {
    text: &'t [u8],
    offset: usize,
    line: u64,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    /// The line (from 1) of byte `offset`.
    fn at(&mut self, offset: u64) -> u64 {
        let mut offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        // After a CRLF the reader reports the LF as where the next record
        // starts.
        if self.text.get(offset) == Some(&b'\n') {
            offset += 1;
        }
        if offset > self.offset {
            let newlines = self.text[self.offset..offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.line = self
                .line
                .saturating_add(u64::try_from(newlines).unwrap_or(u64::MAX));
            self.offset = offset;
        }
        self.line
    }
}

/// Converts an amount in yuan as bills write it (`"12.34"`, `"-0.01"`,
/// `"5"`, `"0.60000"`) into fen (`1234`, `-1`, `500`, `60`).
///
/// `None` when the text is not such a number, when it has non-zero
/// digits below the fen (`"0.00600"`, a fee of 0.6 fen), or when it does
/// not fit in an `i64`. Rates (`"0.60%"`) are not amounts.
pub fn amount_to_fen(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || (digits.contains('.') && fraction.is_empty())
    {
        return None;
    }
    let (fen_digits, below) = fraction.split_at(fraction.len().min(2));
    if below.bytes().any(|b| b != b'0') {
        return None;
    }
    let mut fen: i64 = whole.parse::<i64>().ok()?.checked_mul(100)?;
    let cents = match fen_digits.len() {
        0 => 0,
        1 => fen_digits.parse::<i64>().ok()? * 10,
        _ => fen_digits.parse::<i64>().ok()?,
    };
    fen = fen.checked_add(cents)?;
    Some(if negative { -fen } else { fen })
}

macro_rules! typed_row {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident = $column:literal, )+
        }
        const $columns:ident;
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$fmeta])* #[doc = concat!("`", $column, "`")] pub $field: String, )+
        }

        /// The column names, in the order of the fields.
        const $columns: &[&str] = &[$($column),+];

        impl $name {
            /// Reads the fields from `values`, each at its column's index.
            fn from_indices(values: &[String], indices: &[usize]) -> Self {
                let mut at = indices.iter().map(|&index| values.get(index).cloned().unwrap_or_default());
                $name { $( $field: at.next().unwrap_or_default(), )+ }
            }
        }
    };
}

typed_row! {
    /// One row of a trade bill (交易账单) of type `ALL`: a payment or a
    /// refund. Every value is the text of its cell (backtick removed);
    /// amounts are decimal strings in yuan.
    pub struct TradeBillRow {
        /// 交易时间: `2020-03-05 09:25:07`.
        trade_time = "交易时间",
        /// 公众账号ID (appid).
        appid = "公众账号ID",
        /// 商户号 (mchid).
        mchid = "商户号",
        /// 特约商户号 (sub_mchid; `0` when there is none).
        sub_mchid = "特约商户号",
        /// 设备号.
        device_info = "设备号",
        /// 微信订单号 (transaction_id).
        transaction_id = "微信订单号",
        /// 商户订单号 (out_trade_no).
        out_trade_no = "商户订单号",
        /// 用户标识 (openid).
        openid = "用户标识",
        /// 交易类型: `JSAPI`, `NATIVE`, `APP`, `MICROPAY`, `MWEB`, `FACEPAY`.
        trade_type = "交易类型",
        /// 交易状态: `SUCCESS`, `REFUND`, ….
        trade_state = "交易状态",
        /// 付款银行.
        bank_type = "付款银行",
        /// 货币种类: `CNY`.
        currency = "货币种类",
        /// 应结订单金额 (yuan).
        settlement_amount = "应结订单金额",
        /// 代金券金额 (yuan).
        coupon_amount = "代金券金额",
        /// 微信退款单号 (`0` for a payment).
        refund_id = "微信退款单号",
        /// 商户退款单号 (`0` for a payment).
        out_refund_no = "商户退款单号",
        /// 退款金额 (yuan).
        refund_amount = "退款金额",
        /// 充值券退款金额 (yuan).
        recharge_coupon_refund_amount = "充值券退款金额",
        /// 退款类型.
        refund_type = "退款类型",
        /// 退款状态.
        refund_status = "退款状态",
        /// 商品名称.
        goods_name = "商品名称",
        /// 商户数据包 (attach).
        attach = "商户数据包",
        /// 手续费 (yuan, five decimals).
        fee = "手续费",
        /// 费率: `0.60%`.
        fee_rate = "费率",
        /// 订单金额 (yuan).
        order_amount = "订单金额",
        /// 申请退款金额 (yuan).
        requested_refund_amount = "申请退款金额",
        /// 费率备注.
        fee_rate_remark = "费率备注",
    }
    const TRADE_COLUMNS;
}

typed_row! {
    /// The summary line of a trade bill: totals of the day, amounts in
    /// yuan as decimal strings.
    pub struct TradeBillSummary {
        /// 总交易单数: the number of rows.
        total_count = "总交易单数",
        /// 应结订单总金额.
        settlement_amount = "应结订单总金额",
        /// 退款总金额.
        refund_amount = "退款总金额",
        /// 充值券退款总金额.
        recharge_coupon_refund_amount = "充值券退款总金额",
        /// 手续费总金额.
        fee = "手续费总金额",
        /// 订单总金额.
        order_amount = "订单总金额",
        /// 申请退款总金额.
        requested_refund_amount = "申请退款总金额",
    }
    const TRADE_SUMMARY_COLUMNS;
}

/// A trade bill (交易账单) of type `ALL`, typed; the [`BillTable`] it was
/// read from stays available for columns the types do not name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TradeBill {
    /// The rows, in order.
    pub rows: Vec<TradeBillRow>,
    /// The summary line.
    pub summary: TradeBillSummary,
    /// The bill as read, with every column.
    pub table: BillTable,
}

/// The index of each of `columns` in `header`, or the first one missing.
fn indices(header: &[String], columns: &[&'static str]) -> Result<Vec<usize>, &'static str> {
    columns
        .iter()
        .map(|column| header.iter().position(|name| name == column).ok_or(*column))
        .collect()
}

/// Reads a trade bill of type `ALL` (交易账单, `bill_type=ALL`): every
/// column of that bill must be present (in any order; more are fine and
/// stay in [`TradeBill::table`]), followed by the summary.
///
/// For other bill types (`SUCCESS`, `REFUND`, …) and fund flow bills,
/// use [`parse_bill`] and read values by column name.
///
/// # Errors
/// Everything [`parse_bill`] reports, a missing column, a missing summary.
pub fn parse_trade_bill(text: &str) -> Result<TradeBill, BillParseError> {
    let table = parse_bill(text)?;
    let columns = indices(&table.header, TRADE_COLUMNS)
        .map_err(|column| BillParseError::MissingColumn { column })?;
    let summary_line = table
        .summary
        .first()
        .ok_or(BillParseError::MissingSummary)?;
    let summary_columns = indices(&table.summary_header, TRADE_SUMMARY_COLUMNS)
        .map_err(|column| BillParseError::MissingSummaryColumn { column })?;
    let summary = TradeBillSummary::from_indices(&summary_line.values, &summary_columns);
    let rows = table
        .rows
        .iter()
        .map(|line| TradeBillRow::from_indices(&line.values, &columns))
        .collect();
    Ok(TradeBill {
        rows,
        summary,
        table,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
    const ROW: &str = "`2020-03-05 09:25:07,`wx2421b1c4370ec43b,`10000100,`0,`1000,`4200000500202003050577917466,`fd3e4ab1b5a14b0d8d6d4c3d0c94fd35,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`0.01,`0.00,`0,`0,`0.00,`0.00,`,`,`商品名称,`附加数据,`0.00000,`0.60%,`0.01,`0.00,`";
    const SUMMARY: &str = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n`1,`0.01,`0.00,`0.00,`0.00000,`0.01,`0.00";

    fn bill() -> String {
        format!("{HEADER}\r\n{ROW}\r\n{SUMMARY}\r\n")
    }

    #[test]
    fn a_trade_bill_is_read_into_typed_rows() {
        let bill = parse_trade_bill(&bill()).unwrap();
        assert_eq!(bill.rows.len(), 1);
        let row = &bill.rows[0];
        assert_eq!(row.trade_time, "2020-03-05 09:25:07");
        assert_eq!(row.transaction_id, "4200000500202003050577917466");
        assert_eq!(row.settlement_amount, "0.01");
        assert_eq!(row.refund_type, "");
        assert_eq!(row.goods_name, "商品名称");
        assert_eq!(row.fee, "0.00000");
        assert_eq!(row.fee_rate, "0.60%");
        assert_eq!(row.fee_rate_remark, "");
        assert_eq!(bill.summary.total_count, "1");
        assert_eq!(bill.summary.fee, "0.00000");
        assert_eq!(bill.table.len(), 1);
        let raw = bill.table.rows().next().unwrap();
        assert_eq!(raw.get("商户号"), Some("10000100"));
        assert_eq!(raw.to_map()["费率"], "0.60%");
        assert_eq!(raw.line(), 2);
        assert_eq!(bill.table.summary().unwrap().get("总交易单数"), Some("1"));
    }

    #[test]
    fn columns_are_found_by_name_and_extra_columns_are_kept() {
        // Reverse the column order and add one.
        let reverse = |line: &str| {
            let mut cells: Vec<&str> = line.split(',').collect();
            cells.reverse();
            cells.join(",")
        };
        let text = format!("{},新列\n{},`x\n{SUMMARY}\n", reverse(HEADER), reverse(ROW));
        let bill = parse_trade_bill(&text).unwrap();
        assert_eq!(bill.rows[0].mchid, "10000100");
        assert_eq!(bill.table.rows().next().unwrap().get("新列"), Some("x"));
    }

    #[test]
    fn other_bills_read_as_tables() {
        let text = "\u{feff}记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号\n\
            `2018-02-01 04:21:23,`50000305742018020103387128253,`1900009231201802015884652186,`退款,`退款,`支出,`0.02,`0.17,`system,`缺货,`REF4200000068201801293084726067\n\
            \n\
            资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\n\
            `20.0,`17.0,`0.35,`3.0,`0.04\n";
        let table = parse_bill(text).unwrap();
        assert_eq!(table.header()[0], "记账时间");
        assert_eq!(table.len(), 1);
        assert_eq!(
            table.rows().next().unwrap().get("收支金额（元）"),
            Some("0.02")
        );
        assert_eq!(table.summary().unwrap().get("支出金额"), Some("0.04"));
        let error = parse_trade_bill(text).unwrap_err();
        assert_eq!(
            error,
            BillParseError::MissingColumn {
                column: "交易时间"
            }
        );
    }

    #[test]
    fn quoted_values_keep_their_commas() {
        let text = "a,b\n`1,\"`x,y\"\n";
        let table = parse_bill(text).unwrap();
        assert_eq!(table.rows().next().unwrap().values(), ["1", "x,y"]);
        assert!(table.summary().is_none());
    }

    #[test]
    fn malformed_bills_are_errors() {
        assert_eq!(parse_bill(""), Err(BillParseError::Empty));
        assert_eq!(parse_bill("\n\n"), Err(BillParseError::Empty));
        assert_eq!(
            parse_bill("a,b\n`1,`2,`3\n"),
            Err(BillParseError::ColumnCount {
                line: 2,
                expected: 2,
                found: 3
            })
        );
        assert_eq!(
            parse_bill("a\n`1\nsum\n`1\nnot a summary\n"),
            Err(BillParseError::UnexpectedLine { line: 5 })
        );
        assert_eq!(
            parse_trade_bill(&format!("{HEADER}\n{ROW}\n")),
            Err(BillParseError::MissingSummary)
        );
        assert_eq!(
            parse_trade_bill(&format!("{HEADER}\n{ROW}\n总交易单数\n`1\n")),
            Err(BillParseError::MissingSummaryColumn {
                column: "应结订单总金额"
            })
        );
    }

    #[test]
    fn garbage_never_panics() {
        let pieces = [
            "`",
            ",",
            "\n",
            "\r",
            "\"",
            "a",
            "交易时间",
            "``",
            "\u{feff}",
            " ",
        ];
        let n = pieces.len();
        for a in 0..n {
            for b in 0..n {
                for c in 0..n {
                    for d in 0..n {
                        let text = [pieces[a], pieces[b], pieces[c], pieces[d], pieces[a]].concat();
                        let _ = parse_bill(&text);
                        let _ = parse_trade_bill(&text);
                    }
                }
            }
        }
        // Every prefix of a real bill.
        let full = bill();
        for (end, _) in full.char_indices() {
            let _ = parse_trade_bill(&full[..end]);
        }
    }

    #[test]
    fn amounts_convert_to_fen() {
        for (text, fen) in [
            ("0.01", Some(1)),
            ("12.34", Some(1234)),
            ("12.3", Some(1230)),
            ("5", Some(500)),
            ("-0.01", Some(-1)),
            ("0.00000", Some(0)),
            ("0.60000", Some(60)),
            ("0.00600", None),
            ("0.60%", None),
            ("", None),
            ("-", None),
            (".5", None),
            ("5.", None),
            ("1.2.3", None),
            ("+1", None),
            ("99999999999999999999", None),
            ("92233720368547758.07", Some(i64::MAX)),
            ("92233720368547758.08", None),
        ] {
            assert_eq!(amount_to_fen(text), fen, "{text}");
        }
    }
}
