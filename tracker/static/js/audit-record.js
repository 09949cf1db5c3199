/* The audit recording page (tablet): save each change as it is made.
 *
 * Every answer or note goes to POST <form data-results-url> as JSON {version, results: [...]},
 * with the CSRF token of the form. Changes not yet accepted by the server are kept in
 * localStorage, so a lost connection (or a closed tab) loses nothing: they are sent again when
 * the connection returns or the page is opened again. Photos and recordings are uploaded as
 * soon as they are chosen. Without JavaScript the form still works: "Save all" posts everything.
 * No inline script anywhere (CSP script-src 'self').
 */
(function () {
  "use strict";

  var form = document.getElementById("audit-record");
  if (!form || !window.fetch || !window.JSON) {
    return;
  }

  var statusEl = document.getElementById("save-status");
  var versionInput = document.getElementById("audit-version");
  var csrfInput = form.querySelector("input[name=csrf_token]");
  var storageKey = "audit-record:" + form.dataset.auditId;
  var resultsUrl = form.dataset.resultsUrl;
  var evidenceUrl = form.dataset.evidenceUrl;

  var pending = load();
  var inFlight = false;
  var stopped = false;
  var retryDelay = 5000;
  var retryTimer = null;
  var noteTimers = {};

  // --- status and storage -------------------------------------------------------------------

  function setStatus(kind) {
    if (!statusEl) {
      return;
    }
    var colours = {
      saving: "text-bg-light border", saved: "text-bg-success", offline: "text-bg-warning",
      conflict: "text-bg-danger", failed: "text-bg-danger", expired: "text-bg-warning",
      uploading: "text-bg-light border", uploaded: "text-bg-success"
    };
    statusEl.className = "badge ms-auto " + (colours[kind] || "text-bg-light border");
    statusEl.textContent = statusEl.dataset[kind] || "";
  }

  function load() {
    try {
      return JSON.parse(window.localStorage.getItem(storageKey) || "{}") || {};
    } catch (e) {
      return {};
    }
  }

  function persist() {
    try {
      if (Object.keys(pending).length) {
        window.localStorage.setItem(storageKey, JSON.stringify(pending));
      } else {
        window.localStorage.removeItem(storageKey);
      }
    } catch (e) {
      /* private mode or full storage: saving still works while online */
    }
  }

  function remember(code, key, value) {
    var entry = pending[code] || { item_code: code };
    entry[key] = value;
    pending[code] = entry;
    persist();
  }

  // --- the running score (display only; the server computes the real one on submit) ------------

  function percent(earned, applicable) {
    return applicable ? (Math.round(earned * 10000 / applicable) / 100).toFixed(2) : "—";
  }

  function updateScores() {
    var totalEarned = 0, totalApplicable = 0, answered = 0, criticalFailed = false;
    form.querySelectorAll(".audit-section").forEach(function (section) {
      var earned = 0, applicable = 0;
      section.querySelectorAll(".audit-item").forEach(function (item) {
        var checked = item.querySelector(".result-input:checked");
        if (!checked) {
          return;
        }
        answered += 1;
        var weight = parseInt(item.dataset.weight, 10) || 0;
        if (checked.value === "pass") {
          earned += weight;
          applicable += weight;
        } else if (checked.value === "fail") {
          applicable += weight;
          if (item.dataset.critical === "1") {
            criticalFailed = true;
          }
        }
      });
      var badge = section.querySelector(".section-score");
      if (badge) {
        badge.textContent = percent(earned, applicable);
      }
      totalEarned += earned;
      totalApplicable += applicable;
    });
    var score = document.getElementById("audit-score");
    if (score) {
      score.textContent = percent(totalEarned, totalApplicable);
    }
    var critical = document.getElementById("audit-critical");
    if (critical) {
      critical.classList.toggle("d-none", !criticalFailed);
    }
    var count = document.getElementById("audit-answered");
    if (count) {
      count.textContent = String(answered);
    }
  }

  // --- sending ------------------------------------------------------------------------------

  function scheduleRetry(delay) {
    if (retryTimer) {
      return;
    }
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      flush();
    }, delay);
  }

  function flush() {
    if (inFlight || stopped) {
      return;
    }
    var codes = Object.keys(pending);
    if (!codes.length) {
      return;
    }
    var sent = JSON.stringify(pending);
    var snapshot = JSON.parse(sent);
    var accepted = false;
    inFlight = true;
    setStatus("saving");
    window.fetch(resultsUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfInput ? csrfInput.value : ""
      },
      body: JSON.stringify({
        version: parseInt(versionInput.value, 10),
        results: codes.map(function (code) { return snapshot[code]; })
      })
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        // A login page after the session ended: keep the changes, try again later.
        setStatus("expired");
        scheduleRetry(30000);
        return null;
      }
      return response.json().then(function (data) {
        if (response.ok) {
          versionInput.value = data.audit.version;
          Object.keys(snapshot).forEach(function (code) {
            // Drop what the server now has, unless it changed again meanwhile.
            if (JSON.stringify(pending[code]) === JSON.stringify(snapshot[code])) {
              delete pending[code];
            }
          });
          persist();
          retryDelay = 5000;
          accepted = true;
          setStatus("saved");
        } else if (response.status === 409 || response.status === 403 || response.status === 404) {
          // Someone else saved, or the audit is no longer open for recording: reloading shows
          // what is there; the unsent changes stay on this device and are offered again.
          stopped = true;
          setStatus("conflict");
        } else if (response.status >= 500) {
          setStatus("offline");
          scheduleRetry(retryDelay);
          retryDelay = Math.min(retryDelay * 2, 60000);
        } else {
          // Refused input (422): nothing to retry.
          Object.keys(snapshot).forEach(function (code) { delete pending[code]; });
          persist();
          setStatus("failed");
        }
      });
    }).catch(function () {
      setStatus("offline");
      scheduleRetry(retryDelay);
      retryDelay = Math.min(retryDelay * 2, 60000);
    }).then(function () {
      inFlight = false;
      if (accepted && Object.keys(pending).length) {
        flush();  // changes made while this request was on its way
      }
    });
  }

  // --- evidence -----------------------------------------------------------------------------

  function upload(input, code) {
    if (!input.files || !input.files.length) {
      return;
    }
    var data = new window.FormData();
    data.append("file", input.files[0]);
    if (csrfInput) {
      data.append("csrf_token", csrfInput.value);
    }
    setStatus("uploading");
    window.fetch(evidenceUrl.replace("__ITEM__", encodeURIComponent(code)), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfInput ? csrfInput.value : "" },
      body: data
    }).then(function (response) {
      if ((response.headers.get("Content-Type") || "").indexOf("application/json") === -1) {
        setStatus(response.status === 413 ? "failed" : "expired");  // too large, or signed out
        return null;
      }
      return response.json().then(function (body) {
        if (!response.ok) {
          var fields = (body.error && body.error.fields) || {};
          var message = (fields.file && fields.file[0]) || (body.error && body.error.message) || "";
          setStatus("failed");
          if (message) {
            statusEl.textContent = message;
          }
          return;
        }
        var list = input.closest(".audit-item").querySelector(".evidence-list");
        var link = document.createElement("a");
        link.href = body.attachment.url;
        link.setAttribute("download", "");
        link.textContent = body.attachment.name;
        var line = document.createElement("div");
        line.className = "small";
        line.appendChild(link);
        list.appendChild(line);
        input.value = "";
        setStatus("uploaded");
      });
    }).catch(function () {
      // Kept in the input: "Save all" sends it with the form when the connection is back.
      setStatus("offline");
    });
  }

  // --- wiring -------------------------------------------------------------------------------

  form.querySelectorAll(".audit-item").forEach(function (item) {
    var code = item.dataset.itemCode;
    item.querySelectorAll(".result-input").forEach(function (radio) {
      radio.addEventListener("change", function () {
        remember(code, "result", radio.value);
        updateScores();
        flush();
      });
    });
    var note = item.querySelector(".note-input");
    if (note) {
      note.addEventListener("input", function () {
        remember(code, "note", note.value);
        window.clearTimeout(noteTimers[code]);
        noteTimers[code] = window.setTimeout(flush, 800);
      });
      note.addEventListener("change", flush);
    }
    var file = item.querySelector(".evidence-input");
    if (file) {
      file.addEventListener("change", function () { upload(file, code); });
    }
  });

  // Changes kept from an earlier visit: show them, then send them.
  Object.keys(pending).forEach(function (code) {
    var item = form.querySelector('.audit-item[data-item-code="' + code.replace(/"/g, "") + '"]');
    if (!item) {
      delete pending[code];
      return;
    }
    var entry = pending[code];
    if (entry.result) {
      var radio = item.querySelector('.result-input[value="' + entry.result + '"]');
      if (radio) {
        radio.checked = true;
      }
    }
    var note = item.querySelector(".note-input");
    if (note && typeof entry.note === "string") {
      note.value = entry.note;
    }
  });
  persist();
  updateScores();

  form.addEventListener("submit", function () {
    // The form carries every answer and note itself.
    pending = {};
    persist();
  });
  window.addEventListener("online", function () {
    retryDelay = 5000;
    flush();
  });
  flush();
}());
