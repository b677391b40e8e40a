// What every interop/*-flow.js shares: the sandbox's identity from the
// sandbox.env that `wxpay sandbox --state DIR` writes, the Node library's
// client set up the way its documentation shows, and a small check
// runner (one ok/FAIL/SKIP line per check, a summary, the exit status).

'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { Wechatpay, Rsa } = require('wechatpay-axios-plugin');

// A variable of sandbox.env; exits with 2 when it is not set.
function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`error: ${name} is not set; load a sandbox.env first (set -a; . DIR/sandbox.env; set +a)`);
    process.exit(2);
  }
  return value;
}

// The sandbox's address and the merchant's and WeChat Pay's keys.
const env = {
  baseURL: required('WXPAY_BASE_URL'),
  mchid: required('WXPAY_MCHID'),
  serial: required('WXPAY_SERIAL'),
  privateKeyFile: required('WXPAY_PRIVATE_KEY_FILE'),
  publicKeyId: required('WXPAY_PUBLIC_KEY_ID'),
  publicKeyFile: required('WXPAY_PUBLIC_KEY_FILE'),
  platformCertFile: required('WXPAY_PLATFORM_CERT_FILE'),
};

const merchantPrivateKey = Rsa.from(`file://${env.privateKeyFile}`, Rsa.KEY_TYPE_PRIVATE);
const platformPublicKey = Rsa.from(`file://${env.publicKeyFile}`, Rsa.KEY_TYPE_PUBLIC);

// The client in public key mode (certs maps the public key id to the
// public key), plus the sandbox's address.
function publicKeyClient() {
  return new Wechatpay({
    baseURL: env.baseURL,
    mchid: env.mchid,
    serial: env.serial,
    privateKey: merchantPrivateKey,
    certs: { [env.publicKeyId]: platformPublicKey },
  });
}

// A suffix that keeps this run's numbers apart from earlier runs' on the
// same state folder.
const run = `${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;

const results = [];

// Runs one check: `body` throws to fail, and may return a detail to show.
async function check(name, body) {
  try {
    const detail = await body();
    results.push({ name, outcome: 'ok' });
    console.log(`ok    ${name}${detail ? ` (${detail})` : ''}`);
  } catch (error) {
    results.push({ name, outcome: 'FAIL' });
    console.log(`FAIL  ${name}`);
    console.log(indent(describe(error)));
  }
}

function skip(name, why) {
  results.push({ name, outcome: 'SKIP' });
  console.log(`SKIP  ${name}: ${why}`);
}

// What went wrong, with the HTTP answer when there was one.
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

function indent(text) {
  return text.split('\n').map((line) => `      ${line}`).join('\n');
}

// Prints the totals and the checks that did not pass; the exit status.
function summary() {
  const count = (outcome) => results.filter((r) => r.outcome === outcome).length;
  console.log(`\n${count('ok')} passed, ${count('FAIL')} failed, ${count('SKIP')} skipped`);
  for (const { name, outcome } of results.filter((r) => r.outcome !== 'ok')) {
    console.log(`  ${outcome}: ${name}`);
  }
  return count('FAIL') === 0 ? 0 : 1;
}

// Runs a flow's `main` (which returns `summary()`), setting the exit status.
function runFlow(main) {
  main().then(
    (code) => { process.exitCode = code; },
    (error) => {
      console.error(`error: the interop script itself failed: ${describe(error)}`);
      process.exitCode = 1;
    },
  );
}

module.exports = {
  env, merchantPrivateKey, platformPublicKey, publicKeyClient, run,
  check, skip, describe, indent, summary, runFlow,
};
