#!/usr/bin/env node
// Drives the sandbox's APIv2 (XML, signed with the APIv2 key) with the
// Node library wechatpay-axios-plugin, whose own transformer signs every
// request (MD5 or HMAC-SHA256, lib/hash.js) and verifies every answer's
// `sign` (lib/transformer.js `verifier`), so the sandbox's v2 signatures
// are checked by code we did not write:
//
// 1. unifiedorder (NATIVE, HMAC-SHA256) → prepay_id and code_url;
// 2. orderquery → NOTPAY; the order is paid through the sandbox's control
//    call; orderquery (MD5) → SUCCESS with its transaction_id;
// 3. refund over mutual TLS with the merchant's API client certificate
//    (`merchant: {cert, key, ca}` and `{ security: true }`, as the library
//    documents) → refund_id;
// 4. a second refund with apiclient_cert.p12 (`merchant: {pfx, passphrase}`),
//    so Node's OpenSSL reads the PKCS#12 archive the sandbox wrote;
// 5. a refund without a certificate is refused (return_code FAIL);
// 6. a wrong APIv2 key: the sandbox answers return_code FAIL 签名错误.
//
// It reads sandbox.env (WXPAY_V2_KEY_FILE, WXPAY_V2_BASE_URL (the TLS
// listener), WXPAY_V2_CLIENT_CERT_FILE (apiclient_cert.p12, beside which
// the sandbox also writes apiclient_cert.pem and apiclient_key.pem) and
// WXPAY_V2_CA_FILE, besides the APIv3 ones): the settings `wxpay v2` reads.

'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');

const { Wechatpay, Hash } = require('wechatpay-axios-plugin');

const {
  env: { baseURL, mchid, serial },
  merchantPrivateKey, platformPublicKey, run, check, summary, runFlow,
} = require('./common');

const path = require('node:path');

const p12File = process.env.WXPAY_V2_CLIENT_CERT_FILE;
const stateDir = p12File ? path.dirname(p12File) : undefined;
const v2 = {
  key: process.env.WXPAY_V2_KEY_FILE
    ? fs.readFileSync(process.env.WXPAY_V2_KEY_FILE, 'utf8').trim()
    : undefined,
  tlsURL: process.env.WXPAY_V2_BASE_URL,
  certFile: stateDir && path.join(stateDir, 'apiclient_cert.pem'),
  keyFile: stateDir && path.join(stateDir, 'apiclient_key.pem'),
  caFile: process.env.WXPAY_V2_CA_FILE,
  p12File,
};

const APPID = 'wx8888888888888888';

// A v2 client: the library needs its v3 settings too; `secret` is the
// APIv2 key, `merchant` the TLS options of the client certificate.
function client({ url = baseURL, secret = v2.key, merchant } = {}) {
  return new Wechatpay({
    baseURL: url,
    mchid,
    serial,
    privateKey: merchantPrivateKey,
    certs: { any: platformPublicKey },
    secret,
    merchant,
  });
}

