// The order page's buttons: each POSTs to its control call, then reloads.
(function () {
  'use strict';
  var result = document.getElementById('result');
  var buttons = document.querySelectorAll('button[data-post]');
  Array.prototype.forEach.call(buttons, function (button) {
    button.addEventListener('click', function () {
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
      result.textContent = '…';
      fetch(button.getAttribute('data-post'), { method: 'POST' })
        .then(function (response) {
          return response.json().then(function (body) {
            return { ok: response.ok, body: body };
          });
        })
        .then(function (answer) {
          if (answer.ok) {
            location.reload();
            return;
          }
          result.textContent = answer.body.code + ': ' + answer.body.message;
          Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
        })
        .catch(function (error) {
          result.textContent = String(error);
          Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
        });
    });
  });
})();
