#!/usr/bin/env node
// Drives a running wxpay sandbox's profit sharing (分账) with the Node
// library wechatpay-axios-plugin (pinned in package.json):
//
// * a JSAPI order placed with settle_info.profit_sharing = true is paid
//   through the sandbox's control call (plain fetch, not WeChat Pay's API);
// * a MERCHANT_ID receiver is added, its name encrypted with the library's
//   own Rsa.encrypt (RSA-OAEP) under the WeChat Pay public key and the
//   request naming that key in Wechatpay-Serial;
// * a sharing order is created, then queried, and the unsplit amount
//   checked; a sharing above the 30 % ratio is refused with 400;
//
// every 2xx answer going through the library's own signature verification.
// It reads the variables `wxpay sandbox --state DIR` writes to
// DIR/sandbox.env, prints one ok/FAIL/SKIP line per check and exits with 1
// if any failed. interop/run.sh starts the sandbox and runs this.

'use strict';

const assert = require('node:assert/strict');

const { Rsa } = require('wechatpay-axios-plugin');

const {
  env: {
    baseURL, mchid, serial, privateKeyFile, publicKeyId, publicKeyFile, platformCertFile,
  },
  merchantPrivateKey, platformPublicKey, publicKeyClient, run,
  check, skip, describe, indent, summary, runFlow,
} = require('./common');

// Public key mode, as the library documents it, plus the sandbox's address.
const wxpay = publicKeyClient();

const appid = 'wxd678efh567hg6787';
const receiverMchid = '1900000110';
const total = 1000;

