//! The bill applications' enums, which the catalogue's `/v3/bill/…`
//! operations take (`codegen/src/overrides.rs`); `wxpay` re-exports them as
//! `wxpay::api::bill`.

string_enum! {
    /// 账单类型: which orders a trade bill lists.
    pub enum BillType {
        /// 当日所有订单 (the default): payments and refunds, recharge
        /// refunds excluded.
        All = "ALL",
        /// 当日成功支付的订单.
        Success = "SUCCESS",
        /// 当日退款订单.
        Refund = "REFUND",
        /// 充值退款订单.
        RechargeRefund = "RECHARGE_REFUND",
        /// 所有订单 (特殊).
        AllSpecial = "ALL_SPECIAL",
        /// 成功订单 (特殊).
        SuccessSpecial = "SUC_SPECIAL",
        /// 退款订单 (特殊).
        RefundSpecial = "REF_SPECIAL",
    }
}

string_enum! {
    /// 压缩类型: how the bill file is compressed.
    pub enum BillTarType {
        /// gzip; the download is decompressed by
        /// [`Client::download_bill`](crate::Client::download_bill).
        Gzip = "GZIP",
    }
}

string_enum! {
    /// 资金账户类型: which account a fund flow bill covers.
    pub enum BillAccountType {
        /// 基本账户 (the default).
        Basic = "BASIC",
        /// 运营账户.
        Operation = "OPERATION",
        /// 手续费账户.
        Fees = "FEES",
    }
}
