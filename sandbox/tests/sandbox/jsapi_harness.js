// Drives the sandbox's /_sandbox/jsapi.js in Node with a minimal stand-in
// for the DOM (no browser needed): loads the script as if from
// BASE/_sandbox/jsapi.js on a merchant page of another origin, invokes the
// payment with PARAMS, presses Pay or Cancel on the sheet, and prints one
// JSON line: what the page saw.
//
// node jsapi_harness.js SCRIPT_FILE BASE PARAMS_JSON API pay|cancel
// API: bridge|wx (a payment), transfer-bridge|transfer-wx (a merchant
// transfer, WeixinJSBridge.invoke('requestMerchantTransfer') or
// wx.requestMerchantTransfer; "pay" presses its Confirm button).
'use strict';
const fs = require('fs');
const [, , scriptFile, base, paramsJson, api, button] = process.argv;

const byId = {};
function visit(node, f) {
  f(node);
  node.children.forEach((child) => visit(child, f));
}
function element(tag) {
  return {
    tag, id: '', children: [], listeners: {}, attributes: {}, parentNode: null,
    textContent: '', className: '', disabled: false, type: '',
    appendChild(child) {
      child.parentNode = this;
      this.children.push(child);
      visit(child, (n) => { if (n.id) byId[n.id] = n; });
      return child;
    },
    removeChild(child) {
      this.children = this.children.filter((c) => c !== child);
      child.parentNode = null;
      visit(child, (n) => { if (byId[n.id] === n) delete byId[n.id]; });
    },
    setAttribute(name, value) { this.attributes[name] = value; },
    addEventListener(type, f) { (this.listeners[type] = this.listeners[type] || []).push(f); },
    click() { if (!this.disabled) (this.listeners.click || []).forEach((f) => f()); },
  };
}
const documentListeners = {};
global.window = global;
global.location = { href: 'http://merchant.invalid/checkout', origin: 'http://merchant.invalid' };
global.Event = class { constructor(type) { this.type = type; } };
global.document = {
  readyState: 'complete',
  currentScript: { src: base + '/_sandbox/jsapi.js' },
  head: element('head'), body: element('body'), documentElement: element('html'),
  createElement: element,
  getElementById: (id) => byId[id] || null,
  getElementsByTagName: () => [],
  addEventListener(type, f) { (documentListeners[type] = documentListeners[type] || []).push(f); },
  dispatchEvent(event) { (documentListeners[event.type] || []).forEach((f) => f(event)); },
};

const seen = { ready: false, calls: [] };
document.addEventListener('WeixinJSBridgeReady', () => { seen.ready = true; });
// Loaded as a classic script would be.
new Function(fs.readFileSync(scriptFile, 'utf8'))();
seen.origin = window.__wxpaySandbox.origin;

const params = JSON.parse(paramsJson);
function finish(answer) {
  seen.callback = answer;
  seen.sheetClosed = !byId['wxpay-sandbox-sheet'];
  console.log(JSON.stringify(seen));
}
function waitFor(check, then, left = 100) {
  if (check()) return then();
  if (left === 0) { seen.timeout = true; return finish(null); }
  setTimeout(() => waitFor(check, then, left - 1), 50);
}

setTimeout(() => {
  if (api === 'bridge') {
    WeixinJSBridge.invoke('getBrandWCPayRequest', params, finish);
  } else if (api === 'transfer-bridge') {
    WeixinJSBridge.invoke('requestMerchantTransfer', params, finish);
  } else if (api === 'transfer-wx') {
    wx.requestMerchantTransfer(Object.assign({}, params, {
      success: (r) => seen.calls.push(['success', r]),
      fail: (r) => seen.calls.push(['fail', r]),
      complete: finish,
    }));
  } else {
    wx.requestPayment(Object.assign({}, params, {
      success: (r) => seen.calls.push(['success', r]),
      fail: (r) => seen.calls.push(['fail', r]),
      complete: finish,
    }));
  }
  const sheet = () => byId['wxpay-sandbox-sheet'];
  waitFor(() => sheet() && /\d/.test(sheet().children[0].children[2].textContent), () => {
    const panel = sheet().children[0];
    seen.merchant = panel.children[1].textContent;
    seen.amount = panel.children[2].textContent;
    seen.description = panel.children[3].textContent;
    byId[button === 'cancel' ? 'wxpay-sandbox-cancel' : 'wxpay-sandbox-pay'].click();
    waitFor(() => byId['wxpay-sandbox-result'] && byId['wxpay-sandbox-result'].textContent.length > 1,
      () => { seen.result = byId['wxpay-sandbox-result'].textContent; });
  });
}, 20);
