// gradhub 工作台: the few things a script improves. Every page works without it.
(function () {
  'use strict';
  // Upload: drag and drop onto the drop zone, and a progress bar while the file travels.
  var form = document.getElementById('upload-form');
  if (form && window.XMLHttpRequest && window.FormData) {
    var zone = document.getElementById('drop-zone');
    var input = form.querySelector('input[type=file]');
    var bar = document.getElementById('upload-progress');
    var status = document.getElementById('upload-status');
    if (zone && input) {
      ['dragenter', 'dragover'].forEach(function (t) {
        zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add('over'); });
      });
      ['dragleave', 'drop'].forEach(function (t) {
        zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.remove('over'); });
      });
      zone.addEventListener('drop', function (e) {
        if (e.dataTransfer && e.dataTransfer.files.length) {
          input.files = e.dataTransfer.files;
          status.textContent = '已选择：' + input.files[0].name;
        }
      });
    }
    form.addEventListener('submit', function (e) {
      if (!input.files.length) { return; }
      e.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.upload.addEventListener('progress', function (ev) {
        if (ev.lengthComputable) {
          bar.max = ev.total; bar.value = ev.loaded;
          status.textContent = '正在上传 ' + Math.round(ev.loaded * 100 / ev.total) + '%';
        }
      });
      xhr.upload.addEventListener('load', function () { status.textContent = '上传完成，正在校验…'; });
      xhr.addEventListener('load', function () {
        // The answer is a page. A good one was reached through redirects (the upload's progress
        // page, or already the batch page): go there. A refusal is answered at once: show it.
        if (xhr.status < 400 && xhr.responseURL) {
          window.location.href = xhr.responseURL;
        } else {
          document.open(); document.write(xhr.responseText); document.close();
        }
      });
      xhr.addEventListener('error', function () { status.textContent = '上传失败：网络中断，请重新上传。'; });
      bar.hidden = false;
      xhr.send(new FormData(form));
    });
  }
  // Select all checkboxes of a table.
  Array.prototype.forEach.call(document.querySelectorAll('input[data-select-all]'), function (all) {
    all.addEventListener('change', function () {
      var boxes = document.querySelectorAll('input[name="' + all.getAttribute('data-select-all') + '"]');
      Array.prototype.forEach.call(boxes, function (b) { b.checked = all.checked; });
    });
  });
})();
