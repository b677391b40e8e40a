// Known-answer vectors for WeChat Pay APIv2, computed with the Node library
// wechatpay-axios-plugin (its Hash.sign for MD5 / HMAC-SHA256 signatures and
// its Aes.AesEcb for the refund notification's `req_info`).
//
//   node interop/v2-vectors.js > tests/vectors/v2_sign.json
//
// The Rust tests in tests/v2_protocol.rs check wxpay's APIv2 code against
// this file; it never needs a sandbox or the network.

'use strict';

const crypto = require('node:crypto');
const path = require('node:path');

const lib = path.join(__dirname, 'node_modules', 'wechatpay-axios-plugin');
const { Hash, Aes } = require(lib);

// A made-up 32-character APIv2 key (test data, not a real merchant's).
const key = '192006250b4c09247ec02edce69f6a2d';

const cases = [
  {
    name: 'unifiedorder request with the documented example fields',
    fields: {
      appid: 'wxd930ea5d5a258f4f',
      mch_id: '10000100',
      device_info: '1000',
      body: 'test',
      nonce_str: 'ibuaiVcKdpRxkhJA',
    },
  },
  {
    name: 'Chinese text, an empty value and an existing sign field',
    fields: {
      appid: 'wx2421b1c4370ec43b',
      mch_id: '10000100',
      nonce_str: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
      body: '腾讯充值中心-QQ会员充值',
      attach: '',
      out_trade_no: '20150806125346',
      total_fee: '1',
      spbill_create_ip: '123.12.12.123',
      notify_url: 'https://example.com/wxpay/notify?a=1&b=2',
      trade_type: 'JSAPI',
      openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
      sign: 'IGNORED-BY-SIGNING',
    },
  },
  {
    name: 'refund answer with markup characters and sign_type',
    fields: {
      return_code: 'SUCCESS',
      return_msg: 'OK',
      appid: 'wx2421b1c4370ec43b',
      mch_id: '10000100',
      nonce_str: 'NfsMFbUFpdbEhPXP',
      result_code: 'SUCCESS',
      transaction_id: '1008450740201411110005820873',
      out_trade_no: '1415757673',
      out_refund_no: '1415701182',
      refund_id: '2008450740201411110000174436',
      refund_fee: '1',
      detail: '<goods> & "quotes" ]]> end',
      sign_type: 'HMAC-SHA256',
    },
  },
];

const vectors = {
  key,
  cases: cases.map(({ name, fields }) => ({
    name,
    fields,
    md5: Hash.sign(Hash.ALGO_MD5, fields, key),
    hmac_sha256: Hash.sign(Hash.ALGO_HMAC_SHA256, fields, key),
  })),
};

// The refund notification's req_info: AES-256-ECB (PKCS#7) with the
// lower-case hex MD5 of the APIv2 key as the 32-byte key, then base64.
const refundPlain = '<root><out_refund_no><![CDATA[131811191610442717309]]></out_refund_no>'
  + '<out_trade_no><![CDATA[71106718111915575302817]]></out_trade_no>'
  + '<refund_account><![CDATA[REFUND_SOURCE_RECHARGE_FUNDS]]></refund_account>'
  + '<refund_fee><![CDATA[3960]]></refund_fee>'
  + '<refund_id><![CDATA[50000408942018111907145868882]]></refund_id>'
  + '<refund_recv_accout><![CDATA[支付用户零钱]]></refund_recv_accout>'
  + '<refund_request_source><![CDATA[API]]></refund_request_source>'
  + '<refund_status><![CDATA[SUCCESS]]></refund_status>'
  + '<settlement_refund_fee><![CDATA[3960]]></settlement_refund_fee>'
  + '<settlement_total_fee><![CDATA[3960]]></settlement_total_fee>'
  + '<success_time><![CDATA[2018-11-19 16:24:13]]></success_time>'
  + '<total_fee><![CDATA[3960]]></total_fee>'
  + '<transaction_id><![CDATA[4200000215201811190261405420]]></transaction_id>'
  + '</root>';
const aesKey = crypto.createHash('md5').update(key).digest('hex');
vectors.refund = {
  aes_key: aesKey,
  plain: refundPlain,
  req_info: Aes.AesEcb.encrypt(refundPlain, aesKey),
};

process.stdout.write(`${JSON.stringify(vectors, null, 2)}\n`);