async function main() {
  console.log(`wechatpay-axios-plugin ${require('wechatpay-axios-plugin/package.json').version} against ${baseURL}: profit sharing`);

  // --- a paid order placed for profit sharing ------------------------------

  const outTradeNo = `ps${run}`;
  let transactionId;
  await check('place a JSAPI order with settle_info.profit_sharing (POST /v3/pay/transactions/jsapi)', async () => {
    const { status, data } = await wxpay.v3.pay.transactions.jsapi.post({
      appid,
      mchid,
      description: 'wxpay interop - profit sharing',
      out_trade_no: outTradeNo,
      notify_url: 'https://www.weixin.qq.com/wxpay/pay.php',
      amount: { total, currency: 'CNY' },
      payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
      settle_info: { profit_sharing: true },
    });
    assert.equal(status, 200, 'placing an order should answer 200');
    assert.equal(typeof data.prepay_id, 'string', `the answer should hold a prepay_id, got ${JSON.stringify(data)}`);
  });

  await check('pay it through the sandbox control call (POST /_sandbox/transactions/out-trade-no/{no}/pay)', async () => {
    const response = await fetch(`${baseURL}/_sandbox/transactions/out-trade-no/${outTradeNo}/pay`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    const text = await response.text();
    assert.equal(response.status, 200, `paying should answer 200, got ${response.status}: ${text}`);
    const paid = JSON.parse(text);
    assert.equal(paid.trade_state, 'SUCCESS', `the order should be paid, got ${text}`);
    transactionId = paid.transaction_id;
    return `transaction ${transactionId}`;
  });

  // --- the receiver --------------------------------------------------------

  let added = false;
  await check('add a MERCHANT_ID receiver, name encrypted by the library (POST /v3/profitsharing/receivers/add)', async () => {
    const { status, data } = await wxpay.v3.profitsharing.receivers.add.post({
      appid,
      type: 'MERCHANT_ID',
      account: receiverMchid,
      name: Rsa.encrypt('深圳腾大分店', platformPublicKey),
      relation_type: 'STORE',
    }, { headers: { 'Wechatpay-Serial': publicKeyId } });
    assert.equal(status, 200, 'adding a receiver should answer 200');
    assert.equal(data.type, 'MERCHANT_ID', `the answer should name the type, got ${JSON.stringify(data)}`);
    assert.equal(data.account, receiverMchid, `the answer should name the account, got ${JSON.stringify(data)}`);
    assert.equal(data.relation_type, 'STORE', `the answer should keep relation_type, got ${JSON.stringify(data)}`);
    added = true;
  });

  // --- sharing -------------------------------------------------------------

  const outOrderNo = `P${run}`;
  let orderId;
  const create = 'share 250 of 1000 fen (POST /v3/profitsharing/orders)';
  if (!transactionId || !added) {
    skip(create, 'no paid order or no receiver');
  } else {
    await check(create, async () => {
      const { status, data } = await wxpay.v3.profitsharing.orders.post({
        appid,
        transaction_id: transactionId,
        out_order_no: outOrderNo,
        receivers: [{ type: 'MERCHANT_ID', account: receiverMchid, amount: 250, description: '分给门店' }],
        unfreeze_unsplit: false,
      });
      assert.equal(status, 200, 'sharing should answer 200');
      assert.equal(data.state, 'PROCESSING', `a new sharing order should be PROCESSING, got ${JSON.stringify(data)}`);
      assert.equal(data.out_order_no, outOrderNo, 'the answer should name the out_order_no');
      assert.equal(data.transaction_id, transactionId, 'the answer should name the transaction');
      assert.equal(data.receivers.length, 1, `one receiver, got ${JSON.stringify(data.receivers)}`);
      orderId = data.order_id;
      return `order ${orderId}`;
    });
  }

  const queryName = 'query it (GET /v3/profitsharing/orders/{out_order_no}?transaction_id=)';
  if (!orderId) {
    skip(queryName, 'no sharing order was created');
  } else {
    await check(queryName, async () => {
      const { data } = await wxpay.v3.profitsharing.orders._out_order_no_.get({
        params: { transaction_id: transactionId },
        out_order_no: outOrderNo,
      });
      assert.equal(data.order_id, orderId, 'the query should answer with the order created');
      assert.equal(data.state, 'FINISHED', `the order should have finished, got ${JSON.stringify(data)}`);
      const [receiver] = data.receivers;
      assert.equal(receiver.result, 'SUCCESS', `the receiver should have been paid, got ${JSON.stringify(receiver)}`);
      assert.equal(receiver.amount, 250, 'the receiver should get 250 fen');
      return `state ${data.state}`;
    });
  }

  const amountsName = 'the unsplit amount is 750 (GET /v3/profitsharing/transactions/{transaction_id}/amounts)';
  if (!orderId) {
    skip(amountsName, 'no sharing order was created');
  } else {
    await check(amountsName, async () => {
      const { data } = await wxpay.v3.profitsharing.transactions._transaction_id_.amounts.get({
        transaction_id: transactionId,
      });
      assert.equal(data.unsplit_amount, 750, `750 fen should be left, got ${JSON.stringify(data)}`);
    });
  }

  const ratioName = 'sharing beyond 30 % of the total is refused with 400 INVALID_REQUEST';
  if (!orderId) {
    skip(ratioName, 'no sharing order was created');
  } else {
    await check(ratioName, async () => {
      let error;
      try {
        await wxpay.v3.profitsharing.orders.post({
          appid,
          transaction_id: transactionId,
          out_order_no: `${outOrderNo}x`,
          receivers: [{ type: 'MERCHANT_ID', account: receiverMchid, amount: 51, description: '超出比例' }],
          unfreeze_unsplit: false,
        });
      } catch (caught) {
        error = caught;
      }
      assert.ok(error && error.response, 'sharing 301 of 1000 fen in all should be refused');
      assert.equal(error.response.status, 400, `the refusal should be a 400, got: ${describe(error)}`);
      assert.equal(error.response.data.code, 'INVALID_REQUEST', `the code should be INVALID_REQUEST, got: ${describe(error)}`);
      return error.response.data.message;
    });
  }

  return summary();
}

runFlow(main);
