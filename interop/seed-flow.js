#!/usr/bin/env node
// Drives a running wxpay sandbox with the Node library this SDK's design
// grew from, wechatpay-axios-plugin (pinned in package.json), and checks
// that the two agree on signing and verification:
//
// * a coupon stock is created and then activated exactly as
//   ../shared/seed/activate-stock.md shows;
// * a Native order is placed and queried by out_trade_no;
// * the library's own response verification passes with the sandbox's
//   platform public key (and, in certificate mode, its certificate), and
//   it throws when given a wrong key or an unknown serial, so the passes
//   mean something;
// * a request signed with a wrong merchant key gets 401 SIGN_ERROR.
//
// It reads the variables `wxpay sandbox --state DIR` writes to
// DIR/sandbox.env. Every check runs (the ones that need an earlier result
// are skipped when it is missing); the exit status is 1 if any failed.
// interop/run.sh starts the sandbox and runs this.

'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');

const { Wechatpay, Rsa } = require('wechatpay-axios-plugin');

// ---------------------------------------------------------------------------
// The sandbox's identity, from sandbox.env.

const {
  env: {
    baseURL, mchid, serial, privateKeyFile, publicKeyId, publicKeyFile, platformCertFile,
  },
  merchantPrivateKey, platformPublicKey, publicKeyClient, run,
  check, skip, describe, indent, summary, runFlow,
} = require('./common');

// The certificate's serial as WeChat Pay writes it: upper-case hex.
const platformCertificate = new crypto.X509Certificate(fs.readFileSync(platformCertFile));
const certificateSerial = platformCertificate.serialNumber.toUpperCase();

// A fresh key pair nobody registered: as a merchant key it must be refused,
// as a platform key it must not verify the sandbox's answers.
const stranger = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });

// The client, configured the way the library's own documentation shows
// (public key mode), plus the sandbox's address: see common.js.
const wxpay = publicKeyClient();


// Awaits `promise`, which must reject; returns the rejection.
async function rejection(promise, what) {
  let answer;
  try {
    answer = await promise;
  } catch (error) {
    return error;
  }
  throw new assert.AssertionError({
    message: `${what}, but the call succeeded with HTTP ${answer.status}: ${JSON.stringify(answer.data)}`,
  });
}

const BEIJING_RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/;

// A unique suffix so that reruns against a kept sandbox do not collide.

// ---------------------------------------------------------------------------

