//! A local WeChat Pay APIv3 simulator for tests and examples.
//!
//! [`Sandbox::start`] runs a real HTTP server on loopback that behaves like
//! WeChat Pay for the coupon-stock ("代金券批次") and coupon endpoints,
//! JSAPI/APP/H5/Native payments, refunds, merchant transfers, the
//! platform certificate download, media uploads and bills, and answers [every other
//! operation](#every-other-operation) of the spec from its description:
//! it checks every request's signature exactly as
//! the real service does and signs every answer, in "WeChat Pay public
//! key" mode or in platform certificate mode. It delivers
//! [callbacks](#callbacks) (signed, encrypted, retried on WeChat Pay's
//! schedule), breaks the rules on demand ([`Faults`]), plays the payer
//! ([The payer](#the-payer): invocation parameters checked and paid, a
//! cashier page per order, the H5 page, a stand-in for WeChat's payment
//! bridge), and is steered over HTTP through its [control
//! endpoint](#control-endpoint). It also speaks [APIv2](#apiv2) (XML
//! signed with the APIv2 key) for the core payment, refund and red-packet
//! flows, with a TLS listener that checks the merchant's API client
//! certificate. It is an independent
//! implementation of the server side (it does not use `wxpay-core`), so a
//! bug in the client is not mirrored here.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wxpay_sandbox::SandboxError> {
//! let sandbox = wxpay_sandbox::Sandbox::start().await?;
//! let credentials = sandbox.credentials();
//! // Point a client at sandbox.base_url() with these credentials …
//! # let _ = credentials;
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Endpoints
//!
//! | method and path | answer |
//! |---|---|
//! | `POST /v3/marketing/favor/coupon-stocks` | `{"stock_id","create_time"}`; the stock is `unactivated` |
//! | `POST /v3/marketing/favor/stocks/{stock_id}/start` | `{"stock_id","start_time"}`; `unactivated` → `running` |
//! | `POST /v3/marketing/favor/stocks/{stock_id}/pause` | `{"stock_id","pause_time"}`; `running` → `paused` |
//! | `POST /v3/marketing/favor/stocks/{stock_id}/restart` | `{"stock_id","restart_time"}`; `paused` → `running` |
//! | `GET /v3/marketing/favor/stocks/{stock_id}?stock_creator_mchid=` | the stock |
//! | `GET /v3/marketing/favor/stocks?offset=&limit=&stock_creator_mchid=` (+ `status`, `create_start_time`, `create_end_time`) | `{"total_count","limit","offset","data"}` |
//! | `POST /v3/marketing/favor/users/{openid}/coupons` | `{"coupon_id"}`; see [Coupons](#coupons) |
//! | `GET /v3/marketing/favor/users/{openid}/coupons/{coupon_id}?appid=` | the coupon |
//! | `POST /v3/marketing/favor/callbacks` | `{"update_time","notify_url"}`: the merchant's coupon callback URL |
//! | `GET /v3/marketing/favor/callbacks?mchid=` | `{"mchid","notify_url"}` |
//! | `POST /v3/pay/transactions/jsapi`, `…/app` | `{"prepay_id"}`; see [Payments](#payments) |
//! | `POST /v3/pay/transactions/h5` | `{"h5_url"}`, pointing at the sandbox's own [H5 page](#pages) |
//! | `POST /v3/pay/transactions/native` | `{"code_url"}` |
//! | `GET /v3/pay/transactions/id/{transaction_id}?mchid=` | the transaction |
//! | `GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=` | the transaction |
//! | `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close` | 204, no body |
//! | `POST /v3/refund/domestic/refunds` | the refund, `PROCESSING`; see [Refunds](#refunds) |
//! | `GET /v3/refund/domestic/refunds/{out_refund_no}` | the refund |
//! | `POST /v3/profitsharing/receivers/add`, `…/receivers/delete` | `{"type","account","relation_type",…}` / `{"type","account"}`; see [Profit sharing](#profit-sharing) |
//! | `POST /v3/profitsharing/orders` | the sharing order, `PROCESSING` |
//! | `GET /v3/profitsharing/orders/{out_order_no}?transaction_id=` | the sharing order, `FINISHED` |
//! | `POST /v3/profitsharing/orders/unfreeze` | the unfreeze order, `PROCESSING`, without `receivers` |
//! | `POST /v3/profitsharing/return-orders` | the return, `PROCESSING` |
//! | `GET /v3/profitsharing/return-orders/{out_return_no}?out_order_no=` | the return, `SUCCESS` |
//! | `GET /v3/profitsharing/transactions/{transaction_id}/amounts` | `{"transaction_id","unsplit_amount"}` |
//! | `POST /v3/fund-app/mch-transfer/transfer-bills` | `{"out_bill_no","transfer_bill_no","create_time","state":"WAIT_USER_CONFIRM","package_info"}`; see [Merchant transfers](#merchant-transfers) |
//! | `GET /v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}`, `…/transfer-bill-no/{transfer_bill_no}` | the bill |
//! | `POST /v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}/cancel` | `{"out_bill_no","transfer_bill_no","state":"CANCELING","update_time"}` |
//! | `GET /v3/certificates` (query ignored) | `{"data":[{"serial_no","effective_time","expire_time","encrypt_certificate"}]}`, every served platform certificate, newest first; see [Platform certificates](#platform-certificates) |
//! | `POST /v3/merchant/media/upload`, `POST /v3/merchant-service/images/upload` | `{"media_id"}` (64 random characters); see [Uploads](#uploads) |
//! | `POST /v3/merchant/media/video_upload` | `{"media_id"}` |
//! | `POST /v3/marketing/favor/media/image-upload` | `{"media_url":"https://wxpay-sandbox.invalid/media/<id>.<ext>"}` |
//! | `GET /v3/bill/tradebill?bill_date=&bill_type=&tar_type=` | `{"hash_type":"SHA1","hash_value","download_url"}`; see [Bills](#bills) |
//! | `GET /v3/bill/fundflowbill?bill_date=&account_type=&tar_type=` | the same, for a fund flow bill |
//! | `GET /v3/billdownload/file?token=` | the bill (CSV, gzip when applied for with `tar_type=GZIP`), **unsigned** |
//! | every other operation of the spec (993 in all) | an answer made up from the spec, after the same checks; see [Every other operation](#every-other-operation) |
//! | `/_sandbox/…` | the [control endpoint](#control-endpoint): not WeChat Pay's, unauthenticated, unsigned |
//! | `POST /pay/unifiedorder`, `/pay/micropay`, `/pay/orderquery`, `/pay/closeorder`, `/pay/refundquery` | APIv2 XML, signed with the APIv2 key; see [APIv2](#apiv2) |
//! | `POST /secapi/pay/refund`, `/mmpaymkttransfers/sendredpack` | APIv2, only over the [TLS listener](Sandbox::v2_tls_url) with the merchant's API client certificate |
//!
//! The payer's side is the sandbox's own, under `/_sandbox/` like every
//! [control endpoint](#control-endpoint): `POST
//! /_sandbox/transactions/out-trade-no/{out_trade_no}/pay` pays an order
//! outright, and [the payer](#the-payer) routes and pages pay it from the
//! invocation parameters a merchant's page or app hands WeChat.
//!
//! * Stock ids count up from `98065001` (on from where they stopped after
//!   a restart on a state folder, see [Persistence](#persistence)). Times
//!   are RFC 3339 in China Standard Time, e.g. `2026-11-27T10:34:56+08:00`.
//! * Creating twice with the same `out_request_no` returns the first
//!   stock (same `stock_id` and `create_time`), whatever the second body.
//! * The list's `offset` is a **page number** from 0 (the spec calls it
//!   "分页页码"): the answer holds the matching stocks
//!   `offset*limit .. offset*limit+limit` in creation order; `limit` is
//!   1 to 10. `create_start_time`/`create_end_time` bound `create_time`
//!   inclusively.
//! * Path segments are percent-decoded once; query values too, with `+`
//!   kept as a plus sign (send `%2B` or `+`, both mean `+`).
//!
//! # Payments
//!
//! The four order endpoints take the spec's bodies (`TransactionDirection`
//! and `TransactionBase`): `appid`, `mchid` (the signing merchant, else
//! 403 `NO_AUTH`), `description` (1–127 characters), `out_trade_no` (6–32
//! characters of `0-9A-Za-z_-|*`), `notify_url`, `amount.total` (an
//! integer ≥ 1, in fen) and optional `amount.currency` (`CNY`) are
//! required; JSAPI also needs `payer.openid`, H5
//! `scene_info.payer_client_ip` and `scene_info.h5_info.type`. Optional
//! fields (`attach` up to 128 characters, `time_expire`, `goods_tag`,
//! `detail`, `settle_info`, …) are type-checked and kept.
//!
//! * `notify_url` must be an `http://` or `https://` URL with a host.
//!   WeChat Pay accepts `https://` only; the sandbox also takes `http://`
//!   so that a callback handler on loopback needs no TLS.
//! * An order is created `NOTPAY`. Placing it again with the same body
//!   (through the same endpoint) answers the first answer again (same
//!   `prepay_id`, `h5_url` or `code_url`) while it is unpaid; once paid
//!   the same body is a 400 `ORDERPAID`, once closed a 400
//!   `ORDER_CLOSED`; another body (or endpoint) for a used `out_trade_no`
//!   is a 403 `OUT_TRADE_NO_USED`.
//! * `prepay_id` is `wx`, the time (`yyyymmddHHMMSS`, CST) and 20 hex
//!   digits; `h5_url` is
//!   `{base_url}/_sandbox/h5/checkmweb?prepay_id=<prepay_id>&package=<10 digits>`,
//!   the sandbox's own payer page (see [Pages](#pages));
//!   `code_url` is `weixin://wxpay/bizpayurl?pr=…`.
//! * The queries answer `appid`, `mchid`, `out_trade_no`, `trade_type`
//!   (`JSAPI`, `APP`, `MWEB`, `NATIVE`), `trade_state` and
//!   `trade_state_desc` (`NOTPAY` 订单未支付, `SUCCESS` 支付成功, `CLOSED`
//!   订单已关闭, `REFUND` 转入退款), `attach`, `amount`
//!   (`total`, `currency`, `payer_currency`, and `payer_total` once paid),
//!   `payer.openid` (JSAPI, or once paid), `scene_info.device_id` when
//!   given, and once paid `transaction_id` (28 digits: `4200`, the date,
//!   a 16-digit counter), `bank_type`, `success_time` and an empty
//!   `promotion_detail`.
//! * Closing a `NOTPAY` order makes it `CLOSED` (closing it again is
//!   accepted); closing a paid order is a 400 `ORDERPAID`.
//!
//! # Paying an order
//!
//! `POST /_sandbox/transactions/out-trade-no/{out_trade_no}/pay` pays an
//! order of the sandbox's merchant as a WeChat user would. Like every
//! [control endpoint](#control-endpoint) it lives under `/_sandbox/`, a
//! prefix WeChat Pay never uses: it is **not authenticated, not signed,
//! carries no `Request-ID` and sees no [`Faults`]**; it is meant for tests
//! on loopback. The body is
//! optional: `{"payer_total","bank_type","openid"}` (defaults: the order
//! total, `OTHERS`, the JSAPI payer or a fixed sandbox openid). The order
//! becomes `SUCCESS` with a new `transaction_id` and `success_time` now,
//! the answer is the transaction exactly as the queries show it, and a
//! `TRANSACTION.SUCCESS` callback (summary `支付成功`, resource
//! `original_type` `transaction`, that same JSON) is queued to the
//! order's `notify_url`. An unknown order is a 404 `ORDER_NOT_EXIST`, an
//! order that is not `NOTPAY` a 400 `INVALID_REQUEST`, a bad body a 400
//! `PARAM_ERROR`.
//!
//! # The payer
//!
//! What WeChat does on the payer's phone, the sandbox does over HTTP under
//! `/_sandbox/` (unauthenticated, unsigned, no [`Faults`], like every
//! [control endpoint](#control-endpoint)). Every refusal below is a 4xx
//! `{"code","message","detail"?}` (`detail.field` a JSON pointer to the
//! parameter at fault) that changes nothing: the order stays as it was and
//! no callback is sent. A success pays the order exactly as [Paying an
//! order](#paying-an-order) does (the defaults of its body) and answers the
//! transaction; `TRANSACTION.SUCCESS` follows to the `notify_url`.
//!
//! `POST /_sandbox/request-payment` takes the JSAPI invocation parameters
//! as JSON, exactly what the page gives `WeixinJSBridge.invoke(
//! 'getBrandWCPayRequest', …)` or `wx.requestPayment`:
//! `{"appId","timeStamp","nonceStr","package","signType","paySign"}`, all
//! strings. The checks, in this order:
//!
//! 1. The body's shape: a JSON object; `timeStamp`, `nonceStr`, `package`,
//!    `signType`, `paySign` present and strings (`appId` may be left out,
//!    see below); no other field (names are case-sensitive); `timeStamp`
//!    digits (Unix seconds; not compared with the clock, as WeChat
//!    documents no window); `nonceStr` 1–32 characters; `signType` `RSA`.
//!    Else 400 `PARAM_ERROR` naming the field.
//! 2. `package` is `prepay_id=<prepay_id>`: else 400 `PARAM_ERROR`.
//! 3. An order of the sandbox's merchant has that `prepay_id`: else 404
//!    `ORDER_NOT_EXIST`.
//! 4. `paySign` is base64 of an RSASSA-PKCS1-v1_5/SHA-256 signature of
//!    `appId\ntimeStamp\nnonceStr\npackage\n` by the merchant's key (the
//!    key requests are verified with, [`Credentials::merchant_public_key_pem`]):
//!    else 401 `SIGN_ERROR`, whose message quotes the message checked
//!    (`\n` shown as `\\n`).
//! 5. `appId` is the order's `appid`: else 400 `APPID_MCHID_NOT_MATCH`.
//! 6. The order was placed through `/v3/pay/transactions/jsapi` (else 400
//!    `INVALID_REQUEST`) and is `NOTPAY` (else 400 `ORDERPAID` for a paid
//!    order, 400 `ORDER_CLOSED` for a closed one).
//!
//! The mini-program's `wx.requestPayment` takes no `appId`, yet the appid
//! is in what the merchant signed: without `appId` the sandbox puts the
//! order's `appid` in the signed message (and step 5 has nothing to
//! compare).
//!
//! `POST /_sandbox/request-payment/app` does the same for the APP SDK's
//! `PayReq`: `{"appid","partnerid","prepayid","package","noncestr",
//! "timestamp","sign"}`, all required strings; `package` must be
//! `Sign=WXPay` (400 `PARAM_ERROR`), `prepayid` names the order (404
//! `ORDER_NOT_EXIST`), `sign` signs
//! `appid\ntimestamp\nnoncestr\nprepayid\n` (401 `SIGN_ERROR`), `appid`
//! must be the order's `appid` and `partnerid` its `mchid` (400
//! `APPID_MCHID_NOT_MATCH`), and the order an APP order
//! (400 `INVALID_REQUEST`) that is `NOTPAY` (as above).
//!
//! `GET /_sandbox/prepay/{prepay_id}` answers what a payment sheet shows:
//! `{"prepay_id","out_trade_no","appid","mchid","description","total",
//! "currency","trade_type","trade_state","order_url"}` (404
//! `ORDER_NOT_EXIST`). These three routes serve other origins (a
//! merchant's page is not on the sandbox's): every answer carries
//! `Access-Control-Allow-Origin: *`, and `OPTIONS` (the CORS preflight) is
//! a 204 allowing `GET, POST, OPTIONS` with `Content-Type`.
//!
//! ## Pages
//!
//! HTML pages with no external assets (inline CSS, scripts and SVG), so
//! they work offline; every value shown is HTML-escaped, ids in links
//! percent-encoded:
//!
//! * `GET /_sandbox/`: the dashboard: orders (linking to their pages),
//!   coupon stocks, refunds and callback attempts, newest first, at most
//!   200 rows each, and the list of the sandbox's own routes.
//! * `GET /_sandbox/orders/{out_trade_no}`: the order as a cashier shows
//!   it: amount in yuan, description, trade type, state, `prepay_id`,
//!   `transaction_id`, a Native order's `code_url` as a QR code (inline
//!   SVG), an H5 order's `h5_url`, the callback attempts about it (payment
//!   and refund callbacks name their `out_trade_no`), and for a `NOTPAY`
//!   order buttons that pay it, let it expire and close it through the
//!   control calls (see [Control endpoint](#control-endpoint)). A 404 page
//!   for an unknown order.
//! * `GET /_sandbox/h5/checkmweb?prepay_id=…&package=…[&redirect_url=…]`:
//!   the page an H5 order's `h5_url` opens. It shows the order with a pay
//!   button (a form POSTing the same query back; `package` is ignored).
//!   The POST pays the order as the control call does, then answers 303
//!   to `redirect_url` when the `h5_url` was opened with
//!   `&redirect_url=<percent-encoded http(s) URL>`, as WeChat returns the
//!   payer to the merchant, or else a page with the result. An unknown
//!   `prepay_id` is a 404 page; an order that is not H5, a paid or closed
//!   one, or a `redirect_url` that is not `http(s)` a 400 page.
//! * `GET /_sandbox/jsapi.js`: JavaScript (`text/javascript`) a merchant's
//!   page includes in place of WeChat's, e.g. `<script
//!   src="http://127.0.0.1:PORT/_sandbox/jsapi.js"></script>`. It finds
//!   the sandbox from its own `src` (`document.currentScript`, else the
//!   last `<script>` whose `src` ends in `/_sandbox/jsapi.js`) and defines
//!   `WeixinJSBridge.invoke('getBrandWCPayRequest', params, callback)` and
//!   `wx.requestPayment({timeStamp, nonceStr, package, signType, paySign,
//!   appId?, success, fail, complete})`, and dispatches
//!   `WeixinJSBridgeReady` on `document` once the page has loaded, as
//!   WeChat does. Either call shows a payment sheet (an overlay with the
//!   merchant, the description and the amount in ¥, from the prepay info
//!   route) with a Pay button (id `wxpay-sandbox-pay`), a Cancel button
//!   (id `wxpay-sandbox-cancel`) and a result line (id
//!   `wxpay-sandbox-result`). Pay POSTs the parameters to
//!   `/_sandbox/request-payment`; the sheet shows the result for a moment,
//!   closes, and then the callback gets `{err_msg:
//!   'get_brand_wcpay_request:ok'}`, `…:cancel` on Cancel (nothing is sent
//!   to the sandbox; the order stays `NOTPAY`), or `…:fail` with
//!   `err_desc` the sandbox's message when it refused; `wx.requestPayment`
//!   calls `success({errMsg: 'requestPayment:ok'})`, `fail({errMsg:
//!   'requestPayment:fail cancel'})`, or `fail({errMsg:
//!   'requestPayment:fail ' + message})`, then `complete` with the same.
//!   As in WeChat, `ok` is no proof of payment: trust the callback or a
//!   query.
//!
//! # Refunds
//!
//! `POST /v3/refund/domestic/refunds` names the order by `transaction_id`
//! or `out_trade_no` (one is required; both must agree) and takes
//! `out_refund_no` (1–64 characters of `0-9A-Za-z_-|*`), `amount.refund`
//! and `amount.total` (integers ≥ 1), `amount.currency` (`CNY`), and
//! optionally `reason`, `notify_url`, `funds_account` (`AVAILABLE`,
//! `UNSETTLED`). The order must be paid (`SUCCESS` or `REFUND`),
//! `amount.total` must be its total, and all its refunds together must
//! not exceed it (400 `INVALID_REQUEST` otherwise; an unknown order is a
//! 404 `RESOURCE_NOT_EXISTS`).
//!
//! A refund **succeeds as soon as it is stored**: the apply answers the
//! spec's refund object with `status` `PROCESSING` (as WeChat Pay's apply
//! does); from then on the query shows `SUCCESS` with `success_time`, the
//! order is `REFUND`, and a `REFUND.SUCCESS` callback (summary `退款成功`,
//! `original_type` `refund`, resource `{mchid, out_trade_no,
//! transaction_id, out_refund_no, refund_id, refund_status,
//! success_time, user_received_account, amount{total, refund,
//! payer_total, payer_refund}}`) is queued to the refund's `notify_url`,
//! or the order's without one. `refund_id` is 29 digits; `channel` is
//! `ORIGINAL`, `user_received_account` `支付用户零钱`; `payer_refund` is the
//! payer's share when `payer_total < total`. The same `out_refund_no`
//! again with the same body answers the refund as it is now; with another
//! body it is a 400 `INVALID_REQUEST`.
//!
//! # APIv2
//!
//! The sandbox also speaks WeChat Pay's older XML protocol for the core
//! flows, on the plain listener and on a second, TLS listener
//! ([`Sandbox::v2_tls_url`], `https://127.0.0.1:PORT`; off with
//! [`SandboxConfig::disable_v2_tls`]) whose server certificate (for
//! `127.0.0.1`, `::1` and `localhost`) is issued by the sandbox's own CA,
//! [`Credentials::tls_ca_pem`]. That listener asks for a client
//! certificate: one issued by the sandbox CA (the merchant's API client
//! certificate, [`Credentials::client_certificate_pem`] and
//! [`Credentials::client_key_pem`], or [`Credentials::client_pkcs12`] with
//! the password `mchid`) is accepted, none at all is served (and refused
//! by the operations that need one), any other fails the TLS handshake.
//! The TLS listener serves everything the plain one does.
//!
//! | operation | needs | answers |
//! |---|---|---|
//! | `POST /pay/unifiedorder` | `appid`, `body`, `out_trade_no` (6–32 of `0-9A-Za-z_-|*`), `total_fee` (fen ≥ 1), `spbill_create_ip`, `notify_url`, `trade_type` (`JSAPI` + `openid`, `NATIVE`, `APP`, `MWEB`) | `trade_type`, `prepay_id`, and `code_url` (NATIVE) or `mweb_url` (MWEB, the sandbox's H5 page) |
//! | `POST /pay/micropay` | `appid`, `body`, `out_trade_no`, `total_fee`, `spbill_create_ip`, `auth_code` (18 digits starting `10`–`15`, else `AUTH_CODE_INVALID`) | paid at once: `transaction_id`, `openid`, `trade_type` `MICROPAY`, `bank_type`, `total_fee`, `cash_fee`, `time_end`, …; an `auth_code` **ending in `9999`** answers `USERPAYING` and leaves the order unpaid (`trade_state` `USERPAYING`) until it is paid through `POST /_sandbox/transactions/out-trade-no/{out_trade_no}/pay` |
//! | `POST /pay/orderquery` | `transaction_id` or `out_trade_no` | `trade_state` (`NOTPAY`, `USERPAYING`, `SUCCESS`, `CLOSED`, `REFUND`), `trade_state_desc`, `out_trade_no`, `total_fee`, `fee_type`, `trade_type`, `attach`, and once paid `transaction_id`, `openid`, `bank_type`, `cash_fee`, `time_end`; `ORDERNOTEXIST` |
//! | `POST /pay/closeorder` | `out_trade_no` | `result_code` `SUCCESS`; `ORDERPAID`, `ORDERCLOSED`, `ORDERNOTEXIST` |
//! | `POST /secapi/pay/refund` (client certificate) | `out_refund_no`, `total_fee` (the order's), `refund_fee`, `transaction_id` or `out_trade_no`; optional `notify_url`, `refund_desc` | `refund_id`, `refund_fee`, `total_fee`, `cash_fee`, `cash_refund_fee`, …; `ORDERNOTEXIST`, `TRADE_STATE_ERROR` (unpaid), `PARAM_ERROR` (another total), `REFUND_FEE_INVALID` (more than is left); the same `out_refund_no` with the same members answers the refund again |
//! | `POST /pay/refundquery` | `refund_id`, `out_refund_no`, `transaction_id` or `out_trade_no` | `refund_count`, `refund_fee`, and per refund `out_refund_no_$n`, `refund_id_$n`, `refund_fee_$n`, `refund_status_$n` (`SUCCESS`), `refund_success_time_$n`, …; `REFUNDNOTEXIST` |
//! | `POST /mmpaymkttransfers/sendredpack` (client certificate, MD5 only) | `mch_billno`, `wxappid`, `send_name`, `re_openid`, `total_amount` (100–20000 fen, else `MONEY_LIMIT`), `total_num` `1`, `wishing`, `client_ip`, `act_name`, `remark` | **unsigned**, as WeChat Pay's: `mch_billno`, `send_listid`, `total_amount`, …; the same `mch_billno` again answers the same `send_listid` (other members: `PARAM_ERROR`); red packets are kept in memory only |
//!
//! Every request is checked as WeChat Pay checks it, in this order, and a
//! failure is an **unsigned** `return_code` `FAIL` with a `return_msg`:
//! the client certificate for the operations that need one (over plain
//! HTTP: `请使用双向证书 …`; over TLS without one: `未提供证书 …`); the
//! body (at most 64 KiB of flat XML: one root, members holding text or
//! CDATA, no DTD, no nesting, at most 128 members, each once; else
//! `XML格式错误 …`); `mch_id` (missing: `缺少参数mch_id`; not the
//! sandbox's merchant: `mch_id参数错误 …`); `sign_type` (absent means
//! `MD5`; `HMAC-SHA256`; anything else `sign_type参数格式错误`;
//! sendredpack takes none); `nonce_str` and `sign` present (`缺少参数…`);
//! the signature with [`Credentials::apiv2_key`] (`签名错误`). A missing
//! or malformed business member is `result_code` `FAIL` with `err_code`
//! `PARAM_ERROR` (`缺少参数<name>`). Answers carry `return_code`
//! `SUCCESS`, `return_msg` `OK`, `mch_id`, the request's `appid`, a
//! fresh `nonce_str`, `result_code` and, on a business failure,
//! `err_code`/`err_code_des`, and are signed with the request's sign type
//! (sendredpack's excepted). HTTP status is always 200.
//!
//! Orders and refunds made through APIv2 are the APIv3 side's: the same
//! store, the same `out_trade_no` space (an `out_trade_no` used by an
//! APIv3 order is `OUT_TRADE_NO_USED`, and the other way round),
//! `total_fee` = `amount.total`. An APIv2 order is paid by [paying an
//! order](#paying-an-order) like any other, the APIv3 queries show it,
//! and APIv3 refunds may refund it (with the APIv3 `REFUND.SUCCESS`
//! callback, to the refund's or the order's `notify_url`). The payer
//! routes check APIv3 invocation parameters (RSA `paySign`) only: pay an
//! APIv2 JSAPI or APP order through the control call above.
//!
//! **Notifications.** When an order placed through `/pay/unifiedorder`
//! is paid, the sandbox POSTs the APIv2 payment notification to its
//! `notify_url` (`Content-Type: text/xml`): `return_code`,
//! `result_code` `SUCCESS`, `appid`, `mch_id`, `nonce_str`, `openid`,
//! `is_subscribe`, `trade_type`, `bank_type`, `total_fee`, `fee_type`,
//! `cash_fee`, `transaction_id`, `out_trade_no`, `attach`, `time_end`,
//! always signed with **MD5** (and without `sign_type`). A refund
//! through `/secapi/pay/refund` with a `notify_url` gets the APIv2 refund
//! notification there: `return_code`, `appid`, `mch_id`, `nonce_str` and
//! `req_info`, the `<root>` document of `transaction_id`,
//! `out_trade_no`, `refund_id`, `out_refund_no`, `total_fee`,
//! `settlement_total_fee`, `refund_fee`, `settlement_refund_fee`,
//! `refund_status`, `success_time`, `refund_recv_accout`,
//! `refund_account`, `refund_request_source` encrypted with AES-256-ECB
//! (PKCS#7) under the lower-case hex MD5 of the APIv2 key, base64. Both
//! are delivered like [callbacks](#callbacks) (same schedule, same log,
//! `event_type` `V2.TRANSACTION.SUCCESS` / `V2.REFUND.SUCCESS`), except
//! that an attempt succeeds only on a 200 whose body is XML with
//! `return_code` `SUCCESS`. A micropay order has no `notify_url` and no
//! notification; an APIv2 refund without `notify_url` has none either.
//!
//! # Profit sharing
//!
//! Profit sharing (分账) takes money out of a paid order placed with
//! `settle_info.profit_sharing = true`. Its **unsplit amount** starts at
//! the order total (less refunds) and shrinks with every sharing; it is 0
//! once the rest was unfrozen (`GET /v3/profitsharing/transactions/{transaction_id}/amounts`).
//!
//! * **Receivers** (`POST /v3/profitsharing/receivers/add`) are kept per
//!   merchant, `sub_mchid` (when a service provider names one) and appid
//!   (`sub_appid` for `PERSONAL_SUB_OPENID`, which requires it); a
//!   `MERCHANT_ID` receiver counts for every appid. `name` is required for
//!   `MERCHANT_ID`, optional otherwise, and must be RSA-OAEP (SHA-1)
//!   ciphertext under the platform key named by `Wechatpay-Serial` (the
//!   public key id or a served certificate's serial); `CUSTOM` needs
//!   `custom_relation`. Adding again updates; deleting one that is not
//!   there is accepted.
//! * **Sharing** (`POST /v3/profitsharing/orders`): the transaction must be
//!   the merchant's (404 `ORDER_NOT_EXIST`), paid and flagged for profit
//!   sharing (400 `INVALID_REQUEST`), not finished, with fewer than 50
//!   sharings; every receiver added (the merchant itself excepted), each
//!   named once; the amounts together at most the unsplit amount (403
//!   `NOT_ENOUGH`), and everything receivers other than the merchant
//!   itself got from the transaction at most 30 % of its total (400
//!   `INVALID_REQUEST`: WeChat Pay's default maximum ratio). The order
//!   succeeds at once: the create answers `state` `PROCESSING` with
//!   receivers `PENDING`; the query shows `FINISHED` with receivers
//!   `SUCCESS`. With `unfreeze_unsplit: true` the rest is unfrozen too (a
//!   receiver entry for the merchant itself, `解冻给分账方`), finishing the
//!   transaction. `POST /v3/profitsharing/orders/unfreeze` unfreezes
//!   without sharing; its answer leaves out `receivers`, whose shape the
//!   spec gets wrong for that operation.
//! * **Returns** (`POST /v3/profitsharing/return-orders`, by `order_id`
//!   or `out_order_no`): `return_mchid` must be a `MERCHANT_ID` receiver of
//!   that order, and may return at most what it got less what it returned
//!   (400 `INVALID_REQUEST`); answered `PROCESSING`, queried `SUCCESS`.
//!
//! The same `out_order_no` / `out_return_no` with the same body answers the
//! stored order as it is now (encrypted names aside); with another body it
//! is a 400 `INVALID_REQUEST`. Every sharing queues one
//! `PROFITSHARING.SUCCESS` callback per receiver (summary `分账成功`), every
//! return one `PROFITSHARING.RETURN` (`分账回退`), `original_type`
//! `profitsharing`, resource `{mchid, transaction_id, order_id,
//! out_order_no, receiver{type, account, amount, description},
//! success_time}` (for a return `order_id`/`out_order_no` are the return's
//! `return_id`/`out_return_no`; with `sub_mchid` also `sp_mchid` and
//! `sub_mchid`). WeChat Pay sends these to a URL set on the merchant
//! platform; the sandbox sends them to the paid order's `notify_url`.
//!
//! # Merchant transfers
//!
//! Merchant transfers (商家转账, the user-confirm mode of
//! `/v3/fund-app/mch-transfer/transfer-bills`) move money from the merchant
//! to a WeChat user, who confirms in WeChat.
//!
//! * **Create** takes `appid`, `out_bill_no` (5–32 letters and digits),
//!   `transfer_scene_id` (the spec's enum), `openid`, `transfer_amount`
//!   (an integer in fen, at least 10, i.e. 0.1 yuan), `transfer_remark`
//!   (1–32 characters), `transfer_scene_report_infos` (1–10 of
//!   `{info_type, info_content}`), and optionally `notify_url` (`http(s)`),
//!   `user_recv_perception`, `user_recv_style` and `user_name`, which is
//!   required from 200,000 fen (2,000 yuan) on. `user_name` is RSA-OAEP
//!   (SHA-1) ciphertext under the platform key the request names in
//!   `Wechatpay-Serial` (the public key id or a served certificate's
//!   serial); without that header, with an unknown key or with text that
//!   does not decrypt it is a 400 `PARAM_ERROR` at `/user_name`. The bill
//!   is created `WAIT_USER_CONFIRM`; the answer carries `package_info`
//!   (opaque base64, what the payee's page passes to
//!   `wx.requestMerchantTransfer` as `package`). `transfer_bill_no` is 40
//!   digits (`1330000`, the date, a counter).
//! * The same `out_bill_no` again with the same parameters (the name
//!   compared decrypted) answers the bill as it is now: `package_info`
//!   only while it waits. With other parameters it is a 400
//!   `INVALID_REQUEST`.
//! * **Queries** by `out_bill_no` or `transfer_bill_no` answer `mch_id`,
//!   `out_bill_no`, `transfer_bill_no`, `appid`, `state`,
//!   `transfer_amount`, `transfer_remark`, `openid`, `fail_reason` (for
//!   `FAIL`), `user_name` (when given: RSA-OAEP ciphertext under the
//!   merchant's public key, as WeChat Pay returns sensitive fields),
//!   `create_time`, `update_time`. An unknown bill is a 404 `NOT_FOUND`.
//! * **Cancel** is for a bill still `WAIT_USER_CONFIRM`: it answers
//!   `CANCELING` (WeChat Pay only accepts the request), and the bill is
//!   `CANCELLED` from then on; a cancelled bill again answers `CANCELLED`;
//!   a `SUCCESS` or `FAIL` bill is a 400 `INVALID_REQUEST`.
//! * **The payee**: `POST /_sandbox/request-merchant-transfer` takes what
//!   the page gives `wx.requestMerchantTransfer`,
//!   `{"mchId","appId","package","openId"?}` (strings; nothing else), and
//!   checks them in this order: the shape (400 `PARAM_ERROR`), a bill of
//!   the sandbox's merchant with that `package` (404 `NOT_FOUND`), `mchId`
//!   and `appId` the bill's (400 `APPID_MCHID_NOT_MATCH`), `openId`, when
//!   given, its payee (400 `INVALID_REQUEST`), the bill
//!   `WAIT_USER_CONFIRM` (400 `INVALID_REQUEST`); then the bill is
//!   `SUCCESS` and the answer is the bill as queried.
//!   `GET /_sandbox/transfer-bills/package/{package}` answers what the
//!   confirmation sheet shows. Both answer other origins, as [the
//!   payer](#the-payer)'s routes do. `/_sandbox/jsapi.js` also defines
//!   `wx.requestMerchantTransfer({mchId, appId, package, openId?, success,
//!   fail, complete})` and `WeixinJSBridge.invoke('requestMerchantTransfer',
//!   params, cb)`: a sheet with the amount and a Confirm button (same ids
//!   as the payment sheet's), answering `requestMerchantTransfer:ok`,
//!   `…:fail cancel` / `…:fail <message>` (`errMsg`), or `err_msg`
//!   `requestMerchantTransfer:ok` / `:cancel` / `:fail` with `err_desc`.
//! * **Control calls** play what the sandbox cannot otherwise know:
//!   `POST /_sandbox/transfer-bills/{transfer_bill_no}/confirm` (the payee
//!   confirms: `SUCCESS`), `…/expire` (the payee never confirmed: `FAIL`
//!   with `fail_reason` `OVERDUE_CLOSE`) and `…/fail` (body optional,
//!   `{"fail_reason"}`, default `ACCOUNT_FROZEN`: `FAIL`); each answers the
//!   bill, and is a 400 `INVALID_REQUEST` unless it is
//!   `WAIT_USER_CONFIRM`, a 404 `NOT_FOUND` for an unknown bill.
//!
//! Each final state (`SUCCESS`, `FAIL`, `CANCELLED`) queues one
//! `MCHTRANSFER.BILL.FINISHED` callback (summary `商家转账单据终态通知`,
//! `original_type` `mch_payment`, resource `{out_bill_no,
//! transfer_bill_no, state, mch_id, transfer_amount, openid,
//! fail_reason?, create_time, update_time}`) to the bill's `notify_url`;
//! a bill without one calls nobody back. Nothing is sent while it waits.
//!
//! # Coupons
//!
//! `POST /v3/marketing/favor/users/{openid}/coupons` takes `stock_id`,
//! `out_request_no`, `appid`, `stock_creator_mchid` (the signer) and
//! optional `coupon_value`/`coupon_minimum`. The stock must be `running`
//! (400 `INVALID_REQUEST` otherwise), have sent fewer than
//! `stock_use_rule.max_coupons` coupons (403 `NOT_ENOUGH`), and the user
//! fewer than `max_coupons_per_user` of it (403 `RULE_LIMIT`); each coupon
//! counts up the stock's `distributed_coupons`. Coupon ids count up from
//! `9867041`. The same `out_request_no` again for the same stock and user
//! answers the same `coupon_id` (for another, a 400 `INVALID_REQUEST`).
//! The query shows `stock_creator_mchid`, `stock_id`, `coupon_id`,
//! `coupon_name` (the stock name), `status` `SENDED`, `description`,
//! `create_time`, `coupon_type` `NORMAL`, `no_cash`,
//! `available_begin_time`, `available_end_time`, `singleitem`,
//! `normal_coupon_information{coupon_amount, transaction_minimum}` and,
//! for a started stock, `start_time`; it is a 404 `RESOURCE_NOT_EXISTS`
//! unless `openid` and `appid` are the coupon's. Once the stock creator
//! has set a callback URL (`POST /v3/marketing/favor/callbacks`, not with
//! `"switch": false`), every coupon sent queues a `COUPON.SEND` callback
//! (`original_type` `coupon`, resource the coupon as queried).
//!
//! # Persistence
//!
//! All state (stocks, coupons, orders, refunds, coupon callback URLs,
//! bill download tokens, profit-sharing receivers, orders and returns, id
//! counters) lives in SQLite: with
//! [`SandboxConfig::state_dir`] in `DIR/sandbox.sqlite3` (WAL journal,
//! `synchronous=FULL`, a 5 s busy timeout), otherwise in memory. Every
//! change is one transaction committed before the answer is sent, so a
//! sandbox started again on the same folder (killed or not) finds
//! everything a previous one acknowledged, with the same ids and states,
//! and its counters go on where they stopped, so no id is handed out
//! twice. Requests take turns on one connection; none waits for another
//! across an `.await`. Callbacks queued but not yet delivered are not
//! kept, nor is the delivery log. A state file written by an older
//! sandbox is brought up to date when opened (schema version 2 adds each
//! order's `prepay_id`, filled in from the stored create answers, so that
//! [the payer](#the-payer) finds orders placed before); a file of a newer
//! sandbox is refused.
//!
//! The keys and certificates are not in the state file: a sandbox started
//! again takes them from its [`SandboxConfig`] (`wxpay sandbox --state`
//! writes them beside it and reads them back), the APIv2 CA and client
//! certificate through [`SandboxConfig::tls_identities`].
//!
//! # Requests
//!
//! Every request to a known endpoint needs
//! `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",timestamp="…",serial_no="…"`
//! (fields in any order), signed with the merchant key over
//! `METHOD\nTARGET\nTIMESTAMP\nNONCE\nBODY\n`, where `TARGET` is the path
//! and query exactly as sent and `BODY` the exact body bytes. The timestamp
//! must be within 300 s of the server's real clock. POST bodies must be
//! JSON; a `Content-Type` other than `application/json` is refused, a
//! missing one accepted.
//!
//! # Uploads
//!
//! Upload requests are `multipart/form-data` with a `meta` part (the JSON
//! `{"filename","sha256"}`) and a `file` part, and **their signature
//! covers the `meta` part's bytes** instead of the body (bodies up to
//! 8 MiB). The sandbox checks that `sha256` is the file's SHA-256 in
//! lower-case hex, that the file part's filename is `meta.filename`, and
//! the limits: images `jpg`/`jpeg`/`png`/`bmp` of 1 byte to 2 MiB, videos
//! `avi`/`wmv`/`mpeg`/`mp4`/`mov`/`mkv`/`flv`/`f4v`/`m4v`/`rmvb` up to
//! 5 MiB (`PARAM_ERROR` otherwise).
//!
//! # Bills
//!
//! Bills are synthetic and deterministic: the trade bill (type `ALL` only)
//! of any `bill_date` (`YYYY-MM-DD`) has three payments and a refund of
//! the second, then the summary; the fund flow bill two entries (any
//! `account_type`), then its summary. Both are UTF-8 CSV with CRLF line
//! ends, every value prefixed with a backtick. `hash_value` is the SHA-1
//! of the uncompressed CSV; the `download_url` points at this sandbox
//! (`…/v3/billdownload/file?token=<48 characters>`, plus `&tartype=gzip`
//! for gzip), works for 5 minutes, and only for the merchant it was issued
//! to. The download is signed for like any request, but its answer is
//! not signed (errors are). [`Faults::corrupt_bill`] serves a bill that
//! does not match its hash. `sub_mchid` is accepted and ignored.
//!
//! # Every other operation
//!
//! Every operation of the WeChat Pay OpenAPI spec that has no handler of
//! its own above is answered from the spec, the way a mock server such as
//! Prism answers, but signed and verified. `wxpay-codegen` writes the
//! table the sandbox answers from (`sandbox/src/spec/operations.json`:
//! methods, path templates, parameters, request and response schemas with
//! `$ref`s resolved, examples kept, descriptions dropped); it is compiled
//! in and parsed on first use.
//!
//! A request that no route above takes goes, still inside the layers every
//! API request passes (faults, `Request-ID`, the answer's signature in the
//! mode the request asks for), to the table:
//!
//! 1. The path picks the operation: a template's `{placeholder}` matches
//!    any one segment, static segments win over placeholders. No template
//!    matches: 404 `NOT_FOUND`; the path is known but not with this
//!    method: 405 `METHOD_NOT_ALLOWED` with an `Allow` header. Neither
//!    looks at the signature.
//! 2. The request's signature is checked exactly as for the routes above
//!    (401 `SIGN_ERROR`; uploads signed over their `meta` part).
//! 3. The request is checked against the operation; the first problem is a
//!    400 `PARAM_ERROR` whose `detail.field` is its JSON pointer and whose
//!    message says what was expected: path parameters present (not
//!    empty), required query parameters present, path and query values
//!    of their type (integer, number, boolean, comma-separated list) and
//!    in their enum; the JSON body (an empty body reads as `{}`): required
//!    members present (`null` counts as absent), JSON types, string enums,
//!    `minLength`/`maxLength` in characters, `format: rfc3339` (RFC 3339),
//!    `date` (`YYYY-MM-DD`) and `url` (`http(s)://`), integer
//!    `minimum`/`maximum`/enum, `maxItems`. Unknown members and query
//!    parameters are ignored, as the real API does. Not checked: `pattern`
//!    (the spec writes JavaScript-style regexes), header parameters, the
//!    content of `format: base64` fields (the client encrypts them: only
//!    their type is checked), a multipart upload's parts beyond what every
//!    upload is checked for ([Uploads](#uploads)). The spec's own example
//!    of a field is always accepted, even where it breaks the field's
//!    declared constraints (some do).
//! 4. The answer has the operation's success status and fits its response
//!    schema: every required member, and the optional ones the spec gives
//!    an example or enum for; a member named like a request value (a path
//!    or query parameter, a top-level body member, an upload's `meta`
//!    member, e.g. `out_trade_no`, `sub_mchid`, `stock_id`) echoes that
//!    value when it fits the member's schema; date-time members are now
//!    (`2026-11-27T10:34:56+08:00`), `date` members today; members named
//!    `id` or ending in `_id` or `_no` without a request value get a fresh
//!    id in the shape of the spec's example (its last digits replaced by a
//!    counter, so no two answers share one); other members take the
//!    spec's example (cut to `maxLength`), an enum's first value, or a
//!    placeholder (strings: the member's name; integers: 1 within
//!    `minimum`/`maximum`; booleans: `false`); arrays hold one item. An
//!    operation that answers no content answers 204 (or its 202) with an
//!    empty body. A download (`/v3/transferdownload/…`) answers a stand-in
//!    file of the spec's content type, **unsigned** like bills.
//!
//! Nothing of this is stateful: these operations change nothing and
//! remember nothing, so a query does not see what a create made, ids are
//! not looked up (any id is "found"), and the same request twice gets two
//! answers with different made-up ids. Only the operations above with
//! handlers of their own keep state.
//!
//! # Responses
//!
//! Every response, success or error, carries `Request-ID` and is signed
//! (except a successful bill download, as with WeChat Pay, and the
//! answers of the [control endpoint](#control-endpoint)):
//! `Wechatpay-Timestamp`, `Wechatpay-Nonce`, `Wechatpay-Signature` (base64
//! RSASSA-PKCS1-v1_5/SHA-256 over `TIMESTAMP\nNONCE\nBODY\n`),
//! `Wechatpay-Serial` and `Wechatpay-Signature-Type:
//! WECHATPAY2-SHA256-RSA2048`. [`Faults`] break this on purpose. The
//! request chooses the mode with its `Wechatpay-Serial` header:
//!
//! | request | signed with | `Wechatpay-Serial` of the answer |
//! |---|---|---|
//! | to `/v3/certificates` (any header) | the newest certificate's key | that certificate's serial |
//! | `Wechatpay-Serial: <public key id>` | the platform key | the public key id |
//! | `Wechatpay-Serial: <serial of any served certificate>` | the newest certificate's key | that (newest) certificate's serial |
//! | no `Wechatpay-Serial`, or an unknown one | as [`SandboxConfig::certificate_mode`] says: by default public-key mode (the rows above) | accordingly |
//!
//! Until the first rotation the certificate certifies the platform key, so
//! both modes sign with the same key and differ only in the announced id.
//!
//! # Platform certificates
//!
//! The sandbox starts with one X.509 certificate for its platform key
//! ([`Credentials::platform_certificate_pem`]): self-signed, subject
//! `C=CN, O=wxpay-sandbox, CN=wxpay-sandbox platform certificate`, a
//! random 20-byte serial shown as 40 upper-case hex characters
//! ([`Credentials::platform_certificate_serial`]; its first byte is
//! `01`…`7F`, so no client drops a leading zero or needs a sign byte),
//! valid from a day before start to five years after
//! ([`SandboxConfig::platform_certificate_validity`] changes that), with
//! key usages digitalSignature and keyEncipherment.
//! [`SandboxConfig::platform_certificate_pem`] serves a given certificate
//! instead.
//!
//! `GET /v3/certificates` encrypts each PEM as a callback resource:
//! `{"algorithm":"AEAD_AES_256_GCM","nonce":<12 random [0-9A-Za-z]>,
//! "associated_data":"certificate","ciphertext":<base64(ciphertext ||
//! 16-byte tag)>}`, AES-256-GCM with the APIv3 key, a fresh nonce per
//! answer. `effective_time` and `expire_time` are the certificate's
//! `notBefore` and `notAfter` in RFC 3339 with `+08:00`.
//!
//! [`Sandbox::rotate_platform_certificate`] adds a certificate for a new
//! key; [`Sandbox::platform_certificates`] lists what is served.
//!
//! # Callbacks
//!
//! The sandbox POSTs callbacks (notifications) to the merchant's
//! `notify_url` as WeChat Pay does: for the events its flows cause, and
//! for any `POST /_sandbox/notify` (see [Control endpoint](#control-endpoint)).
//! The body is
//!
//! ```json
//! {"id":"EV-2026112710345612345","create_time":"2026-11-27T10:34:56+08:00",
//!  "event_type":"TRANSACTION.SUCCESS","resource_type":"encrypt-resource","summary":"支付成功",
//!  "resource":{"algorithm":"AEAD_AES_256_GCM","original_type":"transaction",
//!              "ciphertext":"<base64(ciphertext || 16-byte tag)>",
//!              "associated_data":"transaction","nonce":"<12 random [0-9A-Za-z]>"}}
//! ```
//!
//! with the resource JSON encrypted by AES-256-GCM under the APIv3 key
//! (`associated_data` = `original_type`), sent with `Content-Type:
//! application/json` and signed like an answer (`Wechatpay-Timestamp`,
//! `-Nonce`, `-Signature` over `TIMESTAMP\nNONCE\nBODY\n`, `-Serial`,
//! `-Signature-Type`): with the platform key announcing the public key id,
//! or, when [`SandboxConfig::certificate_mode`] is set, with the newest
//! platform certificate's key announcing its serial. Each attempt also
//! carries a fresh `Request-ID`, as WeChat Pay's callbacks do. Of the [`Faults`],
//! only [`Faults::callback_signtest_share`] applies to callbacks: that
//! share of attempts carries a `WECHATPAY/SIGNTEST/` probe instead of a
//! signature, which the merchant must refuse.
//!
//! An answer of 200 or 204 within [`SandboxConfig::callback_timeout`]
//! (default 5 s) delivers it. Anything else (another status, a timeout, a
//! refused connection) fails the attempt, and the same notification (same
//! `id` and body, signed afresh) is sent again after the next wait of
//! [`SandboxConfig::callback_retry_delays`] (default WeChat Pay's
//! schedule, [`CALLBACK_RETRY_DELAYS`]: 15 s, 15 s, 30 s, 3 min, 10 min,
//! 20 min, 30 min, 30 min, 30 min, 60 min, 3 h, 3 h, 3 h, 6 h, 6 h, each
//! counted from the end of the failed attempt); after the last wait's
//! attempt fails, the sandbox gives up. Notifications are delivered
//! independently of each other, in the background; [`Sandbox::shutdown`]
//! (or dropping the [`Sandbox`]) drops the pending ones.
//!
//! Every attempt is logged ([`Sandbox::callback_attempts`],
//! `GET /_sandbox/callbacks`): notification id, event type, URL, attempt
//! number, start time, duration, the merchant's status or the error, the
//! start of its answer, and the [`CallbackOutcome`].
//!
//! # Control endpoint
//!
//! Paths under `/_sandbox/` steer a running sandbox over HTTP (from
//! `curl`, another language's tests, the `wxpay sandbox` command). They are
//! not part of WeChat Pay's API: no `Authorization`, no signature on the
//! answers (plain JSON), and no [`Faults`], so a fault can always be
//! switched off again. Meant for loopback: anyone who reaches the port
//! can use them. Bodies are read as JSON whatever their `Content-Type`.
//! Errors are `{"code","message","detail"?}` like the API's (400
//! `PARAM_ERROR` with `detail.field` a JSON pointer to the field).
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `GET /_sandbox/faults` | | the [`Faults`] in force as JSON |
//! | `PUT /_sandbox/faults` | [`Faults`] as JSON: every field optional (missing = default, so `{}` switches all off), unknown fields refused | the faults now in force; 400 naming the field for an unknown field, a wrong type, a share outside `0.0..=1.0` |
//! | `POST /_sandbox/rotate` | | `{"serial","certificate_pem"}` of a new platform certificate ([`Sandbox::rotate_platform_certificate`]; the private key is never sent) |
//! | `GET /_sandbox/callbacks` | | `{"attempts":[{"notification_id","event_type","notify_url","out_trade_no","attempt","time","unix_ms","duration_ms","status","error","answer","outcome","retry_after_ms"}]}`, oldest first; `outcome` is `delivered`, `retrying` or `gave_up` |
//! | `POST /_sandbox/transactions/out-trade-no/{out_trade_no}/pay` | `{"payer_total","bank_type","openid"}`, all optional | the paid transaction; see [Paying an order](#paying-an-order) |
//! | `POST /_sandbox/transactions/out-trade-no/{out_trade_no}/expire` | | the transaction, now `CLOSED`: the `NOTPAY` order expires as passing its `time_expire` would (the sandbox never expires orders by itself); 400 `INVALID_REQUEST` unless `NOTPAY`, 404 `ORDER_NOT_EXIST` |
//! | `POST /_sandbox/transactions/out-trade-no/{out_trade_no}/close` | | the transaction, now `CLOSED`: closed as the merchant's close call does (a closed order again is accepted; a paid one is a 400 `ORDERPAID`), 404 `ORDER_NOT_EXIST` |
//! | `POST /_sandbox/request-payment` | the JSAPI invocation parameters | the paid transaction; see [The payer](#the-payer) |
//! | `POST /_sandbox/request-payment/app` | the APP `PayReq` parameters | the paid transaction |
//! | `GET /_sandbox/prepay/{prepay_id}` | | what the payment sheet shows |
//! | `POST /_sandbox/transfer-bills/{transfer_bill_no}/confirm`, `…/expire`, `…/fail` | `…/fail`: `{"fail_reason"}`, optional | the bill, now `SUCCESS` or `FAIL`; see [Merchant transfers](#merchant-transfers) |
//! | `POST /_sandbox/request-merchant-transfer` | the parameters of `wx.requestMerchantTransfer` | the bill, now `SUCCESS` |
//! | `GET /_sandbox/transfer-bills/package/{package}` | | what the confirmation sheet shows |
//! | `GET /_sandbox/`, `GET /_sandbox/orders/{out_trade_no}`, `GET`/`POST /_sandbox/h5/checkmweb`, `GET /_sandbox/jsapi.js` | | the [pages](#pages) and the payer script |
//! | `POST /_sandbox/notify` | `{"event_type","original_type"?,"summary"?,"notify_url","resource"}` | 202 `{"id","event_type","original_type","notify_url"}`; the callback is delivered as above |
//!
//! `POST /_sandbox/notify` sends any resource (any JSON value, encrypted
//! as its JSON text) to any `http`/`https` URL, to test a merchant's
//! handler with any payload. `original_type` defaults to the event type's
//! first part in lower case (`TRANSACTION.SUCCESS` → `transaction`),
//! `summary` to WeChat Pay's text for the common events (`支付成功`,
//! `退款成功`, …) or else the event type. For example:
//!
//! ```text
//! curl -X PUT $WXPAY_BASE_URL/_sandbox/faults -d '{"share_500":0.3,"latency_ms":200}'
//! curl -X POST $WXPAY_BASE_URL/_sandbox/notify -d '{"event_type":"TRANSACTION.SUCCESS",
//!   "notify_url":"http://127.0.0.1:8090/notify/transaction","resource":{…}}'
//! curl $WXPAY_BASE_URL/_sandbox/callbacks
//! ```
//!
//! # Faults
//!
//! [`Faults`] ([`Sandbox::set_faults`], `PUT /_sandbox/faults`) break the
//! API on purpose: signing faults (unsigned answers, `WECHATPAY/SIGNTEST/`
//! probes, a shifted timestamp, a tampered body, an unknown serial), a
//! forced status, a corrupt bill, added latency, and shares (probabilities
//! per request, one draw per request per knob) of injected 429
//! `FREQUENCY_LIMITED` and 500 `SYSTEM_ERROR` answers, SIGNTEST probes,
//! unsigned answers, and SIGNTEST probes in callbacks. Injected errors
//! are signed like real ones, their message says the sandbox injected
//! them, and the request is not run.
//!
//! # Errors
//!
//! Errors are `{"code","message","detail"?}`; `detail` (for `PARAM_ERROR`)
//! is `{"field": JSON pointer, "value"?, "issue", "location": "body"|"query"|"path"}`.
//!
//! | status | code | when |
//! |---|---|---|
//! | 400 | `PARAM_ERROR` | a body/query/path parameter is missing, of the wrong type, out of range, not in its enum, not RFC 3339; body not JSON; `available_end_time` not after `available_begin_time`; a NORMAL stock without `coupon_use_rule.fixed_normal_coupon`; profit sharing: an encrypted `name` without `Wechatpay-Serial`, with an unknown one, or that does not decrypt; a `MERCHANT_ID` receiver without `name`; merchant transfers: `user_name` the same way, or missing from 2,000 yuan on; an `out_bill_no` that is not 5–32 letters and digits; `transfer_amount` under 10 fen |
//! | 400 | `INVALID_REQUEST` | a state change the stock's status does not allow (start a running stock, pause an unactivated or paused one, restart a running one, …); sending a coupon from a stock that is not running; an `out_request_no` or `out_refund_no` used before with another body; refunding an unpaid order, with another `amount.total`, or more than is left; profit sharing: an unpaid transaction, one placed without `settle_info.profit_sharing`, a finished one, a receiver not added, more than 30 % of the total to receivers, an `out_order_no`/`out_return_no` used before with another body, returning more than the receiver got; merchant transfers: an `out_bill_no` used before with other parameters, cancelling or confirming a bill that no longer waits for its payee, an `openId` that is not the payee; a `Content-Type` that is not JSON; an unreadable or over-1-MiB body |
//! | 400 | `ORDERPAID` | closing a paid order; placing a paid order again; paying it again through [the payer](#the-payer) routes |
//! | 400 | `ORDER_CLOSED` | placing a closed order again; paying a closed order through [the payer](#the-payer) routes |
//! | 400 | `APPID_MCHID_NOT_MATCH` | [the payer](#the-payer): `appId`/`appid` is not the order's appid, `partnerid` not its mchid; the payee's `mchId`/`appId` not the transfer bill's |
//! | 401 | `SIGN_ERROR` | the `Authorization` header is missing, of another scheme, malformed, lacks or repeats a field; `mchid` or `serial_no` differ from the credentials; the timestamp is not a number or more than 300 s off (the message says by how much); the signature is not base64 or does not verify (the message quotes the signing message the server used, `\n` shown as `\\n`) |
//! | 403 | `NO_AUTH` | `belong_merchant`, `stock_creator_mchid`, `mchid` (body or query) is not the merchant that signed the request, or not the stock's creator |
//! | 403 | `OUT_TRADE_NO_USED` | an `out_trade_no` used before with another body or endpoint |
//! | 403 | `NOT_ENOUGH` | the stock has sent `max_coupons` coupons; a profit sharing above the transaction's unsplit amount |
//! | 403 | `RULE_LIMIT` | the user has `max_coupons_per_user` coupons of the stock |
//! | 404 | `ORDER_NOT_EXIST` | no order with that `out_trade_no`, `transaction_id` or `prepay_id` (profit sharing included) |
//! | 404 | `RESOURCE_NOT_EXISTS` | no stock with that id; no coupon with that id for that user and appid; no refund with that `out_refund_no`; a refund of an unknown order; no coupon callback URL set; no bill for a download token (never issued, or expired); no profit-sharing order or return with that number |
//! | 404 | `NOT_FOUND` | a path that is no route of the sandbox and no operation of the spec (checked before the signature); no merchant transfer bill with that `out_bill_no`, `transfer_bill_no` or `package` |
//! | 405 | `METHOD_NOT_ALLOWED` | a path of the spec with a method it does not take; `Allow` lists those it does (checked before the signature) |
//! | 500 | `SYSTEM_ERROR` | the state database failed (the message says how) |
//!
//! The Swagger spec gives no error codes for the payment, refund and coupon
//! endpoints: the codes above are the sandbox's best reading of WeChat
//! Pay's published error tables. Key client logic on the HTTP status.
//!
//! # Dependencies
//!
//! * `aws-lc-rs`: RSA-2048 key generation, RSASSA-PKCS1-v1_5/SHA-256
//!   signing and verification, AES-256-GCM encryption of the certificates,
//!   the SHA-256 of uploads and the SHA-1 of bills.
//! * `axum` (with `tokio`): the HTTP server.
//! * `base64`: signatures travel base64-encoded.
//! * `flate2`: gzip-compressing bill downloads.
//! * `md-5`: APIv2 `MD5` signatures and the MD5 of the APIv2 key that
//!   keys `req_info` (HMAC-SHA256 and AES-256-ECB are aws-lc-rs's).
//! * `p12-keystore`: writing the merchant's `apiclient_cert.p12`
//!   ([`Credentials::client_pkcs12`]).
//! * `rustls`, `tokio-rustls` (aws-lc-rs provider): the APIv2 TLS
//!   listener and its client-certificate check (already in the tree
//!   through reqwest).
//! * `multer` (with `futures-util` to feed it): parsing multipart upload
//!   bodies, whose `meta` part is what their signature covers.
//! * `pem`: keys are handed out and taken in as PEM.
//! * `percent-encoding`: decoding query strings exactly once; encoding ids
//!   in the pages' links.
//! * `qrcode` (only its `svg` feature, no image crates): drawing a Native
//!   order's `code_url` as an inline SVG QR code on the order page. QR
//!   encoding (Reed–Solomon, masking, version selection) is too much to
//!   write by hand; this crate is small, dependency-free with that feature,
//!   and long maintained.
//! * `rand`: ids, nonces, serials, the APIv3 key, the fault shares' draws.
//! * `rusqlite` (with SQLite `bundled`, so no system library is needed):
//!   the state, in a file that survives restarts and kills (transactions,
//!   WAL) or in memory, behind one code path.
//! * `rcgen` (aws-lc-rs backend, no `ring`): writing and signing the
//!   platform certificates' X.509 DER for the sandbox's own RSA keys, and
//!   the sandbox CA, TLS server and API client certificates.
//! * `reqwest` (the workspace's rustls build): delivering callbacks. The
//!   sandbox is an HTTP client towards the merchant's `notify_url`; reqwest
//!   gives the per-attempt timeout, no proxy, no redirects, and is already
//!   in the tree of every user of `wxpay`.
//! * `serde`, `serde_json`: request and response bodies; [`Faults`] as
//!   JSON.
//! * `serde_path_to_error`: the control endpoint's 400 names the JSON
//!   field that is wrong (already in the tree through axum).
//! * `thiserror`: [`SandboxError`].
//! * `time`: RFC 3339 times with the `+08:00` offset, parsing the
//!   RFC 3339 times clients send, the certificates' validity.
//! * `tracing`: a debug line per answer and per callback attempt, an info
//!   line per rejected signature and per control-endpoint fault change.
//! * `x509-parser`: reading a certificate given in
//!   [`SandboxConfig::platform_certificate_pem`] (its serial, validity and
//!   public key).
//!
//! The end-to-end tests in `tests/sandbox/` use `reqwest` as the client,
//! axum as the merchant's callback receiver and `tempfile` for state
//! folders; they sign requests, verify answers and callbacks and decrypt
//! certificates and resources by hand with `aws-lc-rs` (and read
//! certificates with `x509-parser`),
//! independently of `wxpay-core`.

