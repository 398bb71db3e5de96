"use strict";
(function () {
  var data = {{ data }};
  var form = document.getElementById("search");
  if (!form) { return; }
  var input = document.getElementById("q");
  var list = document.getElementById("results");
  var status = document.getElementById("search-status");
  function fold(text) {
    var out = "";
    var nfc = String(text).normalize("NFC");
    for (var i = 0; i < nfc.length; i++) {
      var ch = nfc.charAt(i);
      out += Object.prototype.hasOwnProperty.call(data.special, ch) ? data.special[ch] : ch;
    }
    return out.normalize("NFD").replace(/\p{Mn}/gu, "").toLowerCase();
  }
  function show(query) {
    var words = fold(query).match(/[\p{L}\p{N}_]+/gu) || [];
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (!words.length) { status.textContent = ""; return; }
    var found = data.items.filter(function (item) {
      return words.every(function (word) { return item.f.indexOf(word) !== -1; });
    });
    status.textContent = found.length ? "Tìm thấy " + found.length + " tài liệu" : "Không tìm thấy tài liệu nào";
    found.forEach(function (item) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = item.p;
      a.className = "title";
      a.textContent = item.t;
      li.appendChild(a);
      var p = document.createElement("p");
      p.className = "meta";
      p.textContent = item.s;
      li.appendChild(p);
      list.appendChild(li);
    });
  }
  form.hidden = false;
  form.addEventListener("submit", function (event) { event.preventDefault(); show(input.value); });
  input.addEventListener("input", function () { show(input.value); });
  if (location.hash.indexOf("#q=") === 0) {
    input.value = decodeURIComponent(location.hash.slice(3));
    show(input.value);
  }
})();