async function main() {
  console.log(`wechatpay-axios-plugin ${require('wechatpay-axios-plugin/package.json').version} against ${baseURL}`);
  console.log(`mchid ${mchid}, merchant serial ${serial}, public key id ${publicKeyId}, platform certificate ${certificateSerial}`);

  // --- the coupon stock ----------------------------------------------------

  let stockId;
  await check('create a coupon stock (POST /v3/marketing/favor/coupon-stocks)', async () => {
    const { status, data } = await wxpay.v3.marketing.favor.couponStocks.post(stockBody(`interop-${run}`));
    assert.equal(status, 200, 'creating a stock should answer 200');
    assert.match(String(data.stock_id), /^\d+$/, `stock_id should be digits, got ${JSON.stringify(data)}`);
    assert.match(String(data.create_time), BEIJING_RFC3339, `create_time should be RFC 3339 at +08:00, got ${JSON.stringify(data)}`);
    stockId = data.stock_id;
    return `stock ${stockId}`;
  });

  const activate = 'activate it exactly as the seed shows (POST /v3/marketing/favor/stocks/{stock_id}/start)';
  if (stockId === undefined) {
    skip(activate, 'no stock was created');
  } else {
    await check(activate, async () => {
      const stock_creator_mchid = mchid;
      const stock_id = stockId;
      // From ../shared/seed/activate-stock.md, unchanged:
      const activated = await wxpay.v3.marketing.favor.stocks._stock_id_.start.post({
        stock_creator_mchid,
      }, { stock_id })
      .then(
        ({
          data: {
            start_time,
            stock_id,
          },
        }) => ({
          start_time,
          stock_id,
        })
      );
      assert.equal(activated.stock_id, stockId, 'the activation should answer with the stock it activated');
      assert.match(String(activated.start_time), BEIJING_RFC3339, `start_time should be RFC 3339 at +08:00, got ${JSON.stringify(activated)}`);
      return `started at ${activated.start_time}`;
    });
  }

  const query = 'the stock is now running (GET /v3/marketing/favor/stocks/{stock_id})';
  if (stockId === undefined) {
    skip(query, 'no stock was created');
  } else {
    await check(query, async () => {
      const { data } = await wxpay.v3.marketing.favor.stocks._stock_id_.get({
        params: { stock_creator_mchid: mchid },
        stock_id: stockId,
      });
      assert.equal(data.stock_id, stockId, 'the query should answer with the stock asked for');
      assert.equal(data.status, 'running', 'an activated stock should be running');
      assert.equal(data.stock_creator_mchid, mchid, 'the stock should belong to its creator');
    });
  }

  // --- the order -----------------------------------------------------------

  const outTradeNo = `interop${run}`;
  let ordered = false;
  await check('place a Native order (POST /v3/pay/transactions/native)', async () => {
    const { status, data } = await wxpay.v3.pay.transactions.native.post({
      appid: 'wxd678efh567hg6787',
      mchid,
      description: 'wxpay interop - Node',
      out_trade_no: outTradeNo,
      notify_url: 'https://www.weixin.qq.com/wxpay/pay.php',
      amount: { total: 1, currency: 'CNY' },
    });
    assert.equal(status, 200, 'placing an order should answer 200');
    assert.equal(typeof data.code_url, 'string', `the answer should hold a code_url, got ${JSON.stringify(data)}`);
    assert.match(data.code_url, /^weixin:\/\//, `code_url should be a weixin:// link, got ${data.code_url}`);
    ordered = true;
    return data.code_url;
  });

  const queryOrder = 'query it by out_trade_no (GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=)';
  if (!ordered) {
    skip(queryOrder, 'no order was placed');
  } else {
    await check(queryOrder, async () => {
      const { data } = await wxpay.v3.pay.transactions.outTradeNo._out_trade_no_.get({
        params: { mchid },
        out_trade_no: outTradeNo,
      });
      assert.equal(data.out_trade_no, outTradeNo, 'the query should answer with the order asked for');
      assert.equal(data.mchid, mchid, 'the order should belong to the merchant');
      assert.equal(data.appid, 'wxd678efh567hg6787', 'the order should keep its appid');
      assert.equal(data.trade_state, 'NOTPAY', 'a fresh Native order should not be paid yet');
      assert.equal(data.amount && data.amount.total, 1, `the order should keep its amount, got ${JSON.stringify(data.amount)}`);
      return `trade_state ${data.trade_state}`;
    });
  }

  // --- the library's response verification --------------------------------

  // A cheap signed GET that needs no earlier step.
  const listStocks = (client, config = {}) => client.v3.marketing.favor.stocks.get({
    ...config,
    params: { offset: 0, limit: 10, stock_creator_mchid: mchid },
  });

  await check('answers carry the public key id and verify with the platform public key', async () => {
    const { headers } = await listStocks(wxpay);
    assert.equal(headers['wechatpay-serial'], publicKeyId, 'in public key mode the answer should name the public key id');
  });

  await check('in certificate mode answers verify with the platform certificate', async () => {
    const byCertificate = new Wechatpay({
      baseURL,
      mchid,
      serial,
      privateKey: Rsa.from(`file://${privateKeyFile}`, Rsa.KEY_TYPE_PRIVATE),
      // An X.509 PEM works as a public key for node:crypto.
      certs: { [certificateSerial]: fs.readFileSync(platformCertFile) },
    });
    // Naming the certificate in Wechatpay-Serial asks for certificate mode.
    const { headers } = await listStocks(byCertificate, { headers: { 'Wechatpay-Serial': certificateSerial } });
    assert.equal(headers['wechatpay-serial'], certificateSerial, 'in certificate mode the answer should name the certificate serial');
    return `serial ${certificateSerial}`;
  });

  await check('a wrong platform key makes the library throw (EV3_RES_HEADER_SIGNATURE_DIGEST)', async () => {
    const misconfigured = new Wechatpay({
      baseURL,
      mchid,
      serial,
      privateKey: Rsa.from(`file://${privateKeyFile}`, Rsa.KEY_TYPE_PRIVATE),
      certs: { [publicKeyId]: stranger.publicKey },
    });
    const error = await rejection(listStocks(misconfigured), 'verifying with a wrong platform key should throw');
    assert.equal(error.code, 'EV3_RES_HEADER_SIGNATURE_DIGEST', `the library should reject the signature, got: ${describe(error)}`);
    assert.equal(error.response && error.response.status, 200, 'the sandbox itself should have answered 200: only the verification fails');
  });

  await check('an unknown platform serial makes the library throw (EV3_RES_HEADER_PLATFORM_SERIAL)', async () => {
    const misconfigured = new Wechatpay({
      baseURL,
      mchid,
      serial,
      privateKey: Rsa.from(`file://${privateKeyFile}`, Rsa.KEY_TYPE_PRIVATE),
      certs: { PUB_KEY_ID_NOT_THE_SANDBOXS: Rsa.from(`file://${publicKeyFile}`, Rsa.KEY_TYPE_PUBLIC) },
    });
    const error = await rejection(listStocks(misconfigured), 'an answer signed under an unconfigured serial should throw');
    assert.equal(error.code, 'EV3_RES_HEADER_PLATFORM_SERIAL', `the library should say it has no key for the serial, got: ${describe(error)}`);
  });

  // --- the sandbox's request verification ---------------------------------

  await check('a request signed with a wrong merchant key gets 401 SIGN_ERROR', async () => {
    const impostor = new Wechatpay({
      baseURL,
      mchid,
      serial,
      privateKey: stranger.privateKey,
      certs: { [publicKeyId]: Rsa.from(`file://${publicKeyFile}`, Rsa.KEY_TYPE_PUBLIC) },
    });
    // The raw body, to check the error answer's signature by hand below
    // (the library does not verify non-2xx answers at all).
    const error = await rejection(
      listStocks(impostor, { transformResponse: [(raw) => raw] }),
      'a request signed with a wrong merchant key should be refused',
    );
    const { response } = error;
    assert.ok(response, `the sandbox should answer, got: ${describe(error)}`);
    assert.equal(response.status, 401, `the sandbox should answer 401, got: ${describe(error)}`);
    const answer = JSON.parse(response.data);
    assert.equal(answer.code, 'SIGN_ERROR', `the error code should be SIGN_ERROR, got: ${describe(error)}`);
    const { headers } = response;
    assert.ok(
      Rsa.verify(
        `${headers['wechatpay-timestamp']}\n${headers['wechatpay-nonce']}\n${response.data}\n`,
        headers['wechatpay-signature'] || '',
        Rsa.from(`file://${publicKeyFile}`, Rsa.KEY_TYPE_PUBLIC),
      ),
      'the 401 answer should be signed with the platform key like any other',
    );
    return answer.message;
  });

  // --- summary -------------------------------------------------------------

  return summary();
}

// The body sandbox/tests/sandbox/common.rs sends: a NORMAL stock of 100
// coupons worth 1 yuan each.
function stockBody(outRequestNo) {
  return {
    stock_name: '微信支付代金券批次',
    comment: '零售批次',
    belong_merchant: mchid,
    available_begin_time: '2030-01-01T00:00:00+08:00',
    available_end_time: '2030-01-31T23:59:59+08:00',
    stock_use_rule: {
      max_coupons: 100,
      max_amount: 10000,
      max_coupons_per_user: 1,
      natural_person_limit: false,
      prevent_api_abuse: false,
    },
    pattern_info: {
      description: '微信支付营销',
      background_color: 'Color020',
    },
    coupon_use_rule: {
      coupon_available_time: {
        fix_available_time: { available_week_day: [1, 2, 3], begin_time: 0, end_time: 3600 },
      },
      fixed_normal_coupon: { coupon_amount: 100, transaction_minimum: 100 },
      goods_tag: ['123321'],
      trade_type: ['MICROAPP'],
      available_merchants: [mchid],
    },
    no_cash: false,
    stock_type: 'NORMAL',
    out_request_no: outRequestNo,
  };
}

runFlow(main);