mod auth;
mod callbacks;
mod certificates;
mod clock;
mod config;
mod credentials;
mod delivery;
mod errors;
mod events;
mod faults;
#[cfg(test)]
mod golden_tests;
mod handlers;
mod query;
mod random;
mod server;
mod signing;
mod spec;
mod state;
mod store;
mod validation;

/// Internal parsers exposed to the fuzz targets in `fuzz/` (feature
/// `fuzzing`); not a public API, and not covered by semver.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz {
    /// Parses an `Authorization` header value as the sandbox does; on
    /// success the fields `mchid`, `nonce_str`, `signature`, `timestamp`,
    /// `serial_no`, in that order.
    pub fn parse_authorization(header: &str) -> Result<[String; 5], String> {
        let fields = crate::auth::parse_authorization(header)?;
        Ok([
            fields.mchid,
            fields.nonce_str,
            fields.signature,
            fields.timestamp,
            fields.serial_no,
        ])
    }

    use std::sync::atomic::AtomicU64;
    use std::sync::{Arc, Mutex, RwLock};

    use axum::body::Bytes;
    use axum::http::HeaderMap;
    use serde_json::{Map, Value};

    use crate::errors::ApiError;
    use crate::state::{AppState, Shared};

    /// A refused input: the status and the JSON error body the sandbox
    /// would answer.
    #[derive(Debug, Clone)]
    pub struct Refusal {
        /// The HTTP status.
        pub status: u16,
        /// `{"code","message","detail"}` as it would be sent.
        pub body: Value,
    }

    impl From<ApiError> for Refusal {
        fn from(error: ApiError) -> Self {
            Refusal {
                status: error.status.as_u16(),
                body: serde_json::to_value(&error).unwrap_or(Value::Null),
            }
        }
    }

    /// A parsed multipart upload: the `meta` part, and the `file` part's
    /// filename and bytes.
    #[derive(Debug, Clone)]
    pub struct Upload {
        /// The `meta` part's bytes (what the signature covers).
        pub meta: Bytes,
        /// The `file` part: its filename (if any) and bytes.
        pub file: Option<(Option<String>, Bytes)>,
    }

    /// Whether `headers` announce `multipart/form-data`.
    pub fn is_multipart(headers: &HeaderMap) -> bool {
        crate::handlers::media::is_multipart(headers)
    }

    /// Parses an upload body as the sandbox does before checking its
    /// signature (ready at once: the body is one chunk in memory).
    pub async fn parse_multipart(headers: &HeaderMap, body: Bytes) -> Result<Upload, Refusal> {
        let upload = crate::handlers::media::parse(headers, body).await?;
        Ok(Upload {
            meta: upload.meta,
            file: upload.file.map(|file| (file.filename, file.bytes)),
        })
    }

    /// A query string parsed as the sandbox does, read through its
    /// accessors.
    #[derive(Debug)]
    pub struct Query(crate::query::Query);

    impl Query {
        /// The value of `name`, if given.
        pub fn get(&self, name: &str) -> Option<&str> {
            self.0.get(name)
        }

        /// A required integer within `min..=max`.
        pub fn required_integer(&self, name: &str, min: u64, max: u64) -> Result<u64, Refusal> {
            Ok(self.0.required_integer(name, min, max)?)
        }

        /// An optional RFC 3339 date-time, in nanoseconds since the epoch.
        pub fn optional_datetime(&self, name: &str) -> Result<Option<i128>, Refusal> {
            Ok(self.0.optional_datetime(name)?)
        }
    }

    /// Decodes a raw query (what follows `?`).
    pub fn parse_query(raw: Option<&str>) -> Result<Query, Refusal> {
        Ok(Query(crate::query::Query::parse(raw)?))
    }

    /// One operation of the spec table, by its index there.
    #[derive(Debug, Clone)]
    pub struct SpecOperation {
        /// Its index in the table.
        pub index: usize,
        /// `GET`, `POST`, …
        pub method: String,
        /// The path template.
        pub path: String,
        /// Whether it takes a JSON body with a schema.
        pub has_body: bool,
        /// Whether it answers JSON with a schema.
        pub has_response: bool,
        /// Its path and query parameters' names.
        pub params: Vec<String>,
    }

    fn table() -> &'static crate::spec::Table {
        crate::spec::table().expect("the sandbox's operation table loads")
    }

    /// Every operation of the spec table, in table order.
    pub fn spec_operations() -> Vec<SpecOperation> {
        table()
            .operations
            .iter()
            .enumerate()
            .map(|(index, op)| SpecOperation {
                index,
                method: op.method.clone(),
                path: op.path.clone(),
                has_body: op.body.is_some() && !op.multipart,
                has_response: op.response.is_some() && op.answer == crate::spec::AnswerKind::Json,
                params: op.params.iter().map(|p| p.name.clone()).collect(),
            })
            .collect()
    }

    /// Checks a JSON body against operation `op`'s body schema (accepted
    /// when it has none).
    pub fn spec_check_body(op: usize, body: &Value) -> Result<(), Refusal> {
        let table = table();
        match table.operations.get(op).and_then(|op| op.body) {
            Some(schema) => Ok(crate::spec::check::value(
                table,
                table.root(schema),
                body,
                "",
            )?),
            None => Ok(()),
        }
    }

    /// Checks the decoded text of operation `op`'s parameter number
    /// `param` (`None` when there is no such parameter); answers the value
    /// echoed.
    pub fn spec_check_param(op: usize, param: usize, text: &str) -> Option<Result<Value, Refusal>> {
        let table = table();
        let param = table.operations.get(op)?.params.get(param)?;
        let location = match param.place {
            crate::spec::Place::Path => crate::errors::Location::Path,
            crate::spec::Place::Query => crate::errors::Location::Query,
        };
        let pointer = format!("/{}", param.name);
        Some(
            crate::spec::check::text(table, param.schema, text, location, &pointer)
                .map_err(Refusal::from),
        )
    }

    /// The answer the sandbox makes up for operation `op` echoing `echo`
    /// (`None` when it answers no JSON), and whether that answer passes
    /// the check of its own response schema.
    pub fn spec_answer(
        op: usize,
        echo: &Map<String, Value>,
    ) -> Option<(Value, Result<(), Refusal>)> {
        let table = table();
        let schema = table.operations.get(op)?.response?;
        let answer = crate::spec::answer::synthesize(table, schema, echo);
        let check = crate::spec::check::value(table, table.root(schema), &answer, "")
            .map_err(Refusal::from);
        Some((answer, check))
    }

    /// A sandbox without a listener: its whole router (both layers, every
    /// route), to be called in process, e.g. with tower's `oneshot`.
    /// Callbacks are not delivered.
    pub struct App {
        router: axum::Router,
        credentials: crate::Credentials,
    }

    impl App {
        /// Generates credentials (RSA keys: slow, make one per process)
        /// and an in-memory state.
        pub fn new() -> Result<App, crate::SandboxError> {
            let config = crate::SandboxConfig::default();
            let store = crate::store::Store::open(None)?;
            let (callbacks, _queued) = crate::callbacks::Deliveries::new(&config);
            let (credentials, keys) = crate::credentials::build(&config)?;
            let (events, _pending) = crate::events::EventSink::new();
            let state = AppState(Arc::new(Shared {
                credentials: credentials.clone(),
                certificates: RwLock::new(vec![Arc::clone(&keys.certificate)]),
                keys,
                certificate_mode: false,
                faults: Mutex::new(crate::Faults::default()),
                store,
                base_url: "http://127.0.0.1:9".to_owned(),
                requests_served: AtomicU64::new(0),
                events,
                callbacks,
                redpacks: crate::state::RedPacks::default(),
            }));
            Ok(App {
                router: crate::server::router(state),
                credentials,
            })
        }

        /// The router (cheap to clone).
        pub fn router(&self) -> axum::Router {
            self.router.clone()
        }

        /// The credentials a client signs with.
        pub fn credentials(&self) -> &crate::Credentials {
            &self.credentials
        }
    }
}

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use callbacks::{CALLBACK_RETRY_DELAYS, CALLBACK_TIMEOUT, CallbackAttempt, CallbackOutcome};
pub use config::{SandboxConfig, SandboxError, TlsIdentities};
pub use credentials::Credentials;
pub use faults::Faults;
pub use state::RotatedCertificate;
use state::{AppState, Shared};

