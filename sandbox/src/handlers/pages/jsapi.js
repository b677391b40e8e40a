/*
 * wxpay sandbox: a stand-in for the WeChat client's payment bridge.
 *
 * Include it in a merchant page instead of WeChat's JS:
 *   <script src="http://127.0.0.1:PORT/_sandbox/jsapi.js"></script>
 * It defines WeixinJSBridge.invoke('getBrandWCPayRequest', params, cb) and
 * wx.requestPayment({...}), shows a payment sheet, and sends the
 * parameters to the sandbox (the origin this script was loaded from),
 * which checks paySign and pays the order. It also defines
 * WeixinJSBridge.invoke('requestMerchantTransfer', params, cb) and
 * wx.requestMerchantTransfer({mchId, appId, package, openId?, ...}): a
 * confirmation sheet for a merchant transfer (商家转账) whose Confirm
 * button sends the parameters to the sandbox, which checks them and
 * completes the transfer. Not WeChat's code.
 */
(function () {
  'use strict';
  if (window.__wxpaySandbox) {
    return;
  }

  var RESULT_MS = 1200;
  var script = document.currentScript;

  // The sandbox is wherever this script came from: the merchant page is
  // on another origin.
  function sandboxOrigin() {
    var src = script && script.src;
    if (!src) {
      var all = document.getElementsByTagName('script');
      for (var i = all.length - 1; i >= 0; i--) {
        if (/\/_sandbox\/jsapi\.js([?#].*)?$/.test(all[i].src)) {
          src = all[i].src;
          break;
        }
      }
    }
    try {
      return new URL(src, location.href).origin;
    } catch (e) {
      return location.origin;
    }
  }
  var ORIGIN = sandboxOrigin();

  var CSS =
    '#wxpay-sandbox-sheet{position:fixed;inset:0;z-index:2147483647;background:rgba(0,0,0,.55);' +
    'display:flex;align-items:flex-end;justify-content:center;font:15px/1.5 system-ui,' +
    '-apple-system,"PingFang SC","Microsoft YaHei",sans-serif}' +
    '#wxpay-sandbox-sheet .wxs-panel{background:#fff;color:#111;width:100%;max-width:26rem;' +
    'border-radius:.75rem .75rem 0 0;padding:1.25rem 1.25rem 1.5rem;text-align:center}' +
    '#wxpay-sandbox-sheet .wxs-title{font-size:.85rem;color:#888}' +
    '#wxpay-sandbox-sheet .wxs-merchant{margin-top:.5rem}' +
    '#wxpay-sandbox-sheet .wxs-amount{font-size:2.2rem;font-weight:600;margin:.25rem 0}' +
    '#wxpay-sandbox-sheet .wxs-description{color:#555;overflow-wrap:anywhere}' +
    '#wxpay-sandbox-result{min-height:1.5em;margin:.75rem 0}' +
    '#wxpay-sandbox-sheet button{font:inherit;width:100%;padding:.7rem;margin-top:.5rem;' +
    'border-radius:.4rem;border:1px solid #ddd;background:#f7f7f7;color:#111;cursor:pointer}' +
    '#wxpay-sandbox-pay{background:#07c160 !important;border-color:#07c160 !important;' +
    'color:#fff !important}' +
    '#wxpay-sandbox-sheet button:disabled{opacity:.5;cursor:default}';

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function yuan(fen) {
    var whole = Math.floor(fen / 100);
    var cents = String(fen % 100);
    return '\u00a5' + whole + '.' + (cents.length < 2 ? '0' + cents : cents);
  }

  var open = false;

  // What the payment sheet shows and where it sends the parameters.
  function paymentSheet(body, prepayId) {
    return {
      route: '/_sandbox/request-payment',
      body: body,
      info: '/_sandbox/prepay/' + encodeURIComponent(prepayId),
      title: '微信支付 · wxpay sandbox',
      button: '支付 Pay',
      ok: '支付成功 Paid',
      failed: '支付失败: ',
      show: function (info) {
        return ['商户 ' + info.mchid + ' · ' + info.out_trade_no, yuan(info.total), info.description];
      }
    };
  }

  // The same for a merchant transfer the payee confirms.
  function transferSheet(body) {
    return {
      route: '/_sandbox/request-merchant-transfer',
      body: body,
      info: '/_sandbox/transfer-bills/package/' + encodeURIComponent(String(body['package'] || '')),
      title: '商家转账 · wxpay sandbox',
      button: '确认收款 Confirm',
      ok: '收款成功 Received',
      failed: '收款失败: ',
      show: function (info) {
        return [
          '商户 ' + info.mch_id + ' · ' + info.out_bill_no,
          yuan(info.transfer_amount),
          info.user_recv_perception || info.transfer_remark
        ];
      }
    };
  }

  // Shows the sheet for one payment or transfer; `done(kind, message)`
  // follows once, with kind 'ok', 'cancel' or 'fail', after the sheet has
  // closed.
  function sheet(what, done) {
    if (open) {
      setTimeout(function () {
        done('fail', 'another payment or transfer is in progress');
      }, 0);
      return;
    }
    open = true;
    if (!document.getElementById('wxpay-sandbox-style')) {
      var style = element('style');
      style.id = 'wxpay-sandbox-style';
      style.textContent = CSS;
      (document.head || document.documentElement).appendChild(style);
    }
    var overlay = element('div');
    overlay.id = 'wxpay-sandbox-sheet';
    overlay.setAttribute('role', 'dialog');
    overlay.setAttribute('aria-modal', 'true');
    var panel = element('div', 'wxs-panel');
    var title = element('div', 'wxs-title', what.title);
    var merchant = element('div', 'wxs-merchant', '');
    var amount = element('div', 'wxs-amount', '…');
    var description = element('div', 'wxs-description', '');
    var result = element('p', 'wxs-result', '');
    result.id = 'wxpay-sandbox-result';
    result.setAttribute('role', 'status');
    var pay = element('button', '', what.button);
    pay.id = 'wxpay-sandbox-pay';
    pay.type = 'button';
    var cancel = element('button', '', '取消 Cancel');
    cancel.id = 'wxpay-sandbox-cancel';
    cancel.type = 'button';
    [title, merchant, amount, description, result, pay, cancel].forEach(function (node) {
      panel.appendChild(node);
    });
    overlay.appendChild(panel);
    document.body.appendChild(overlay);

    fetch(ORIGIN + what.info)
      .then(function (response) {
        return response.json().then(function (info) {
          if (!response.ok) {
            throw new Error(info.message || info.code);
          }
          var shown = what.show(info);
          merchant.textContent = shown[0];
          amount.textContent = shown[1];
          description.textContent = shown[2];
        });
      })
      .catch(function (error) {
        amount.textContent = '';
        description.textContent = String(error.message || error);
      });

    var finished = false;
    function finish(kind, message) {
      if (finished) {
        return;
      }
      finished = true;
      pay.disabled = true;
      cancel.disabled = true;
      result.className = 'wxs-result wxs-' + kind;
      result.textContent =
        kind === 'ok' ? what.ok : kind === 'cancel' ? '已取消 Cancelled' : what.failed + message;
      setTimeout(function () {
        if (overlay.parentNode) {
          overlay.parentNode.removeChild(overlay);
        }
        open = false;
        done(kind, message);
      }, RESULT_MS);
    }

    cancel.addEventListener('click', function () {
      finish('cancel', 'cancel');
    });
    pay.addEventListener('click', function () {
      pay.disabled = true;
      cancel.disabled = true;
      result.textContent = '…';
      fetch(ORIGIN + what.route, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(what.body)
      })
        .then(function (response) {
          return response.json().then(function (answer) {
            if (response.ok) {
              finish('ok', 'ok');
            } else {
              finish('fail', answer.message || answer.code || 'HTTP ' + response.status);
            }
          });
        })
        .catch(function (error) {
          finish('fail', String(error.message || error));
        });
    });
  }

  // The invocation parameters as sent: only these names, only when given.
  function pick(source, names) {
    var picked = {};
    names.forEach(function (name) {
      if (source && source[name] !== undefined) {
        picked[name] = source[name];
      }
    });
    return picked;
  }

  function prepayIdOf(params) {
    return String((params && params['package']) || '').replace(/^prepay_id=/, '');
  }

  var NAMES = ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign'];
  var TRANSFER_NAMES = ['mchId', 'appId', 'package', 'openId'];

  // `done(kind, message)` of a transfer sheet, told as the bridge tells it:
  // err_msg `requestMerchantTransfer:ok`, `:cancel` or `:fail`.
  function bridgeAnswer(prefix, reply) {
    return function (kind, message) {
      var answer = { err_msg: prefix + ':' + kind };
      if (kind === 'fail') {
        answer.err_desc = message;
      }
      reply(answer);
    };
  }

  // The same, told as a wx.* call tells it (`ok` and `fail ` are its
  // errMsg texts): success or fail, then complete.
  function wxAnswer(ok, fail, opts) {
    return function (kind, message) {
      var answer;
      if (kind === 'ok') {
        answer = { errMsg: ok };
        if (typeof opts.success === 'function') {
          opts.success(answer);
        }
      } else {
        answer = { errMsg: fail + (kind === 'cancel' ? 'cancel' : message) };
        if (typeof opts.fail === 'function') {
          opts.fail(answer);
        }
      }
      if (typeof opts.complete === 'function') {
        opts.complete(answer);
      }
    };
  }

  var bridge = {
    invoke: function (name, params, callback) {
      var reply = typeof callback === 'function' ? callback : function () {};
      if (name === 'requestMerchantTransfer') {
        sheet(transferSheet(pick(params, TRANSFER_NAMES)), bridgeAnswer(name, reply));
        return;
      }
      if (name !== 'getBrandWCPayRequest') {
        setTimeout(function () {
          reply({
            err_msg:
              name +
              ':fail the wxpay sandbox only implements getBrandWCPayRequest and requestMerchantTransfer'
          });
        }, 0);
        return;
      }
      sheet(paymentSheet(pick(params, NAMES), prepayIdOf(params)), function (kind, message) {
        var answer = { err_msg: 'get_brand_wcpay_request:' + kind };
        if (kind === 'fail') {
          answer.err_desc = message;
        }
        reply(answer);
      });
    },
    on: function () {},
    call: function () {}
  };
  window.WeixinJSBridge = bridge;

  window.wx = window.wx || {};
  window.wx.requestPayment = function (options) {
    var opts = options || {};
    sheet(paymentSheet(pick(opts, NAMES), prepayIdOf(opts)), wxAnswer('requestPayment:ok', 'requestPayment:fail ', opts));
  };
  window.wx.requestMerchantTransfer = function (options) {
    var opts = options || {};
    sheet(
      transferSheet(pick(opts, TRANSFER_NAMES)),
      wxAnswer('requestMerchantTransfer:ok', 'requestMerchantTransfer:fail ', opts)
    );
  };

  window.__wxpaySandbox = { origin: ORIGIN };

  // As in WeChat, pages wait for this event before using the bridge.
  function ready() {
    var event;
    try {
      event = new Event('WeixinJSBridgeReady');
    } catch (e) {
      event = document.createEvent('Event');
      event.initEvent('WeixinJSBridgeReady', false, false);
    }
    document.dispatchEvent(event);
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', ready);
  } else {
    setTimeout(ready, 0);
  }
})();