async function main() {
  if (!v2.key || !v2.tlsURL || !v2.p12File || !v2.caFile) {
    // The sandbox always writes these: their absence is a failure, not a skip.
    await check('sandbox.env has the APIv2 settings', async () => {
      throw new Error('sandbox.env lacks WXPAY_V2_KEY_FILE, WXPAY_V2_BASE_URL, WXPAY_V2_CLIENT_CERT_FILE or WXPAY_V2_CA_FILE');
    });
    return summary();
  }
  const plain = client();
  const outTradeNo = `v2${run}`.slice(0, 32);
  let transactionId;

  await check('unifiedorder, HMAC-SHA256 (POST /pay/unifiedorder), answer verified by the library', async () => {
    const { data } = await plain.v2.pay.unifiedorder({
      appid: APPID,
      mch_id: mchid,
      body: 'interop',
      out_trade_no: outTradeNo,
      total_fee: 501,
      spbill_create_ip: '127.0.0.1',
      notify_url: 'http://127.0.0.1:9/notify',
      trade_type: 'NATIVE',
      product_id: 'p1',
      sign_type: 'HMAC-SHA256',
    });
    assert.equal(data.return_code, 'SUCCESS');
    assert.equal(data.result_code, 'SUCCESS');
    assert.equal(data.sign.length, 64);
    assert.match(data.prepay_id, /^wx/);
    assert.match(data.code_url, /^weixin:\/\//);
    // What the library's verifier did, by hand with its Hash.sign: the
    // sign matches under the APIv2 key and not under another.
    assert.equal(Hash.sign(Hash.ALGO_HMAC_SHA256, data, v2.key), data.sign);
    assert.notEqual(Hash.sign(Hash.ALGO_HMAC_SHA256, data, '0123456789abcdef0123456789abcdef'), data.sign);
    return data.prepay_id;
  });

  await check('orderquery (MD5): NOTPAY', async () => {
    const { data } = await plain.v2.pay.orderquery({ appid: APPID, mch_id: mchid, out_trade_no: outTradeNo });
    assert.equal(data.trade_state, 'NOTPAY');
    assert.equal(data.total_fee, '501');
    assert.equal(data.sign.length, 32);
    assert.equal(Hash.sign(Hash.ALGO_MD5, data, v2.key), data.sign);
  });

  await check('paid through the sandbox, orderquery: SUCCESS', async () => {
    const paid = await fetch(`${baseURL}/_sandbox/transactions/out-trade-no/${outTradeNo}/pay`, { method: 'POST' });
    assert.equal(paid.status, 200);
    const { data } = await plain.v2.pay.orderquery({ appid: APPID, mch_id: mchid, out_trade_no: outTradeNo });
    assert.equal(data.trade_state, 'SUCCESS');
    transactionId = data.transaction_id;
    assert.match(transactionId, /^\d{28}$/);
    return transactionId;
  });

  const refund = {
    appid: APPID,
    mch_id: mchid,
    out_trade_no: outTradeNo,
    out_refund_no: `r${outTradeNo}`.slice(0, 32),
    total_fee: 501,
    refund_fee: 200,
  };

  await check('refund over mutual TLS with the client certificate (POST /secapi/pay/refund)', async () => {
    const secure = client({
      url: v2.tlsURL,
      merchant: {
        cert: fs.readFileSync(v2.certFile),
        key: fs.readFileSync(v2.keyFile),
        ca: fs.readFileSync(v2.caFile),
      },
    });
    const { data } = await secure.v2.secapi.pay.refund.post(refund, { security: true });
    assert.equal(data.result_code, 'SUCCESS');
    assert.equal(data.refund_fee, '200');
    assert.equal(data.transaction_id, transactionId);
    return data.refund_id;
  });

  await check('a second refund with apiclient_cert.p12 (pfx, passphrase = mchid) read by Node\'s TLS', async () => {
    if (!v2.p12File) { throw new Error('sandbox.env has no WXPAY_V2_CLIENT_CERT_FILE'); }
    const secure = client({
      url: v2.tlsURL,
      merchant: { pfx: fs.readFileSync(v2.p12File), passphrase: mchid, ca: fs.readFileSync(v2.caFile) },
    });
    const { data } = await secure.v2.secapi.pay.refund.post(
      { ...refund, out_refund_no: `p${refund.out_refund_no}`.slice(0, 32), refund_fee: 301 },
      { security: true },
    );
    assert.equal(data.result_code, 'SUCCESS');
    assert.equal(data.refund_fee, '301');
    return data.refund_id;
  });

  await check('a refund without a client certificate: return_code FAIL', async () => {
    const bare = client({ url: v2.tlsURL, merchant: { ca: fs.readFileSync(v2.caFile) } });
    await assert.rejects(
      bare.v2.secapi.pay.refund.post({ ...refund, out_refund_no: `x${refund.out_refund_no}`.slice(0, 32) }, { security: true }),
      (error) => {
        assert.equal(error.response.data.return_code, 'FAIL');
        assert.match(error.response.data.return_msg, /证书/);
        return true;
      },
    );
  });

  await check('a wrong APIv2 key: return_code FAIL 签名错误', async () => {
    const wrong = client({ secret: '0123456789abcdef0123456789abcdef' });
    await assert.rejects(
      wrong.v2.pay.orderquery({ appid: APPID, mch_id: mchid, out_trade_no: outTradeNo }),
      (error) => {
        assert.equal(error.response.data.return_code, 'FAIL');
        assert.equal(error.response.data.return_msg, '签名错误');
        return true;
      },
    );
  });

  return summary();
}

runFlow(main);