/// How long [`Sandbox::shutdown`] waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running sandbox server. Dropping it stops the server (requests in
/// flight are finished in the background); [`Sandbox::shutdown`] also waits
/// for that.
pub struct Sandbox {
    base_url: String,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// Delivers callbacks; aborting it drops the pending deliveries.
    callbacks: JoinHandle<()>,
    /// The APIv2 TLS listener: its URL, the server's stop signal and task,
    /// and the task accepting connections.
    tls: Option<TlsServer>,
}

/// The running APIv2 TLS listener.
struct TlsServer {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    accepting: JoinHandle<()>,
}

impl Sandbox {
    /// Starts a sandbox on `127.0.0.1` (a free port) with freshly generated
    /// credentials.
    pub async fn start() -> Result<Sandbox, SandboxError> {
        Self::start_with(SandboxConfig::default()).await
    }

    /// Starts a sandbox with the given options.
    pub async fn start_with(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let addr = config
            .addr
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        // RSA key generation takes a while; keep it off the async threads.
        let certificate_mode = config.certificate_mode;
        let state_dir = config.state_dir.clone();
        let tls_addr = (!config.disable_v2_tls).then(|| {
            config
                .v2_tls_addr
                .unwrap_or_else(|| SocketAddr::new(addr.ip(), 0))
        });
        let store = tokio::task::spawn_blocking(move || store::Store::open(state_dir.as_deref()))
            .await
            .map_err(|_| SandboxError::State {
                reason: "opening the state database panicked".to_owned(),
            })??;
        let (callbacks, queued) = callbacks::Deliveries::new(&config);
        let (credentials, keys) = tokio::task::spawn_blocking(move || credentials::build(&config))
            .await
            .map_err(|_| SandboxError::KeyGeneration)??;

        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { addr, source })?;

