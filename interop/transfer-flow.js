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
const crypto = require('node:crypto');

const { Wechatpay, Rsa } = require('wechatpay-axios-plugin');

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`error: ${name} is not set; load a sandbox.env first (set -a; . DIR/sandbox.env; set +a)`);
    process.exit(2);
  }
  return value;
}

const baseURL = required('WXPAY_BASE_URL');
const mchid = required('WXPAY_MCHID');
const serial = required('WXPAY_SERIAL');
const privateKeyFile = required('WXPAY_PRIVATE_KEY_FILE');
const publicKeyId = required('WXPAY_PUBLIC_KEY_ID');
const publicKeyFile = required('WXPAY_PUBLIC_KEY_FILE');

const platformPublicKey = Rsa.from(`file://${publicKeyFile}`, Rsa.KEY_TYPE_PUBLIC);
const merchantPrivateKey = Rsa.from(`file://${privateKeyFile}`, Rsa.KEY_TYPE_PRIVATE);

// Public key mode, as the library documents it, plus the sandbox's address.
const wxpay = new Wechatpay({
  baseURL,
  mchid,
  serial,
  privateKey: merchantPrivateKey,
  certs: { [publicKeyId]: platformPublicKey },
});

const results = [];

async function check(name, body) {
  try {
    const detail = await body();
    results.push({ name, outcome: 'ok' });
    console.log(`ok    ${name}${detail ? ` (${detail})` : ''}`);
  } catch (error) {
    results.push({ name, outcome: 'FAIL' });
    console.log(`FAIL  ${name}`);
    console.log(describe(error).split('\n').map((line) => `      ${line}`).join('\n'));
  }
}

function skip(name, why) {
  results.push({ name, outcome: 'SKIP' });
  console.log(`SKIP  ${name}: ${why}`);
}

function describe(error) {
  const lines = [];
  if (error instanceof assert.AssertionError) {
    lines.push(error.message);
  } else {
    lines.push(`${error.name || 'Error'}${error.code ? ` [${error.code}]` : ''}: ${error.message}`);
  }
  const response = error.response || (error.cause && error.cause.response);
  if (response) {
    lines.push(`HTTP ${response.status} ${response.config ? `${response.config.method.toUpperCase()} ${response.config.url}` : ''}`);
    lines.push(`answer: ${typeof response.data === 'string' ? response.data : JSON.stringify(response.data)}`);
  }
  return lines.join('\n');
}

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
const run = `${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;
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

  const count = (outcome) => results.filter((r) => r.outcome === outcome).length;
  console.log(`\n${count('ok')} passed, ${count('FAIL')} failed, ${count('SKIP')} skipped`);
  for (const { name, outcome } of results.filter((r) => r.outcome !== 'ok')) {
    console.log(`  ${outcome}: ${name}`);
  }
  return count('FAIL') === 0 ? 0 : 1;
}

main().then(
  (code) => { process.exitCode = code; },
  (error) => {
    console.error(`error: the interop script itself failed: ${describe(error)}`);
    process.exitCode = 1;
  },
);
