#!/usr/bin/env node
// Drives a running wxpay sandbox's merchant transfers (商家转账, the
// user-confirm mode of /v3/fund-app/mch-transfer/transfer-bills) with the
// Node library wechatpay-axios-plugin (pinned in package.json):
//
// * a bill of 3,000 yuan is created, user_name encrypted with the
//   library's Rsa.encrypt (RSA-OAEP) under the WeChat Pay public key and
//   the request naming that key in Wechatpay-Serial: WAIT_USER_CONFIRM
//   with a package_info; the same bill again answers the same;
// * it is queried by out_bill_no and by transfer_bill_no, the two answers
//   the same bill, the name readable with the merchant key (Rsa.decrypt);
// * the payee confirms with the parameters a page hands
//   wx.requestMerchantTransfer (plain fetch to the sandbox's payee route,
//   not WeChat Pay's API), and the query shows SUCCESS;
// * cancelling it now is refused with 400 INVALID_REQUEST, and an unknown
//   bill is 404 NOT_FOUND;
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

// Awaits `promise`, which must reject with an HTTP answer; returns it.
async function refusal(promise, what) {
  let answer;
  try {
    answer = await promise;
  } catch (error) {
    assert.ok(error.response, `${what}: no HTTP answer: ${describe(error)}`);
    return error.response;
  }
  throw new assert.AssertionError({
    message: `${what}, but the call succeeded with HTTP ${answer.status}: ${JSON.stringify(answer.data)}`,
  });
}

const BEIJING_RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/;
const appid = 'wxf636efh567hg4356';
const openid = 'o-MYE42l80oelYMDE34nYD456Xoy';
const amount = 300000;

const bills = wxpay.v3.fundApp.mchTransfer.transferBills;

async function main() {
  console.log(`wechatpay-axios-plugin ${require('wechatpay-axios-plugin/package.json').version} against ${baseURL}: merchant transfers`);

  const outBillNo = `tb${run}`;
  const body = {
    appid,
    out_bill_no: outBillNo,
    transfer_scene_id: '1005',
    openid,
    transfer_amount: amount,
    transfer_remark: '2025年4月劳务报酬',
    notify_url: 'https://www.weixin.qq.com/wxpay/transfer.php',
    user_recv_perception: '劳务报酬',
    transfer_scene_report_infos: [
      { info_type: '岗位类型', info_content: '外卖员' },
      { info_type: '报酬说明', info_content: '4月份配送费' },
    ],
  };
  const create = () => bills.post(
    { ...body, user_name: Rsa.encrypt('张三', platformPublicKey) },
    { headers: { 'Wechatpay-Serial': publicKeyId } },
  );

  let created;
  await check('create a bill, user_name encrypted by the library (POST /v3/fund-app/mch-transfer/transfer-bills)', async () => {
    const { status, data } = await create();
    assert.equal(status, 200, 'creating a bill should answer 200');
    assert.equal(data.out_bill_no, outBillNo, `the answer should name the bill, got ${JSON.stringify(data)}`);
    assert.match(String(data.transfer_bill_no), /^\d{40}$/, `transfer_bill_no should be 40 digits, got ${JSON.stringify(data)}`);
    assert.equal(data.state, 'WAIT_USER_CONFIRM', 'a new bill waits for its payee');
    assert.match(String(data.create_time), BEIJING_RFC3339, `create_time should be RFC 3339 at +08:00, got ${JSON.stringify(data)}`);
    assert.equal(typeof data.package_info, 'string', `a waiting bill should carry package_info, got ${JSON.stringify(data)}`);
    created = data;
    return `transfer_bill_no ${data.transfer_bill_no}`;
  });

  if (!created) {
    skip('the same bill again answers the same', 'no bill was created');
  } else {
    await check('the same bill again answers the same', async () => {
      const { data } = await create();
      assert.deepEqual(data, created, 'a retry with the same parameters should answer the first answer');
    });
  }

  const byOut = 'query it by out_bill_no (GET …/transfer-bills/out-bill-no/{out_bill_no})';
  const byNo = 'query it by transfer_bill_no (GET …/transfer-bills/transfer-bill-no/{transfer_bill_no})';
  let queried;
  if (!created) {
    skip(byOut, 'no bill was created');
    skip(byNo, 'no bill was created');
  } else {
    await check(byOut, async () => {
      const { data } = await bills.outBillNo._out_bill_no_.get({ out_bill_no: outBillNo });
      assert.equal(data.mch_id, mchid, 'the bill should belong to the merchant');
      assert.equal(data.out_bill_no, outBillNo);
      assert.equal(data.transfer_bill_no, created.transfer_bill_no);
      assert.equal(data.appid, appid);
      assert.equal(data.openid, openid);
      assert.equal(data.state, 'WAIT_USER_CONFIRM');
      assert.equal(data.transfer_amount, amount);
      assert.equal(data.transfer_remark, body.transfer_remark);
      assert.match(String(data.update_time), BEIJING_RFC3339);
      assert.equal(Rsa.decrypt(data.user_name, merchantPrivateKey), '张三', 'user_name should decrypt with the merchant key');
      queried = data;
      return `state ${data.state}`;
    });
    await check(byNo, async () => {
      const { data } = await bills.transferBillNo._transfer_bill_no_.get({ transfer_bill_no: created.transfer_bill_no });
      assert.ok(queried, 'the query by out_bill_no failed');
      const { user_name: a, ...left } = data;
      const { user_name: b, ...right } = queried;
      assert.deepEqual(left, right, 'both queries should answer the same bill');
      assert.equal(Rsa.decrypt(a, merchantPrivateKey), Rsa.decrypt(b, merchantPrivateKey));
    });
  }

  const confirm = 'the payee confirms with the page\'s parameters (POST /_sandbox/request-merchant-transfer)';
  let confirmed = false;
  if (!created) {
    skip(confirm, 'no bill was created');
  } else {
    await check(confirm, async () => {
      // What a page passes to wx.requestMerchantTransfer.
      const params = { mchId: mchid, appId: appid, package: created.package_info, openId: openid };
      const response = await fetch(`${baseURL}/_sandbox/request-merchant-transfer`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(params),
      });
      const answer = await response.json();
      assert.equal(response.status, 200, `the sandbox should accept the parameters, got ${JSON.stringify(answer)}`);
      const { data } = await bills.outBillNo._out_bill_no_.get({ out_bill_no: outBillNo });
      assert.equal(data.state, 'SUCCESS', 'a confirmed bill is SUCCESS');
      confirmed = true;
      return `state ${data.state}`;
    });
  }

  const cancel = 'cancelling a confirmed bill is refused with 400 INVALID_REQUEST';
  if (!confirmed) {
    skip(cancel, 'the bill was not confirmed');
  } else {
    await check(cancel, async () => {
      const response = await refusal(
        bills.outBillNo._out_bill_no_.cancel.post({}, { out_bill_no: outBillNo }),
        'cancelling a SUCCESS bill should be refused',
      );
      assert.equal(response.status, 400);
      assert.equal(response.data.code, 'INVALID_REQUEST', `got ${JSON.stringify(response.data)}`);
    });
  }

  await check('an unknown bill is 404 NOT_FOUND', async () => {
    const response = await refusal(
      bills.outBillNo._out_bill_no_.get({ out_bill_no: `none${run}` }),
      'querying an unknown bill should be refused',
    );
    assert.equal(response.status, 404);
    assert.equal(response.data.code, 'NOT_FOUND', `got ${JSON.stringify(response.data)}`);
  });

  return summary();
}

runFlow(main);