        let (events, pending_events) = events::EventSink::new();
        let state = AppState(Arc::new(Shared {
            credentials,
            certificates: RwLock::new(vec![Arc::clone(&keys.certificate)]),
            keys,
            certificate_mode,
            faults: Mutex::new(Faults::default()),
            store,
            base_url: format!("http://{local}"),
            requests_served: AtomicU64::new(0),
            events,
            callbacks,
            redpacks: state::RedPacks::default(),
        }));
        let callbacks = delivery::spawn(state.clone(), pending_events, queued);
        let app = server::router(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                // Either an explicit stop or the Sandbox being dropped.
                let _ = stopped.await;
            };
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(%error, "sandbox server failed");
            }
        });
        tracing::debug!(%local, "sandbox listening");

        let tls = match tls_addr {
            None => None,
            Some(tls_addr) => {
                let (listener, tls_local, accepting) =
                    match handlers::v2::TlsListener::bind(tls_addr, &state.0.keys.tls).await {
                        Ok(bound) => bound,
                        Err(error) => {
                            callbacks.abort();
                            let _ = stop.send(());
                            return Err(error);
                        }
                    };
                let app = server::router(state.clone())
                    .into_make_service_with_connect_info::<handlers::v2::TlsPeer>();
                let (tls_stop, tls_stopped) = oneshot::channel::<()>();
                let task = tokio::spawn(async move {
                    let shutdown = async move {
                        let _ = tls_stopped.await;
                    };
                    if let Err(error) = axum::serve(listener, app)
                        .with_graceful_shutdown(shutdown)
                        .await
                    {
                        tracing::error!(%error, "sandbox TLS server failed");
                    }
                });
                tracing::debug!(%tls_local, "sandbox APIv2 TLS listening");
                Some(TlsServer {
                    url: format!("https://{tls_local}"),
                    stop: Some(tls_stop),
                    task: Some(task),
                    accepting,
                })
            }
        };

        Ok(Sandbox {
            base_url: format!("http://{local}"),
            state,
            stop: Some(stop),
            task: Some(task),
            callbacks,
            tls,
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `https://127.0.0.1:PORT` (the IP of [`SandboxConfig::addr`]): the
    /// APIv2 TLS listener, which asks for the merchant's API client
    /// certificate ([`Credentials::client_certificate_pem`]) and serves
    /// everything the plain listener does; `None` when
    /// [`SandboxConfig::disable_v2_tls`] is set. Trust
    /// [`Credentials::tls_ca_pem`] to talk to it.
    pub fn v2_tls_url(&self) -> Option<&str> {
        self.tls.as_ref().map(|tls| tls.url.as_str())
    }

    /// The credentials a client needs.
    pub fn credentials(&self) -> &Credentials {
        &self.state.0.credentials
    }

    /// Replaces the active faults; requests that arrive from now on see
    /// them.
    ///
    /// # Panics
    ///
    /// If `faults` is not valid ([`Faults::validate`]: a share outside
    /// `0.0..=1.0` or NaN, too much latency), as a test that sets such
    /// faults is wrong; [`Sandbox::try_set_faults`] returns the error
    /// instead.
    #[track_caller]
    pub fn set_faults(&self, faults: Faults) {
        if let Err(error) = self.try_set_faults(faults) {
            panic!("Sandbox::set_faults: {error}");
        }
    }

    /// Replaces the active faults if they are valid ([`Faults::validate`]).
    ///
    /// # Errors
    ///
    /// [`SandboxError::InvalidFaults`] naming the field that is not; the
    /// active faults are then unchanged.
    pub fn try_set_faults(&self, faults: Faults) -> Result<(), SandboxError> {
        faults.validate()?;
        self.state.set_faults(faults);
        Ok(())
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.state.faults()
    }

    /// The platform certificates `GET /v3/certificates` serves, as
    /// `(serial, PEM)`, newest first (the order of that answer): the one
    /// from [`Credentials::platform_certificate_pem`], then one more per
    /// [`Sandbox::rotate_platform_certificate`].
    pub fn platform_certificates(&self) -> Vec<(String, String)> {
        self.state
            .certificates_newest_first()
            .iter()
            .map(|certificate| (certificate.serial.clone(), certificate.pem.clone()))
            .collect()
    }

    /// Rotates the platform certificate as WeChat Pay does: makes a new
    /// RSA-2048 key pair and a certificate for it (new random serial,
    /// validity as [`SandboxConfig::platform_certificate_validity`] says).
    /// From the next request on, certificate-mode answers are signed with
    /// the new key and announce the new serial, and `GET /v3/certificates`
    /// lists the new certificate before the old ones, which stay listed
    /// (and, named in a request's `Wechatpay-Serial`, still select
    /// certificate mode). Public-key mode keeps its key and id;
    /// [`Sandbox::credentials`] keeps describing the start-up certificate.
    ///
    /// Generating an RSA key takes a moment (a fraction of a second) on
    /// the calling thread.
    ///
    /// # Errors
    ///
    /// [`SandboxError`] if the crypto library cannot generate an RSA key or
    /// sign a certificate.
    pub fn rotate_platform_certificate(&self) -> Result<RotatedCertificate, SandboxError> {
        state::rotate_platform_certificate(&self.state)
    }

    /// Every callback delivery attempt so far, oldest first (the last
    /// 10 000): notification id, event type, URL, attempt number, time,
    /// the merchant's status or the error, and what came of it.
    /// `GET /_sandbox/callbacks` shows the same.
    pub fn callback_attempts(&self) -> Vec<CallbackAttempt> {
        self.state.0.callbacks.attempts()
    }

    /// Stops the server and waits (up to 5 s) for requests in flight.
    /// Pending callback deliveries (attempts under way, retries not yet
    /// made) are dropped.
    pub async fn shutdown(mut self) {
        self.callbacks.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut tls) = self.tls.take() {
            tls.accepting.abort();
            if let Some(stop) = tls.stop.take() {
                let _ = stop.send(());
            }
            if let Some(mut task) = tls.task.take()
                && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                    .await
                    .is_err()
            {
                task.abort();
            }
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.base_url)
            .field("v2_tls_url", &self.v2_tls_url())
            .field("credentials", self.credentials())
            .finish_non_exhaustive()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.callbacks.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(tls) = &mut self.tls {
            tls.accepting.abort();
            if let Some(stop) = tls.stop.take() {
                let _ = stop.send(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>(_: &T) {}

    #[test]
    fn handles_and_futures_can_cross_threads() {
        let config = SandboxConfig::default();
        assert_send_sync(&config);
        assert_send_sync(&Faults::default());
        // Not awaited: only the type matters.
        let start = Sandbox::start_with(config);
        fn assert_send<T: Send>(_: &T) {}
        assert_send(&start);
        fn sandbox_is_send_sync<T: Send + Sync>() {}
        sandbox_is_send_sync::<Sandbox>();
        sandbox_is_send_sync::<Credentials>();
        sandbox_is_send_sync::<SandboxError>();
        sandbox_is_send_sync::<RotatedCertificate>();
    }
}
